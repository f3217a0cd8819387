//! Search over the chunks a session can read (Row Level Security filters every statement):
//! KEYWORD (full text in the query's language and word for word, with a trigram fallback
//! for typos), SEMANTIC (nearest embeddings in each searched collection's model; pgvector's
//! iterative index scan keeps `first` hits under a narrow filter) and HYBRID (reciprocal rank fusion of
//! both). Hits carry their scores, a snippet with highlights and a citation.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use opsgraph_core::{AppError, AppResult, Permission, Session};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use uuid::Uuid;

use crate::embed::{Model, Models};
use crate::enums::SearchMode;

/// Most hits one page returns.
pub const MAX_FIRST: usize = 50;
/// Deepest position a search pages to.
pub const MAX_DEPTH: usize = 200;
/// Reciprocal rank fusion's default k.
pub const RRF_K: f64 = 60.0;

/// What to search within.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these collections.
    pub collections: Option<Vec<Uuid>>,
    /// Documents with any of these tags.
    pub tags: Option<Vec<String>>,
    /// Documents of these kinds.
    pub kinds: Option<Vec<String>>,
    /// Documents of this project's collections or linked to it.
    pub project: Option<Uuid>,
    /// Documents linked to this entity.
    pub linked_to: Option<Uuid>,
    /// Documents changed after this instant.
    pub updated_after: Option<DateTime<FixedOffset>>,
}

/// A search request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The words.
    pub query: String,
    /// How to match.
    pub mode: SearchMode,
    /// Narrowing.
    pub filter: Filter,
    /// Hits wanted.
    pub first: usize,
    /// Hits skipped (from the cursor).
    pub offset: usize,
    /// Text search language of the query.
    pub language: String,
    /// Fusion's k and the weights of the keyword and semantic ranks.
    pub fusion: (f64, f64, f64),
}

/// One hit.
#[derive(Debug, Clone, Default)]
pub struct Hit {
    /// The chunk.
    pub chunk_id: Uuid,
    /// Its document.
    pub document_id: Uuid,
    /// The document's revision the chunk was cut from.
    pub document_version: i32,
    /// The chunk's position in the document.
    pub position: i32,
    /// The chunk's text.
    pub text: String,
    /// Its tokens.
    pub token_count: i32,
    /// First character (of the document's body).
    pub char_start: i32,
    /// One past the last.
    pub char_end: i32,
    /// 1-based rank in the keyword list.
    pub keyword_rank: Option<usize>,
    /// Share of the query matched (0..1; see [`keyword`]).
    pub keyword_score: Option<f64>,
    /// 1-based rank in the semantic list.
    pub vector_rank: Option<usize>,
    /// Cosine distance to the query.
    pub vector_distance: Option<f64>,
    /// The fused score (the ranking).
    pub fused: f64,
}

/// Hits of one page and how many the search found (up to [`MAX_DEPTH`]).
pub struct Found {
    /// The page.
    pub hits: Vec<Hit>,
    /// All hits found.
    pub total: usize,
}

const FILTER: &str = "d.deleted_at IS NULL \
  AND d.collection_id IN (SELECT k.id FROM collections k WHERE k.deleted_at IS NULL) \
  AND ($2::uuid[] IS NULL OR d.collection_id = ANY($2)) \
  AND ($3::text[] IS NULL OR d.tags && $3) \
  AND ($4::text[] IS NULL OR d.kind = ANY($4)) \
  AND ($5::uuid IS NULL OR d.collection_id IN (SELECT k.id FROM collections k WHERE k.project_id = $5) \
       OR d.id IN (SELECT l.document_id FROM document_links l WHERE l.target_id = $5)) \
  AND ($6::uuid IS NULL OR d.id IN (SELECT l.document_id FROM document_links l WHERE l.target_id = $6)) \
  AND ($7::timestamptz IS NULL OR d.updated_at > $7)";

fn values(first: Value, f: &Filter) -> Vec<Value> {
    vec![
        first,
        f.collections.clone().into(),
        f.tags.clone().into(),
        f.kinds.clone().into(),
        f.project.into(),
        f.linked_to.into(),
        f.updated_after.into(),
    ]
}

async fn ranked(db: &impl ConnectionTrait, sql: String, values: Vec<Value>) -> AppResult<Vec<(Uuid, f64)>> {
    let rows = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    rows.iter().map(|r| Ok((r.try_get("", "id")?, r.try_get::<f64>("", "score")?))).collect()
}

