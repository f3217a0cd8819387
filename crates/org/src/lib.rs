//! The org domain: organisations, users, memberships, teams, skills, API keys, audit log,
//! notifications inbox and settings, with identity (sign-up, log-in, tokens).

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

pub use service::auth::{Credentials, authenticate, authenticate_batched};
pub use service::tokens::AuthConfig;
