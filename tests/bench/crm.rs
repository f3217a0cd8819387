//! CRM benchmark: 500 accounts, 2,000 contacts, 3,000 deals on a six-stage pipeline and
//! 50,000 interactions (10,000 of them with one big account), inserted with set-based SQL;
//! then the pipeline board, the timelines and the pipeline numbers through the real HTTP
//! endpoint. Prints latency p50/p95 and SQL statements per request.
//!
//! Run: `./dev bench crm`. `BENCH_ITERATIONS` (default 50) sets the samples per query.

#![allow(clippy::expect_used, reason = "benchmark code: a failed expectation is the run failing, with its message")]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::Instant;

use opsgraph_e2e::{TestApp, bench, data, portfolio};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

const PIPELINE: &str = "mutation { createPipeline(input: { name: \"Sales\", stages: [\
    { name: \"Lead\", probability: 10 }, { name: \"Qualified\", probability: 25 }, { name: \"Proposal\", probability: 50 }, \
    { name: \"Negotiation\", probability: 75 }, { name: \"Won\", probability: 100, kind: WON }, { name: \"Lost\", probability: 0, kind: LOST }] }) \
    { pipeline { id } } }";

const BOARD: &str = "query($id: ID!) { node(id: $id) { ... on Pipeline { name stages { name probability deals(first: 20) { totalCount nodes { \
    name amount { amount currency } probability account { name } contact { fullName } owner { user { displayName } } } } } } } }";
const ACCOUNT_TIMELINE: &str = "query($id: ID!) { node(id: $id) { ... on Account { name timeline(first: 50) { at source kind \
    interaction { subject by { user { displayName } } } deal { name } } } } }";
const CONTACT_TIMELINE: &str = "query($id: ID!) { node(id: $id) { ... on Contact { fullName timeline(first: 50) { at kind interaction { subject } deal { name } } } } }";
const NUMBERS: &str = "query($id: ID!) { node(id: $id) { ... on Pipeline { numbers { currency stages { count total { amount } weighted { amount } } \
    byOwner { count total { amount } } byMonth { month count } unconverted { count } winRate averageCycleDays } } } }";

const DEAL_AGGREGATES: &str = "{ organization { deals { aggregate { count sum { convertedAmount { amount } weightedAmount { amount } \
    unconvertedAmount { amount } } } groupBy(field: STAGE) { key count sum { convertedAmount { amount } weightedAmount { amount } } } } } }";
const RATE: &str = "mutation { setExchangeRate(input: { currency: \"EUR\", rate: \"1.08\", validFrom: \"2020-01-01\" }) { exchangeRate { rate } } }";

