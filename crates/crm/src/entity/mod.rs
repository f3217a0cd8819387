//! The crm domain's tables.

pub mod account;
pub mod campaign;
pub mod campaign_recipient;
pub mod client_feedback;
pub mod contact;
pub mod conversation;
pub mod deal;
pub mod deal_stage_history;
pub mod exchange_rate;
pub mod industry;
pub mod interaction;
pub mod interaction_participant;
pub mod lead_rule;
pub mod phone_number;
pub mod pipeline;
pub mod pipeline_stage;
pub mod proposal;
pub mod segment;
