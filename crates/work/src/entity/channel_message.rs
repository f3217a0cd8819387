//! `channel_messages` table.

use sea_orm::entity::prelude::*;

/// A row of `channel_messages`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "channel_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub channel_id: Uuid,
    pub author_id: Option<Uuid>,
    pub body: String,
    pub parent_id: Option<Uuid>,
    pub reply_count: i32,
    pub last_reply_at: Option<DateTimeWithTimeZone>,
    pub attachments: Json,
    pub mentions: Vec<Uuid>,
    pub pinned_at: Option<DateTimeWithTimeZone>,
    pub pinned_by: Option<Uuid>,
    pub edited_at: Option<DateTimeWithTimeZone>,
    pub deleted_at: Option<DateTimeWithTimeZone>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
