//! `payments` table.

use sea_orm::entity::prelude::*;

/// A row of `payments`: a payment of an invoice, or a refund.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub invoice_id: Uuid,
    pub kind: String,
    pub refund_of_id: Option<Uuid>,
    pub amount: Decimal,
    pub currency: String,
    pub applied: Decimal,
    pub method: String,
    pub external_ref: Option<String>,
    pub paid_on: Date,
    pub recorded_by: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTimeWithTimeZone,
}

/// No declared relations: loaders and services join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