/// Keyword hits, best first. A plain question (no quotes, `-` or `or`) matches chunks
/// holding any of its words, scored like BM25 without length normalisation: the sum of the
/// inverse document frequencies of the words held (rare words weigh, stop words vanish),
/// ties broken by full-text rank. A query using search syntax keeps its exact meaning (every
/// word, phrases, exclusions). Trigram similarity answers when nothing matches (typos).
async fn keyword(db: &impl ConnectionTrait, r: &Request, n: usize) -> AppResult<Vec<(Uuid, f64)>> {
    let mut v = values(r.query.clone().into(), &r.filter);
    v.push(r.language.clone().into());
    v.push((n as i64).into());
    let hits = if plain(&r.query) {
        let (terms, weights, common) = term_weights(db, &r.query, &r.language).await?;
        // Common words weigh almost nothing and would make every chunk a candidate: they
        // score but do not select.
        let selective: Vec<&String> = terms.iter().zip(&common).filter(|(_, c)| !**c).map(|(t, _)| t).collect();
        if selective.is_empty() {
            all_words(db, v.clone()).await?
        } else {
            let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
            v.push(selective.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" | ").into());
            v.push(terms.into());
            v.push(weights.into());
            v.push(total.into());
            // The share of the query's weight a chunk holds; full-text rank breaks ties.
            let any = format!(
                "SELECT c.id, ((SELECT sum(u.w) FROM unnest($11::text[], $12::float8[]) u(t, w) \
                   WHERE c.tsv @@ u.t::tsquery) / $13 + ts_rank(c.tsv, $10::tsquery) / 1000)::float8 AS score \
                 FROM chunks c JOIN documents d ON d.id = c.document_id \
                 WHERE c.tsv @@ $10::tsquery AND $8::text IS NOT NULL AND {FILTER} ORDER BY score DESC, c.id LIMIT $9"
            );
            let hits = ranked(db, any, v.clone()).await?;
            v.truncate(9);
            hits
        }
    } else {
        all_words(db, v.clone()).await?
    };
    if !hits.is_empty() {
        return Ok(hits);
    }
    // Typos: trigram word similarity over the chunk text (pg_trgm's index), a little more
    // tolerant than its default threshold of 0.6.
    db.execute_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT set_config('pg_trgm.word_similarity_threshold', '0.45', true)",
    ))
    .await?;
    let fuzzy = format!(
        "SELECT c.id, word_similarity($1, c.text)::float8 AS score FROM chunks c JOIN documents d ON d.id = c.document_id \
         WHERE $1 <% c.text AND $8::text IS NOT NULL AND {FILTER} ORDER BY score DESC, c.id LIMIT $9"
    );
    ranked(db, fuzzy, v).await
}

/// Chunks holding every word of the query (websearch syntax: phrases, `-word`, `or`), a share
/// of 1 each, ordered by full-text rank.
async fn all_words(db: &impl ConnectionTrait, v: Vec<Value>) -> AppResult<Vec<(Uuid, f64)>> {
    let sql = format!(
        "SELECT c.id, 1::float8 AS score FROM chunks c JOIN documents d ON d.id = c.document_id, \
           (SELECT websearch_to_tsquery($8::regconfig, $1) || websearch_to_tsquery('simple', $1) AS q) q \
         WHERE c.tsv @@ q.q AND {FILTER} ORDER BY ts_rank_cd(c.tsv, q.q) DESC, c.id LIMIT $9"
    );
    ranked(db, sql, v).await
}

/// Chunks read to estimate the words' document frequencies: all of them in a small corpus,
/// a sample of this many in a large one (one pass, whatever the words).
const SAMPLE: i64 = 2000;
/// In a sampled corpus, a word in this share of the sample or more is common.
const COMMON: f64 = 0.05;

