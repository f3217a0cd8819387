//! The crm domain: client accounts (with an industry catalog), contacts, pipelines with
//! ordered stages, deals on a board with their stage history. It extends org's members
//! (owners) and reaches work's projects through work's public node types.

#[allow(missing_docs, reason = "entity fields mirror the migration's columns; the GraphQL types document them")]
pub mod entity;
pub mod enums;
pub mod graphql;
pub mod loader;
pub mod metrics;
pub mod nodes;
pub mod seed;
pub mod service;
pub mod sync;
pub mod timeline;
