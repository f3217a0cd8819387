//! The finance domain's enums (stored as their SCREAMING_SNAKE_CASE text).

use opsgraph_derive::GqlEnum;

/// An invoice or a credit note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum InvoiceKind {
    /// An invoice (series INV).
    Invoice,
    /// A credit note against an issued invoice (series CN).
    CreditNote,
}

/// Where an invoice stands (overdue is derived from the due date: `isOverdue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum InvoiceStatus {
    /// Being written: no number, lines can change.
    Draft,
    /// Numbered and final.
    Issued,
    /// Sent to the client.
    Sent,
    /// Partly paid.
    PartiallyPaid,
    /// Fully paid (or credited).
    Paid,
    /// Cancelled while nothing was paid; its number stays used.
    Void,
}

/// How money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum PaymentMethod {
    /// Bank transfer.
    BankTransfer,
    /// Card.
    Card,
    /// Cash.
    Cash,
    /// Cheque.
    Check,
    /// Anything else.
    Other,
}

/// Money in or back out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum PaymentKind {
    /// The client paid.
    Payment,
    /// We paid back.
    Refund,
}

/// What an expense was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ExpenseCategory {
    /// Travel.
    Travel,
    /// Meals.
    Meals,
    /// Hotels.
    Lodging,
    /// Software and subscriptions.
    Software,
    /// Hardware.
    Hardware,
    /// Marketing.
    Marketing,
    /// Office costs.
    Office,
    /// Anything else.
    Other,
}

/// Where an expense stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ExpenseStatus {
    /// Waiting for a decision.
    Submitted,
    /// Approved (billable ones can be invoiced).
    Approved,
    /// Rejected.
    Rejected,
    /// Paid back to the member.
    Reimbursed,
}
