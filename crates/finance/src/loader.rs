//! The finance domain's relationships, each one statement per level of a query.

use crate::entity::{account_credit, expense, fiscal_period, forecast, invoice, invoice_line, payment};
use opsgraph_core::relation;
use sea_orm::QueryOrder;

relation!(
    /// The periods of a fiscal year, in order.
    PeriodsOf, fiscal_period, FiscalYearId,
    scope = |s| s.order_by_asc(fiscal_period::Column::Number)
);

relation!(
    /// The lines of an invoice, in order.
    LinesOf, invoice_line, InvoiceId,
    scope = |s| s.order_by_asc(invoice_line::Column::Position)
);

relation!(
    /// Payments and refunds of an invoice, oldest first.
    PaymentsOf, payment, InvoiceId,
    scope = |s| s.order_by_asc(payment::Column::CreatedAt)
);

relation!(
    /// Credit notes of an invoice.
    CreditNotesOf, invoice, CreditOfId,
    scope = |s| s.order_by_asc(invoice::Column::CreatedAt)
);

relation!(
    /// Invoices and credit notes of an account.
    InvoicesOfAccount, invoice, AccountId, spec = crate::graphql::INVOICES
);

relation!(
    /// Invoices and credit notes of a project.
    InvoicesOfProject, invoice, ProjectId, spec = crate::graphql::INVOICES
);

relation!(
    /// Credit an account holds, oldest first.
    CreditsOfAccount, account_credit, AccountId,
    scope = |s| s.order_by_asc(account_credit::Column::CreatedAt)
);

relation!(
    /// A member's expenses.
    ExpensesOfMember, expense, MemberId, spec = crate::graphql::EXPENSES
);

relation!(
    /// A project's forecasts, by month.
    ForecastsOf, forecast, ProjectId,
    scope = |s| s.order_by_asc(forecast::Column::Month)
);
