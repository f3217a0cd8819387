//! `lead_rules` table.

use sea_orm::entity::prelude::*;

/// A row of `lead_rules`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "lead_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub name: String,
    pub field: String,
    pub operator: String,
    pub value: String,
    pub points: i32,
    pub assign_to: Option<Uuid>,
    pub position: i32,
    pub is_active: bool,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
