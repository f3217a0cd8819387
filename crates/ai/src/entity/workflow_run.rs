//! `workflow_runs` table.

use sea_orm::entity::prelude::*;

/// A row of `workflow_runs`: one execution of a workflow for one event.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "workflow_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub workflow_id: Uuid,
    pub event_seq: i64,
    pub event: Json,
    pub status: String,
    pub step_index: i32,
    pub attempts: i32,
    pub next_attempt_at: DateTimeWithTimeZone,
    pub error: Option<String>,
    pub started_at: DateTimeWithTimeZone,
    pub finished_at: Option<DateTimeWithTimeZone>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
