//! opsgraph's ai domain: language models (SmolLM2 in process, OpenAI-compatible providers),
//! agents, and conversations whose replies stream over a subscription.

#[allow(missing_docs, reason = "entity fields mirror the migration's columns; the GraphQL types document them")]
pub mod entity;
pub mod enums;
pub mod graphql;
pub mod llm;
pub mod nodes;
pub mod seed;
pub mod service;
