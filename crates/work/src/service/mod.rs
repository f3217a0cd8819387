//! The work domain's operations.

pub mod capacity;
pub mod change_requests;
pub mod channels;
pub mod chat;
pub mod checklists;
pub mod comments;
pub mod delivery;
pub mod dependencies;
pub mod members;
pub mod notify;
pub mod okrs;
pub mod performance;
pub mod projects;
pub mod recognition;
pub mod reminders;
pub mod tasks;
pub mod time;
pub mod watchers;
pub mod workflow;
