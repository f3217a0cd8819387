//! Retrieval evaluation over the labelled set in `tests/data/search_eval`: loads its 300
//! documents through the GraphQL API into one collection, lets the indexer embed them, runs
//! its 60 graded questions in each search mode and scores the rankings (documents ranked by
//! their best chunk) with nDCG@10 and recall@10.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde_json::json;

use crate::{TestApp, data};

/// Ranks scored.
pub const K: usize = 10;

/// One document of the set.
pub struct Doc {
    /// Its slug.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
}

/// One question and the grade of each relevant document (unlisted: 0).
pub struct Query {
    /// The words.
    pub text: String,
    /// Slug -> grade (1 helps, 2 answers).
    pub grades: HashMap<String, u32>,
}

/// The scores of one mode, averaged over the questions.
#[derive(Debug, Clone, Copy)]
pub struct Scores {
    /// Normalised discounted cumulative gain at [`K`].
    pub ndcg: f64,
    /// Share of the relevant documents in the first [`K`].
    pub recall: f64,
    /// Mean reciprocal rank of the first grade-2 document.
    pub mrr: f64,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/search_eval")
}

/// The documents of every `docs-*.txt`, in file and line order.
pub fn documents() -> Vec<Doc> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("search_eval directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("docs-")))
        .collect();
    files.sort();
    let mut docs: Vec<Doc> = vec![];
    for f in files {
        for line in std::fs::read_to_string(&f).expect("docs file").lines() {
            if let Some(head) = line.strip_prefix("=== ") {
                let (id, title) = head.split_once(" | ").expect("=== id | title");
                docs.push(Doc { id: id.trim().into(), title: title.trim().into(), body: String::new() });
            } else if let Some(d) = docs.last_mut() {
                if !d.body.is_empty() {
                    d.body.push('\n');
                }
                d.body.push_str(line);
            }
        }
    }
    docs
}

/// The questions of `queries.txt`.
pub fn queries() -> Vec<Query> {
    let text = std::fs::read_to_string(dir().join("queries.txt")).expect("queries.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (q, judged) = l.split_once(" => ").expect("question => id:grade ...");
            let grades = judged
                .split_whitespace()
                .map(|j| {
                    let (id, g) = j.rsplit_once(':').expect("id:grade");
                    (id.to_owned(), g.parse().expect("grade"))
                })
                .collect();
            Query { text: q.trim().into(), grades }
        })
        .collect()
}

/// nDCG at [`K`] of `ranked` slugs (gain 2^grade - 1, log2 discount).
pub fn ndcg(ranked: &[String], grades: &HashMap<String, u32>) -> f64 {
    let gain = |g: u32| f64::from((1u32 << g) - 1);
    let dcg: f64 = ranked
        .iter()
        .take(K)
        .enumerate()
        .map(|(i, id)| gain(*grades.get(id).unwrap_or(&0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<u32> = grades.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(K).enumerate().map(|(i, g)| gain(*g) / ((i + 2) as f64).log2()).sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Share of the relevant (grade >= 1) documents in the first [`K`] of `ranked`.
pub fn recall(ranked: &[String], grades: &HashMap<String, u32>) -> f64 {
    let relevant: HashSet<&String> = grades.iter().filter(|(_, g)| **g > 0).map(|(id, _)| id).collect();
    let found = ranked.iter().take(K).filter(|id| relevant.contains(id)).count();
    found as f64 / relevant.len().max(1) as f64
}

/// Reciprocal rank of the first grade-2 document of `ranked` (0 when absent).
pub fn reciprocal_rank(ranked: &[String], grades: &HashMap<String, u32>) -> f64 {
    ranked.iter().position(|id| grades.get(id) == Some(&2)).map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

const SEARCH: &str = "query($q: String!, $m: SearchMode) { search(query: $q, mode: $m, first: 50) { \
    nodes { document { id } } } }";

/// An organisation holding the set, indexed: the owner's token and document id -> slug.
pub async fn load(app: &TestApp) -> (String, HashMap<String, String>) {
    let (owner, _) = app.sign_up("eval@example.com", "Eval Co").await;
    let create = "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id } } }";
    let r = app.gql(Some(&owner), create, json!({ "i": { "name": "Handbook", "visibility": "ORGANIZATION" } })).await;
    let collection = data(&r)["createCollection"]["collection"]["id"].clone();
    let doc = "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }";
    let mut slugs = HashMap::new();
    for d in documents() {
        let input = json!({ "collectionId": collection, "kind": "WIKI_PAGE", "title": d.title, "body": d.body });
        let r = app.gql(Some(&owner), doc, json!({ "i": input })).await;
        let id = data(&r)["createDocument"]["document"]["id"].as_str().expect("document id").to_owned();
        slugs.insert(id, d.id);
    }
    app.index().await;
    (owner, slugs)
}

/// Scores `mode` over every question: documents in the order of their best chunk.
pub async fn score(app: &TestApp, token: &str, slugs: &HashMap<String, String>, mode: &str) -> Scores {
    let qs = queries();
    let (mut ndcg_sum, mut recall_sum, mut rr_sum) = (0.0, 0.0, 0.0);
    for q in &qs {
        let r = app.gql(Some(token), SEARCH, json!({ "q": q.text, "m": mode })).await;
        let mut ranked: Vec<String> = vec![];
        for hit in data(&r)["search"]["nodes"].as_array().expect("hits") {
            let slug = slugs.get(hit["document"]["id"].as_str().unwrap_or_default()).expect("a document of the set");
            if !ranked.contains(slug) {
                ranked.push(slug.clone());
            }
        }
        if std::env::var_os("EVAL_VERBOSE").is_some() {
            let top: Vec<&str> = ranked.iter().take(3).map(String::as_str).collect();
            #[allow(clippy::print_stdout, reason = "asked for with EVAL_VERBOSE")]
            {
                println!("{mode}\t{:.2}\t{}\t{top:?}", ndcg(&ranked, &q.grades), q.text);
            }
        }
        ndcg_sum += ndcg(&ranked, &q.grades);
        recall_sum += recall(&ranked, &q.grades);
        rr_sum += reciprocal_rank(&ranked, &q.grades);
    }
    let n = qs.len() as f64;
    Scores { ndcg: ndcg_sum / n, recall: recall_sum / n, mrr: rr_sum / n }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(id, g)| ((*id).to_owned(), *g)).collect()
    }

    fn ranked(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ideal_order_scores_one_and_misses_score_zero() {
        let g = grades(&[("a", 2), ("b", 1)]);
        assert!((ndcg(&ranked(&["a", "b", "x"]), &g) - 1.0).abs() < 1e-12);
        assert_eq!(ndcg(&ranked(&["x", "y"]), &g), 0.0);
        let swapped = ndcg(&ranked(&["b", "a"]), &g);
        assert!(swapped < 1.0 && swapped > 0.5, "{swapped}");
        assert!((recall(&ranked(&["x", "b"]), &g) - 0.5).abs() < 1e-12);
        assert!((reciprocal_rank(&ranked(&["x", "b", "a"]), &g) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_set_is_complete_and_consistent() {
        let docs = documents();
        assert!(docs.len() >= 300, "{} documents", docs.len());
        let ids: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids.len(), docs.len(), "unique slugs");
        assert!(docs.iter().all(|d| !d.body.trim().is_empty()));
        let qs = queries();
        assert!(qs.len() >= 60);
        for q in &qs {
            assert!(q.grades.values().any(|g| *g == 2), "{}: an answer", q.text);
            for id in q.grades.keys() {
                assert!(ids.contains(id.as_str()), "{}: unknown document {id}", q.text);
            }
        }
    }
}
