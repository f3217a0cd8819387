//! The finance domain: the fiscal calendar (years, closable monthly periods), invoices and
//! credit notes with gapless numbers, payments and refunds, account credit. It reaches
//! crm's accounts and work's projects through their node types and services.

#[allow(missing_docs, reason = "entity fields mirror the migration's columns; the GraphQL types document them")]
pub mod entity;
pub mod enums;
pub mod graphql;
pub mod links;
pub mod loader;
pub mod metrics;
pub mod nodes;
pub mod pdf;
pub mod seed;
pub mod service;
pub mod totals;
