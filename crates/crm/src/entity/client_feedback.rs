//! `client_feedback` table.

use sea_orm::entity::prelude::*;

/// A row of `client_feedback`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "client_feedback")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub account_id: Uuid,
    pub project_id: Option<Uuid>,
    pub rating: i16,
    pub comment: Option<String>,
    pub response: Option<String>,
    pub responded_at: Option<DateTimeWithTimeZone>,
    pub responded_by: Option<Uuid>,
    pub given_by: Option<Uuid>,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