const SEED: [&str; 5] = [
    "INSERT INTO accounts (id, org_id, name, status, owner_id) \
     SELECT gen_random_uuid(), $1, 'Account ' || g, 'ACTIVE', $2 FROM generate_series(1, 500) g",
    "INSERT INTO contacts (id, org_id, account_id, first_name, last_name, email, owner_id) \
     SELECT gen_random_uuid(), $1, a.id, 'First' || g, a.name, 'c' || g || '.' || replace(a.name, ' ', '') || '@bench.example', $2 \
     FROM accounts a, generate_series(1, 4) g WHERE a.org_id = $1",
    "INSERT INTO deals (id, org_id, pipeline_id, stage_id, account_id, contact_id, name, amount, currency, owner_id, position, expected_close_date) \
     SELECT gen_random_uuid(), $1, s.pipeline_id, s.id, c.account_id, c.id, 'Deal ' || c.first_name || ' ' || c.last_name, \
       1000 + (abs(hashtext(c.id::text)) % 90000), CASE WHEN abs(hashtext(c.id::text)) % 3 = 0 THEN 'EUR' ELSE 'USD' END, $2, \
       row_number() OVER (PARTITION BY s.id ORDER BY c.id) * 1024, current_date + (abs(hashtext(c.id::text)) % 180) \
     FROM (SELECT *, row_number() OVER (ORDER BY id) AS rn FROM contacts WHERE org_id = $1) c \
     JOIN pipeline_stages s ON s.position = 1 + (c.rn % 6) \
     CROSS JOIN generate_series(1, 2) g WHERE s.org_id = $1 AND (g = 1 OR c.rn % 2 = 0)",
    "INSERT INTO interactions (id, org_id, kind, direction, subject, occurred_at, account_id, member_id) \
     SELECT gen_random_uuid(), $1, (ARRAY['CALL','EMAIL','MEETING','NOTE','MESSAGE'])[1 + g % 5], 'OUTBOUND', 'Touch ' || g, \
       now() - make_interval(mins => g), \
       CASE WHEN g <= 10000 THEN (SELECT id FROM accounts WHERE org_id = $1 AND name = 'Account 1') \
            ELSE (SELECT id FROM accounts WHERE org_id = $1 AND name = 'Account ' || (1 + g % 500)) END, $2 \
     FROM generate_series(1, 50000) g",
    "INSERT INTO interaction_participants (org_id, interaction_id, contact_id, occurred_at) \
     SELECT i.org_id, i.id, (SELECT c.id FROM contacts c WHERE c.account_id = i.account_id ORDER BY c.id LIMIT 1), \
       i.occurred_at FROM interactions i WHERE i.org_id = $1",
];

async fn measure(app: &TestApp, token: &str, name: &str, query: &str, vars: Value, n: usize) {
    println!("{}", bench::measure(app, token, query, vars, n).await.line(name));
}

async fn one(app: &TestApp, sql: &str) -> String {
    let row =
        app.pool.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.expect("query").expect("row");
    row.try_get::<String>("", "id").expect("id")
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("bench@example.com", "Crm Bench Co").await;
    let (org, me) = portfolio::owner_ids(&app.pool, "bench@example.com").await.expect("ids");
    let pipeline = data(&app.gql(Some(&token), PIPELINE, json!({})).await)["createPipeline"]["pipeline"]["id"].clone();
    let t = Instant::now();
    for sql in SEED {
        app.pool
            .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [org.into(), me.into()]))
            .await
            .expect("seed");
    }
    app.pool.execute_unprepared("ANALYZE").await.expect("analyze");
    let count = |t: &str| format!("SELECT count(*) AS n FROM {t}");
    println!(
        "seeded {} accounts, {} contacts, {} deals, {} interactions in {:.1} s; {n} samples per query",
        app.count(&count("accounts")).await,
        app.count(&count("contacts")).await,
        app.count(&count("deals")).await,
        app.count(&count("interactions")).await,
        t.elapsed().as_secs_f64()
    );
    let big = one(&app, "SELECT id::text AS id FROM accounts WHERE name = 'Account 1'").await;
    let contact = one(&app, "SELECT c.id::text AS id FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.name = 'Account 1' ORDER BY c.id LIMIT 1").await;
    let gid = |ty: &str, id: &str| opsgraph_core::id::encode(ty, id.parse().expect("uuid"));
    measure(&app, &token, "board: 6 stages x 20 deals + refs", BOARD, json!({ "id": pipeline }), n).await;
    measure(
        &app,
        &token,
        "timeline: account with 10k interactions",
        ACCOUNT_TIMELINE,
        json!({ "id": gid("Account", &big) }),
        n,
    )
    .await;
    measure(
        &app,
        &token,
        "timeline: its first contact",
        CONTACT_TIMELINE,
        json!({ "id": gid("Contact", &contact) }),
        n,
    )
    .await;
    data(&app.gql(Some(&token), RATE, json!({})).await);
    measure(&app, &token, "pipeline numbers: 3k deals, 2 currencies", NUMBERS, json!({ "id": pipeline }), n).await;
    measure(&app, &token, "deal list aggregates converted, by stage", DEAL_AGGREGATES, json!({}), n).await;
    app.finish().await;
}
