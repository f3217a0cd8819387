//! `webhook_deliveries` table.

use sea_orm::entity::prelude::*;

/// A row of `webhook_deliveries`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_seq: Option<i64>,
    pub event_type: String,
    pub payload: Json,
    pub replay_of: Option<Uuid>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeWithTimeZone,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeWithTimeZone>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
