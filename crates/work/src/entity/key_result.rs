//! `key_results` table.

use sea_orm::entity::prelude::*;

/// A row of `key_results`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "key_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub objective_id: Uuid,
    pub title: String,
    pub unit: Option<String>,
    pub start_value: Decimal,
    pub target_value: Decimal,
    pub current_value: Decimal,
    pub weight: Decimal,
    pub owner_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
