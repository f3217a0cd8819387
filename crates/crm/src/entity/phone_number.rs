//! `phone_numbers` table.

use sea_orm::entity::prelude::*;

/// A row of `phone_numbers`: a number the organisation calls and texts from.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "phone_numbers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub number: String,
    pub friendly_name: Option<String>,
    pub provider: Option<String>,
    pub capabilities: Vec<String>,
    pub status: String,
    pub monthly_price: Option<Decimal>,
    pub currency: Option<String>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
