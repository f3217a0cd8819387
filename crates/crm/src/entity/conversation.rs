//! `conversations` table.

use sea_orm::entity::prelude::*;

/// A row of `conversations`: a thread with a contact on one channel.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub contact_id: Uuid,
    pub account_id: Option<Uuid>,
    pub channel: String,
    pub status: String,
    pub subject: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub phone_number_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub last_message_at: Option<DateTimeWithTimeZone>,
    pub message_count: i32,
    pub unread_count: i32,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
