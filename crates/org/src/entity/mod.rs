//! SeaORM entities of the tables the org domain owns.

pub mod api_key;
pub mod audit_entry;
pub mod invitation;
pub mod member_skill;
pub mod membership;
pub mod notification;
pub mod org_setting;
pub mod organization;
pub mod refresh_token;
pub mod skill;
pub mod team;
pub mod team_member;
pub mod user;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
