//! The ai tables.

pub mod agent;
pub mod agent_team;
pub mod agent_template;
pub mod call_recording;
pub mod conversation;
pub mod insight;
pub mod llm_model;
pub mod mcp_server;
pub mod message;
pub mod pending_action;
pub mod prompt_template;
pub mod prompt_version;
pub mod provider;
pub mod run;
pub mod step_log;
pub mod team_member;
pub mod workflow;
pub mod workflow_run;
