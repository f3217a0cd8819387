//! The ai domain's operations: validate -> build -> save, on any connection.

pub mod agents;
pub mod conversations;
pub mod grounding;
pub mod runner;
