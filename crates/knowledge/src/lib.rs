//! The knowledge domain: collections, documents with history, chunks, local embeddings and
//! hybrid search.

pub mod embed;
