//! A graphql-transport-ws client for tests and the live benchmark (tokio-tungstenite):
//! connect and authenticate, subscribe, read `next` / `error` / `complete` messages and
//! close frames.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::Ws;

/// What the server sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A protocol message (`connection_ack`, `next`, `error`, `complete`, `pong`).
    Msg(Value),
    /// A close frame: code and reason.
    Closed(u16, String),
    /// Nothing within the wait.
    Silent,
}

/// One client connection.
pub struct Live {
    ws: Ws,
}

/// Opens `/graphql/ws` of `base` (`http://host:port`) with the subprotocol.
pub async fn open(base: &str) -> Live {
    try_open(base).await.expect("ws connect")
}

/// [`open`], or why not.
pub async fn try_open(base: &str) -> Result<Live, String> {
    let url = format!("{}/graphql/ws", base.replace("http://", "ws://"));
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
    let (ws, _) = tokio_tungstenite::connect_async(req).await.map_err(|e| e.to_string())?;
    Ok(Live { ws })
}

impl Live {
    /// Opens a socket and authenticates with bearer `token`; panics unless acknowledged.
    pub async fn connect(base: &str, token: &str) -> Live {
        Live::try_connect(base, token).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Live::connect`], or why not.
    pub async fn try_connect(base: &str, token: &str) -> Result<Live, String> {
        let mut live = try_open(base).await?;
        live.init(json!({ "Authorization": format!("Bearer {token}") })).await;
        match live.recv(Duration::from_secs(30)).await {
            Frame::Msg(m) if m["type"] == "connection_ack" => Ok(live),
            other => Err(format!("expected connection_ack, got {other:?}")),
        }
    }

    /// Sends a raw protocol message.
    pub async fn send(&mut self, msg: Value) {
        self.ws.send(Message::text(msg.to_string())).await.expect("send");
    }

    /// The next text message as sent (key order intact), if one arrives within `wait`.
    pub async fn recv_raw(&mut self, wait: Duration) -> Option<String> {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                _ => return None,
            }
        }
    }

    /// Sends `connection_init` with `payload`.
    pub async fn init(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload })).await;
    }

    /// Starts operation `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// Stops operation `id`.
    pub async fn complete(&mut self, id: &str) {
        self.send(json!({ "type": "complete", "id": id })).await;
    }

    /// The next protocol message or close frame (pings are answered by the library and skipped).
    pub async fn recv(&mut self, wait: Duration) -> Frame {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Frame::Silent,
                Ok(None) | Ok(Some(Err(_))) => return Frame::Closed(1006, "connection lost".into()),
                Ok(Some(Ok(Message::Text(t)))) => return Frame::Msg(serde_json::from_str(&t).expect("json message")),
                Ok(Some(Ok(Message::Close(f)))) => {
                    return f.map_or(Frame::Closed(1005, String::new()), |f| {
                        Frame::Closed(u16::from(f.code), f.reason.to_string())
                    });
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The `data` of the next `next` message of operation `id` (panics on anything else).
    pub async fn next_data(&mut self, id: &str) -> Value {
        match self.recv(Duration::from_secs(10)).await {
            Frame::Msg(m) if m["type"] == "next" && m["id"] == id => {
                assert!(m["payload"].get("errors").is_none(), "errors in next: {m}");
                m["payload"]["data"].clone()
            }
            other => panic!("expected next for {id}, got {other:?}"),
        }
    }

    /// Asserts nothing arrives within `wait`.
    pub async fn assert_silent(&mut self, wait: Duration) {
        match self.recv(wait).await {
            Frame::Silent => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }

    /// Sends a Close frame with `code` (the socket stays readable for the answer).
    pub async fn close_with(&mut self, code: u16, reason: &str) {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        let frame = CloseFrame { code: code.into(), reason: reason.to_owned().into() };
        let _ = self.ws.send(Message::Close(Some(frame))).await;
    }

    /// Closes the socket from the client side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// What one subscriber of a benchmark received of subscription field `field` until it had
/// `expected` events or `deadline` passed: each event's `seq` and its delivery latency
/// (its `occurredAt` to receipt) in milliseconds. Anything but `next` panics, naming `who`.
pub async fn receive(
    ws: &mut Live,
    field: &str,
    expected: usize,
    deadline: std::time::Instant,
    who: &str,
) -> (Vec<i64>, Vec<f64>) {
    let (mut seqs, mut latencies) = (Vec::with_capacity(expected), Vec::with_capacity(expected));
    while seqs.len() < expected && std::time::Instant::now() < deadline {
        match ws.recv(Duration::from_secs(5)).await {
            Frame::Msg(m) if m["type"] == "next" => {
                let e = &m["payload"]["data"][field];
                let at = e["occurredAt"].as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
                if let Some(at) = at {
                    let us = (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0);
                    latencies.push(us as f64 / 1000.0);
                }
                seqs.push(e["seq"].as_str().and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1));
            }
            Frame::Silent => {}
            other => panic!("{who}: {other:?}"),
        }
    }
    (seqs, latencies)
}

/// Lost, duplicated and out-of-order deliveries of one subscriber that expected `expected`.
pub fn tally(seqs: &[i64], expected: usize) -> (usize, usize, usize) {
    let distinct: std::collections::HashSet<i64> = seqs.iter().copied().collect();
    let out_of_order = seqs.windows(2).filter(|w| w[0] >= w[1]).count();
    (expected.saturating_sub(distinct.len()), seqs.len() - distinct.len(), out_of_order)
}

/// What one benchmark subscriber follows, and how it behaves.
#[derive(Clone)]
pub struct Follow {
    /// The subscription document; it takes `$a: EventSeq` (resume point) and selects
    /// `seq` and `occurredAt` of `field`.
    pub query: &'static str,
    /// The subscription field.
    pub field: &'static str,
    /// Its other variables.
    pub vars: Value,
    /// Close the socket and resume with `after` every period, the first time after the offset.
    pub churn: Option<(Duration, Duration)>,
}

/// What one subscriber received, over every connection it made.
#[derive(Default)]
pub struct Received {
    /// Each delivery: its `seq` and its latency (`occurredAt` to receipt) in milliseconds.
    pub events: Vec<(i64, f64)>,
    /// Close frames the server sent, by code (the subscriber reconnected after each).
    pub closes: std::collections::BTreeMap<u16, usize>,
    /// Reconnections with `after` (its own churn and after server closes).
    pub resumes: usize,
    /// Failed connection attempts (retried).
    pub connect_failures: usize,
    /// `error` or `complete` messages (the subscription ended; no resume).
    pub ended: Option<String>,
}

/// Follows `f` as bearer `token` from position `after` until `stop` turns true: reconnects
/// and resumes with `after` whenever the server closes the socket (as a real client does
/// after 1013), or on its own when `f.churn` says. Counts each first delivery of a new
/// position in `progress`; signals `ready` once first subscribed.
pub async fn follow(
    base: String,
    token: String,
    f: Follow,
    mut after: String,
    mut stop: tokio::sync::watch::Receiver<bool>,
    progress: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> Received {
    use std::sync::atomic::Ordering;
    let mut got = Received::default();
    let (mut last, mut first) = (after.parse::<i64>().unwrap_or(0), true);
    'conn: while !*stop.borrow() {
        let mut ws = match Live::try_connect(&base, &token).await {
            Ok(ws) => ws,
            Err(_) => {
                got.connect_failures += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut vars = f.vars.clone();
        vars["a"] = json!(after);
        ws.subscribe("s", f.query, vars).await;
        let churn_at =
            f.churn.map(|(period, offset)| tokio::time::Instant::now() + if first { offset } else { period });
        if std::mem::take(&mut first) {
            let _ = ready.send(()).await;
        }
        loop {
            let churn = async {
                match churn_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let frame = tokio::select! {
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    ws.close().await;
                    break 'conn;
                }
                () = churn => {
                    ws.close().await;
                    got.resumes += 1;
                    continue 'conn;
                }
                frame = ws.recv(Duration::from_secs(3600)) => frame,
            };
            match frame {
                Frame::Msg(m) if m["type"] == "next" => {
                    let e = &m["payload"]["data"][f.field];
                    let seq = e["seq"].as_str().and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1);
                    let at = e["occurredAt"].as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
                    let ms = at.map_or(f64::NAN, |at| {
                        (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0) as f64
                            / 1000.0
                    });
                    if seq > last {
                        last = seq;
                        after = seq.to_string();
                        progress.fetch_add(1, Ordering::Relaxed);
                    }
                    got.events.push((seq, ms));
                }
                Frame::Msg(m) => {
                    got.ended = Some(m.to_string());
                    ws.close().await;
                    break 'conn;
                }
                Frame::Closed(code, _) => {
                    *got.closes.entry(code).or_default() += 1;
                    got.resumes += 1;
                    continue 'conn;
                }
                Frame::Silent => {}
            }
        }
    }
    got
}
