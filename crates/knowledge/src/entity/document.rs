//! `documents` table.

use sea_orm::entity::prelude::*;

/// A row of `documents`: a wiki page, article, note, file, memory, blog post or idea.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub collection_id: Uuid,
    pub folder_id: Option<Uuid>,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub source_url: Option<String>,
    pub language: String,
    pub tags: Vec<String>,
    pub author_id: Option<Uuid>,
    #[serde(skip)]
    pub content_hash: Vec<u8>,
    pub revision: i32,
    pub index_status: String,
    pub index_error: Option<String>,
    pub index_attempts: i32,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    pub deleted_at: Option<DateTimeWithTimeZone>,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
