//! Payments and refunds. A payment applies to its invoice up to what is still open; the
//! rest becomes the account's credit. An external reference (the bank's or the payment
//! provider's id) is unique per organisation, so a retried payment is recorded once. The
//! invoice's status follows (PARTIALLY_PAID, PAID). A refund gives back part of a payment.

use chrono::{NaiveDate, Utc};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{invoice, payment};
use crate::enums::{PaymentKind, PaymentMethod};
use crate::nodes::{Invoice, Payment};
use crate::service::{fiscal, invoices};
use crate::totals;

/// Record a payment of an invoice.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RecordPaymentInput {
    /// The invoice (issued, not void).
    pub invoice_id: Id,
    /// Amount received, in the invoice's currency (> 0).
    pub amount: Decimal,
    /// How it was paid.
    pub method: PaymentMethod,
    /// When it was received (default today; not in a closed period).
    pub paid_on: Option<NaiveDate>,
    /// The bank's or provider's id (unique: a retry with it records nothing new).
    pub external_ref: Option<String>,
    /// A note.
    pub note: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn amount(v: Decimal) -> AppResult<Decimal> {
    if v <= Decimal::ZERO || v.scale() > 2 || v > Decimal::from(1_000_000_000_000i64) {
        return Err(AppError::bad_input("amount", "amount must be > 0 with at most 2 decimals and 12 digits"));
    }
    Ok(v)
}

/// The payment (or refund) `id` of `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<payment::Model> {
    opsgraph_core::db::find_in_org::<payment::Entity>(db, payment::Column::OrgId, org, id, "payment").await
}

/// The payment with external reference `r` in `org`, if any.
async fn by_ref(db: &impl ConnectionTrait, org: Uuid, r: &str) -> AppResult<Option<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrgId.eq(org))
        .filter(payment::Column::ExternalRef.eq(r))
        .one(db)
        .await?)
}

