//! Billing the work: a project's uninvoiced billable time and approved billable expenses of
//! a date range become one draft invoice. Time is one line per member and bill rate (hours
//! x the member's bill rate on each entry's day); each expense is a line. Every time entry
//! and expense is recorded against its line in `billed_items` (unique), so it is billed at
//! most once; replacing the draft's lines or voiding the invoice releases them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session};
use opsgraph_crm::nodes::Account;
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::Membership;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{expense, invoice};
use crate::service::invoices::{self, CreateInvoiceInput, InvoiceLineInput};

/// Invoice a project's uninvoiced work.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct BillProjectInput {
    /// The project.
    pub project_id: Id,
    /// First day of work billed.
    pub from: NaiveDate,
    /// Last day of work billed.
    pub to: NaiveDate,
    /// Rebillable expenses too (default true).
    pub include_expenses: Option<bool>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Which of `ids` (of `column`) an invoice bills already.
async fn billed(db: &impl ConnectionTrait, column: &str, ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {column} AS id FROM billed_items WHERE {column} = ANY($1)"),
            [opsgraph_core::loader::keys_array(ids)],
        ))
        .await?;
    rows.iter().map(|r| r.try_get("", "id").map_err(AppError::from)).collect()
}

/// A line with the items it bills: (time entries, expenses).
type Planned = (InvoiceLineInput, Vec<Uuid>, Vec<Uuid>);

/// A member's billable hours at one bill rate: (hours, first day, last day, entries).
type AtRate = (Decimal, NaiveDate, NaiveDate, Vec<Uuid>);

/// Time as one line per member and bill rate: each entry is priced at its member's bill
/// rate on its day, so a raise inside the range makes two lines.
async fn time_lines(
    db: &impl ConnectionTrait,
    org: Uuid,
    project: Uuid,
    i: &BillProjectInput,
) -> AppResult<Vec<Planned>> {
    let entries = opsgraph_work::service::time::billable_entries(db, org, project, i.from, i.to).await?;
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    let done = billed(db, "time_entry_id", &ids).await?;
    let open: Vec<_> = entries.iter().filter(|e| !done.contains(&e.id)).collect();
    let days: Vec<(Uuid, NaiveDate)> = open.iter().map(|e| (e.membership_id, e.entry_date)).collect();
    let rates = opsgraph_org::service::rates::at(db, org, &days).await?;
    let mut groups: BTreeMap<(Uuid, Decimal), AtRate> = BTreeMap::new();
    let mut missing = BTreeMap::new();
    for e in open {
        let Some(rate) = rates.get(&(e.membership_id, e.entry_date)).and_then(|r| r.bill) else {
            missing.entry(e.membership_id).or_insert(e.entry_date);
            continue;
        };
        let slot = groups.entry((e.membership_id, rate)).or_insert((Decimal::ZERO, e.entry_date, e.entry_date, vec![]));
        slot.0 += e.hours;
        slot.2 = e.entry_date;
        slot.3.push(e.id);
    }
    if !missing.is_empty() {
        let who: Vec<String> = missing.iter().map(|(m, day)| format!("{} on {day}", Membership::gid(*m))).collect();
        return Err(AppError::bad_input("projectId", format!("members without a bill rate: {}", who.join(", "))));
    }
    let members: Vec<Uuid> = groups.keys().map(|k| k.0).collect();
    let names = opsgraph_org::service::members::many(db, org, &members).await?;
    let mut out = vec![];
    for ((member, rate), (hours, first, last, entries)) in groups {
        let m = names.iter().find(|m| m.id == member).ok_or_else(|| AppError::not_found("membership"))?;
        let who = opsgraph_org::service::members::display_name(db, m).await?;
        let line = InvoiceLineInput {
            description: format!("Services {first} to {last}: {who}"),
            quantity: hours,
            unit_price: rate,
            tax_rate: None,
            project_id: Some(Id::of::<Project>(project)),
        };
        out.push((line, entries, vec![]));
    }
    out.sort_by_key(|(l, ..)| l.description.clone());
    Ok(out)
}

