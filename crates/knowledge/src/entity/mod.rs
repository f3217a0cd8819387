//! The knowledge tables (chunks and embeddings are read and written in SQL by the services).

pub mod collection;
pub mod collection_grant;
pub mod document;
pub mod document_link;
pub mod document_version;
pub mod folder;
