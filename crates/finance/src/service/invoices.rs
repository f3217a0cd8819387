//! Invoices: drafted with lines (totals computed by `crate::totals`, stored as a snapshot),
//! issued (a gapless number, the exchange rate of the issue date, final from then on),
//! sent, paid (see `payments`), voided while nothing is paid or credited, or corrected by
//! credit notes (own series, never more than is still creditable). Dates are refused in
//! closed fiscal periods.

use chrono::{Days, NaiveDate, Utc};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_crm::nodes::Account;
use opsgraph_derive::GqlInput;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{account_credit, invoice, invoice_line};
use crate::enums::{InvoiceKind, InvoiceStatus};
use crate::nodes::Invoice;
use crate::service::{fiscal, numbering};
use crate::totals;

/// Days to pay when an invoice is issued without a due date.
pub const DEFAULT_TERMS_DAYS: u64 = 30;

/// One line of an invoice.
#[derive(Debug, Clone, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLineInput {
    /// What is billed.
    pub description: String,
    /// How many (> 0, at most 4 decimals).
    pub quantity: Decimal,
    /// Price of one, in the invoice's currency (2 decimals).
    pub unit_price: Decimal,
    /// Tax rate in percent (0..100, default 0).
    pub tax_rate: Option<Decimal>,
    /// The project the line is for.
    pub project_id: Option<Id>,
}