/// Records a payment (`invoice.paid` when it settles the invoice, notifying the account's
/// owner; `payment.recorded` otherwise).
pub async fn record(db: &impl ConnectionTrait, session: &Session, i: RecordPaymentInput) -> AppResult<payment::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let key = ("recordPayment", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let value = amount(i.amount)?;
    let external = validate::opt_text("externalRef", i.external_ref.as_deref(), 200, false)?;
    let inv = invoices::lock(db, w.org, Invoice::decode(&i.invoice_id, "invoiceId")?).await?;
    if let Some(r) = &external
        && let Some(seen) = by_ref(db, w.org, r).await?
    {
        if seen.invoice_id == inv.id && seen.amount == value && seen.kind == "PAYMENT" {
            return Ok(seen);
        }
        return Err(AppError::Conflict(format!("externalRef {r} was recorded for another payment")));
    }
    if inv.kind != "INVOICE" || matches!(inv.status.as_str(), "DRAFT" | "VOID") {
        return Err(AppError::bad_input("invoiceId", "payments go to issued invoices"));
    }
    let day = i.paid_on.unwrap_or_else(|| Utc::now().date_naive());
    fiscal::check_open(db, w.org, day, "paidOn").await?;
    let open = totals::outstanding(inv.total, inv.paid_total, inv.credited_total);
    let applied = value.min(open);
    let row = payment::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        invoice_id: Set(inv.id),
        kind: Set(PaymentKind::Payment.as_str().to_owned()),
        amount: Set(value),
        currency: Set(inv.currency.clone()),
        applied: Set(applied),
        method: Set(i.method.as_str().to_owned()),
        external_ref: Set(external),
        paid_on: Set(day),
        recorded_by: Set(session.membership_id),
        note: Set(validate::opt_text("note", i.note.as_deref(), 1000, true)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Payment>("payment.record", &row, key).await?;
    if value > applied {
        let reason = format!("over-payment of {}", inv.number.clone().unwrap_or_default());
        invoices::add_credit(db, w.org, inv.account_id, Some(row.id), value - applied, &inv.currency, &reason).await?;
    }
    let after = settle(&w, &inv, inv.paid_total + applied).await?;
    let data = serde_json::json!({ "amount": value.to_string(), "applied": applied.to_string() });
    w.emit::<Payment>("payment.recorded", row.id, DomainEvent { data, ..DomainEvent::default() }).await?;
    if after.status == "PAID" && inv.status != "PAID" {
        announce_paid(&w, &after).await?;
    }
    Ok(row)
}

/// Sets the invoice's paid total and the status that follows.
async fn settle(w: &Write<'_, impl ConnectionTrait>, inv: &invoice::Model, paid: Decimal) -> AppResult<invoice::Model> {
    let mut am: invoice::ActiveModel = inv.clone().into();
    am.paid_total = Set(paid);
    am.status = Set(invoices::settled(inv, paid, inv.credited_total).as_str().to_owned());
    Ok(w.update::<Invoice, _>("invoice.settle", inv.clone(), am, inv.version).await?.after)
}

async fn announce_paid(w: &Write<'_, impl ConnectionTrait>, inv: &invoice::Model) -> AppResult<()> {
    let account = opsgraph_crm::service::accounts::get(w.db, w.org, inv.account_id).await?;
    let title = format!("Invoice {} paid", inv.number.clone().unwrap_or_default());
    let event = DomainEvent {
        project_id: inv.project_id,
        data: serde_json::json!({ "number": inv.number }),
        ..DomainEvent::default()
    };
    w.notify::<Invoice>("invoice.paid", inv.id, account.owner_id, ("SUCCESS", title), event).await?;
    Ok(())
}

/// Give back part of a payment.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RefundPaymentInput {
    /// The payment.
    pub payment_id: Id,
    /// How much (at most what it applied minus earlier refunds).
    pub amount: Decimal,
    /// When (default today; not in a closed period).
    pub paid_on: Option<NaiveDate>,
    /// The bank's or provider's id of the refund (unique).
    pub external_ref: Option<String>,
    /// Why.
    pub note: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Refunds part of a payment; the invoice is open again by that much (`payment.refunded`).
pub async fn refund(db: &impl ConnectionTrait, session: &Session, i: RefundPaymentInput) -> AppResult<payment::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let key = ("refundPayment", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let value = amount(i.amount)?;
    let original = payment::Entity::find_by_id(Payment::decode(&i.payment_id, "paymentId")?)
        .filter(payment::Column::OrgId.eq(w.org))
        .filter(payment::Column::Kind.eq("PAYMENT"))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("payment"))?;
    let inv = invoices::lock(db, w.org, original.invoice_id).await?;
    let external = validate::opt_text("externalRef", i.external_ref.as_deref(), 200, false)?;
    if let Some(r) = &external
        && by_ref(db, w.org, r).await?.is_some()
    {
        return Err(AppError::Conflict(format!("externalRef {r} was recorded already")));
    }
    let refunded: Decimal = payment::Entity::find()
        .filter(payment::Column::RefundOfId.eq(original.id))
        .all(db)
        .await?
        .iter()
        .map(|r| r.amount)
        .sum();
    if value > original.applied - refunded {
        return Err(AppError::bad_input("amount", format!("at most {} can be refunded", original.applied - refunded)));
    }
    let day = i.paid_on.unwrap_or_else(|| Utc::now().date_naive());
    fiscal::check_open(db, w.org, day, "paidOn").await?;
    let row = payment::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        invoice_id: Set(inv.id),
        kind: Set(PaymentKind::Refund.as_str().to_owned()),
        refund_of_id: Set(Some(original.id)),
        amount: Set(value),
        currency: Set(inv.currency.clone()),
        applied: Set(value),
        method: Set(original.method.clone()),
        external_ref: Set(external),
        paid_on: Set(day),
        recorded_by: Set(session.membership_id),
        note: Set(validate::opt_text("note", i.note.as_deref(), 1000, true)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Payment>("payment.refund", &row, key).await?;
    settle(&w, &inv, inv.paid_total - value).await?;
    let data = serde_json::json!({ "amount": value.to_string() });
    w.emit::<Payment>("payment.refunded", row.id, DomainEvent { data, ..DomainEvent::default() }).await?;
    Ok(row)
}
