//! The OpenAI-compatible chat client against a local fake provider speaking the protocol:
//! a refused start retried, a streamed reply with text and two tool calls merged by index
//! and the usage chunk, a wrong key refused without retry, and a stream cut before
//! `[DONE]` reported as an error.

#![allow(clippy::expect_used, reason = "test code: a failed expectation is the test failing")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opsgraph_ai::llm::openai::{Client, Delta, Settings, Tool, WireMessage};
use opsgraph_ai::llm::{Message, Role};
use serde_json::{Value, json};

#[derive(Default)]
struct Fake {
    calls: AtomicU32,
    refuse_next: AtomicU32,
}

fn chunk(v: Value) -> String {
    format!("data: {v}\n\n")
}

async fn chat(State(fake): State<Arc<Fake>>, headers: HeaderMap, axum::Json(body): axum::Json<Value>) -> Response {
    fake.calls.fetch_add(1, Ordering::SeqCst);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer k") {
        let err = json!({ "error": { "message": "Incorrect API key provided" } });
        return (StatusCode::UNAUTHORIZED, axum::Json(err)).into_response();
    }
    if fake.refuse_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        return (StatusCode::SERVICE_UNAVAILABLE, "overloaded").into_response();
    }
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    let mut out = String::new();
    for piece in ["Checking ", "the runbook", "…"] {
        out.push_str(&chunk(json!({ "choices": [{ "index": 0, "delta": { "content": piece } }] })));
    }
    let call = |i: u64, id: Option<&str>, name: Option<&str>, args: &str| {
        let mut c = json!({ "index": i, "function": { "arguments": args } });
        if let Some(id) = id {
            c["id"] = json!(id);
            c["type"] = json!("function");
        }
        if let Some(n) = name {
            c["function"]["name"] = json!(n);
        }
        chunk(json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [c] } }] }))
    };
    out.push_str(&call(0, Some("call_1"), Some("search_knowledge"), "{\"query\":"));
    out.push_str(&call(1, Some("call_2"), Some("create_task"), "{\"title\":\"Rotate keys\"}"));
    out.push_str(&call(0, None, None, "\"vpn error 809\"}"));
    out.push_str(&chunk(json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "tool_calls" }] })));
    out.push_str(&chunk(json!({ "choices": [], "usage": { "prompt_tokens": 42, "completion_tokens": 17 } })));
    if body["messages"].as_array().map(Vec::len) != Some(1) {
        out.push_str("data: [DONE]\n\n");
    }
    ([("content-type", "text/event-stream")], out).into_response()
}

async fn start() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let app = axum::Router::new().route("/v1/chat/completions", axum::routing::post(chat)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), fake)
}

fn client(url: &str, key: &str) -> Client {
    let settings = Settings {
        base_url: url.into(),
        api_key: Some(key.into()),
        model: "fake-chat".into(),
        timeout: Duration::from_secs(10),
        max_retries: 2,
    };
    Client::new(settings).expect("client")
}

#[tokio::test]
async fn streams_text_tool_calls_and_usage() {
    let (url, fake) = start().await;
    let messages = [
        WireMessage::Plain(Message::new(Role::System, "You help with operations.")),
        WireMessage::Plain(Message::new(Role::User, "My VPN says error 809")),
    ];
    let tools = [Tool {
        name: "search_knowledge".into(),
        description: "Search the knowledge base".into(),
        parameters: json!({ "type": "object", "properties": { "query": { "type": "string" } } }),
    }];
    fake.refuse_next.store(1, Ordering::SeqCst);
    let mut deltas = vec![];
    let reply = client(&url, "k").chat(&messages, &tools, 256, |d| deltas.push(d)).await.expect("reply");
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2, "a 503, then the stream");
    assert_eq!(reply.text, "Checking the runbook…");
    assert_eq!(deltas.first(), Some(&Delta::Text("Checking ".into())));
    assert_eq!(deltas.len(), 6, "three text pieces, three tool-call pieces");
    assert_eq!(reply.tool_calls.len(), 2);
    assert_eq!(reply.tool_calls[0].id, "call_1");
    assert_eq!(reply.tool_calls[0].arguments, "{\"query\":\"vpn error 809\"}");
    assert_eq!(reply.tool_calls[1].name, "create_task");
    assert_eq!(reply.finish_reason.as_deref(), Some("tool_calls"));
    let usage = reply.usage.expect("usage chunk");
    assert_eq!((usage.prompt, usage.completion), (42, 17));

    let wrong = client(&url, "nope").chat(&messages, &[], 16, |_| {}).await.expect_err("refused");
    assert!(wrong.contains("401") && wrong.contains("Incorrect API key") && !wrong.contains("nope"), "{wrong}");

    // The fake cuts a one-message conversation's stream before [DONE].
    let cut = client(&url, "k").chat(&messages[1..], &[], 16, |_| {}).await.expect_err("cut");
    assert!(cut.contains("[DONE]"), "{cut}");
}
