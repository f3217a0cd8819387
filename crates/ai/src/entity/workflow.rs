//! `workflows` table.

use sea_orm::entity::prelude::*;

/// A row of `workflows`: a trigger on a domain event, conditions and ordered steps.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "workflows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub trigger_event: String,
    pub conditions: Json,
    pub steps: Json,
    pub status: String,
    pub owner_id: Uuid,
    pub cursor_seq: i64,
    pub run_count: i64,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
