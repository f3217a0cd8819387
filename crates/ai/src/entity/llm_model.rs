//! `llm_models` table.

use sea_orm::entity::prelude::*;

/// A row of `llm_models`: a model of a provider with its context window, capabilities and
/// prices per million tokens.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "llm_models")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub provider_id: Uuid,
    pub name: String,
    pub display_name: String,
    pub context_window: i32,
    pub capabilities: Vec<String>,
    pub input_price: Decimal,
    pub output_price: Decimal,
    pub currency: String,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
