//! SeaORM entities of the tables the work domain owns.

pub mod project;
pub mod task;
pub mod task_dependency;