/// The query's words as quoted lexemes (its language's stems and the words as written)
/// with their inverse document frequency, `ln(1 + (N - df + 0.5) / (df + 0.5))` (BM25's),
/// over the chunks the session can read, in one statement: exact up to [`SAMPLE`] chunks,
/// estimated from a sample of that many beyond. Also says which words are common (a share
/// of [`COMMON`] or more of a sampled corpus).
async fn term_weights(
    db: &impl ConnectionTrait,
    query: &str,
    language: &str,
) -> AppResult<(Vec<String>, Vec<f64>, Vec<bool>)> {
    let sql = "WITH lex AS (SELECT DISTINCT quote_literal(l) AS t \
         FROM unnest(tsvector_to_array(to_tsvector($1::regconfig, $2) || to_tsvector('simple', $2))) l), \
       s AS MATERIALIZED (SELECT c.tsv FROM chunks c LIMIT $3), \
       n AS (SELECT count(*)::float8 AS n FROM s) \
       SELECT lex.t, ln(1 + (n.n - d.df + 0.5) / (d.df + 0.5))::float8 AS idf, \
         n.n >= $3 AND d.df >= n.n * $4 AS common FROM lex, n, \
         LATERAL (SELECT count(*)::float8 AS df FROM s WHERE s.tsv @@ lex.t::tsquery) d \
       ORDER BY lex.t";
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [language.into(), query.into(), SAMPLE.into(), COMMON.into()],
        ))
        .await?;
    let mut terms = vec![];
    let mut weights = vec![];
    let mut common = vec![];
    for r in rows {
        terms.push(r.try_get::<String>("", "t")?);
        weights.push(r.try_get::<f64>("", "idf")?.max(0.0));
        common.push(r.try_get::<bool>("", "common")?);
    }
    Ok((terms, weights, common))
}

/// A query with no search syntax (quoted phrases, `-word`, `or`): its words may be matched
/// one by one.
pub fn plain(query: &str) -> bool {
    !query.contains('"') && !query.split_whitespace().any(|w| w.starts_with('-') || w.eq_ignore_ascii_case("or"))
}

/// The query's embedding with `model`.
async fn embed_query(model: &Model, text: &str) -> AppResult<Vec<f32>> {
    let out = model
        .embed(vec![text.to_owned()])
        .await
        .map_err(|e| AppError::Unavailable(format!("semantic search is unavailable: {e}")))?;
    out.into_iter().next().ok_or_else(|| AppError::internal("no query embedding"))
}

/// pgvector's text form of a vector.
pub fn vector_literal(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// Semantic hits, nearest first: per embedding model of the searched collections (one
/// statement finds them when the server offers several), the query embedded with it and
/// its nearest chunks; several models' lists interleave by rank (their distances are not
/// comparable).
async fn semantic(db: &impl ConnectionTrait, models: &Models, r: &Request, n: usize) -> AppResult<Vec<(Uuid, f64)>> {
    if let [only] = models.all() {
        // `nearest` keeps to the collections embedding with it.
        let q = embed_query(only, &r.query).await?;
        return nearest(db, &r.filter, only, &q, n).await;
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT DISTINCT embedding_model FROM collections WHERE deleted_at IS NULL \
             AND ($1::uuid[] IS NULL OR id = ANY($1)) ORDER BY 1",
            [r.filter.collections.clone().into()],
        ))
        .await?;
    let mut lists = vec![];
    for row in rows {
        let name: String = row.try_get("", "embedding_model")?;
        if let Some(model) = models.get(&name) {
            let q = embed_query(model, &r.query).await?;
            lists.push(nearest(db, &r.filter, model, &q, n).await?);
        }
    }
    Ok(interleave(lists, n))
}

/// Merges ranked lists by rank (then distance), each chunk once, at most `n`.
pub fn interleave(lists: Vec<Vec<(Uuid, f64)>>, n: usize) -> Vec<(Uuid, f64)> {
    if lists.len() == 1 {
        return lists.into_iter().flatten().take(n).collect();
    }
    let mut all: Vec<(usize, Uuid, f64)> =
        lists.into_iter().flat_map(|l| l.into_iter().enumerate().map(|(i, (id, d))| (i, id, d))).collect();
    all.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)));
    let mut seen = std::collections::HashSet::new();
    all.into_iter().filter(|(_, id, _)| seen.insert(*id)).map(|(_, id, d)| (id, d)).take(n).collect()
}

