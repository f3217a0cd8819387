//! The knowledge node types: the public handles other crates use to reference, extend and
//! load knowledge data (never the entity modules).

use crate::entity::{collection, document, document_version, folder};

opsgraph_core::node_type! {
    /// A knowledge base or space.
    pub Collection = collection, read KnowledgeRead;
    /// A folder of a collection.
    pub Folder = folder, read KnowledgeRead;
    /// A document.
    pub Document = document, read KnowledgeRead;
    /// One saved version of a document.
    pub DocumentVersion = document_version, read KnowledgeRead;
}
