//! The finance node types: the public handles other crates use (never the entities).

use crate::entity::{account_credit, expense, fiscal_period, fiscal_year, forecast, invoice, invoice_line, payment};

opsgraph_core::node_type! {
    /// A fiscal year of the organisation.
    pub FiscalYear = fiscal_year, read FinanceRead;
    /// A month of a fiscal year; nothing is posted into a closed one.
    pub FiscalPeriod = fiscal_period, read FinanceRead;
    /// An invoice or a credit note.
    pub Invoice = invoice, read InvoicesRead;
    /// One line of an invoice.
    pub InvoiceLine = invoice_line, read InvoicesRead;
    /// A payment of an invoice, or a refund.
    pub Payment = payment, read InvoicesRead;
    /// Credit an account holds from an over-payment.
    pub AccountCredit = account_credit, read FinanceRead;
    /// Money a member spent, to be approved and reimbursed.
    pub Expense = expense, read FinanceRead;
    /// A project's expected revenue and cost for one month, with a confidence.
    pub Forecast = forecast, read FinanceRead;
}
