//! Live-path benchmark: N concurrent graphql-transport-ws subscribers (distinct members, all
//! staffed on one project, each following `taskChanged`) on a separate `opsgraph serve`
//! process; a producer creates tasks at a fixed rate through HTTP. Reports delivery latency
//! p50/p95/p99 (commit timestamp → client receipt), lost and duplicated events per
//! subscriber, and the server's resident memory per connection.
//!
//! Run: `./dev bench live` (1,000 subscribers); by hand e.g.
//! `BENCH_SUBSCRIBERS=10000 ./dev bench live`. `BENCH_RATE` (events/s, default 20) and
//! `BENCH_SECONDS` (default 10) set the load.

#![allow(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code: a failed expectation is the test failing, with its message; scenarios read top to bottom"
)]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::{Duration, Instant};

use opsgraph_e2e::bench::{bulk_members, pct, rss_kib};
use opsgraph_e2e::live::{Live, receive, tally};
use opsgraph_e2e::{ServerProcess, TestApp, data};
use serde_json::json;

const SUB: &str = "subscription($p: ID!, $a: EventSeq) { taskChanged(projectId: $p, after: $a) { seq occurredAt } }";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let n = env("BENCH_SUBSCRIBERS", 1000) as usize;
    let rate = env("BENCH_RATE", 20);
    let seconds = env("BENCH_SECONDS", 10);
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("bench@live.example", "Live Bench").await;
    let r = app
        .gql(
            Some(&owner),
            "mutation { createProject(input: { key: \"LIVE\", name: \"Live\" }) { project { id } } }",
            json!({}),
        )
        .await;
    let project = data(&r)["createProject"]["project"]["id"].as_str().expect("project").to_owned();
    // N members staffed on the project (set-based SQL: setup only).
    let staff = "INSERT INTO project_members (id, org_id, project_id, membership_id) \
                 SELECT gen_random_uuid(), p.org_id, p.id, m FROM projects p, unnest($1::uuid[]) m";
    let tokens = bulk_members(&app, n, "sub", staff).await;
    let server = ServerProcess::spawn(&app.database_url(), &[("OPSGRAPH_DB_POOL_MAX", "16")]).await;
    let head = app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string();
    // Warm the server up with one connection so the baseline holds its lazily built parts.
    let mut warm = Live::connect(&server.base, &tokens[0]).await;
    warm.subscribe("w", SUB, json!({ "p": project, "a": head })).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(server.pid());

    let expected = (rate * seconds) as usize;
    let deadline = Instant::now() + Duration::from_secs(seconds + 60);
    let connected = Instant::now();
    let mut handles = Vec::with_capacity(n);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(n.max(1));
    for (i, token) in tokens.into_iter().enumerate() {
        let base = server.base.clone();
        let (project, head, ready) = (project.clone(), head.clone(), ready_tx.clone());
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        handles.push(tokio::spawn(async move {
            let mut ws = Live::connect(&base, &token).await;
            ws.subscribe("t", SUB, json!({ "p": project, "a": head })).await;
            let _ = ready.send(()).await;
            let (seqs, latencies) =
                receive(&mut ws, "taskChanged", expected, deadline, &format!("subscriber {i}")).await;
            (ws, seqs, latencies)
        }));
    }
    drop(ready_tx);
    let mut ready = 0;
    while ready < n && ready_rx.recv().await.is_some() {
        ready += 1;
    }
    let connect_secs = connected.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss_kib(server.pid());

    // The producer: tasks created at a fixed rate through the other process's HTTP.
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let produced = Instant::now();
    for k in 0..expected {
        tick.tick().await;
        let body = json!({ "query": "mutation($p: ID!, $t: String!) { createTask(input: { projectId: $p, title: $t }) { task { id } } }", "variables": { "p": project, "t": format!("Task {k}") } });
        let r: serde_json::Value = client
            .post(format!("{}/graphql", server.base))
            .bearer_auth(&owner)
            .json(&body)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert!(r.get("errors").is_none(), "{r}");
    }
    let produce_secs = produced.elapsed().as_secs_f64();
    let mut all = vec![];
    let (mut lost, mut duplicated, mut out_of_order) = (0usize, 0usize, 0usize);
    let mut sockets = vec![];
    for h in handles {
        let (ws, seqs, lat) = h.await.expect("subscriber");
        let (l, d, o) = tally(&seqs, expected);
        (lost, duplicated, out_of_order) = (lost + l, duplicated + d, out_of_order + o);
        all.extend(lat);
        sockets.push(ws);
    }
    let rss_after = rss_kib(server.pid());
    all.sort_by(f64::total_cmp);
    println!(
        "live benchmark: {n} subscribers (taskChanged, distinct staffed members), {rate} events/s for {seconds} s"
    );
    println!("  connected + subscribed in {connect_secs:.2} s; {expected} events produced in {produce_secs:.2} s");
    println!(
        "  delivery latency (commit -> client): p50 {:.1} ms   p95 {:.1} ms   p99 {:.1} ms   max {:.1} ms   ({} deliveries)",
        pct(&all, 0.5),
        pct(&all, 0.95),
        pct(&all, 0.99),
        all.last().copied().unwrap_or(f64::NAN),
        all.len()
    );
    println!("  lost {lost}   duplicated {duplicated}   out of order {out_of_order}");
    println!(
        "  server RSS: {:.1} MiB before, {:.1} MiB with {n} subscribers ({:.1} KiB per connection), {:.1} MiB after the run",
        rss_before as f64 / 1024.0,
        rss_connected as f64 / 1024.0,
        (rss_connected.saturating_sub(rss_before)) as f64 / n.max(1) as f64,
        rss_after as f64 / 1024.0
    );
    for ws in sockets {
        ws.close().await;
    }
    warm.close().await;
    drop(server);
    app.finish().await;
}
