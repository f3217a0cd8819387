//! `ai_pending_actions` table.

use sea_orm::entity::prelude::*;

/// A row of `ai_pending_actions`: a change an agent's tool proposed, waiting for a person
/// (the diff against the record as it was, the version it expects, a risk and an expiry).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "ai_pending_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub run_id: Uuid,
    pub message_id: Uuid,
    pub agent_id: Uuid,
    pub member_id: Uuid,
    pub tool: String,
    pub call_id: String,
    pub arguments: Json,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    pub expected_version: Option<i32>,
    pub diff: Json,
    pub risk: String,
    pub status: String,
    pub expires_at: DateTimeWithTimeZone,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeWithTimeZone>,
    pub reason: Option<String>,
    pub result: Option<Json>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
