//! `messages` table.

use sea_orm::entity::prelude::*;

/// A row of `messages`: one turn of a conversation (a reply being generated is PENDING,
/// then STREAMING, WAITING while a person decides on a proposed change, then COMPLETE or
/// FAILED).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "agent_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub conversation_id: Uuid,
    pub role: String,
    pub content: String,
    pub status: String,
    pub error: Option<String>,
    pub model: Option<String>,
    pub tokens_in: i32,
    pub tokens_out: i32,
    pub cost_micros: i64,
    pub latency_ms: Option<i32>,
    pub citations: Json,
    pub attempts: i32,
    pub run_id: Option<Uuid>,
    pub tool_calls: Json,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
