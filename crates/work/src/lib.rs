//! The work domain: projects, tasks, delivery and capacity. This first slice holds
//! projects and the edges between them and the org domain's people and teams.

#[allow(missing_docs, reason = "entity fields mirror the migration's columns; the GraphQL types document them")]
pub mod entity;
pub mod enums;
pub mod error;
pub mod graphql;
pub mod live;
pub mod loader;
pub mod metrics;
pub mod nodes;
pub mod seed;
pub mod service;
pub mod sync;
