//! `document_versions` table.

use sea_orm::entity::prelude::*;

/// A row of `document_versions`: one saved version of a document.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "document_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub document_id: Uuid,
    pub version: i32,
    pub title: String,
    pub body: String,
    #[serde(skip)]
    pub content_hash: Vec<u8>,
    pub author_id: Option<Uuid>,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
