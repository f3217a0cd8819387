//! `document_links` table.

use sea_orm::entity::prelude::*;

/// A row of `document_links`: a document attached to an entity of any domain.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "document_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub document_id: Uuid,
    pub target_type: String,
    pub target_id: Uuid,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
