//! `agents` table.

use sea_orm::entity::prelude::*;

/// A row of `agents`: a configured assistant.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub model_id: Uuid,
    pub system_prompt: String,
    pub status: String,
    pub owner_id: Uuid,
    pub avatar_url: Option<String>,
    pub max_tokens: i32,
    pub temperature: f64,
    pub knowledge_collection_id: Option<Uuid>,
    pub tools: Json,
    pub template_id: Option<Uuid>,
    pub template_variables: Json,
    pub memory_collection_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
