//! `checklist_items` table.

use sea_orm::entity::prelude::*;

/// A row of `checklist_items`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "checklist_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub task_id: Uuid,
    pub body: String,
    pub is_done: bool,
    pub done_at: Option<DateTimeWithTimeZone>,
    pub done_by: Option<Uuid>,
    pub position: f64,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
