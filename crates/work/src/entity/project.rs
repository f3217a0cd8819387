//! `projects` table.

use sea_orm::entity::prelude::*;

/// A row of `projects`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub manager_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    pub deleted_at: Option<DateTimeWithTimeZone>,
    pub kind: String,
    pub client_account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub deadline: Option<Date>,
    pub budget_amount: Option<Decimal>,
    pub budget_currency: Option<String>,
    pub tags: Vec<String>,
    pub next_task_number: i32,
    pub client_name: Option<String>,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
