//! `kpi_measurements` table.

use sea_orm::entity::prelude::*;

/// A row of `kpi_measurements`: one measured value of a KPI for one period.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "kpi_measurements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub kpi_id: Uuid,
    pub period_start: Date,
    pub period_end: Date,
    pub value: Decimal,
    pub target: Option<Decimal>,
    pub source: String,
    pub measured_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
