//! `fiscal_periods` table.

use sea_orm::entity::prelude::*;

/// A row of `fiscal_periods`: a month of a fiscal year, closable.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "fiscal_periods")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub fiscal_year_id: Uuid,
    pub number: i32,
    pub start_date: Date,
    pub end_date: Date,
    pub closed_at: Option<DateTimeWithTimeZone>,
    pub closed_by: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