/// The `n` chunks nearest to `vector` (in `model`'s space) that pass `filter`, belong to a
/// collection embedding with `model`, and pass the session's Row Level Security: an HNSW
/// scan (the model's own index) that goes on (`hnsw.iterative_scan`) until `n` rows pass,
/// re-sorted by exact distance. `(chunk, cosine distance)`, nearest first.
pub async fn nearest(
    db: &impl ConnectionTrait,
    filter: &Filter,
    model: &Model,
    vector: &[f32],
    n: usize,
) -> AppResult<Vec<(Uuid, f64)>> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true)",
        [ef_search(n).to_string().into()],
    ))
    .await?;
    let mut v = values(vector_literal(vector).into(), filter);
    v.push(model.name.clone().into());
    v.push((n as i64).into());
    // The cast's dimensions and the dimensions test are literals so the planner matches the
    // model's partial HNSW index.
    let dims = model.dimensions;
    let sql = format!(
        "SELECT id, score FROM (SELECT e.chunk_id AS id, \
           (e.embedding::vector({dims}) <=> $1::vector({dims}))::float8 AS score FROM chunk_embeddings e \
         WHERE e.model = $8 AND e.dimensions = {dims} AND ($2::uuid[] IS NULL OR e.collection_id = ANY($2)) \
           AND e.document_id IN (SELECT d.id FROM documents d WHERE {FILTER} \
             AND d.collection_id IN (SELECT k.id FROM collections k WHERE k.embedding_model = $8)) \
         ORDER BY e.embedding::vector({dims}) <=> $1::vector({dims}) LIMIT $9) s ORDER BY score, id"
    );
    ranked(db, sql, v).await
}

/// HNSW's candidate list for `n` hits: ten per hit, 100..1000 (pgvector's default of 40
/// lost recall at 100k vectors: 0.59 at 10 hits in `./dev bench knowledge`).
pub fn ef_search(n: usize) -> usize {
    n.saturating_mul(10).clamp(100, 1000)
}

/// Fuses ranked lists: each hit scores the sum of `weight / (k + rank)` over the lists it is
/// in, a keyword hit's weight scaled by the share of the query it matched (a chunk holding
/// only a question's common words adds little).
pub fn fuse(keyword: &[(Uuid, f64)], semantic: &[(Uuid, f64)], (k, wk, ws): (f64, f64, f64)) -> Vec<Hit> {
    let mut by: HashMap<Uuid, Hit> = HashMap::new();
    for (i, (id, score)) in keyword.iter().enumerate() {
        let h = by.entry(*id).or_insert_with(|| Hit { chunk_id: *id, ..Hit::default() });
        h.keyword_rank = Some(i + 1);
        h.keyword_score = Some(*score);
        h.fused += wk * score.clamp(0.0, 1.0).powi(2) / (k + (i + 1) as f64);
    }
    for (i, (id, distance)) in semantic.iter().enumerate() {
        let h = by.entry(*id).or_insert_with(|| Hit { chunk_id: *id, ..Hit::default() });
        h.vector_rank = Some(i + 1);
        h.vector_distance = Some(*distance);
        h.fused += ws / (k + (i + 1) as f64);
    }
    let mut hits: Vec<Hit> = by.into_values().collect();
    hits.sort_by(|a, b| b.fused.total_cmp(&a.fused).then(a.chunk_id.cmp(&b.chunk_id)));
    hits
}

fn fill(h: &mut Hit, r: &QueryResult) -> Result<(), sea_orm::DbErr> {
    h.document_id = r.try_get("", "document_id")?;
    h.document_version = r.try_get("", "document_version")?;
    h.position = r.try_get("", "position")?;
    h.text = r.try_get("", "text")?;
    h.token_count = r.try_get("", "token_count")?;
    h.char_start = r.try_get("", "char_start")?;
    h.char_end = r.try_get("", "char_end")?;
    Ok(())
}

