//! `ai_insights` table.

use sea_orm::entity::prelude::*;

/// A row of `ai_insights`: an AI finding attached to any entity.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "ai_insights")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub confidence: f64,
    pub sentiment: Option<f64>,
    pub actionable: bool,
    pub agent_id: Option<Uuid>,
    pub run_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub dismissed_at: Option<DateTimeWithTimeZone>,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
