//! The work domain's operations.

pub mod projects;