/// Draft an invoice.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateInvoiceInput {
    /// The client account.
    pub account_id: Id,
    /// The project it bills (its lines may name others).
    pub project_id: Option<Id>,
    /// ISO 4217 currency (default: the organisation's).
    pub currency: Option<String>,
    /// Due date (default at issue: 30 days after the issue date).
    pub due_date: Option<NaiveDate>,
    /// Notes printed on it.
    pub notes: Option<String>,
    /// Its lines (may be given later with updateInvoice).
    pub lines: Option<Vec<InvoiceLineInput>>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A live invoice of `org` (NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<invoice::Model> {
    opsgraph_core::db::find_in_org::<invoice::Entity>(db, invoice::Column::OrgId, org, id, "invoice").await
}

async fn project(db: &impl ConnectionTrait, org: Uuid, gid: Option<&Id>, field: &str) -> AppResult<Option<Uuid>> {
    match gid {
        Some(g) => Ok(Some(opsgraph_work::service::projects::get(db, org, Project::decode(g, field)?).await?.id)),
        None => Ok(None),
    }
}

/// Validated lines with their figures.
async fn lines(
    db: &impl ConnectionTrait,
    org: Uuid,
    input: &[InvoiceLineInput],
) -> AppResult<Vec<(InvoiceLineInput, Option<Uuid>, totals::LineFigures)>> {
    if input.len() > 500 {
        return Err(AppError::bad_input("lines", "at most 500 lines"));
    }
    let mut out = Vec::with_capacity(input.len());
    for (n, l) in input.iter().enumerate() {
        let f = |name: &str| format!("lines[{n}].{name}");
        validate::text(&f("description"), &l.description, 1, 1000, true)?;
        if l.quantity <= Decimal::ZERO || l.quantity.scale() > 4 || l.quantity > Decimal::from(1_000_000_000) {
            return Err(AppError::bad_input(
                f("quantity"),
                "quantity must be > 0, at most 1e9, with at most 4 decimals",
            ));
        }
        if l.unit_price.scale() > 2 || l.unit_price.abs() > Decimal::from(1_000_000_000_000i64) {
            return Err(AppError::bad_input(f("unitPrice"), "unitPrice has at most 2 decimals and 12 digits"));
        }
        let rate = l.tax_rate.unwrap_or_default();
        if rate < Decimal::ZERO || rate > Decimal::ONE_HUNDRED || rate.scale() > 4 {
            return Err(AppError::bad_input(f("taxRate"), "taxRate is a percentage 0..100 with at most 4 decimals"));
        }
        let p = project(db, org, l.project_id.as_ref(), &f("projectId")).await?;
        out.push((l.clone(), p, totals::line(l.quantity, l.unit_price, rate)));
    }
    Ok(out)
}

/// Replaces `invoice`'s lines; returns its new (subtotal, tax, total).
async fn write_lines(
    db: &impl ConnectionTrait,
    inv: &invoice::Model,
    input: &[(InvoiceLineInput, Option<Uuid>, totals::LineFigures)],
) -> AppResult<(Decimal, Decimal, Decimal)> {
    invoice_line::Entity::delete_many().filter(invoice_line::Column::InvoiceId.eq(inv.id)).exec(db).await?;
    for (n, (l, p, fig)) in input.iter().enumerate() {
        invoice_line::ActiveModel {
            id: Set(new_id()),
            org_id: Set(inv.org_id),
            invoice_id: Set(inv.id),
            position: Set(n as i32 + 1),
            description: Set(l.description.trim().to_owned()),
            quantity: Set(l.quantity),
            unit_price: Set(l.unit_price),
            tax_rate: Set(l.tax_rate.unwrap_or_default()),
            amount: Set(fig.amount),
            tax_amount: Set(fig.tax),
            project_id: Set(*p),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    let figures: Vec<totals::LineFigures> = input.iter().map(|l| l.2).collect();
    Ok(totals::invoice(&figures))
}

/// Drafts an invoice (`invoice.drafted`).
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateInvoiceInput) -> AppResult<invoice::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let key = ("createInvoice", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let account = opsgraph_crm::service::accounts::get(db, w.org, Account::decode(&i.account_id, "accountId")?).await?;
    let currency = match &i.currency {
        Some(c) => validate::currency("currency", c)?,
        None => opsgraph_org::service::organization::default_currency(db, w.org).await?,
    };
    let checked = lines(db, w.org, i.lines.as_deref().unwrap_or_default()).await?;
    let draft = invoice::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        kind: Set(InvoiceKind::Invoice.as_str().to_owned()),
        account_id: Set(account.id),
        project_id: Set(project(db, w.org, i.project_id.as_ref(), "projectId").await?),
        currency: Set(currency),
        due_date: Set(i.due_date),
        notes: Set(validate::opt_text("notes", i.notes.as_deref(), 5000, true)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let (subtotal, tax, total) = write_lines(db, &draft, &checked).await?;
    let mut am: invoice::ActiveModel = draft.clone().into();
    (am.subtotal, am.tax_total, am.total) = (Set(subtotal), Set(tax), Set(total));
    let row = am.update(db).await?;
    w.created::<Invoice>("invoice.create", &row, key).await?;
    emit(&w, &row, "invoice.drafted", None).await?;
    Ok(row)
}

/// Emits `kind` about `inv`; with `notify`, addressed to the account's owner.
async fn emit(
    w: &Write<'_, impl ConnectionTrait>,
    inv: &invoice::Model,
    kind: &'static str,
    notify: Option<(&str, String)>,
) -> AppResult<()> {
    let data = serde_json::json!({ "number": inv.number, "status": inv.status, "total": inv.total.to_string() });
    let event = DomainEvent { project_id: inv.project_id, data, ..DomainEvent::default() };
    match notify {
        Some(note) => {
            let account = opsgraph_crm::service::accounts::get(w.db, w.org, inv.account_id).await?;
            w.notify::<Invoice>(kind, inv.id, account.owner_id, note, event).await?
        }
        None => w.emit::<Invoice>(kind, inv.id, event).await?,
    };
    Ok(())
}

/// A draft of `org` (BAD_USER_INPUT when it is issued already).
async fn draft(db: &impl ConnectionTrait, org: Uuid, gid: &Id) -> AppResult<invoice::Model> {
    let inv = get(db, org, Invoice::decode(gid, "id")?).await?;
    if inv.status != InvoiceStatus::Draft.as_str() {
        return Err(AppError::bad_input("id", "an issued invoice cannot change: issue a credit note or void it"));
    }
    Ok(inv)
}

/// Change a draft's details; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInvoiceInput {
    /// The draft.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Due date.
    #[serde(default, deserialize_with = "patch")]
    pub due_date: Option<Option<NaiveDate>>,
    /// Notes.
    #[serde(default, deserialize_with = "patch")]
    pub notes: Option<Option<String>>,
    /// The project it bills.
    #[serde(default, deserialize_with = "patch")]
    pub project_id: Option<Option<Id>>,
    /// Its lines (replace them all; totals follow).
    pub lines: Option<Vec<InvoiceLineInput>>,
}

/// Updates a draft (lines and totals included).
pub async fn update(db: &impl ConnectionTrait, session: &Session, i: UpdateInvoiceInput) -> AppResult<invoice::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let current = draft(db, w.org, &i.id).await?;
    let mut am: invoice::ActiveModel = current.clone().into();
    if let Some(d) = i.due_date {
        am.due_date = Set(d);
    }
    if let Some(n) = &i.notes {
        am.notes = Set(validate::opt_text("notes", n.as_deref(), 5000, true)?);
    }
    if let Some(p) = &i.project_id {
        am.project_id = Set(project(db, w.org, p.as_ref(), "projectId").await?);
    }
    if let Some(l) = &i.lines {
        crate::service::billing::release(db, w.org, current.id).await?;
        let checked = lines(db, w.org, l).await?;
        let (subtotal, tax, total) = write_lines(db, &current, &checked).await?;
        (am.subtotal, am.tax_total, am.total) = (Set(subtotal), Set(tax), Set(total));
        // New lines are a change even when the totals stay (a new version).
        am.updated_at = Set(Utc::now().fixed_offset());
    }
    let done = w.update::<Invoice, _>("invoice.update", current.clone(), am, i.expected_version).await?;
    emit(&w, &done.after, "invoice.updated", None).await?;
    Ok(done.after)
}

/// Issue a draft.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct IssueInvoiceInput {
    /// The draft.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Issue date (default today; not in a closed period).
    pub issue_date: Option<NaiveDate>,
}

