//! Shared platform pieces of opsgraph: global IDs, the request context (session, tenant
//! transaction, loaders), permissions, Relay pagination, filters, error codes, audit and
//! the schema-composition helpers every domain crate builds on.

// The derives name `::opsgraph_core`; this lets core use them on its own types.
extern crate self as opsgraph_core;

pub mod aggregate;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod board;
pub mod context;
pub mod db;
pub mod error;
pub mod events;
pub mod exec;
pub mod filter;
pub mod gql;
pub mod id;
pub mod idempotency;
pub mod input;
pub mod joined;
pub mod kpi;
pub mod live;
pub mod loader;
pub mod money;
pub mod node;
pub mod outbound;
pub mod pagination;
pub mod projection;
pub mod query_runner;
pub mod queue;
pub mod secrets;
pub mod spans;
pub mod sync;
pub mod validate;
pub mod write;

pub use auth::{Actor, Permission, Role, Session};
pub use context::RequestCtx;
pub use db::{Tenant, TxDb};
pub use error::{AppError, AppResult, ErrorCode};

#[doc(hidden)]
pub mod __private {
    pub use uuid::Uuid;
}
