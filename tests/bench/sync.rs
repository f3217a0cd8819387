//! Sync benchmark: an integration pushes 10,000 tasks with `upsertTasks` in batches of
//! 500 through the real HTTP endpoint, three times: the first run creates every task, the
//! second sends the same data (nothing changes), the third changes every title. Prints
//! rows per second and SQL statements per batch for each run.
//!
//! Run: `./dev bench sync` (or `DATABASE_URL=... cargo bench -p opsgraph-e2e --bench sync`).
//! `BENCH_TASKS` (default 10000) and `BENCH_BATCH` (default 500) change the sizes.

#![allow(clippy::expect_used, reason = "benchmark code: a failed expectation is the run failing, with its message")]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::{Duration, Instant};

use opsgraph_e2e::{TestApp, data};
use serde_json::{Value, json};

const UPSERT: &str = "mutation($i: UpsertTasksInput!) { upsertTasks(input: $i) { created updated unchanged failed } }";
const PROJECTS: usize = 20;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One batch of items `from..to`, spread over `projects`, titled with `suffix`.
fn batch(projects: &[String], from: usize, to: usize, suffix: &str) -> Value {
    let items: Vec<Value> = (from..to)
        .map(|i| {
            let priority = ["LOW", "MEDIUM", "HIGH"][i % 3];
            json!({
                "externalRef": { "system": "bench", "externalId": format!("T-{i}") },
                "projectId": projects[i % projects.len()],
                "title": format!("Imported task {i}{suffix}"),
                "priority": priority,
                "estimateHours": format!("{}.5", i % 8),
                "labels": ["imported"],
            })
        })
        .collect();
    json!({ "i": { "items": items } })
}

/// Sends every batch; prints rows/s, batch latency and statements per batch.
async fn run(app: &TestApp, token: &str, projects: &[String], total: usize, size: usize, name: &str, suffix: &str) {
    let (mut statements, mut times, mut counts) = (vec![], vec![], [0i64; 3]);
    let started = Instant::now();
    for from in (0..total).step_by(size) {
        let vars = batch(projects, from, (from + size).min(total), suffix);
        let t = Instant::now();
        let r = app.gql(Some(token), UPSERT, vars).await;
        times.push(t.elapsed());
        let p = &data(&r)["upsertTasks"];
        assert_eq!(p["failed"], 0, "{r}");
        for (c, k) in counts.iter_mut().zip(["created", "updated", "unchanged"]) {
            *c += p[k].as_i64().unwrap_or(0);
        }
        statements.push(r["extensions"]["sqlStatements"].as_u64().unwrap_or(0));
    }
    let elapsed = started.elapsed();
    times.sort();
    statements.sort_unstable();
    let p50 = times[times.len() / 2];
    let mean_statements = statements.iter().sum::<u64>() as f64 / statements.len() as f64;
    println!(
        "{name:<10} {total} rows in {:>6.2} s = {:>7.0} rows/s   batch p50 {:>7.1} ms max {:>7.1} ms   \
         statements/batch {:.0} ({:.1}/row)   created {} updated {} unchanged {}",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        ms(p50),
        ms(times[times.len() - 1]),
        mean_statements,
        mean_statements / size as f64,
        counts[0],
        counts[1],
        counts[2],
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let (total, size) = (env("BENCH_TASKS", 10_000), env("BENCH_BATCH", 500));
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("bench@example.com", "Sync Bench Co").await;
    let mut projects = vec![];
    for p in 0..PROJECTS {
        let r = app
            .gql(
                Some(&token),
                "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }",
                json!({ "k": format!("SYNC{p}") }),
            )
            .await;
        projects.push(data(&r)["createProject"]["project"]["id"].as_str().expect("id").to_owned());
    }
    println!("upsertTasks: {total} tasks over {PROJECTS} projects in batches of {size}");
    run(&app, &token, &projects, total, size, "create", "").await;
    run(&app, &token, &projects, total, size, "unchanged", "").await;
    run(&app, &token, &projects, total, size, "update", " (renamed)").await;
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, total as i64);
    app.finish().await;
}
