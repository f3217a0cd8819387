//! Team chat live benchmark: M members of one channel, each following `channelEvents` over
//! graphql-transport-ws on a separate `opsgraph serve` process; a burst of messages posted
//! through HTTP by P concurrent posters as fast as the server takes them. Reports how long
//! the burst took to post, delivery latency p50/p95/p99 (commit timestamp -> client
//! receipt), lost, duplicated and out-of-order deliveries per subscriber.
//!
//! Run: `./dev bench chat` (200 members, 1,000 messages, 4 posters); `BENCH_MEMBERS`,
//! `BENCH_MESSAGES` and `BENCH_POSTERS` change them.

#![allow(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code: a failed expectation is the test failing, with its message; scenarios read top to bottom"
)]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::{Duration, Instant};

use opsgraph_e2e::bench::{bulk_members, pct};
use opsgraph_e2e::live::{Live, receive, tally};
use opsgraph_e2e::{ServerProcess, TestApp, data};
use serde_json::json;

const SUB: &str =
    "subscription($c: ID!, $a: EventSeq) { channelEvents(channelId: $c, after: $a) { seq occurredAt kind } }";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let (m, total, posters) = (env("BENCH_MEMBERS", 200), env("BENCH_MESSAGES", 1000), env("BENCH_POSTERS", 4).max(1));
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("bench@chat.example", "Chat Bench").await;
    let q = "mutation { createChannel(input: { name: \"burst\", kind: GENERAL }) { channel { id } } }";
    let channel = data(&app.gql(Some(&owner), q, json!({})).await)["createChannel"]["channel"]["id"]
        .as_str()
        .expect("channel")
        .to_owned();
    let join = "INSERT INTO channel_members (id, org_id, channel_id, membership_id) \
                SELECT gen_random_uuid(), c.org_id, c.id, x FROM channels c, unnest($1::uuid[]) x";
    let members = bulk_members(&app, m, "chat", join).await;
    let server = ServerProcess::spawn(&app.database_url(), &[("OPSGRAPH_DB_POOL_MAX", "16")]).await;
    let head = app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string();

    let deadline = Instant::now() + Duration::from_secs(180);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(m.max(1));
    let mut handles = Vec::with_capacity(m);
    for (i, token) in members.into_iter().enumerate() {
        let (base, channel, head, ready) = (server.base.clone(), channel.clone(), head.clone(), ready_tx.clone());
        handles.push(tokio::spawn(async move {
            let mut ws = Live::connect(&base, &token).await;
            ws.subscribe("c", SUB, json!({ "c": channel, "a": head })).await;
            let _ = ready.send(()).await;
            let (seqs, latencies) = receive(&mut ws, "channelEvents", total, deadline, &format!("member {i}")).await;
            (ws, seqs, latencies)
        }));
    }
    drop(ready_tx);
    let mut ready = 0;
    while ready < m && ready_rx.recv().await.is_some() {
        ready += 1;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The burst: `posters` concurrent clients, each posting its share back to back.
    let started = Instant::now();
    let mut posting = vec![];
    for p in 0..posters {
        let (base, owner, channel) = (server.base.clone(), owner.clone(), channel.clone());
        let share = total / posters + usize::from(p < total % posters);
        posting.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for k in 0..share {
                let body = json!({ "query": "mutation($c: ID!, $b: String!) { postMessage(input: { channelId: $c, body: $b }) { channelMessage { id } } }",
                                   "variables": { "c": channel, "b": format!("message {p}-{k}") } });
                let r: serde_json::Value = client
                    .post(format!("{base}/graphql"))
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
        }));
    }
    for p in posting {
        p.await.expect("poster");
    }
    let post_secs = started.elapsed().as_secs_f64();
    let (mut all, mut lost, mut duplicated, mut out_of_order, mut sockets) = (vec![], 0, 0, 0, vec![]);
    for h in handles {
        let (ws, seqs, lat) = h.await.expect("member");
        let (l, d, o) = tally(&seqs, total);
        (lost, duplicated, out_of_order) = (lost + l, duplicated + d, out_of_order + o);
        all.extend(lat);
        sockets.push(ws);
    }
    let delivered_secs = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    println!("chat benchmark: {m} members following one channel; a burst of {total} messages from {posters} posters");
    println!(
        "  burst posted in {post_secs:.2} s ({:.0} messages/s); all delivered after {delivered_secs:.2} s",
        total as f64 / post_secs
    );
    println!(
        "  delivery latency (commit -> client): p50 {:.1} ms   p95 {:.1} ms   p99 {:.1} ms   max {:.1} ms   ({} deliveries)",
        pct(&all, 0.5),
        pct(&all, 0.95),
        pct(&all, 0.99),
        all.last().copied().unwrap_or(f64::NAN),
        all.len()
    );
    println!("  lost {lost}   duplicated {duplicated}   out of order {out_of_order}");
    for ws in sockets {
        ws.close().await;
    }
    drop(server);
    app.finish().await;
}
