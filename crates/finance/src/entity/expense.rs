//! `expenses` table.

use sea_orm::entity::prelude::*;

/// A row of `expenses`: money a member spent, to be approved and reimbursed.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "expenses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub member_id: Uuid,
    pub project_id: Option<Uuid>,
    pub category: String,
    pub vendor: Option<String>,
    pub description: String,
    pub amount: Decimal,
    pub currency: String,
    pub spent_on: Date,
    pub receipt_url: Option<String>,
    pub billable: bool,
    pub rate_to_org: Option<Decimal>,
    pub status: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeWithTimeZone>,
    pub decision_note: Option<String>,
    pub reimbursed_at: Option<DateTimeWithTimeZone>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
