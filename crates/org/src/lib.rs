//! The org domain: organisations, users, memberships, teams, skills, API keys, audit log,
//! notifications inbox and settings, with identity (sign-up, log-in, tokens).

pub mod entity;
pub mod enums;
pub mod error;
pub mod graphql;
pub mod live;
pub mod loader;
pub mod nodes;
pub mod seed;
pub mod service;

pub use service::auth::{Credentials, authenticate};
pub use service::tokens::AuthConfig;
