//! The graphql-transport-ws endpoint (`/graphql/ws`), our own loop rather than the
//! library's so that it can enforce what a long-lived connection needs: authentication in
//! `connection_init` (bearer token or API key) and a close (4403) when those credentials
//! expire; a cap on subscriptions per connection; keep-alive pings and an idle cut-off; a
//! bounded send queue (a client that does not keep up is disconnected with 1013 and resumes
//! with `after`); and a close frame (1001) to every socket on graceful shutdown.
//!
//! Queries and mutations sent over the socket run exactly like HTTP ones (authenticated
//! again, one transaction). Subscriptions re-authenticate when they start and then run
//! with a per-event context (see `opsgraph_core::live`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_graphql::Response;
use async_graphql::parser::types::OperationType;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use opsgraph_core::batch::{Idle, drive_stream};
use opsgraph_core::context::EventSlot;
use opsgraph_core::exec::selected;
use opsgraph_core::live::LiveSession;
use opsgraph_core::queue::{self, TrySendError};
use opsgraph_core::{AppError, Session, Tenant, TxDb};
use opsgraph_org::Credentials;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::http::{Caller, ensure_codes, error_response};
use crate::state::AppState;

/// The only sub-protocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// Close codes of the protocol (and two of RFC 6455).
pub mod close {
    /// Invalid message.
    pub const BAD_REQUEST: u16 = 4400;
    /// Subscribe before `connection_ack`.
    pub const UNAUTHORIZED: u16 = 4401;
    /// Credentials rejected or expired.
    pub const FORBIDDEN: u16 = 4403;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// Two subscriptions with one id.
    pub const DUPLICATE_ID: u16 = 4409;
    /// A second `connection_init`.
    pub const TOO_MANY_INITS: u16 = 4429;
    /// The server shuts down.
    pub const GOING_AWAY: u16 = 1001;
    /// The client reads too slowly; reconnect and resume with `after`.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// Counts open sockets and tells them to close on shutdown.
#[derive(Default)]
pub struct Sockets {
    open: std::sync::atomic::AtomicUsize,
    closed: Notify,
    closing: tokio::sync::watch::Sender<bool>,
}

impl Sockets {
    /// Open sockets now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Tells every socket to send its close frame, then waits (at most `grace`) for all
    /// of them to finish.
    pub async fn close_all(&self, grace: Duration) {
        self.closing.send_replace(true);
        let deadline = Instant::now() + grace;
        while self.open() > 0 {
            let notified = self.closed.notified();
            if self.open() == 0 || tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
    }
}

struct OpenGuard(Arc<Sockets>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.closed.notify_waiters();
    }
}

/// Why a connection ends.
enum End {
    Close(u16, &'static str),
    CloseWith(u16, String),
    /// The client closed: send the queued close reply.
    Echo,
    Drop,
}

impl End {
    /// The `reason` label of `websocket_closed_total`.
    fn label(&self) -> &'static str {
        match self {
            End::Close(close::TRY_AGAIN_LATER, _) => "slow_consumer",
            End::Close(close::GOING_AWAY, r) if r.starts_with("server") => "shutdown",
            End::Close(close::GOING_AWAY, _) => "idle",
            End::Close(close::FORBIDDEN, _) | End::CloseWith(close::FORBIDDEN, _) => "forbidden",
            End::Close(close::INIT_TIMEOUT, _) => "init_timeout",
            End::Close(..) | End::CloseWith(..) => "protocol",
            End::Echo => "client",
            End::Drop => "lost",
        }
    }
}

/// What a connection's queue carries to its loop.
enum Out {
    /// A message for the socket; `next` marks a subscription event (counted by stage).
    Send(Message, bool),
    /// A subscription's task ended: its id is free again.
    Done(String),
}

struct Conn {
    state: Arc<AppState>,
    peer: Peer,
    out: queue::Sender<Out>,
    slow: Arc<Notify>,
    /// Credentials and organisation from `connection_init`, once acknowledged.
    auth: Option<(Credentials, Option<String>)>,
    subs: HashMap<String, AbortHandle>,
}

/// Who is on the other end of a socket, from its upgrade request.
pub struct Peer {
    /// The client's address.
    pub ip: String,
    /// Its `User-Agent`, if any.
    pub user_agent: Option<String>,
}

fn text(v: Value) -> Message {
    Message::Text(Utf8Bytes::from(v.to_string()))
}

fn close_frame(code: u16, reason: impl Into<String>) -> Message {
    let reason: String = reason.into().chars().take(120).collect();
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(reason) }))
}

