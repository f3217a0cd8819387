//! The ai tables.

pub mod agent;
pub mod conversation;
pub mod llm_model;
pub mod message;
pub mod pending_action;
pub mod provider;
pub mod run;
