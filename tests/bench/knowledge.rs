//! The knowledge benchmark.
//! 1. Scale: 100,000 chunks over 2 organisations and 50 collections (set-based SQL, setup
//!    only; clustered synthetic 384-d vectors, since recall is a property of the index),
//!    one collection holding 1% of the chunks. Recall@10 of the service's filtered HNSW
//!    search (`search::nearest`, under Row Level Security) against exact search, for 50
//!    query vectors; p50/p95 of SEMANTIC and HYBRID `search` through the endpoint with
//!    that 1% filter.
//! 2. Ingestion: documents of real text, chunked on save and embedded by the indexer with
//!    the local model: chunks embedded per second, and the memory the model takes.
//!
//! Run: `./dev bench knowledge`. `BENCH_CHUNKS` (default 100000), `BENCH_ITERATIONS`
//! (default 30) and `BENCH_INGEST_DOCS` (default 100) scale it down for a quick look.

#![allow(clippy::expect_used, reason = "benchmark code: a failed expectation is the run failing, with its message")]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::collections::HashSet;
use std::time::Instant;

use opsgraph_core::{Tenant, TxDb};
use opsgraph_e2e::{TestApp, bench, data, portfolio};
use opsgraph_knowledge::service::search::{Filter, nearest};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use uuid::Uuid;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Setup statements: $1 org A, $2 owner A, $3 org B, $4 owner B, $5 chunks per org.
const SEED: [&str; 6] = [
    "INSERT INTO collections (id, org_id, name, visibility, owner_id) \
     SELECT gen_random_uuid(), o.org, 'C' || o.tag || lpad(g::text, 2, '0'), 'ORGANIZATION', o.owner \
     FROM (VALUES ($1::uuid, $2::uuid, 'A'), ($3::uuid, $4::uuid, 'B')) o(org, owner, tag), generate_series(0, 24) g",
    // Ten chunks per document; in each organisation the collection ending 00 gets 1% of
    // all chunks (2% of its organisation's), the others share the rest.
    "INSERT INTO documents (id, org_id, collection_id, kind, title, body, content_hash, index_status) \
     SELECT gen_random_uuid(), c.org_id, c.id, 'ARTICLE', 'Doc ' || d.n, '', '\\x00', 'INDEXED' \
     FROM generate_series(0, $5::int / 10 - 1) d(n) \
     CROSS JOIN (VALUES ($1::uuid), ($3::uuid)) o(org) \
     JOIN collections c ON c.org_id = o.org AND c.name LIKE 'C_' || lpad(CASE WHEN d.n < $5::int / 500 THEN 0 \
       ELSE 1 + d.n % 24 END::text, 2, '0')",
    "INSERT INTO chunks (id, org_id, collection_id, document_id, document_version, position, text, token_count, \
       char_start, char_end, tsv) \
     SELECT gen_random_uuid(), d.org_id, d.collection_id, d.id, 1, p, t, 12, 0, length(t), to_tsvector('simple', t) \
     FROM documents d, generate_series(0, 9) p, \
       LATERAL (SELECT 'topic ' || (abs(hashtext(d.id::text || p)) % 100) || ' policy note ' || p AS t) x \
     WHERE d.body = ''",
    "CREATE TEMP TABLE centers AS SELECT c, \
       (SELECT array_agg(random() - 0.5) FROM generate_series(1, 384) WHERE c >= 0)::float4[] AS v \
     FROM generate_series(0, 99) c",
    "DROP INDEX chunk_embeddings_minilm_idx",
    "INSERT INTO chunk_embeddings (chunk_id, org_id, collection_id, document_id, model, dimensions, embedding) \
     SELECT ch.id, ch.org_id, ch.collection_id, ch.document_id, 'all-MiniLM-L6-v2', 384, \
       l2_normalize((SELECT array_agg(ce.v[i] + 0.35 * (random() - 0.5)) FROM generate_series(1, 384) i \
         WHERE ch.id IS NOT NULL)::vector) \
     FROM chunks ch JOIN centers ce ON ce.c = abs(hashtext(ch.id::text)) % 100 \
     WHERE ch.document_id IN (SELECT d.id FROM documents d WHERE d.body = '')",
];

const INDEX: &str = "CREATE INDEX chunk_embeddings_minilm_idx ON chunk_embeddings \
  USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE model = 'all-MiniLM-L6-v2'";

async fn exec(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) {
    app.pool.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await.expect(sql);
}

/// Query vectors near the data: stored vectors of random chunks, perturbed.
async fn queries(app: &TestApp, n: usize) -> Vec<Vec<f32>> {
    let rows = app
        .pool
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT l2_normalize((SELECT array_agg(x + 0.2 * (random() - 0.5)) FROM unnest(e.embedding::real[]) x \
               WHERE e.chunk_id IS NOT NULL)::vector)::text AS v \
             FROM chunk_embeddings e ORDER BY random() LIMIT $1",
            [(n as i64).into()],
        ))
        .await
        .expect("queries");
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("", "v").expect("vector");
            text.trim_matches(|c| c == '[' || c == ']').split(',').map(|x| x.parse::<f32>().expect("float")).collect()
        })
        .collect()
}

