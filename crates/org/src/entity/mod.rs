//! SeaORM entities of the tables the org domain owns.

pub mod api_key;
pub mod audit_entry;
pub mod dashboard;
pub mod dashboard_widget;
pub mod generated_report;
pub mod invitation;
pub mod kpi;
pub mod kpi_measurement;
pub mod member_skill;
pub mod membership;
pub mod notification;
pub mod org_setting;
pub mod organization;
pub mod refresh_token;
pub mod report_template;
pub mod saved_query;
pub mod skill;
pub mod team;
pub mod team_member;
pub mod user;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
