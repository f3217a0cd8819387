//! The finance domain's tables.

pub mod account_credit;
pub mod expense;
pub mod fiscal_period;
pub mod fiscal_year;
pub mod forecast;
pub mod invoice;
pub mod invoice_line;
pub mod payment;
