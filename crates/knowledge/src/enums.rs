//! The knowledge domain's closed value sets (GraphQL enums stored as their names).

use opsgraph_derive::GqlEnum;

/// Who may read a collection (besides its owner and explicit grants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum Visibility {
    /// Everyone of the organisation (not clients).
    Organization,
    /// The members of its team.
    Team,
    /// The members of its project.
    Project,
    /// Its owner and those it is granted to.
    Private,
}

/// What a collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum CollectionKind {
    /// A knowledge base for search and answers.
    KnowledgeBase,
    /// A wiki space.
    Wiki,
    /// An agent's or a person's memory (documents of kind MEMORY).
    Memory,
}

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum DocumentKind {
    /// A wiki page.
    WikiPage,
    /// An article.
    Article,
    /// A note.
    Note,
    /// A file's text.
    File,
    /// A remembered fact (agent memory).
    Memory,
    /// A blog post.
    BlogPost,
    /// An idea.
    Idea,
}

/// Where a document's semantic index stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum IndexStatus {
    /// Saved and keyword-searchable; embeddings pending.
    Pending,
    /// Every chunk embedded: semantically searchable.
    Indexed,
    /// Embedding failed (see the reason); retried.
    Failed,
}

/// Access granted on a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum Access {
    /// Read and search.
    Read,
    /// Also write documents.
    Write,
}

/// How a search matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum SearchMode {
    /// Full text (stemmed, with a trigram fallback for typos).
    Keyword,
    /// Nearest embeddings.
    Semantic,
    /// Both, fused by reciprocal rank.
    Hybrid,
}

/// What runs an embedding model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum EmbeddingProvider {
    /// In process, offline (all-MiniLM-L6-v2 with candle).
    Local,
    /// An OpenAI-compatible `/embeddings` endpoint.
    OpenaiCompatible,
}
