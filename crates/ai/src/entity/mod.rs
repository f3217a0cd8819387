//! The ai tables.

pub mod agent;
pub mod conversation;
pub mod message;