/// Each approved, billable, uninvoiced expense of the range as a line.
async fn expense_lines(
    db: &impl ConnectionTrait,
    org: Uuid,
    project: Uuid,
    i: &BillProjectInput,
) -> AppResult<Vec<Planned>> {
    let rows = expense::Entity::find()
        .filter(expense::Column::OrgId.eq(org))
        .filter(expense::Column::ProjectId.eq(project))
        .filter(expense::Column::Billable.eq(true))
        .filter(expense::Column::Status.is_in(["APPROVED", "REIMBURSED"]))
        .filter(expense::Column::SpentOn.between(i.from, i.to))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let done = billed(db, "expense_id", &ids).await?;
    Ok(rows
        .into_iter()
        .filter(|e| !done.contains(&e.id))
        .map(|e| {
            let vendor = e.vendor.as_deref().map(|v| format!(" ({v})")).unwrap_or_default();
            let line = InvoiceLineInput {
                description: format!("Expense {}: {}{vendor}", e.spent_on, e.description),
                quantity: Decimal::ONE,
                unit_price: e.amount,
                tax_rate: None,
                project_id: Some(Id::of::<Project>(project)),
            };
            (line, vec![], vec![e.id])
        })
        .collect())
}

/// Drafts the invoice of a project's uninvoiced work in the range (BAD_USER_INPUT when
/// there is none, when the project has no client account, or a member has no bill rate).
pub async fn bill_project(
    db: &impl ConnectionTrait,
    session: &Session,
    i: BillProjectInput,
) -> AppResult<invoice::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let org = w.org;
    let key = ("billProject", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return invoices::get(db, org, id).await;
    }
    if i.to < i.from {
        return Err(AppError::bad_input("to", "to is before from"));
    }
    let project = opsgraph_work::service::projects::get(db, org, Project::decode(&i.project_id, "projectId")?).await?;
    let account = project
        .client_account_id
        .ok_or_else(|| AppError::bad_input("projectId", "the project has no client account"))?;
    let mut planned = time_lines(db, org, project.id, &i).await?;
    if i.include_expenses.unwrap_or(true) {
        planned.extend(expense_lines(db, org, project.id, &i).await?);
    }
    if planned.is_empty() {
        return Err(AppError::bad_input("projectId", "nothing uninvoiced to bill in that range"));
    }
    let input = CreateInvoiceInput {
        account_id: Id::of::<Account>(account),
        project_id: Some(i.project_id.clone()),
        currency: None,
        due_date: None,
        notes: Some(format!("Work from {} to {}", i.from, i.to)),
        lines: Some(planned.iter().map(|p| p.0.clone()).collect()),
        idempotency_key: None,
    };
    let draft = invoices::create(db, session, input).await?;
    opsgraph_core::idempotency::complete(db, org, key.0, key.1, draft.id).await?;
    let lines = invoices::lines_of(db, draft.id).await?;
    let entries: Vec<Uuid> = planned.iter().flat_map(|p| p.1.iter().copied()).collect();
    opsgraph_work::service::time::set_billed(db, org, &entries, true).await?;
    for (line, (_, entries, expenses)) in lines.iter().zip(&planned) {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO billed_items (org_id, invoice_id, line_id, time_entry_id, expense_id) \
             SELECT $1, $2, $3, t, NULL FROM unnest($4::uuid[]) t \
             UNION ALL SELECT $1, $2, $3, NULL, x FROM unnest($5::uuid[]) x",
            [org.into(), draft.id.into(), line.id.into(), entries.clone().into(), expenses.clone().into()],
        ))
        .await?;
    }
    Ok(draft)
}

/// Releases what invoice `id` of `org` billed (it was voided, or its lines replaced): the
/// items can be billed again and the time entries edited again.
pub async fn release(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<()> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM billed_items WHERE invoice_id = $1 RETURNING time_entry_id",
            [id.into()],
        ))
        .await?;
    let entries: Vec<Uuid> =
        rows.iter().filter_map(|r| r.try_get::<Option<Uuid>>("", "time_entry_id").ok().flatten()).collect();
    opsgraph_work::service::time::set_billed(db, org, &entries, false).await
}
