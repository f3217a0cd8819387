//! SeaORM entities of the tables the work domain owns.

pub mod milestone;
pub mod project;
pub mod risk;
pub mod task;
pub mod task_dependency;
