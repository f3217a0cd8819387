//! A local fake of an OpenAI-compatible embeddings endpoint (`POST /v1/embeddings`), for
//! testing the real client: bearer-key check (401 with OpenAI's error body), vectors
//! hashed from the input's words (texts sharing words are near, so search results mean
//! something), replies in reverse index order (clients must reorder by `index`), `usage`,
//! and failures on demand: the next N calls answer 429 with `Retry-After: 0`, or every call
//! answers 500.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The key the fake accepts.
pub const KEY: &str = "test-key";

/// What the fake has seen and how it misbehaves.
#[derive(Default)]
pub struct Fake {
    /// Vector length.
    pub dimensions: usize,
    /// Calls answered (any status).
    pub calls: AtomicU32,
    /// Inputs embedded (successful calls).
    pub inputs: AtomicU32,
    /// The next calls that answer 429.
    pub throttle_next: AtomicU32,
    /// Every call answers 500.
    pub broken: AtomicBool,
}

/// A running fake; `url` is its `/v1` base.
pub struct FakeOpenAi {
    /// Base URL (`http://127.0.0.1:port/v1`).
    pub url: String,
    /// Its state.
    pub state: Arc<Fake>,
}

/// The fake's vector for `text`: each lowercase word adds +-1 to a dimension picked by a
/// hash of the word; unit length.
pub fn vector(text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0f32; dims];
    for w in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2) {
        let h = w
            .to_lowercase()
            .bytes()
            .fold(1_469_598_103_934_665_603u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211));
        let i = (h % dims as u64) as usize;
        v[i] += if h & (1 << 40) == 0 { 1.0 } else { -1.0 };
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        v[0] = 1.0;
        return v;
    }
    v.iter().map(|x| x / norm).collect()
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": { "message": message, "type": "fake_error" } }))).into_response()
}

async fn embeddings(State(fake): State<Arc<Fake>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    fake.calls.fetch_add(1, Ordering::SeqCst);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}")) {
        return error(StatusCode::UNAUTHORIZED, "Incorrect API key provided");
    }
    if fake.broken.load(Ordering::SeqCst) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "The server had an error while processing your request");
    }
    if fake.throttle_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit reached");
        r.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("0"));
        return r;
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return error(StatusCode::BAD_REQUEST, "input must be a string or an array of strings"),
    };
    fake.inputs.fetch_add(inputs.len() as u32, Ordering::SeqCst);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| json!({ "object": "embedding", "index": i, "embedding": vector(t, fake.dimensions) }))
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    Json(json!({ "object": "list", "data": data, "model": body["model"],
                 "usage": { "prompt_tokens": tokens, "total_tokens": tokens } }))
    .into_response()
}

impl FakeOpenAi {
    /// Starts a fake answering `dimensions`-long vectors on a loopback port.
    pub async fn start(dimensions: usize) -> FakeOpenAi {
        let state = Arc::new(Fake { dimensions, ..Fake::default() });
        let app =
            axum::Router::new().route("/v1/embeddings", axum::routing::post(embeddings)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake");
        let addr = listener.local_addr().expect("fake address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeOpenAi { url: format!("http://{addr}/v1"), state }
    }
}