/// Serves one upgraded socket until it closes.
///
/// Not an `async fn`: the socket is split and the connection built before the future
/// exists, so the future, which lives as long as the connection, holds each of them once
/// (an `async fn` keeps its arguments for its whole life, next to what they were moved
/// into).
pub fn serve(state: Arc<AppState>, peer: Peer, socket: WebSocket) -> impl Future<Output = ()> + Send {
    let (sink, stream) = socket.split();
    let (out, out_rx) = queue::bounded::<Out>(state.config.ws_send_queue);
    let conn = Conn { state, peer, out, slow: Arc::new(Notify::new()), auth: None, subs: HashMap::new() };
    run(conn, out_rx, sink, stream)
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;
type Stream = futures_util::stream::SplitStream<WebSocket>;

/// The connection's loop: client messages, queued replies, pings and deadlines. An `async`
/// block rather than an `async fn`, which would copy its arguments into locals and keep both.
#[expect(clippy::manual_async_fn, reason = "an async fn keeps a second copy of its arguments for its whole life")]
fn run(
    mut conn: Conn,
    mut out_rx: queue::Receiver<Out>,
    mut sink: Sink,
    mut stream: Stream,
) -> impl Future<Output = ()> + Send {
    async move {
        let sockets = conn.state.sockets.clone();
        sockets.open.fetch_add(1, Ordering::SeqCst);
        let _guard = OpenGuard(sockets.clone());
        let mut closing = sockets.closing.subscribe();
        let counts = &crate::metrics::global().deliveries;
        let keepalive = Duration::from_secs(conn.state.config.ws_keepalive_secs.max(1));
        let mut ping = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
        let mut last_heard = Instant::now();
        // The `connection_init` timeout until one is acknowledged, then the credentials' expiry.
        let deadline = tokio::time::sleep(Duration::from_secs(conn.state.config.ws_init_timeout_secs));
        tokio::pin!(deadline);
        let write_timeout = keepalive;

        let end = loop {
            tokio::select! {
                frame = stream.next() => {
                    last_heard = Instant::now();
                    let msg = match frame {
                        Some(Ok(m)) => m,
                        Some(Err(_)) | None => break End::Drop,
                    };
                    match msg {
                        // Boxed: the handling of a message (authentication and all) is not
                        // part of every idle connection's task.
                        Message::Text(t) => match Box::pin(conn.handle(t.as_str())).await {
                            Ok(Some(exp)) => deadline.as_mut().reset(exp),
                            Ok(None) => {}
                            Err(end) => break end,
                        },
                        Message::Binary(_) => break End::Close(close::BAD_REQUEST, "binary messages are not supported"),
                        // The library queued the answer to the client's close (same code,
                        // RFC 6455 §5.5.1); flushing sends it.
                        Message::Close(_) => break End::Echo,
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                Some(out) = out_rx.recv() => match out {
                    Out::Send(msg, next) => match tokio::time::timeout(write_timeout, sink.send(msg)).await {
                        Ok(Ok(())) if next => counts.written.inc(),
                        Ok(Ok(())) => {}
                        _ => {
                            counts.dropped.inc_by(u64::from(next));
                            break End::Drop;
                        }
                    },
                    Out::Done(id) => {
                        conn.subs.remove(&id);
                    }
                },
                _ = conn.slow.notified() => break End::Close(close::TRY_AGAIN_LATER, "too slow: reconnect and resume with `after`"),
                _ = ping.tick() => {
                    if last_heard.elapsed() > keepalive * 3 {
                        break End::Close(close::GOING_AWAY, "no traffic; connection idle");
                    }
                    if tokio::time::timeout(write_timeout, sink.send(Message::Ping(Default::default()))).await.is_err() {
                        break End::Drop;
                    }
                }
                _ = &mut deadline => break match conn.auth {
                    None => End::Close(close::INIT_TIMEOUT, "Connection initialisation timeout"),
                    Some(_) => End::Close(close::FORBIDDEN, "Forbidden: credentials expired"),
                },
                _ = async { let _ = closing.wait_for(|c| *c).await; } => break End::Close(close::GOING_AWAY, "server shutting down"),
            }
        };
        for (_, sub) in conn.subs.drain() {
            sub.abort();
        }
        out_rx.close();
        while let Ok(out) = out_rx.try_recv() {
            if let Out::Send(_, next) = out {
                counts.dropped.inc_by(u64::from(next));
            }
        }
        crate::metrics::global().closed(end.label());
        say_goodbye(&mut sink, end).await;
    }
}

impl Conn {
    fn send(&self, v: Value) -> Result<(), End> {
        match self.out.try_send(Out::Send(text(v), false)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                Err(End::Close(close::TRY_AGAIN_LATER, "too slow: reconnect and resume with `after`"))
            }
            Err(TrySendError::Closed(_)) => Err(End::Drop),
        }
    }

    fn caller(&self) -> Option<Caller> {
        self.auth.as_ref().map(|(credentials, org)| Caller {
            credentials: credentials.clone(),
            org_header: org.clone(),
            request_id: uuid::Uuid::new_v4().to_string(),
            ip: self.peer.ip.clone(),
            user_agent: self.peer.user_agent.clone(),
        })
    }

    /// Handles one client message; returns the connection's new deadline after
    /// `connection_init` (its credentials' expiry, if they expire).
    async fn handle(&mut self, raw: &str) -> Result<Option<Instant>, End> {
        let msg: Value = serde_json::from_str(raw).map_err(|_| End::Close(close::BAD_REQUEST, "Invalid message"))?;
        let kind = msg.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "connection_init" => {
                if self.auth.is_some() {
                    return Err(End::Close(close::TOO_MANY_INITS, "Too many initialisation requests"));
                }
                let payload = msg.get("payload").cloned().unwrap_or(Value::Null);
                let field = |names: &[&str]| {
                    payload.as_object().and_then(|o| {
                        o.iter()
                            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
                            .and_then(|(_, v)| v.as_str())
                    })
                };
                let credentials = Credentials::from_headers(field(&["authorization"]), field(&["x-api-key", "apiKey"]));
                let org = field(&["x-organization-id", "organizationId"]).map(str::to_owned);
                self.auth = Some((credentials, org));
                let session = match self.authenticate().await {
                    Ok(s) => s,
                    Err(e) => {
                        let message = e.into_graphql().message;
                        return Err(End::CloseWith(close::FORBIDDEN, format!("Forbidden: {message}")));
                    }
                };
                self.send(json!({ "type": "connection_ack" }))?;
                let left = session.expires_at.map_or(u32::MAX.into(), |exp| exp - chrono::Utc::now().timestamp());
                Ok(Some(Instant::now() + Duration::from_secs(left.max(0).unsigned_abs())))
            }
            "ping" => {
                self.send(json!({ "type": "pong" }))?;
                Ok(None)
            }
            "pong" => Ok(None),
            "subscribe" => {
                let Some(caller) = self.caller() else {
                    return Err(End::Close(close::UNAUTHORIZED, "Unauthorized"));
                };
                let id = msg.get("id").and_then(Value::as_str).filter(|s| !s.is_empty() && s.len() <= 128);
                let Some(id) = id.map(str::to_owned) else {
                    return Err(End::Close(close::BAD_REQUEST, "Invalid message: subscribe needs an id"));
                };
                if self.subs.contains_key(&id) {
                    return Err(End::CloseWith(close::DUPLICATE_ID, format!("Subscriber for {id} already exists")));
                }
                let Some(req) =
                    msg.get("payload").and_then(|p| serde_json::from_value::<async_graphql::Request>(p.clone()).ok())
                else {
                    return Err(End::Close(close::BAD_REQUEST, "Invalid message: bad subscribe payload"));
                };
                if self.subs.len() >= self.state.config.ws_max_subscriptions {
                    let err = AppError::BadUserInput {
                        field: None,
                        message: format!(
                            "at most {} active subscriptions per connection",
                            self.state.config.ws_max_subscriptions
                        ),
                    };
                    self.send_errors(&id, error_response(err))?;
                    return Ok(None);
                }
                let handle = self.start(id.clone(), caller, req);
                self.subs.insert(id, handle);
                Ok(None)
            }
            "complete" => {
                if let Some(id) = msg.get("id").and_then(Value::as_str)
                    && let Some(sub) = self.subs.remove(id)
                {
                    sub.abort();
                }
                Ok(None)
            }
            _ => Err(End::Close(close::BAD_REQUEST, "Invalid message: unknown type")),
        }
    }

    fn send_errors(&self, id: &str, resp: Response) -> Result<(), End> {
        let errors = serde_json::to_value(&resp.errors).unwrap_or(Value::Array(vec![]));
        self.send(json!({ "type": "error", "id": id, "payload": errors }))
    }

    /// Authenticates the connection's credentials now (in a rolled-back transaction).
    async fn authenticate(&self) -> Result<Session, AppError> {
        let Some(caller) = self.caller() else {
            return Err(AppError::Unauthenticated("send connection_init first".into()));
        };
        authenticate(&self.state, &caller).await
    }

    /// Runs one operation in its own task, streaming its results into the send queue.
    fn start(&self, id: String, caller: Caller, req: async_graphql::Request) -> AbortHandle {
        let replies = Replies { out: self.out.clone(), slow: self.slow.clone(), id };
        // One pointer in the task rather than all of the request for its whole life.
        let start = Box::new((self.state.clone(), caller, req));
        let task = tokio::spawn(async move {
            // Counted while the task lives (ended, completed or aborted alike).
            let _live = crate::metrics::Live::start();
            // Boxed, and it consumes the request: a long-lived subscription's task keeps
            // only its stream and where its replies go (the outcome of the start is a
            // temporary of this statement, not a local kept next to the stream).
            let follow = match Box::pin(begin(start)).await {
                Begun::Failed(resp) => {
                    replies.error(&resp);
                    None
                }
                Begun::Once(resp) => {
                    if replies.next(&resp, false) {
                        replies.complete();
                    }
                    None
                }
                Begun::Stream(slot, stream) => Some((slot, stream)),
            };
            if let Some((slot, stream)) = follow {
                replies.follow(slot, stream).await;
            }
            let _ = replies.out.send_beyond_capacity(Out::Done(replies.id));
        });
        task.abort_handle()
    }
}

/// An operation over the socket once started: a subscription's stream, a one-shot
/// result, or the error that ended it before it began.
enum Begun {
    Stream(EventSlot, futures_util::stream::BoxStream<'static, Response>),
    Once(Response),
    Failed(Response),
}

/// Starts an operation sent over the socket: a subscription, or a query or mutation run
/// exactly as over HTTP.
async fn begin(start: Box<(Arc<AppState>, Caller, async_graphql::Request)>) -> Begun {
    let (state, caller, req) = *start;
    let is_subscription = async_graphql::parser::parse_query(&req.query)
        .ok()
        .and_then(|d| selected(&d, req.operation_name.as_deref()).map(|op| op.ty))
        == Some(OperationType::Subscription);
    // Each path boxed: the start's future is as large as the path it takes, not the largest.
    if !is_subscription {
        return Begun::Once(Box::pin(crate::http::execute(&state, &caller, req)).await);
    }
    match Box::pin(subscribe(&state, &caller, req)).await {
        Ok((slot, stream)) => Begun::Stream(slot, stream),
        Err(resp) => Begun::Failed(resp),
    }
}

/// Where one operation's messages go: its connection's send queue, under its id.
struct Replies {
    out: queue::Sender<Out>,
    slow: Arc<Notify>,
    id: String,
}

impl Replies {
    /// Queues `text`; a full queue marks the connection as too slow. `next` counts it as
    /// a subscription event.
    fn push(&self, text: String, next: bool) -> bool {
        let counts = &crate::metrics::global().deliveries;
        match self.out.try_send(Out::Send(Message::Text(Utf8Bytes::from(text)), next)) {
            Ok(()) => {
                counts.queued.inc_by(u64::from(next));
                true
            }
            Err(TrySendError::Full(_)) => {
                counts.refused.inc_by(u64::from(next));
                self.slow.notify_one();
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// A `next` message with `resp`, serialized from the response itself (not through
    /// `serde_json::Value`, whose maps sort their keys): fields keep the client's order.
    fn next(&self, resp: &Response, event: bool) -> bool {
        let payload = serde_json::to_string(resp).unwrap_or_else(|_| "null".into());
        let id = serde_json::to_string(&self.id).unwrap_or_default();
        self.push(format!(r#"{{"type":"next","id":{id},"payload":{payload}}}"#), event)
    }

    fn error(&self, resp: &Response) {
        let errors = serde_json::to_value(&resp.errors).unwrap_or(Value::Array(vec![]));
        self.push(json!({ "type": "error", "id": self.id, "payload": errors }).to_string(), false);
    }

    fn complete(&self) {
        self.push(json!({ "type": "complete", "id": self.id }).to_string(), false);
    }

    /// Sends a subscription's events until its stream ends (then `complete`), it fails
    /// (then `error`), or the connection cannot take more.
    async fn follow(&self, slot: EventSlot, mut stream: futures_util::stream::BoxStream<'static, Response>) {
        while let Some(resp) = stream.next().await {
            // The event is resolved: send it, then end its transaction, so no live
            // connection is held while waiting for the next.
            let event = slot.replace(None);
            let more = self.event(resp, event.as_deref());
            if let Some(event) = event {
                let _ = Box::pin(event.db.rollback()).await;
            }
            if !more {
                return;
            }
        }
        self.complete();
    }

    /// Sends one resolved event (with the errors of its fields); false when the
    /// subscription ends with it (an error) or the connection cannot take it.
    fn event(&self, mut resp: Response, event: Option<&opsgraph_core::context::RequestCtx>) -> bool {
        if let Some(event) = event {
            opsgraph_core::exec::apply_data_null(event, &mut resp);
        }
        ensure_codes(&mut resp);
        if resp.data == async_graphql::Value::Null && !resp.errors.is_empty() {
            self.error(&resp);
            return false;
        }
        self.next(&resp, true)
    }
}

/// Authenticates a socket's credentials (at `connection_init` and again at every
/// subscription start): members' tokens in their organisation's batch, anything else in
/// a transaction of its own.
async fn authenticate(state: &AppState, caller: &Caller) -> Result<Session, AppError> {
    let base = Session {
        ip: Some(caller.ip.clone()),
        user_agent: caller.user_agent.clone(),
        ..Session::anonymous(caller.request_id.clone())
    };
    let (creds, org) = (&caller.credentials, caller.org_header.as_deref());
    let scope = |org| state.events.start_scope(org);
    let session = match opsgraph_org::authenticate_batched(scope, &state.auth, creds, org, base.clone()).await? {
        Some(session) => session,
        // Boxed: the full path (API keys, non-members) is rare, and ten thousand sockets
        // starting at once would each carry its state otherwise.
        None => {
            Box::pin(async {
                let db = TxDb::lazy(&state.pool, Tenant::default());
                let session = opsgraph_org::authenticate(&db, &state.auth, creds, org, base).await;
                let _ = db.rollback().await;
                session
            })
            .await?
        }
    };
    if session.actor == opsgraph_core::Actor::Anonymous {
        return Err(AppError::Unauthenticated("sign in first: send a bearer token or an API key".into()));
    }
    // Everything that streams belongs to an organisation: a deactivated member (whose
    // token still names the organisation) or a user without one has nothing to follow.
    if session.org_id.is_none() {
        return Err(AppError::Forbidden("no active membership in an organisation".into()));
    }
    Ok(session)
}

/// Starts a subscription operation: limits, fresh authentication, its cost charged to the
/// caller's budget, then the stream.
async fn subscribe(
    state: &AppState,
    caller: &Caller,
    req: async_graphql::Request,
) -> Result<(EventSlot, futures_util::stream::BoxStream<'static, Response>), Response> {
    let cfg = &state.config;
    let requested = crate::limits::check(&req.query, &req.variables, &cfg.limits()).map_err(error_response)?;
    let session = authenticate(state, caller).await.map_err(error_response)?;
    let key = crate::cost::CostLimiter::key(&session, &caller.ip);
    state.cost.admit(&key, requested).map_err(error_response)?;
    let slot = EventSlot::default();
    // The current event's statements in flight keep its driver from releasing batches.
    let current = slot.clone();
    let idle = Idle::new(move || current.current().is_some_and(|event| event.db.in_flight()));
    let live = LiveSession { session: Arc::new(session), pool: state.live_pool.clone(), idle: idle.clone() };
    let req = req.data(live).data(slot.clone());
    Ok((slot, drive_stream(idle, state.schema.execute_stream(req)).boxed()))
}

/// Ends the socket as `end` says: a close frame, the echo of the client's close, or nothing.
async fn say_goodbye(sink: &mut futures_util::stream::SplitSink<WebSocket, Message>, end: End) {
    let frame = match end {
        End::Close(code, reason) => Some(close_frame(code, reason)),
        End::CloseWith(code, reason) => Some(close_frame(code, reason)),
        End::Echo => {
            let _ = tokio::time::timeout(Duration::from_secs(2), sink.flush()).await;
            None
        }
        End::Drop => None,
    };
    if let Some(frame) = frame {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            sink.send(frame).await?;
            sink.flush().await
        })
        .await;
    }
}
