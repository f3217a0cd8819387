//! Work-domain benchmark: 10,000 tasks over 200 projects (with staffing, milestones, risks,
//! time entries and linked OKRs), then the project dashboard and "my work" queries through
//! the real HTTP endpoint. Prints latency p50/p95 and SQL statements per request.
//!
//! Run: `./dev bench` (or `DATABASE_URL=... cargo bench -p opsgraph-e2e --bench work`).
//! `BENCH_ITERATIONS` (default 50) sets the samples per query.

#![allow(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code: a failed expectation is the test failing, with its message; scenarios read top to bottom"
)]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::Instant;

use opsgraph_e2e::{TestApp, bench, data, portfolio};
use serde_json::{Value, json};

const PROJECTS: i32 = 200;
const TASKS_PER_PROJECT: i32 = 50;

const ONE_PROJECT: &str = "query($id: ID!) { node(id: $id) { ... on Project { key name client { name } \
 manager { user { displayName } } members { nodes { allocationPercent membership { user { displayName } } } } \
 taskStats { status count estimateHours loggedHours } \
 tasks(first: 50) { totalCount nodes { identifier status assignee { user { displayName } } loggedHours } } \
 milestones { nodes { name dueDate status } } \
 risks(filter: { status: { eq: OPEN } }, orderBy: [{ field: SEVERITY, direction: DESC }]) { nodes { title level } } \
 okrProgress hours { estimatedHours loggedHours } } } }";

async fn measure(app: &TestApp, token: &str, name: &str, query: &str, vars: Value, n: usize) {
    println!("{}", bench::measure(app, token, query, vars, n).await.line(name));
}

/// Every task of the viewer: totals, by status, and by month of due date.
const AGGREGATES: &str = "{ myWork { aggregate { count sum { estimateHours loggedHours } } \
    byStatus: groupBy(field: STATUS) { key count sum { estimateHours } } \
    byMonth: groupBy(field: DUE_DATE, bucket: MONTH) { key count } } }";

/// Per project (50): task counts by status and hours by week (one statement per level).
const NESTED_AGGREGATES: &str = "{ organization { projects(first: 50) { nodes { key \
    tasks { aggregate { count sum { estimateHours } } groupBy(field: STATUS) { key count } } \
    timeEntries { groupBy(field: DATE, bucket: WEEK) { key sum { hours } } } } } } }";

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("bench@example.com", "Bench Co").await;
    let (org, me) = portfolio::owner_ids(&app.pool, "bench@example.com").await.expect("ids");
    let t = Instant::now();
    portfolio::seed(&app.pool, org, me, PROJECTS, TASKS_PER_PROJECT).await.expect("seed");
    let tasks = app.count("SELECT count(*) AS n FROM tasks").await;
    let entries = app.count("SELECT count(*) AS n FROM time_entries").await;
    println!(
        "seeded {PROJECTS} projects, {tasks} tasks, {entries} time entries in {:.1} s; {n} samples per query",
        t.elapsed().as_secs_f64()
    );
    sea_orm::ConnectionTrait::execute_unprepared(&app.pool, "ANALYZE").await.expect("analyze");
    let first = app.gql(Some(&token), "{ organization { projects(first: 1) { nodes { id } } } }", json!({})).await;
    let project = data(&first)["organization"]["projects"]["nodes"][0]["id"].clone();
    let due = (chrono::Utc::now().date_naive() + chrono::Days::new(14)).to_string();
    measure(&app, &token, "dashboard: one project", ONE_PROJECT, json!({ "id": project }), n).await;
    measure(&app, &token, "dashboard: 50 projects x 40 tasks", portfolio::DASHBOARD, json!({}), n).await;
    measure(&app, &token, "my work: 50 of 10k, filtered+ordered", portfolio::MY_WORK, json!({ "due": due }), n).await;
    measure(&app, &token, "aggregates: 10k tasks by status+month", AGGREGATES, json!({}), n).await;
    measure(&app, &token, "aggregates: 50 projects x groupBy", NESTED_AGGREGATES, json!({}), n).await;
    app.finish().await;
}
