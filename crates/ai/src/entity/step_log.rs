//! `workflow_step_logs` table.

use sea_orm::entity::prelude::*;

/// A row of `workflow_step_logs`: the outcome of one attempt of one step.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "workflow_step_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub run_id: Uuid,
    pub step_index: i32,
    pub kind: String,
    pub status: String,
    pub attempt: i32,
    pub output: Option<Json>,
    pub error: Option<String>,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
