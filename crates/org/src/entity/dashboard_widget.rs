//! `dashboard_widgets` table.

use sea_orm::entity::prelude::*;

/// A row of `dashboard_widgets`: a widget of a dashboard.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "dashboard_widgets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub dashboard_id: Uuid,
    pub position: i32,
    pub kind: String,
    pub title: String,
    pub kpi_id: Option<Uuid>,
    pub saved_query_id: Option<Uuid>,
    pub layout: Json,
    pub chart: Option<Json>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
