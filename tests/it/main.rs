//! End-to-end tests: the real server over HTTP against a real PostgreSQL.

#![allow(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code: a failed expectation is the test failing, with its message; scenarios read top to bottom"
)]

mod accounts;
mod agent_tools;
mod agents;
mod aggregates;
mod ai_automation;
mod auth;
mod capacity;
mod chat;
mod cli;
mod collaboration;
mod conversations;
mod cost;
mod crm;
mod dashboards;
mod embeddings;
mod errors;
mod events;
mod finance;
mod fuzz;
mod http;
mod knowledge;
mod limits;
mod live;
mod members;
mod metrics;
mod notifications;
mod organization;
mod outage;
mod pagination;
mod persisted;
mod portal;
mod projection;
mod rates;
mod relation_filters;
mod reporting;
mod schema;
mod search_eval;
mod semantics;
mod statements;
mod sync;
mod tasks;
mod tenancy;
mod traces;
mod webhooks;
mod websocket;
mod wire;
