//! `ai_runs` table.

use sea_orm::entity::prelude::*;

/// A row of `ai_runs`: one execution of an agent (a chat reply with its tool loop, a
/// workflow step) with its outcome, tokens, cost and duration.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "ai_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub agent_id: Uuid,
    pub model_id: Uuid,
    pub member_id: Option<Uuid>,
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub trigger: String,
    pub status: String,
    pub input: Json,
    pub output: Option<Json>,
    pub error: Option<String>,
    pub steps: i32,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost_micros: i64,
    pub currency: String,
    pub started_at: DateTimeWithTimeZone,
    pub finished_at: Option<DateTimeWithTimeZone>,
    pub duration_ms: Option<i32>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
