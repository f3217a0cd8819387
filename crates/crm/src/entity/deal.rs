//! `deals` table.

use sea_orm::entity::prelude::*;

/// A row of `deals`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "deals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub pipeline_id: Uuid,
    pub stage_id: Uuid,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub name: String,
    pub amount: Decimal,
    pub currency: String,
    pub probability: Option<i16>,
    pub expected_close_date: Option<Date>,
    pub actual_close_date: Option<Date>,
    pub lost_reason: Option<String>,
    pub owner_id: Option<Uuid>,
    pub source: Option<String>,
    pub position: f64,
    pub stage_entered_at: DateTimeWithTimeZone,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    pub deleted_at: Option<DateTimeWithTimeZone>,
    pub project_id: Option<Uuid>,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
