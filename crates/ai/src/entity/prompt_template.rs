//! `prompt_templates` table.

use sea_orm::entity::prelude::*;

/// A row of `prompt_templates`: a named prompt with versions and usage statistics.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "prompt_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub category: Option<String>,
    pub description: Option<String>,
    pub current_version: i32,
    pub usage_count: i64,
    pub success_count: i64,
    pub failure_count: i64,
    pub last_used_at: Option<DateTimeWithTimeZone>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
