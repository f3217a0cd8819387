//! SeaORM entities of the tables the work domain owns.

pub mod availability;
pub mod change_request;
pub mod channel;
pub mod channel_member;
pub mod channel_message;
pub mod checklist_item;
pub mod comment;
pub mod comment_mention;
pub mod feedback;
pub mod key_result;
pub mod kudos;
pub mod message_reaction;
pub mod milestone;
pub mod objective;
pub mod objective_link;
pub mod project;
pub mod project_member;
pub mod risk;
pub mod task;
pub mod task_dependency;
pub mod time_entry;
pub mod time_off;
pub mod watcher;
