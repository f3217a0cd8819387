//! `deal_stage_history` table.

use sea_orm::entity::prelude::*;

/// A row of `deal_stage_history`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "deal_stage_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub deal_id: Uuid,
    pub stage_id: Uuid,
    pub entered_at: DateTimeWithTimeZone,
    pub left_at: Option<DateTimeWithTimeZone>,
    pub changed_by: Option<Uuid>,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
