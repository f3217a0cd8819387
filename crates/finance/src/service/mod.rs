//! The finance domain's services: plain functions over a connection, each write through
//! the platform's `Write` pipeline.

pub mod billing;
pub mod expenses;
pub mod financials;
pub mod fiscal;
pub mod forecasts;
pub mod invoices;
pub mod numbering;
pub mod overdue;
pub mod payments;
pub mod pnl;
