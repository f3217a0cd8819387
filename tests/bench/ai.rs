//! The ai benchmark: one agent reply streamed to 100 subscribers of its conversation (the
//! member's devices). A local fake provider speaking the OpenAI streaming protocol sends
//! 100 pieces 20 ms apart and notes when each left; every subscriber notes when each
//! piece first appears in the deltas it receives. Reported: piece-to-screen latency p50 /
//! p95 / p99 over all subscribers (it includes the runner's 100 ms write batching), the
//! spread between the first and last subscriber to see a delta, and pieces lost.
//!
//! Run: `./dev bench ai`. `BENCH_SUBSCRIBERS` (default 100) and `BENCH_PIECES` (default
//! 100) scale it.

#![allow(clippy::expect_used, reason = "benchmark code: a failed expectation is the run failing, with its message")]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::{Duration, Instant};

use opsgraph_e2e::fake_chat::{FakeChat, KEY, Scripted};
use opsgraph_e2e::live::{Frame, Live};
use opsgraph_e2e::{TestApp, bench, data};
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const SUB: &str = "subscription($c: ID!) { conversationEvents(conversationId: $c) { kind delta } }";

async fn setup(app: &TestApp, fake: &FakeChat) -> (String, serde_json::Value) {
    let (owner, _) = app.sign_up("o@example.com", "Bench AI").await;
    let q = "mutation($i: CreateLlmProviderInput!) { createLlmProvider(input: $i) { provider { id } } }";
    let p = data(
        &app.gql(Some(&owner), q, json!({ "i": { "name": "Fake", "baseUrl": fake.url, "apiKey": KEY } })).await,
    )["createLlmProvider"]["provider"]["id"]
        .clone();
    let q = "mutation($i: CreateLlmModelInput!) { createLlmModel(input: $i) { model { id } } }";
    let i = json!({ "providerId": p, "name": "fake", "contextWindow": 8192 });
    let m = data(&app.gql(Some(&owner), q, json!({ "i": i })).await)["createLlmModel"]["model"]["id"].clone();
    let q = "mutation($i: CreateAgentInput!) { createAgent(input: $i) { agent { id } } }";
    let a = data(&app.gql(Some(&owner), q, json!({ "i": { "name": "Bench", "modelId": m } })).await)["createAgent"]
        ["agent"]["id"]
        .clone();
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }";
    let c = data(&app.gql(Some(&owner), q, json!({ "i": { "agentId": a } })).await)["startConversation"]
        ["conversation"]["id"]
        .clone();
    (owner, c)
}

/// Follows the conversation until the reply completes; when each piece was first seen.
async fn follow(mut live: Live, pieces: usize) -> Vec<Option<Instant>> {
    let mut seen = vec![None; pieces];
    let mut text = String::new();
    loop {
        match live.recv(Duration::from_secs(60)).await {
            Frame::Msg(m) if m["type"] == "next" => {
                let e = &m["payload"]["data"]["conversationEvents"];
                if let Some(d) = e["delta"].as_str() {
                    let now = Instant::now();
                    text.push_str(d);
                    for (i, s) in seen.iter_mut().enumerate() {
                        if s.is_none() && text.contains(&format!("p{i:04} ")) {
                            *s = Some(now);
                        }
                    }
                }
                if e["kind"] == "message.completed" || e["kind"] == "message.failed" {
                    return seen;
                }
            }
            Frame::Msg(_) => {}
            other => panic!("subscriber stopped: {other:?}"),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let subscribers = env("BENCH_SUBSCRIBERS", 100);
    let pieces = env("BENCH_PIECES", 100);
    let app = TestApp::spawn_with(|c| c.db_pool_max = 10).await;
    let fake = FakeChat::start().await;
    let (owner, conversation) = setup(&app, &fake).await;
    let mut lives = vec![];
    for _ in 0..subscribers {
        let mut live = Live::connect(&app.base, &owner).await;
        live.subscribe("c", SUB, json!({ "c": conversation })).await;
        lives.push(live);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts: Vec<String> = (0..pieces).map(|i| format!("p{i:04} ")).collect();
    fake.state.script([Scripted::Paced(texts, Duration::from_millis(20))]);
    let followers: Vec<_> = lives.into_iter().map(|l| tokio::spawn(follow(l, pieces))).collect();
    let q = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }";
    data(
        &app.gql(Some(&owner), q, json!({ "i": { "conversationId": conversation, "content": "Stream, please." } }))
            .await,
    );
    let started = Instant::now();
    app.run_agents().await;
    let generation = started.elapsed();
    let mut seen = vec![];
    for f in followers {
        seen.push(f.await.expect("subscriber"));
    }
    let emitted = fake.state.emitted.lock().expect("emitted").clone();
    let (mut latency, mut spread, mut lost) = (vec![], vec![], 0usize);
    for (i, (_, sent)) in emitted.iter().enumerate() {
        let at: Vec<Instant> = seen.iter().filter_map(|s| s[i]).collect();
        lost += subscribers - at.len();
        latency.extend(at.iter().map(|t| t.saturating_duration_since(*sent)));
        if let (Some(first), Some(last)) = (at.iter().min(), at.iter().max()) {
            spread.push(last.saturating_duration_since(*first));
        }
    }
    latency.sort();
    spread.sort();
    println!("ai fan-out: {subscribers} subscribers of one conversation, {pieces} pieces 20 ms apart");
    println!("  reply streamed in {:.2} s", generation.as_secs_f64());
    println!(
        "  piece -> subscriber latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms ({} deliveries)",
        ms(bench::percentile(&latency, 0.50)),
        ms(bench::percentile(&latency, 0.95)),
        ms(bench::percentile(&latency, 0.99)),
        latency.len()
    );
    println!(
        "  first -> last subscriber per piece: p50 {:.1} ms, p95 {:.1} ms",
        ms(bench::percentile(&spread, 0.50)),
        ms(bench::percentile(&spread, 0.95))
    );
    println!("  pieces lost: {lost} of {}", subscribers * emitted.len());
    app.finish().await;
}
