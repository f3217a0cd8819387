//! `proposals` table.

use sea_orm::entity::prelude::*;

/// A row of `proposals`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub account_id: Uuid,
    pub deal_id: Option<Uuid>,
    pub title: String,
    pub content: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub valid_until: Option<Date>,
    pub status: String,
    pub revision: i32,
    pub sent_at: Option<DateTimeWithTimeZone>,
    pub decided_at: Option<DateTimeWithTimeZone>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
