//! A local fake of an OpenAI-compatible chat completions endpoint
//! (`POST /v1/chat/completions`, `stream: true`) that plays a script: each call takes the
//! next scripted reply (text pieces, or tool calls whose arguments arrive split across
//! chunks and merge by index) and streams it as `chat.completion.chunk` events with the
//! `include_usage` chunk and `[DONE]`; a reply may be cut before `[DONE]`. Every request
//! body is kept, so a test sees what the model was told (tool results included). Wrong
//! keys get OpenAI's 401.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The key the fake accepts.
pub const KEY: &str = "sk-fake-chat-0123456789";

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// Text in pieces, then usage (prompt, completion).
    Text(Vec<&'static str>, (u64, u64)),
    /// Tool calls (name, arguments JSON), then usage.
    Calls(Vec<(&'static str, String)>, (u64, u64)),
    /// Text pieces then the connection ends without `[DONE]`.
    Cut(Vec<&'static str>),
    /// Text pieces sent one by one, `gap` apart (each piece's send time is kept in
    /// [`Chat::emitted`]), then usage and `[DONE]`.
    Paced(Vec<String>, std::time::Duration),
}

/// The fake's state.
#[derive(Default)]
pub struct Chat {
    script: Mutex<VecDeque<Scripted>>,
    /// Request bodies received (accepted ones).
    pub requests: Mutex<Vec<Value>>,
    /// When each paced piece was sent.
    pub emitted: Mutex<Vec<(String, std::time::Instant)>>,
}

impl Chat {
    /// Queues replies.
    pub fn script(&self, replies: impl IntoIterator<Item = Scripted>) {
        self.script.lock().expect("script").extend(replies);
    }

    /// The requests so far.
    pub fn seen(&self) -> Vec<Value> {
        self.requests.lock().expect("requests").clone()
    }
}

/// A running fake; `url` is its `/v1` base.
pub struct FakeChat {
    /// Base URL.
    pub url: String,
    /// Its state.
    pub state: Arc<Chat>,
}

fn chunk(v: Value) -> String {
    format!("data: {v}\n\n")
}

fn text_chunk(piece: &str) -> String {
    chunk(json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": { "content": piece } }] }))
}

fn stream(reply: Scripted, n: usize) -> String {
    let mut out = chunk(json!({ "choices": [{ "index": 0, "delta": { "role": "assistant", "content": "" } }] }));
    let (finish, usage) = match reply {
        Scripted::Text(pieces, usage) => {
            pieces.iter().for_each(|p| out.push_str(&text_chunk(p)));
            ("stop", usage)
        }
        Scripted::Calls(calls, usage) => {
            for (i, (name, args)) in calls.iter().enumerate() {
                let (a, b) = args.split_at(args.len() / 2);
                let first = json!({ "index": i, "id": format!("call_{n}_{i}"), "type": "function",
                                    "function": { "name": name, "arguments": a } });
                let rest = json!({ "index": i, "function": { "arguments": b } });
                for c in [first, rest] {
                    out.push_str(&chunk(json!({ "choices": [{ "index": 0, "delta": { "tool_calls": [c] } }] })));
                }
            }
            ("tool_calls", usage)
        }
        Scripted::Cut(pieces) => {
            pieces.iter().for_each(|p| out.push_str(&text_chunk(p)));
            return out;
        }
        Scripted::Paced(..) => return out,
    };
    out.push_str(&chunk(json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": finish }] })));
    out.push_str(&chunk(json!({ "choices": [], "usage": { "prompt_tokens": usage.0, "completion_tokens": usage.1,
                                                          "total_tokens": usage.0 + usage.1 } })));
    out.push_str("data: [DONE]\n\n");
    out
}

async fn completions(State(chat): State<Arc<Chat>>, headers: HeaderMap, body: axum::Json<Value>) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        let err = json!({ "error": { "message": "Incorrect API key provided", "type": "invalid_request_error" } });
        return (StatusCode::UNAUTHORIZED, axum::Json(err)).into_response();
    }
    let n = {
        let mut r = chat.requests.lock().expect("requests");
        r.push(body.0);
        r.len()
    };
    let Some(reply) = chat.script.lock().expect("script").pop_front() else {
        let err = json!({ "error": { "message": "the fake has no scripted reply left" } });
        return (StatusCode::BAD_REQUEST, axum::Json(err)).into_response();
    };
    if let Scripted::Paced(pieces, gap) = reply {
        return paced(chat, pieces, gap);
    }
    ([("content-type", "text/event-stream")], stream(reply, n)).into_response()
}

/// A stream that sends its pieces `gap` apart, noting when each left.
fn paced(chat: Arc<Chat>, pieces: Vec<String>, gap: std::time::Duration) -> Response {
    let end = format!(
        "{}data: [DONE]\n\n",
        chunk(json!({ "choices": [], "usage": { "prompt_tokens": 10, "completion_tokens": pieces.len() } }))
    );
    let items = pieces.into_iter().map(Some).chain([None]);
    let body = futures_util::stream::unfold((items, chat, end), move |(mut items, chat, end)| async move {
        let item = items.next()?;
        let text = match item {
            Some(p) => {
                tokio::time::sleep(gap).await;
                chat.emitted.lock().expect("emitted").push((p.clone(), std::time::Instant::now()));
                text_chunk(&p)
            }
            None => end.clone(),
        };
        Some((Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(text)), (items, chat, end)))
    });
    ([("content-type", "text/event-stream")], axum::body::Body::from_stream(body)).into_response()
}

impl FakeChat {
    /// Starts the fake on a loopback port.
    pub async fn start() -> FakeChat {
        let state = Arc::new(Chat::default());
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(completions))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
        let addr = listener.local_addr().expect("fake address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeChat { url: format!("http://{addr}/v1"), state }
    }
}
