//! The finance domain's demo data, created through the finance services as the demo owner:
//! the current fiscal year, a year of monthly invoices for every project with a client
//! account (paid, partly paid, overdue and one still a draft) with three months of
//! forecasts, and members' expenses, approved or waiting.

use chrono::{Datelike, Months, NaiveDate, Utc};
use opsgraph_core::input::Id;
use opsgraph_core::node::Model;
use opsgraph_core::{AppResult, TxDb};
use opsgraph_org::seed::DemoOrg;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;

use crate::enums::{ExpenseCategory, ExpenseStatus, PaymentMethod};
use crate::nodes::{Expense, Invoice};
use crate::service::{expenses, fiscal, forecasts, invoices, payments};

/// Creates one organisation's finance data.
pub async fn finance(db: &TxDb, org: &DemoOrg, projects: &[Model<Project>]) -> AppResult<()> {
    let owner = &org.owner;
    let today = Utc::now().date_naive();
    let year = fiscal::CreateFiscalYearInput { year: today.year() };
    fiscal::create_year(db, owner, year).await?;
    for (n, p) in projects.iter().enumerate() {
        let project = opsgraph_work::service::projects::get(db, p.org_id, p.id).await?;
        let Some(account) = project.client_account_id else { continue };
        for month in (1..=12u32).rev() {
            let Some(day) = today.with_day(1).and_then(|d| d.checked_sub_months(Months::new(month))) else { continue };
            monthly(db, org, &project, account, day, month, n).await?;
        }
        for ahead in 0..3u32 {
            let Some(month) = today.with_day(1).and_then(|d| d.checked_add_months(Months::new(ahead))) else {
                continue;
            };
            let forecast = forecasts::SetForecastInput {
                project_id: Id::of::<Project>(project.id),
                month,
                revenue: Decimal::from(9_000 + 1_000 * ahead as i64),
                cost: Decimal::from(5_500 + 500 * ahead as i64),
                confidence: Decimal::new(90 - 15 * ahead as i64, 2),
                note: None,
            };
            forecasts::set(db, owner, forecast).await?;
        }
    }
    for (i, m) in org.members.iter().enumerate().take(3) {
        expense(db, org, m, projects.first(), i, today).await?;
    }
    Ok(())
}

/// One month's invoice: paid in full long ago, partly paid or overdue lately, a draft for
/// the last month.
async fn monthly(
    db: &TxDb,
    org: &DemoOrg,
    project: &Model<Project>,
    account: uuid::Uuid,
    day: NaiveDate,
    months_ago: u32,
    n: usize,
) -> AppResult<()> {
    let owner = &org.owner;
    let hours = Decimal::from(40 + 8 * ((months_ago as i64 + n as i64) % 5));
    let lines = vec![
        invoices::InvoiceLineInput {
            description: format!("Consulting, {}", day.format("%B %Y")),
            quantity: hours,
            unit_price: Decimal::new(15_000, 2),
            tax_rate: Some(Decimal::from(20)),
            project_id: Some(Id::of::<Project>(project.id)),
        },
        invoices::InvoiceLineInput {
            description: "Project management".into(),
            quantity: Decimal::from(8),
            unit_price: Decimal::new(12_000, 2),
            tax_rate: Some(Decimal::from(20)),
            project_id: None,
        },
    ];
    let draft = invoices::CreateInvoiceInput {
        account_id: Id::of::<opsgraph_crm::nodes::Account>(account),
        project_id: Some(Id::of::<Project>(project.id)),
        currency: None,
        due_date: None,
        notes: Some("Thank you for your business.".into()),
        lines: Some(lines),
        idempotency_key: None,
    };
    let d = invoices::create(db, owner, draft).await?;
    if months_ago == 1 {
        return Ok(());
    }
    let issue =
        invoices::IssueInvoiceInput { id: Id::of::<Invoice>(d.id), expected_version: d.version, issue_date: Some(day) };
    let issued = invoices::issue(db, owner, issue).await?;
    let sent = invoices::send(db, owner, &Id::of::<Invoice>(issued.id)).await?;
    let paid = match months_ago {
        2 | 3 => None,
        4 => Some(sent.total / Decimal::from(2)),
        _ => Some(sent.total),
    };
    if let Some(amount) = paid.map(|a| a.round_dp(2)) {
        let on = day.checked_add_days(chrono::Days::new(20)).unwrap_or(day);
        let pay = payments::RecordPaymentInput {
            invoice_id: Id::of::<Invoice>(sent.id),
            amount,
            method: PaymentMethod::BankTransfer,
            paid_on: Some(on),
            external_ref: Some(format!("bank-{}", sent.number.clone().unwrap_or_default())),
            note: None,
            idempotency_key: None,
        };
        payments::record(db, owner, pay).await?;
    }
    Ok(())
}

/// A member's expense on the first project: approved by the owner, or waiting.
async fn expense(
    db: &TxDb,
    org: &DemoOrg,
    m: &Model<opsgraph_org::nodes::Membership>,
    project: Option<&Model<Project>>,
    i: usize,
    today: NaiveDate,
) -> AppResult<()> {
    let session = opsgraph_core::Session {
        membership_id: Some(m.id),
        role: opsgraph_core::gql::GqlEnum::from_text(&m.role),
        ..org.owner.clone()
    };
    let (category, what, amount) = [
        (ExpenseCategory::Travel, "Train to the client workshop", Decimal::new(12_450, 2)),
        (ExpenseCategory::Software, "Design tool licence", Decimal::new(4_900, 2)),
        (ExpenseCategory::Meals, "Team lunch with the client", Decimal::new(8_630, 2)),
    ][i % 3];
    let input = expenses::SubmitExpenseInput {
        category,
        description: what.into(),
        amount,
        currency: None,
        spent_on: today.checked_sub_days(chrono::Days::new(3 + i as u64)).unwrap_or(today),
        vendor: Some(["Rail Co", "Figma", "Bistro Central"][i % 3].into()),
        receipt_url: None,
        project_id: project.map(|p| Id::of::<Project>(p.id)),
        billable: Some(project.is_some() && i != 1),
        idempotency_key: None,
    };
    let e = expenses::submit(db, &session, input).await?;
    if i != 2 {
        let decide =
            expenses::DecideExpenseInput { id: Id::of::<Expense>(e.id), status: ExpenseStatus::Approved, note: None };
        expenses::decide(db, &org.owner, decide).await?;
    }
    Ok(())
}
