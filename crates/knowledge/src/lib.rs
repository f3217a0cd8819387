//! The knowledge domain: collections with visibility, folders, documents with every saved
//! version, chunks with full text and local embeddings, and hybrid search that keeps its k.

pub mod chunking;
pub mod diff;
pub mod embed;
#[allow(missing_docs, reason = "entity fields mirror the migration's columns; the GraphQL types document them")]
pub mod entity;
pub mod enums;
pub mod graphql;
pub mod loader;
pub mod nodes;
pub mod seed;
pub mod service;
