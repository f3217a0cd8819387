//! Grounded answers: an agent bound to a knowledge collection retrieves the passages
//! nearest the member's question with knowledge's hybrid search, run as that member (so
//! Row Level Security keeps out what they may not read), puts them in its instructions and
//! stores them as the reply's citations (document, revision, character range).

use opsgraph_core::auth::{Actor, Role};
use opsgraph_core::{AppResult, Session, TxDb};
use opsgraph_knowledge::embed::Models;
use opsgraph_knowledge::enums::SearchMode;
use opsgraph_knowledge::service::search::{self, Filter, RRF_K, Request};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

/// Passages put before the model (a small model reads little well).
pub const PASSAGES: usize = 3;

/// A passage an answer may cite.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its document.
    pub document_id: Uuid,
    /// The document's revision the passage was cut from.
    pub revision: i32,
    /// First character in the document's body.
    pub char_start: i32,
    /// One past the last.
    pub char_end: i32,
    /// The document's title.
    pub title: String,
    /// The passage.
    pub text: String,
}

/// The session of the member a conversation is with (their user and role), to act with
/// their rights; read in the caller's transaction.
pub async fn member_session(db: &impl ConnectionTrait, org: Uuid, member: Uuid) -> AppResult<Session> {
    let m = opsgraph_org::service::members::get(db, org, member).await?;
    Ok(Session {
        actor: Actor::User { user_id: m.user_id },
        org_id: Some(org),
        membership_id: Some(m.id),
        role: Some(Role::parse(&m.role).ok_or_else(|| opsgraph_core::AppError::internal("unknown role"))?),
        ..Session::anonymous("ai-grounding")
    })
}

/// A hybrid search for what an agent looks up: `question` (its first 1,000 characters)
/// in `collection`, or everywhere the reader may read.
pub fn request(question: &str, collection: Option<Uuid>, first: usize) -> Request {
    Request {
        query: question.chars().take(1000).collect(),
        mode: SearchMode::Hybrid,
        filter: Filter { collections: collection.map(|c| vec![c]), ..Filter::default() },
        first,
        offset: 0,
        language: "english".into(),
        fusion: (RRF_K, 1.0, 1.0),
    }
}

/// The passages of `collection` nearest `question`, as `session` (the member) may read
/// them: the search and one statement for the documents' titles.
pub async fn retrieve(
    pool: &DatabaseConnection,
    models: &Models,
    session: &Session,
    collection: Uuid,
    question: &str,
) -> AppResult<Vec<Source>> {
    let db = TxDb::begin(pool, &session.tenant()).await?;
    let found = search::search(&db, session, models, &request(question, Some(collection), PASSAGES)).await?;
    let ids = found.hits.iter().map(|h| h.document_id).collect();
    let titles = opsgraph_knowledge::service::documents::titles(&db, ids).await?;
    db.rollback().await?;
    let out = found
        .hits
        .into_iter()
        .filter_map(|h| {
            Some(Source {
                title: titles.get(&h.document_id)?.clone(),
                document_id: h.document_id,
                revision: h.document_version,
                char_start: h.char_start,
                char_end: h.char_end,
                text: h.text,
            })
        })
        .collect();
    Ok(out)
}

/// The instructions with the passages, numbered for citing.
pub fn instructions(base: &str, sources: &[Source]) -> String {
    if sources.is_empty() {
        return base.to_owned();
    }
    let mut s = format!("{base}\n\nAnswer from these passages of the knowledge base and cite them as [1], [2]:\n");
    for (i, src) in sources.iter().enumerate() {
        s.push_str(&format!("[{}] {}: {}\n", i + 1, src.title, src.text));
    }
    s
}

/// The citations stored on the reply.
pub fn citations(sources: &[Source]) -> Value {
    Value::Array(
        sources
            .iter()
            .map(|s| {
                json!({ "documentId": s.document_id, "revision": s.revision, "charStart": s.char_start,
                        "charEnd": s.char_end, "title": s.title })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_are_numbered_for_citing() {
        let src = Source {
            document_id: Uuid::nil(),
            revision: 2,
            char_start: 0,
            char_end: 10,
            title: "VPN".into(),
            text: "Error 809: use the SSL fallback.".into(),
        };
        let s = instructions("Be brief.", std::slice::from_ref(&src));
        assert!(s.starts_with("Be brief.") && s.contains("[1] VPN: Error 809"));
        assert_eq!(instructions("Be brief.", &[]), "Be brief.");
        assert_eq!(citations(&[src])[0]["revision"], 2);
    }
}
