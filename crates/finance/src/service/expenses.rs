//! Expenses: a member submits what they spent (category, vendor, amount, date, receipt,
//! project, billable); a finance writer other than the submitter approves or rejects it;
//! approved expenses are reimbursed, and billable ones can be invoiced (`billing`). The
//! exchange rate of the day it was spent is kept with it (for the P&L and financials).

use chrono::{NaiveDate, Utc};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::expense;
use crate::enums::{ExpenseCategory, ExpenseStatus};
use crate::nodes::Expense;
use crate::service::fiscal;

/// Submit an expense.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SubmitExpenseInput {
    /// What it was for.
    pub category: ExpenseCategory,
    /// What it was.
    pub description: String,
    /// Amount (> 0, 2 decimals).
    pub amount: Decimal,
    /// ISO 4217 currency (default: the organisation's).
    pub currency: Option<String>,
    /// When it was spent (not in the future, not in a closed period).
    pub spent_on: NaiveDate,
    /// Who was paid.
    pub vendor: Option<String>,
    /// Where the receipt is (URL or storage key).
    pub receipt_url: Option<String>,
    /// The project it was for.
    pub project_id: Option<Id>,
    /// Billed on to the project's client (default false).
    pub billable: Option<bool>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// The expense `id` of `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<expense::Model> {
    opsgraph_core::db::find_in_org::<expense::Entity>(db, expense::Column::OrgId, org, id, "expense").await
}

/// Submits the caller's expense (`expense.submitted`).
pub async fn submit(db: &impl ConnectionTrait, session: &Session, i: SubmitExpenseInput) -> AppResult<expense::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let member =
        session.membership_id.ok_or_else(|| AppError::Forbidden("expenses are submitted by members".into()))?;
    let key = ("submitExpense", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    if i.amount <= Decimal::ZERO || i.amount.scale() > 2 || i.amount > Decimal::from(1_000_000_000i64) {
        return Err(AppError::bad_input("amount", "amount must be > 0 with at most 2 decimals"));
    }
    if i.spent_on > Utc::now().date_naive() {
        return Err(AppError::bad_input("spentOn", "an expense cannot be in the future"));
    }
    fiscal::check_open(db, w.org, i.spent_on, "spentOn").await?;
    let currency = match &i.currency {
        Some(c) => validate::currency("currency", c)?,
        None => opsgraph_org::service::organization::default_currency(db, w.org).await?,
    };
    let project = match &i.project_id {
        Some(g) => Some(opsgraph_work::service::projects::get(db, w.org, Project::decode(g, "projectId")?).await?.id),
        None => None,
    };
    if i.billable == Some(true) && project.is_none() {
        return Err(AppError::bad_input("billable", "a billable expense names its project"));
    }
    let row = expense::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        member_id: Set(member),
        project_id: Set(project),
        category: Set(i.category.as_str().to_owned()),
        vendor: Set(validate::opt_text("vendor", i.vendor.as_deref(), 200, false)?),
        description: Set(validate::text("description", &i.description, 1, 1000, false)?),
        amount: Set(i.amount),
        currency: Set(currency.clone()),
        spent_on: Set(i.spent_on),
        receipt_url: Set(validate::opt_text("receiptUrl", i.receipt_url.as_deref(), 1000, false)?),
        billable: Set(i.billable.unwrap_or(false)),
        rate_to_org: Set(opsgraph_crm::service::rates::rate_on(db, w.org, &currency, i.spent_on).await?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Expense>("expense.submit", &row, key).await?;
    let data = serde_json::json!({ "amount": row.amount.to_string(), "currency": row.currency });
    w.emit::<Expense>("expense.submitted", row.id, DomainEvent { project_id: project, data, ..Default::default() })
        .await?;
    Ok(row)
}

/// Approve or reject an expense.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct DecideExpenseInput {
    /// The expense.
    pub id: Id,
    /// APPROVED or REJECTED.
    pub status: ExpenseStatus,
    /// Why (shown to the submitter).
    pub note: Option<String>,
}

/// Decides a submitted expense, never one's own (`expense.approved` / `expense.rejected`,
/// notifying the submitter).
pub async fn decide(db: &impl ConnectionTrait, session: &Session, i: DecideExpenseInput) -> AppResult<expense::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let current = get(db, w.org, Expense::decode(&i.id, "id")?).await?;
    if Some(current.member_id) == session.membership_id {
        return Err(AppError::Forbidden("nobody decides their own expense".into()));
    }
    if current.status != ExpenseStatus::Submitted.as_str()
        || !matches!(i.status, ExpenseStatus::Approved | ExpenseStatus::Rejected)
    {
        return Err(AppError::bad_input("status", "a SUBMITTED expense becomes APPROVED or REJECTED"));
    }
    let mut am: expense::ActiveModel = current.clone().into();
    am.status = Set(i.status.as_str().to_owned());
    am.decided_by = Set(session.membership_id);
    am.decided_at = Set(Some(Utc::now().fixed_offset()));
    am.decision_note = Set(validate::opt_text("note", i.note.as_deref(), 1000, true)?);
    let after = w.update::<Expense, _>("expense.decide", current.clone(), am, current.version).await?.after;
    let (kind, verb) = match i.status {
        ExpenseStatus::Approved => ("expense.approved", "approved"),
        _ => ("expense.rejected", "rejected"),
    };
    let title = format!("Expense {verb}: {} {} {}", after.description, after.amount, after.currency);
    let event = DomainEvent { project_id: after.project_id, ..DomainEvent::default() };
    w.notify::<Expense>(kind, after.id, [after.member_id], ("STATUS_CHANGE", title), event).await?;
    Ok(after)
}

/// Marks an approved expense paid back (`expense.reimbursed`).
pub async fn reimburse(db: &impl ConnectionTrait, session: &Session, gid: &Id) -> AppResult<expense::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let current = get(db, w.org, Expense::decode(gid, "id")?).await?;
    if current.status != ExpenseStatus::Approved.as_str() {
        return Err(AppError::bad_input("id", "only an APPROVED expense is reimbursed"));
    }
    let mut am: expense::ActiveModel = current.clone().into();
    am.status = Set(ExpenseStatus::Reimbursed.as_str().to_owned());
    am.reimbursed_at = Set(Some(Utc::now().fixed_offset()));
    let after = w.update::<Expense, _>("expense.reimburse", current.clone(), am, current.version).await?.after;
    let event = DomainEvent { recipients: vec![after.member_id], ..DomainEvent::default() };
    w.emit::<Expense>("expense.reimbursed", after.id, event).await?;
    Ok(after)
}