/// Runs a search for `session` with the server's embedding `models`.
pub async fn search(db: &impl ConnectionTrait, session: &Session, models: &Models, r: &Request) -> AppResult<Found> {
    session.require(Permission::KnowledgeRead)?;
    if r.query.trim().is_empty() || r.query.len() > 1000 {
        return Err(AppError::bad_input("query", "query must be 1..1000 bytes"));
    }
    if r.first == 0 || r.first > MAX_FIRST || r.offset + r.first > MAX_DEPTH {
        return Err(AppError::bad_input("first", format!("first is 1..{MAX_FIRST}, paging up to {MAX_DEPTH} hits")));
    }
    let n = (r.offset + r.first).max(if r.mode == SearchMode::Hybrid { 50 } else { 0 }).min(MAX_DEPTH);
    let kw = match r.mode {
        SearchMode::Semantic => vec![],
        _ => keyword(db, r, n).await?,
    };
    let sem = match r.mode {
        SearchMode::Keyword => vec![],
        _ => semantic(db, models, r, n).await?,
    };
    let mut hits = fuse(&kw, &sem, r.fusion);
    let total = hits.len();
    hits = hits.into_iter().skip(r.offset).take(r.first).collect();
    let ids: Vec<Uuid> = hits.iter().map(|h| h.chunk_id).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, document_id, document_version, position, text, token_count, char_start, char_end \
             FROM chunks WHERE id = ANY($1)",
            [ids.into()],
        ))
        .await?;
    let mut by_id: HashMap<Uuid, &QueryResult> = HashMap::new();
    for row in &rows {
        by_id.insert(row.try_get("", "id")?, row);
    }
    for h in &mut hits {
        if let Some(row) = by_id.get(&h.chunk_id) {
            fill(h, row)?;
        }
    }
    hits.retain(|h| !h.document_id.is_nil());
    Ok(Found { hits, total })
}

/// A window of `text` around the first query word it holds, with the character ranges
/// (within the snippet) of every query word found.
pub fn snippet(text: &str, query: &str, width: usize) -> (String, Vec<(usize, usize)>) {
    let words: Vec<String> =
        query.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 3).map(str::to_lowercase).collect();
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = text.to_lowercase().chars().collect();
    let same = lower.len() == chars.len();
    let find =
        |from: usize, w: &[char]| (from..lower.len().saturating_sub(w.len() - 1)).find(|&i| lower[i..].starts_with(w));
    let first =
        if same { words.iter().filter_map(|w| find(0, &w.chars().collect::<Vec<_>>())).min().unwrap_or(0) } else { 0 };
    // Start at the text's start when the first match is near it, else at a word start a
    // little before the match.
    let start = if first <= width / 3 { 0 } else { first - width / 4 };
    let start = (start..first).find(|&i| i == 0 || chars[i - 1].is_whitespace()).unwrap_or(start);
    let end = (start + width).min(chars.len());
    let out: String = chars[start..end].iter().collect();
    let mut marks = vec![];
    if same {
        for w in &words {
            let w: Vec<char> = w.chars().collect();
            let mut i = start;
            while let Some(at) = find(i, &w).filter(|&at| at + w.len() <= end) {
                marks.push((at - start, at - start + w.len()));
                i = at + w.len();
            }
        }
    }
    marks.sort_unstable();
    (out, marks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn fusion_rewards_agreement() {
        let kw = [(id(1), 1.0), (id(2), 1.0)];
        let sem = [(id(2), 0.1), (id(3), 0.2)];
        let hits = fuse(&kw, &sem, (60.0, 1.0, 1.0));
        assert_eq!(hits[0].chunk_id, id(2), "in both lists beats first in one");
        assert_eq!((hits[0].keyword_rank, hits[0].vector_rank), (Some(2), Some(1)));
        assert!((hits[0].fused - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-12);
        assert_eq!(hits.len(), 3);
        let kw_only = fuse(&kw, &sem, (60.0, 1.0, 0.0));
        assert_eq!(kw_only[0].chunk_id, id(1), "weights move the ranking");
    }

    #[test]
    fn a_partial_keyword_match_weighs_less() {
        let kw = [(id(1), 0.5)];
        let sem = [(id(2), 0.1)];
        let hits = fuse(&kw, &sem, (60.0, 1.0, 1.0));
        assert_eq!(hits[0].chunk_id, id(2), "first by meaning beats first by half the words");
        assert!((hits[1].fused - 0.25 / 61.0).abs() < 1e-12, "weighted by the share squared");
        assert!(plain("How long is a proposal valid?"));
        assert!(!plain("\"helm rollback\" -canary") && !plain("vpn or proxy"));
    }

    #[test]
    fn snippets_mark_query_words() {
        let (s, marks) = snippet("Expenses: submit every receipt within thirty days of the trip.", "receipt trip", 80);
        assert!(s.starts_with("Expenses"));
        let words: Vec<String> = marks.iter().map(|&(a, b)| s.chars().skip(a).take(b - a).collect()).collect();
        assert_eq!(words, vec!["receipt", "trip"]);
        let (_, none) = snippet("Nothing here.", "absent", 80);
        assert!(none.is_empty());
    }
}
