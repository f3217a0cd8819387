//! End-to-end tests: the real server over HTTP against a real PostgreSQL.

mod accounts;
mod aggregates;
mod auth;
mod capacity;
mod collaboration;
mod errors;
mod events;
mod fuzz;
mod http;
mod limits;
mod live;
mod members;
mod notifications;
mod organization;
mod outage;
mod pagination;
mod schema;
mod semantics;
mod statements;
mod tasks;
mod tenancy;
mod websocket;
mod wire;