/// Issues a draft: checks it, takes the next gapless number of the year, snapshots the
/// exchange rate of the issue date and makes it final (`invoice.issued`).
pub async fn issue(db: &impl ConnectionTrait, session: &Session, i: IssueInvoiceInput) -> AppResult<invoice::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let current = draft(db, w.org, &i.id).await?;
    if current.version != i.expected_version {
        return Err(AppError::Conflict("invoice was changed by someone else; reload and retry".into()));
    }
    if current.total <= Decimal::ZERO {
        return Err(AppError::bad_input("id", "an invoice needs lines adding up to more than zero"));
    }
    let day = i.issue_date.unwrap_or_else(|| Utc::now().date_naive());
    fiscal::check_open(db, w.org, day, "issueDate").await?;
    let due = current.due_date.unwrap_or_else(|| day.checked_add_days(Days::new(DEFAULT_TERMS_DAYS)).unwrap_or(day));
    if due < day {
        return Err(AppError::bad_input("issueDate", "the due date is before the issue date"));
    }
    let mut am: invoice::ActiveModel = current.clone().into();
    am.number = Set(Some(numbering::next(db, w.org, "INV", fiscal::numbering_year(day)).await?));
    am.status = Set(InvoiceStatus::Issued.as_str().to_owned());
    am.issue_date = Set(Some(day));
    am.due_date = Set(Some(due));
    am.rate_to_org = Set(opsgraph_crm::service::rates::rate_on(db, w.org, &current.currency, day).await?);
    am.issued_at = Set(Some(Utc::now().fixed_offset()));
    let after = w.update::<Invoice, _>("invoice.issue", current.clone(), am, i.expected_version).await?.after;
    let title =
        format!("Invoice {} issued: {} {}", after.number.clone().unwrap_or_default(), after.total, after.currency);
    emit(&w, &after, "invoice.issued", Some(("INFO", title))).await?;
    Ok(after)
}

