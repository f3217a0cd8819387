//! `time_entries` table.

use sea_orm::entity::prelude::*;

/// A row of `time_entries`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "time_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub membership_id: Uuid,
    pub project_id: Uuid,
    pub task_id: Option<Uuid>,
    pub entry_date: Date,
    pub hours: Decimal,
    pub is_billable: bool,
    pub billed: bool,
    pub note: Option<String>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
