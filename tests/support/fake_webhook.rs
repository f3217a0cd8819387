//! A local webhook receiver: verifies each POST's Standard Webhooks signature
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature` = `v1,` base64 HMAC-SHA256 of
//! `"{id}.{timestamp}.{body}"` keyed with the secret's bytes) on its own, answers the
//! status it is told to (200, or 503 while "down"), and keeps every request in arrival
//! order.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `webhook-id`.
    pub id: String,
    /// The body's `type`.
    pub kind: String,
    /// The body's `data.seq` (events) if any.
    pub seq: Option<i64>,
    /// The whole body.
    pub body: Value,
    /// Whether the signature verified with the secret the receiver holds.
    pub verified: bool,
    /// The status the receiver answered.
    pub answered: u16,
}

#[derive(Default)]
struct Inner {
    secret: Mutex<Option<String>>,
    status: AtomicU16,
    received: Mutex<Vec<Received>>,
}

/// The running receiver.
pub struct FakeReceiver {
    /// `http://127.0.0.1:port/hook`.
    pub url: String,
    inner: Arc<Inner>,
}

/// Whether `sig_header` holds a valid `v1` signature of the message.
pub fn verify(secret: &str, id: &str, ts: &str, body: &[u8], sig_header: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let Ok(key) = b64.decode(secret.trim_start_matches("whsec_")) else { return false };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key) else { return false };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    sig_header.split(' ').any(|s| s == expected)
}

async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (id, ts, sig) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"));
    let fresh = ts.parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= 300);
    let secret = inner.secret.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default();
    let verified = fresh && verify(&secret, &id, &ts, &body, &sig);
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answered = inner.status.load(Ordering::SeqCst);
    inner.received.lock().unwrap_or_else(|p| p.into_inner()).push(Received {
        id,
        kind: json["type"].as_str().unwrap_or_default().to_owned(),
        seq: json["data"]["seq"].as_i64(),
        body: json,
        verified,
        answered,
    });
    StatusCode::from_u16(answered).unwrap_or(StatusCode::OK)
}

impl FakeReceiver {
    /// Starts the receiver on a loopback port, answering 200.
    pub async fn start() -> FakeReceiver {
        let inner = Arc::new(Inner { status: AtomicU16::new(200), ..Default::default() });
        let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeReceiver { url: format!("http://{addr}/hook"), inner }
    }

    /// The secret signatures are checked with.
    pub fn set_secret(&self, secret: &str) {
        *self.inner.secret.lock().unwrap_or_else(|p| p.into_inner()) = Some(secret.to_owned());
    }

    /// The status to answer from now on.
    pub fn answer(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The requests it acknowledged (2xx), in order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| (200..300).contains(&r.answered)).collect()
    }

    /// Waits (up to 20 s) until `done` holds for what was received.
    pub async fn wait_for(&self, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.received();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.received()
    }
}