/// Marks an issued invoice sent (`invoice.sent`).
pub async fn send(db: &impl ConnectionTrait, session: &Session, gid: &Id) -> AppResult<invoice::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let current = get(db, w.org, Invoice::decode(gid, "id")?).await?;
    if current.status != InvoiceStatus::Issued.as_str() {
        return Err(AppError::bad_input("id", format!("a {} invoice cannot be sent", current.status)));
    }
    let mut am: invoice::ActiveModel = current.clone().into();
    am.status = Set(InvoiceStatus::Sent.as_str().to_owned());
    am.sent_at = Set(Some(Utc::now().fixed_offset()));
    let after = w.update::<Invoice, _>("invoice.send", current.clone(), am, current.version).await?.after;
    let title = format!("Invoice {} sent", after.number.clone().unwrap_or_default());
    emit(&w, &after, "invoice.sent", Some(("INFO", title))).await?;
    Ok(after)
}

/// Void an issued invoice.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct VoidInvoiceInput {
    /// The invoice.
    pub id: Id,
    /// Why.
    pub reason: String,
}

/// Voids an issued invoice nothing was paid or credited on; its number stays used.
pub async fn void(db: &impl ConnectionTrait, session: &Session, i: VoidInvoiceInput) -> AppResult<invoice::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let current = get(db, w.org, Invoice::decode(&i.id, "id")?).await?;
    let voidable = matches!(current.status.as_str(), "ISSUED" | "SENT") && current.kind == "INVOICE";
    if !voidable || current.paid_total > Decimal::ZERO || current.credited_total > Decimal::ZERO {
        return Err(AppError::bad_input(
            "id",
            "only an issued invoice with nothing paid or credited can be voided (a draft is simply changed)",
        ));
    }
    let mut am: invoice::ActiveModel = current.clone().into();
    am.status = Set(InvoiceStatus::Void.as_str().to_owned());
    am.voided_at = Set(Some(Utc::now().fixed_offset()));
    am.void_reason = Set(Some(validate::text("reason", &i.reason, 1, 500, false)?));
    let after = w.update::<Invoice, _>("invoice.void", current.clone(), am, current.version).await?.after;
    crate::service::billing::release(db, w.org, after.id).await?;
    let title = format!("Invoice {} voided", after.number.clone().unwrap_or_default());
    emit(&w, &after, "invoice.voided", Some(("WARNING", title))).await?;
    Ok(after)
}

/// Issue a credit note against an invoice.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct IssueCreditNoteInput {
    /// The invoice it corrects (issued, not void).
    pub invoice_id: Id,
    /// What is credited (at most what is still creditable on the invoice).
    pub lines: Vec<InvoiceLineInput>,
    /// Why (printed on it).
    pub notes: Option<String>,
    /// Issue date (default today; not in a closed period).
    pub issue_date: Option<NaiveDate>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Issues a credit note (series CN): never more than the invoice's total minus what was
