//! Persisted queries. **Automatic** (Apollo's protocol): a client sends
//! `extensions.persistedQuery { version: 1, sha256Hash }` without the document; an unknown
//! hash answers `PERSISTED_QUERY_NOT_FOUND`, the client sends document and hash once, the
//! server checks the hash and keeps the document (memory and `persisted_queries`), and from
//! then on the hash alone runs it, over GET as over POST. **Allow-list mode**
//! (`OPSGRAPH_PERSISTED_ONLY`): only registered operations run (`opsgraph
//! register-operations`, global or for one organisation); anything else is FORBIDDEN and
//! clients cannot register. Lookups happen before the request's transaction starts, so no
//! request waits for a second connection while holding one; the allow-list check of an
//! organisation's own registrations reads in the request's transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opsgraph_core::{AppError, AppResult};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Documents kept in memory (the table keeps them all).
const CACHE: usize = 10_000;

/// The documents known by hash.
#[derive(Default)]
pub struct Persisted {
    docs: Mutex<HashMap<String, Arc<str>>>,
}

/// The lowercase hex SHA-256 of a document.
pub fn hash(document: &str) -> String {
    Sha256::digest(document.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `extensions.persistedQuery.sha256Hash` of a request (BAD_USER_INPUT for another
/// protocol version).
pub fn requested_hash(req: &async_graphql::Request) -> AppResult<Option<String>> {
    let Some(pq) = req.extensions.get("persistedQuery") else { return Ok(None) };
    let pq = pq.clone().into_json().map_err(|_| AppError::bad_input("persistedQuery", "not an object"))?;
    if pq.get("version").and_then(serde_json::Value::as_i64) != Some(1) {
        return Err(AppError::bad_input("persistedQuery", "only persisted query version 1 is supported"));
    }
    let h = pq.get("sha256Hash").and_then(serde_json::Value::as_str).unwrap_or_default().to_ascii_lowercase();
    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::bad_input("persistedQuery", "sha256Hash is 64 hex digits"));
    }
    Ok(Some(h))
}

impl Persisted {
    fn remember(&self, hash: &str, doc: &str) {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        if docs.len() >= CACHE {
            docs.clear();
        }
        docs.insert(hash.to_owned(), Arc::from(doc));
    }

    /// Fills in the document of a request that sent only a hash, and keeps the document
    /// of one that sent both (unless `register` is false: the allow-list mode); returns the
    /// request's hash (of the document it runs), if it used the protocol.
    pub async fn resolve(
        &self,
        pool: &DatabaseConnection,
        req: &mut async_graphql::Request,
        register: bool,
    ) -> AppResult<Option<String>> {
        let Some(h) = requested_hash(req)? else { return Ok(None) };
        if req.query.trim().is_empty() {
            let cached = self.docs.lock().unwrap_or_else(|p| p.into_inner()).get(&h).cloned();
            let doc = match cached {
                Some(d) => d.to_string(),
                None => {
                    // Content-addressed: every row of a hash holds the same document.
                    let sql = "SELECT document FROM persisted_queries WHERE hash = $1 LIMIT 1";
                    let row = pool
                        .query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [h.clone().into()]))
                        .await?
                        .ok_or(AppError::PersistedQueryNotFound)?;
                    let doc: String = row.try_get("", "document")?;
                    self.remember(&h, &doc);
                    doc
                }
            };
            req.query = doc;
            return Ok(Some(h));
        }
        if hash(&req.query) != h {
            return Err(AppError::bad_input("persistedQuery", "provided sha does not match query"));
        }
        if register && !self.docs.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&h) {
            let sql = "INSERT INTO persisted_queries (id, hash, document) VALUES ($1, $2, $3) \
                       ON CONFLICT (hash, org_id) DO NOTHING";
            let values = [opsgraph_core::id::new_id().into(), h.clone().into(), req.query.clone().into()];
            pool.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
            self.remember(&h, &req.query);
        }
        Ok(Some(h))
    }
}

/// Whether `hash` is a registered operation for everyone or for the organisation the
/// transaction `db` runs as (Row Level Security shows only those).
pub async fn allowed(db: &impl ConnectionTrait, hash: &str) -> AppResult<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM persisted_queries WHERE hash = $1 AND allowed) AS ok";
    let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [hash.into()])).await?;
    Ok(row.map(|r| r.try_get::<bool>("", "ok")).transpose()?.unwrap_or(false))
}

/// Registers documents as allowed operations (for `org`, or everyone); returns their
/// hashes. Each document is one client operation, exactly as the client sends it.
pub async fn register(pool: &DatabaseConnection, documents: &[String], org: Option<Uuid>) -> AppResult<Vec<String>> {
    let mut out = vec![];
    for doc in documents {
        async_graphql::parser::parse_query(doc)
            .map_err(|e| AppError::bad_input("document", format!("not a GraphQL document: {e}")))?;
        let h = hash(doc);
        let sql = "INSERT INTO persisted_queries (id, hash, org_id, document, allowed) VALUES ($1, $2, $3, $4, true) \
                   ON CONFLICT (hash, org_id) DO UPDATE SET allowed = true";
        let values = [opsgraph_core::id::new_id().into(), h.clone().into(), org.into(), doc.clone().into()];
        pool.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
        out.push(h);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_apollo() {
        // sha256("{ __typename }") as Apollo clients compute it.
        assert_eq!(hash("{ __typename }"), "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b");
    }
}
