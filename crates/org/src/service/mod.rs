//! The org domain's operations: validate -> build -> save, on any connection.

pub mod api_keys;
pub mod auth;
pub mod dashboards;
pub mod dispatch;
pub mod invitations;
pub mod kpis;
pub mod members;
pub mod notifications;
pub mod organization;
pub mod password;
pub mod rates;
pub mod report_files;
pub mod reports;
pub mod saved_queries;
pub mod settings;
pub mod signup;
pub mod skills;
pub mod teams;
pub mod throttle;
pub mod tokens;
pub mod webhook_delivery;
pub mod webhooks;