/// credited before; credit beyond what is unpaid becomes account credit.
pub async fn credit(
    db: &impl ConnectionTrait,
    session: &Session,
    i: IssueCreditNoteInput,
) -> AppResult<invoice::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let key = ("issueCreditNote", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let original = lock(db, w.org, Invoice::decode(&i.invoice_id, "invoiceId")?).await?;
    if original.kind != "INVOICE" || matches!(original.status.as_str(), "DRAFT" | "VOID") {
        return Err(AppError::bad_input("invoiceId", "only an issued invoice can be credited"));
    }
    let checked = lines(db, w.org, &i.lines).await?;
    let (subtotal, tax, total) = totals::invoice(&checked.iter().map(|l| l.2).collect::<Vec<_>>());
    let creditable = original.total - original.credited_total;
    if total <= Decimal::ZERO || total > creditable {
        return Err(AppError::bad_input(
            "lines",
            format!("a credit note must be more than 0 and at most {creditable}"),
        ));
    }
    let day = i.issue_date.unwrap_or_else(|| Utc::now().date_naive());
    fiscal::check_open(db, w.org, day, "issueDate").await?;
    let note = invoice::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        kind: Set(InvoiceKind::CreditNote.as_str().to_owned()),
        number: Set(Some(numbering::next(db, w.org, "CN", fiscal::numbering_year(day)).await?)),
        account_id: Set(original.account_id),
        project_id: Set(original.project_id),
        credit_of_id: Set(Some(original.id)),
        status: Set(InvoiceStatus::Issued.as_str().to_owned()),
        currency: Set(original.currency.clone()),
        issue_date: Set(Some(day)),
        due_date: Set(Some(day)),
        subtotal: Set(subtotal),
        tax_total: Set(tax),
        total: Set(total),
        rate_to_org: Set(opsgraph_crm::service::rates::rate_on(db, w.org, &original.currency, day).await?),
        notes: Set(validate::opt_text("notes", i.notes.as_deref(), 5000, true)?),
        issued_at: Set(Some(Utc::now().fixed_offset())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    write_lines(db, &note, &checked).await?;
    w.created::<Invoice>("credit_note.issue", &note, key).await?;
    let unpaid = totals::outstanding(original.total, original.paid_total, original.credited_total);
    let mut am: invoice::ActiveModel = original.clone().into();
    am.credited_total = Set(original.credited_total + total);
    am.status = Set(settled(&original, original.paid_total, original.credited_total + total).as_str().to_owned());
    let after = w.update::<Invoice, _>("invoice.credit", original.clone(), am, original.version).await?.after;
    if total > unpaid {
        let reason = format!("credit note {}", note.number.clone().unwrap_or_default());
        add_credit(db, after.org_id, after.account_id, None, total - unpaid, &after.currency, &reason).await?;
    }
    emit(&w, &note, "credit_note.issued", None).await?;
    emit(&w, &after, "invoice.credited", None).await?;
    Ok(note)
}

/// Invoice `id` of `org`, locked for the rest of the transaction (payments and credits
/// on one invoice queue, so their sums stay exact).
pub async fn lock(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<invoice::Model> {
    use sea_orm::QuerySelect;
    invoice::Entity::find_by_id(id)
        .filter(invoice::Column::OrgId.eq(org))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("invoice"))
}

/// The status an issued invoice has with `paid` and `credited`.
pub fn settled(inv: &invoice::Model, paid: Decimal, credited: Decimal) -> InvoiceStatus {
    if totals::outstanding(inv.total, paid, credited).is_zero() {
        InvoiceStatus::Paid
    } else if paid > Decimal::ZERO {
        InvoiceStatus::PartiallyPaid
    } else if inv.sent_at.is_some() {
        InvoiceStatus::Sent
    } else {
        InvoiceStatus::Issued
    }
}

/// Records `amount` of credit for `account` (over-payments, credits beyond what was unpaid).
pub async fn add_credit(
    db: &impl ConnectionTrait,
    org: Uuid,
    account: Uuid,
    payment: Option<Uuid>,
    amount: Decimal,
    currency: &str,
    reason: &str,
) -> AppResult<()> {
    account_credit::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org),
        account_id: Set(account),
        payment_id: Set(payment),
        amount: Set(amount),
        currency: Set(currency.to_owned()),
        reason: Set(reason.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Whether `inv` is an issued invoice (not a credit note) that something may still be owed on.
pub fn is_open(inv: &invoice::Model) -> bool {
    matches!(inv.status.as_str(), "ISSUED" | "SENT" | "PARTIALLY_PAID") && inv.kind == "INVOICE"
}

/// What is still owed on `inv` (0.00 unless it is open).
pub fn open_amount(inv: &invoice::Model) -> Decimal {
    if is_open(inv) { totals::outstanding(inv.total, inv.paid_total, inv.credited_total) } else { Decimal::new(0, 2) }
}

/// Whether an issued invoice is past due with something still open on `today`.
pub fn is_overdue(inv: &invoice::Model, today: NaiveDate) -> bool {
    is_open(inv) && inv.due_date.is_some_and(|d| d < today)
}

/// The lines of `invoice` in order (for documents and tests).
pub async fn lines_of(db: &impl ConnectionTrait, invoice: Uuid) -> AppResult<Vec<invoice_line::Model>> {
    Ok(invoice_line::Entity::find()
        .filter(invoice_line::Column::InvoiceId.eq(invoice))
        .order_by_asc(invoice_line::Column::Position)
        .all(db)
        .await?)
}
