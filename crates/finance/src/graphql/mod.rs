//! The finance domain's GraphQL contribution: the fiscal calendar, invoices with lines,
//! payments and credit notes, their lists on `Organization`, `Account` and `Project`, and
//! the mutations.

use std::sync::LazyLock;

use opsgraph_core::Permission;
use opsgraph_core::aggregate::{GroupKind as G, agg_money, agg_money_sql, gf};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{GqlEnum, SchemaParts, list_field, list_of_field_for, page_field_for};
use opsgraph_core::node::{Model, NodeType};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_crm::nodes::Account;
use opsgraph_org::nodes::Organization;
use opsgraph_work::nodes::Project;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{fiscal_year, invoice};
use crate::enums::{InvoiceKind, InvoiceStatus};
use crate::loader::{CreditsOfAccount, InvoicesOfAccount, InvoicesOfProject};
use crate::nodes::{AccountCredit, FiscalYear, Invoice};

mod calendar;
mod expenses;
mod financials;
mod invoices;
mod mutations;

/// What is still open on an issued invoice (its own currency).
const OUTSTANDING: &str = "CASE WHEN invoices.status IN ('ISSUED','SENT','PARTIALLY_PAID') AND invoices.kind = 'INVOICE' \
    THEN invoices.total - invoices.paid_total - invoices.credited_total END";

pub use expenses::EXPENSES;

/// `Invoice` lists (newest issue first by default).
pub static INVOICES: LazyLock<ListSpec<invoice::Entity>> = LazyLock::new(|| {
    use invoice::Column as C;
    ListSpec {
        node: Invoice::NAME,
        id: C::Id,
        filters: vec![
            ff("number", C::Number, K::Text),
            ff("kind", C::Kind, K::Enum(InvoiceKind::NAME)),
            ff("status", C::Status, K::Enum(InvoiceStatus::NAME)),
            ff("accountId", C::AccountId, K::Id(Account::NAME)),
            ff("projectId", C::ProjectId, K::Id(Project::NAME)),
            ff("currency", C::Currency, K::Text),
            ff("issueDate", C::IssueDate, K::Date),
            ff("dueDate", C::DueDate, K::Date),
        ],
        sorts: vec![
            sk("ISSUE_DATE", C::IssueDate, S::DateOrLast),
            sk("DUE_DATE", C::DueDate, S::DateOrLast),
            sk("NUMBER", C::Number, S::Text),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
        ],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![
            agg_money("total", C::Total, C::Currency),
            agg_money("paid", C::PaidTotal, C::Currency),
            agg_money_sql("outstanding", OUTSTANDING, "invoices.currency"),
        ],
        groups: vec![
            gf("STATUS", C::Status, G::Enum(&InvoiceStatus::VALUES)),
            gf("ACCOUNT", C::AccountId, G::Id(Account::NAME)),
            gf("PROJECT", C::ProjectId, G::Id(Project::NAME)),
            gf("ISSUE_DATE", C::IssueDate, G::Date),
            gf("CURRENCY", C::Currency, G::Text),
        ],
    }
});

/// `FiscalYear` lists.
pub static FISCAL_YEARS: LazyLock<ListSpec<fiscal_year::Entity>> = LazyLock::new(|| {
    use fiscal_year::Column as C;
    ListSpec {
        node: FiscalYear::NAME,
        id: C::Id,
        filters: vec![ff("year", C::Year, K::Int)],
        sorts: vec![sk("YEAR", C::Year, S::Int)],
        default_sort: "YEAR",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// Adds the finance types, lists, edges and mutations.
pub fn register(parts: &mut SchemaParts) {
    calendar::register(parts);
    invoices::register(parts);
    mutations::register(parts);
    expenses::register(parts);
    financials::register(parts);
    parts.list(&*INVOICES).list(&*FISCAL_YEARS);
    parts.extend::<Organization>(list_field(
        "invoices",
        &INVOICES,
        "Invoices and credit notes (`filter: { status: { eq: SENT } }`; aggregates: total, paid, outstanding per currency).",
        |_, req| Ok(invoice::Entity::find().filter(invoice::Column::OrgId.eq(req.require(Permission::FinanceRead)?))),
    ));
    parts.extend::<Organization>(list_field("fiscalYears", &FISCAL_YEARS, "The fiscal calendar.", |_, req| {
        Ok(fiscal_year::Entity::find().filter(fiscal_year::Column::OrgId.eq(req.require(Permission::FinanceRead)?)))
    }));
    parts.extend::<Account>(page_field_for::<Model<Account>, InvoicesOfAccount>(
        Some(Permission::InvoicesRead),
        "invoices",
        "Its invoices and credit notes (a client sees its issued ones).",
        |a| a.id,
    ));
    parts.extend::<Account>(list_of_field_for::<Model<Account>, CreditsOfAccount, AccountCredit>(
        Some(Permission::FinanceRead),
        "credits",
        "Credit it holds from over-payments and credit notes (finance readers).",
        |a| a.id,
    ));
    edges(parts);
    parts.extend::<Project>(page_field_for::<Model<Project>, InvoicesOfProject>(
        Some(Permission::InvoicesRead),
        "invoices",
        "Invoices and credit notes billing this project.",
        |p| p.id,
    ));
}

/// The enum every finance type uses, registered once.
pub(crate) fn enums(parts: &mut SchemaParts) {
    parts.enumeration::<InvoiceKind>().enumeration::<InvoiceStatus>();
    parts.enum_only::<crate::enums::PaymentMethod>().enum_only::<crate::enums::PaymentKind>();
}

/// `Account.outstanding` and `TimeEntry.invoiceLine`, batched per level.
fn edges(parts: &mut SchemaParts) {
    use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
    use opsgraph_core::context::RequestCtx;
    use opsgraph_core::gql::{Money, parent};
    use opsgraph_core::loader::failed;
    use opsgraph_work::nodes::TimeEntry;

    use crate::links::{LineOfEntry, Outstanding};
    use crate::nodes::InvoiceLine;

    parts.extend::<Account>(
        Field::new("outstanding", TypeRef::named_nn_list_nn(opsgraph_core::gql::scalar::MONEY), |ctx| {
            FieldFuture::new(async move {
                let a = parent::<Model<Account>>(&ctx)?;
                let req = RequestCtx::of(&ctx)?;
                req.require(Permission::InvoicesRead)?;
                let open = req.loader(Outstanding).load_one(a.id).await.map_err(|e| failed(&e))?.unwrap_or_default();
                let money = open.iter().map(|(c, v)| FieldValue::owned_any(Money { amount: *v, currency: c.clone() }));
                Ok(Some(FieldValue::list(money.collect::<Vec<_>>())))
            })
        })
        .description("What its issued invoices still owe, per currency."),
    );
    parts.extend::<TimeEntry>(
        Field::new("invoiceLine", InvoiceLine::nullable(), |ctx| {
            FieldFuture::new(async move {
                let e = parent::<Model<TimeEntry>>(&ctx)?;
                let req = RequestCtx::of(&ctx)?;
                req.require(Permission::InvoicesRead)?;
                let line = req.loader(LineOfEntry).load_one(e.id).await.map_err(|e| failed(&e))?.flatten();
                let Some(line) = line else { return Ok(None) };
                let row = opsgraph_core::loader::by_id::<<InvoiceLine as NodeType>::Entity>(&req, line).await?;
                Ok(row.map(FieldValue::owned_any))
            })
        })
        .description("The invoice line that bills this entry (finance readers)."),
    );
}