async fn scale(app: &TestApp, owner: &str, a: (Uuid, Uuid), b: (Uuid, Uuid)) {
    let per_org = env("BENCH_CHUNKS", 100_000) / 2;
    let t = Instant::now();
    let values =
        || -> Vec<sea_orm::Value> { vec![a.0.into(), a.1.into(), b.0.into(), b.1.into(), (per_org as i32).into()] };
    for sql in SEED {
        let needed = (1..=5).filter(|i| sql.contains(&format!("${i}"))).max().unwrap_or(0);
        exec(app, sql, values().into_iter().take(needed).collect()).await;
    }
    let seeded = t.elapsed();
    let t = Instant::now();
    app.pool.execute_unprepared("SET maintenance_work_mem = '1GB'").await.expect("mem");
    exec(app, INDEX, vec![]).await;
    app.pool.execute_unprepared("ANALYZE").await.expect("analyze");
    let chunks = app.count("SELECT count(*) AS n FROM chunks").await;
    let target: Uuid = app
        .pool
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM collections WHERE org_id = $1 AND name = 'CA00'",
            [a.0.into()],
        ))
        .await
        .expect("collection")
        .expect("row")
        .try_get("", "id")
        .expect("id");
    let in_target = app.count(&format!("SELECT count(*) AS n FROM chunks WHERE collection_id = '{target}'")).await;
    println!(
        "scale: {chunks} chunks, 2 organisations, 50 collections (seeded in {:.1} s, HNSW built in {:.1} s); \
         filter keeps {in_target} chunks ({:.2}%)",
        seeded.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        100.0 * in_target as f64 / chunks as f64
    );
    recall(app, a, Some(target), "the 1% filter").await;
    recall(app, a, None, "no filter (its organisation's half)").await;
    let filter = json!({ "collections": [opsgraph_core::id::encode("Collection", target)] });
    let n = env("BENCH_ITERATIONS", 30);
    for mode in ["SEMANTIC", "HYBRID"] {
        let q = format!(
            "query($f: SearchFilter) {{ search(query: \"policy note about topic 7\", mode: {mode}, filter: $f, first: 10) {{ \
               nodes {{ score document {{ title }} }} }} }}"
        );
        let timing = bench::measure(app, owner, &q, json!({ "f": filter }), n).await;
        println!("{}", timing.line(&format!("search {mode}, 1% filter, first 10")));
    }
}

/// Recall@10 of the service's search against exact search, as organisation A's owner.
async fn recall(app: &TestApp, a: (Uuid, Uuid), target: Option<Uuid>, what: &str) {
    let qs = queries(app, 50).await;
    let tenant = Tenant { org_id: Some(a.0), member: Some((a.1, "OWNER")), ..Default::default() };
    let filter = Filter { collections: target.map(|t| vec![t]), ..Filter::default() };
    let (mut found, mut total, mut short) = (0usize, 0usize, 0usize);
    let t = Instant::now();
    for q in &qs {
        let db = TxDb::begin(&app.pool, &tenant).await.expect("tx");
        let approx = nearest(&db, &filter, app.models.default_model(), q, 10).await.expect("approximate");
        db.rollback().await.expect("rollback");
        let db = TxDb::begin(&app.pool, &tenant).await.expect("tx");
        db.execute_unprepared("SET LOCAL enable_indexscan = off").await.expect("exact");
        let exact = nearest(&db, &filter, app.models.default_model(), q, 10).await.expect("exact");
        db.rollback().await.expect("rollback");
        let want: HashSet<Uuid> = exact.iter().map(|h| h.0).collect();
        found += approx.iter().filter(|h| want.contains(&h.0)).count();
        total += want.len();
        short += usize::from(approx.len() < 10);
    }
    println!(
        "recall@10 with {what}: {:.3} over {} queries ({} returned fewer than 10; {:.1} ms per query pair)",
        found as f64 / total.max(1) as f64,
        qs.len(),
        short,
        t.elapsed().as_secs_f64() * 1e3 / qs.len().max(1) as f64
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn ingestion(app: &TestApp, owner: &str) {
    let before = rss_kib();
    let t = Instant::now();
    tokio::task::spawn_blocking(opsgraph_knowledge::embed::local_model).await.expect("join").expect("model");
    println!(
        "model: loaded in {:.2} s, resident memory +{} MiB",
        t.elapsed().as_secs_f64(),
        (rss_kib() - before) / 1024
    );
    let c =
        "mutation { createCollection(input: { name: \"Ingest\", visibility: ORGANIZATION }) { collection { id } } }";
    let c = data(&app.gql(Some(owner), c, json!({})).await)["createCollection"]["collection"]["id"].clone();
    let docs = env("BENCH_INGEST_DOCS", 100);
    let t = Instant::now();
    for i in 0..docs {
        let body: String = opsgraph_knowledge::seed::HANDBOOK
            .iter()
            .map(|(_, _, b)| *b)
            .cycle()
            .skip(i)
            .take(6)
            .collect::<Vec<_>>()
            .join("\n\n");
        let input = json!({ "collectionId": c, "kind": "ARTICLE", "title": format!("Ingest {i}"), "body": body });
        let q = "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }";
        data(&app.gql(Some(owner), q, json!({ "i": input })).await);
    }
    let saved = t.elapsed();
    let t = Instant::now();
    let embedded = app.index().await;
    let took = t.elapsed().as_secs_f64();
    println!(
        "ingestion: {docs} documents saved and chunked in {:.2} s; {embedded} chunks embedded in {took:.2} s = {:.0} chunks/s",
        saved.as_secs_f64(),
        embedded as f64 / took
    );
}

#[tokio::main]
async fn main() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("a@bench.example", "Knowledge A").await;
    app.sign_up("b@bench.example", "Knowledge B").await;
    let a = portfolio::owner_ids(&app.pool, "a@bench.example").await.expect("a");
    let b = portfolio::owner_ids(&app.pool, "b@bench.example").await.expect("b");
    ingestion(&app, &owner).await;
    scale(&app, &owner, a, b).await;
    app.finish().await;
}
