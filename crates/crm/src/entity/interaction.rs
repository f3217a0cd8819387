//! `interactions` table.

use sea_orm::entity::prelude::*;

/// A row of `interactions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "interactions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub direction: Option<String>,
    pub channel: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub outcome: Option<String>,
    pub duration_minutes: Option<i32>,
    pub occurred_at: DateTimeWithTimeZone,
    pub account_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub recording_url: Option<String>,
    pub recording_seconds: Option<i32>,
    pub transcript: Option<String>,
    pub conversation_id: Option<Uuid>,
    pub sender_type: Option<String>,
    pub delivered_at: Option<DateTimeWithTimeZone>,
    pub read_at: Option<DateTimeWithTimeZone>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
