//! The knowledge domain's operations: validate -> build -> save, on any connection.

pub mod collections;
pub mod documents;
pub mod folders;
pub mod imports;
pub mod indexer;
pub mod search;
