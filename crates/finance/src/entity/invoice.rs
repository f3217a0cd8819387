//! `invoices` table.

use sea_orm::entity::prelude::*;

/// A row of `invoices`: an invoice or a credit note.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub kind: String,
    pub number: Option<String>,
    pub account_id: Uuid,
    pub project_id: Option<Uuid>,
    pub credit_of_id: Option<Uuid>,
    pub status: String,
    pub currency: String,
    pub issue_date: Option<Date>,
    pub due_date: Option<Date>,
    pub subtotal: Decimal,
    pub tax_total: Decimal,
    pub total: Decimal,
    pub paid_total: Decimal,
    pub credited_total: Decimal,
    pub rate_to_org: Option<Decimal>,
    pub notes: Option<String>,
    pub issued_at: Option<DateTimeWithTimeZone>,
    pub sent_at: Option<DateTimeWithTimeZone>,
    pub voided_at: Option<DateTimeWithTimeZone>,
    pub void_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
