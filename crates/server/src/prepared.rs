//! Requests seen before. A request that ran without any error was parsed, passed the
//! limits (with the cost they found) and passed validation; the same query text, operation
//! name and variables again take its parsed document and that outcome, and skip all three
//! (PostGraphile caches parsed and validated documents by query text the same way).
//!
//! Validation depends on the variables (their values are checked against the argument
//! types), and so does the cost (`first: $n`), so they are part of the key. Entries are
//! compared in full, not by hash alone; the cache holds at most [`CAPACITY`] entries of
//! bounded size. Only queries are kept: a mutation's variables may carry a password or a
//! token, which must not outlive its request, and mutations are seldom repeated verbatim.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::Variables;
use async_graphql::parser::types::ExecutableDocument;

use crate::limits::Checked;

/// Entries kept; when full, one is dropped for each new one.
pub const CAPACITY: usize = 256;
/// Longer documents or variables are not kept (they are rarely repeated verbatim).
const MAX_TEXT: usize = 16 * 1024;

/// What a request that ran cleanly left: its document and what the limits found.
pub struct Entry {
    query: String,
    operation: Option<String>,
    variables: Variables,
    doc: ExecutableDocument,
    checked: Checked,
}

/// The cache (one per server).
#[derive(Default)]
pub struct Prepared {
    entries: Mutex<HashMap<u64, Arc<Entry>>>,
    hasher: RandomState,
    hits: AtomicU64,
}

/// A request not seen before, to be remembered if it runs cleanly.
pub struct Miss {
    key: u64,
    entry: Entry,
}

impl Prepared {
    /// The key of `req`, if a request of its size may be kept.
    fn key(&self, req: &async_graphql::Request) -> Option<u64> {
        if req.query.len() > MAX_TEXT || !req.uploads.is_empty() {
            return None;
        }
        let vars = serde_json::to_string(&req.variables).ok().filter(|v| v.len() <= MAX_TEXT)?;
        Some(self.hasher.hash_one((&req.query, &req.operation_name, vars)))
    }

    /// What an earlier run of exactly this request found: its document goes into `req`,
    /// marked as validated. Otherwise the request's key, if it may be kept (for [`Prepared::miss`]).
    pub fn reuse(&self, req: &mut async_graphql::Request) -> Result<Checked, Option<u64>> {
        let key = self.key(req).ok_or(None)?;
        let entry = self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        let entry = entry
            .filter(|e| e.query == req.query && e.operation == req.operation_name && e.variables == req.variables)
            .ok_or(Some(key))?;
        req.set_validated_query(entry.doc.clone());
        self.hits.fetch_add(1, Ordering::Relaxed);
        Ok(entry.checked)
    }

    /// A query about to run, parsed (into `req`) and checked as `checked`, whose key
    /// [`Prepared::reuse`] gave, to remember if it runs cleanly ([`Prepared::remember`]).
    pub fn miss(&self, req: &mut async_graphql::Request, key: Option<u64>, checked: Checked) -> Option<Miss> {
        let key = key.filter(|_| checked.query)?;
        let doc = req.parsed_query().ok()?.clone();
        let entry = Entry {
            query: req.query.clone(),
            operation: req.operation_name.clone(),
            variables: req.variables.clone(),
            doc,
            checked,
        };
        Some(Miss { key, entry })
    }

    /// Keeps what a request that ran without any error left.
    pub fn remember(&self, miss: Miss) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY
            && !entries.contains_key(&miss.key)
            && let Some(old) = entries.keys().next().copied()
        {
            entries.remove(&old);
        }
        entries.insert(miss.key, Arc::new(miss.entry));
    }

    /// Requests that reused an entry so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, vars: serde_json::Value) -> async_graphql::Request {
        async_graphql::Request::new(query).variables(Variables::from_json(vars))
    }

    fn remembered(p: &Prepared, mut req: async_graphql::Request, cost: u64) {
        let key = p.reuse(&mut req).err().flatten();
        let miss = p.miss(&mut req, key, Checked { cost, query: true }).expect("kept");
        p.remember(miss);
    }

    fn kept(p: &Prepared, mut req: async_graphql::Request, checked: Checked) -> bool {
        let key = p.reuse(&mut req).err().flatten();
        p.miss(&mut req, key, checked).is_some()
    }

    #[test]
    fn only_the_same_text_operation_and_variables_reuse_an_entry() {
        let p = Prepared::default();
        let q = "query Q($n: Int) { a(first: $n) }";
        remembered(&p, request(q, serde_json::json!({"n": 5})), 7);
        let mut same = request(q, serde_json::json!({"n": 5}));
        assert_eq!(p.reuse(&mut same).map(|c| c.cost).ok(), Some(7));
        assert!(p.reuse(&mut request(q, serde_json::json!({"n": 6}))).is_err(), "other variables");
        assert!(p.reuse(&mut request("query Q($n: Int) { b(first: $n) }", serde_json::json!({"n": 5}))).is_err());
        let mut named = request(q, serde_json::json!({"n": 5}));
        named.operation_name = Some("Q".into());
        assert!(p.reuse(&mut named).is_err(), "another operation name");
    }

    #[test]
    fn the_cache_stays_within_its_capacity_and_skips_long_documents_and_mutations() {
        let p = Prepared::default();
        for i in 0..CAPACITY + 10 {
            remembered(&p, request(&format!("{{ a{i} }}"), serde_json::json!({})), 1);
        }
        assert_eq!(p.len(), CAPACITY);
        let long = format!("{{ {} }}", "a ".repeat(MAX_TEXT));
        assert!(!kept(&p, request(&long, serde_json::json!({})), Checked { cost: 1, query: true }));
        let login = "mutation($p: String!) { logIn(password: $p) }";
        let mutation = Checked { cost: 1, query: false };
        assert!(!kept(&p, request(login, serde_json::json!({"p": "secret"})), mutation), "no mutation");
    }
}
