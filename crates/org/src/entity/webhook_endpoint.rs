//! `webhook_endpoints` table.

use sea_orm::entity::prelude::*;

/// A row of `webhook_endpoints`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    #[serde(skip)]
    pub secret_sealed: Vec<u8>,
    pub secret_hint: String,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub cursor_seq: i64,
    pub lease_until: Option<DateTimeWithTimeZone>,
    pub created_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
