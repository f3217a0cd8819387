//! The work domain's operations.

pub mod delivery;
pub mod dependencies;
pub mod projects;
pub mod tasks;
pub mod workflow;
