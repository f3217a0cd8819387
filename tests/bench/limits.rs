//! Hostile-document benchmark (issue 9, item 3): fragment fan-out documents that expand to
//! millions of fields must be refused before execution in well under 50 ms, measured end
//! to end through the real HTTP endpoint (no login needed) and for the limit check alone.
//! Prints min / p50 / max per document and fails if a p50 reaches 50 ms.
//!
//! Run: `./dev bench limits` (`BENCH_ITERATIONS`, default 30).

#![allow(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code: a failed expectation is the test failing, with its message; scenarios read top to bottom"
)]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::{Duration, Instant};

use opsgraph_e2e::{TestApp, code};
use opsgraph_server::limits;
use serde_json::json;

/// `F0 { <leaf> }`, each `Fi` spreading `F(i-1)` `width` times; the query spreads the last.
fn fan_out(levels: usize, width: usize, leaf: &str) -> String {
    let mut q = format!("{{ ...F{levels} }} fragment F0 on Query {{ {leaf} }}");
    for i in 1..=levels {
        q.push_str(&format!(" fragment F{i} on Query {{ {}}}", format!("...F{} ", i - 1).repeat(width)));
    }
    q
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(samples[0]), ms(samples[samples.len() / 2]), ms(samples[samples.len() - 1]))
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(30).max(1);
    let app = TestApp::spawn().await;
    let cfg = opsgraph_server::config::Config::for_database("postgres://unused/x").limits();
    let docs = [
        ("2-way x 22 levels, __typename", fan_out(22, 2, "__typename")),
        ("2-way x 22 levels, viewer { role }", fan_out(22, 2, "viewer { role }")),
        ("10-way x 7 levels, __typename", fan_out(7, 10, "__typename")),
        ("10-way x 7 levels, viewer { role }", fan_out(7, 10, "viewer { role }")),
        ("2-way x 60 levels, __typename", fan_out(60, 2, "__typename")),
    ];
    let mut worst: f64 = 0.0;
    println!(
        "{:<38} {:>7} {:>24} {:>30}",
        "document", "bytes", "check only (min/p50/max ms)", "HTTP rejection (min/p50/max ms)"
    );
    for (name, doc) in docs {
        let check: Vec<Duration> = (0..n)
            .map(|_| {
                let t = Instant::now();
                assert!(limits::check(&doc, &limits::Variables::default(), &cfg).is_err(), "{name} must be refused");
                t.elapsed()
            })
            .collect();
        let mut http = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let r = app.gql(None, &doc, json!({})).await;
            http.push(t.elapsed());
            assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{name}: {r}");
            assert!(r["data"].is_null(), "refused before execution");
        }
        let (c0, c1, c2) = stats(check);
        let (h0, h1, h2) = stats(http);
        worst = worst.max(h1);
        println!("{name:<38} {:>7} {c0:>8.3}/{c1:>7.3}/{c2:>7.3} {h0:>12.2}/{h1:>7.2}/{h2:>7.2}", doc.len());
    }
    app.finish().await;
    assert!(worst < 50.0, "a hostile document took {worst:.1} ms (p50) to refuse");
    println!("worst p50 rejection: {worst:.2} ms (limit 50 ms)");
}
