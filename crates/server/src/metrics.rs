//! `GET /metrics` in Prometheus text format, for operators (off unless
//! `OPSGRAPH_METRICS_TOKEN` is set; scrapes send it as a bearer token). Counted as they
//! happen: requests by operation and outcome with their latency, SQL statements per
//! request and loader batches per request, background job runs. Read at scrape time: pool connections in use and idle,
//! open WebSocket connections, live subscriptions, the outbox lag (events not yet
//! dispatched, and how many organisations have some), and today's AI tokens and cost.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::state::AppState;

/// Operation names kept as label values (more become `other`: clients choose them).
const MAX_OPERATIONS: usize = 200;

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: HistogramVec,
    statements: HistogramVec,
    batches: HistogramVec,
    jobs: IntCounterVec,
    pool: IntGaugeVec,
    sockets: IntGauge,
    followers: IntGauge,
    /// Live subscriptions (the WebSocket layer counts them up and down).
    pub subscriptions: IntGauge,
    /// Where each subscription event (`next` message) went.
    pub deliveries: Deliveries,
    closes: IntCounterVec,
    outbox: IntGaugeVec,
    ai: IntGaugeVec,
    operations: Mutex<HashSet<String>>,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("opsgraph".into()), None)?;
    let buckets = vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
    let requests = HistogramVec::new(
        HistogramOpts::new("request_duration_seconds", "GraphQL operations by name and outcome").buckets(buckets),
        &["operation", "outcome"],
    )?;
    let statements = HistogramVec::new(
        HistogramOpts::new("sql_statements_per_request", "SQL statements one operation ran")
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
        &["operation"],
    )?;
    let batches = HistogramVec::new(
        HistogramOpts::new("loader_batches_per_request", "Dataloader batches one operation dispatched")
            .buckets(vec![0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
        &["operation"],
    )?;
    let jobs = IntCounterVec::new(Opts::new("job_runs_total", "Background job passes"), &["job", "outcome"])?;
    let pool = IntGaugeVec::new(Opts::new("db_pool_connections", "Request pool connections"), &["state"])?;
    let sockets = IntGauge::new("websocket_connections", "Open WebSocket connections")?;
    let subscriptions = IntGauge::new("subscriptions", "Live subscriptions")?;
    let followers = IntGauge::new("live_followers", "Live subscriptions started (following a feed)")?;
    let stages = IntCounterVec::new(
        Opts::new(
            "live_messages_total",
            "Subscription events by stage: queued for a socket, written to it, refused (queue full: the \
             socket closes as a slow consumer), dropped (still queued when the socket closed)",
        ),
        &["stage"],
    )?;
    let deliveries = Deliveries {
        queued: stages.with_label_values(&["queued"]),
        written: stages.with_label_values(&["written"]),
        refused: stages.with_label_values(&["refused"]),
        dropped: stages.with_label_values(&["dropped"]),
    };
    let closes =
        IntCounterVec::new(Opts::new("websocket_closed_total", "WebSocket connections ended, by reason"), &["reason"])?;
    let outbox = IntGaugeVec::new(Opts::new("outbox_lag", "Events committed but not yet dispatched"), &["measure"])?;
    let ai = IntGaugeVec::new(Opts::new("ai_usage_today", "Language-model usage since midnight UTC"), &["measure"])?;
    for c in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(statements.clone()),
        Box::new(batches.clone()),
        Box::new(jobs.clone()),
        Box::new(pool.clone()),
        Box::new(sockets.clone()),
        Box::new(subscriptions.clone()),
        Box::new(followers.clone()),
        Box::new(stages),
        Box::new(closes.clone()),
        Box::new(outbox.clone()),
        Box::new(ai.clone()),
    ] {
        registry.register(c)?;
    }
    let operations = Mutex::default();
    Ok(Metrics {
        registry,
        requests,
        statements,
        batches,
        jobs,
        pool,
        sockets,
        followers,
        subscriptions,
        deliveries,
        closes,
        outbox,
        ai,
        operations,
    })
}

/// The metrics of this process (registered once).
pub fn global() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(|| match build() {
        Ok(m) => m,
        Err(e) => unreachable!("static metric definitions are valid: {e}"),
    });
    &METRICS
}

impl Metrics {
    fn operation(&self, name: &str) -> String {
        let ok = !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return if name == "-" { "anonymous".into() } else { "other".into() };
        }
        let mut seen = self.operations.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(name) || seen.len() < MAX_OPERATIONS {
            seen.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Records one operation.
    pub fn request(&self, operation: &str, outcome: &str, seconds: f64) {
        let op = self.operation(operation);
        self.requests.with_label_values(&[op.as_str(), outcome]).observe(seconds);
    }

    /// Records the SQL statements and loader batches one operation ran.
    pub fn work(&self, operation: &str, statements: u64, batches: u64) {
        let op = self.operation(operation);
        self.statements.with_label_values(&[op.as_str()]).observe(statements as f64);
        self.batches.with_label_values(&[op.as_str()]).observe(batches as f64);
    }

    /// Records why one WebSocket connection ended.
    pub fn closed(&self, reason: &str) {
        self.closes.with_label_values(&[reason]).inc();
    }

    /// Records one background pass.
    pub fn job(&self, job: &str, ok: bool) {
        self.jobs.with_label_values(&[job, if ok { "ok" } else { "error" }]).inc();
    }

    /// The text of a scrape (gauges read now).
    pub async fn render(&self, state: &AppState) -> String {
        let pool = state.pool.get_postgres_connection_pool();
        let (size, idle) = (i64::from(pool.size()), i64::try_from(pool.num_idle()).unwrap_or(0));
        self.pool.with_label_values(&["in_use"]).set(size - idle);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.sockets.set(i64::try_from(state.sockets.open()).unwrap_or(i64::MAX));
        let followers = state.events.followers() + state.inbox.followers();
        self.followers.set(i64::try_from(followers).unwrap_or(i64::MAX));
        if let Err(e) = self.read_database(state).await {
            tracing::warn!(error = %e, "metrics: database gauges not read");
        }
        let mut out = vec![];
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "metrics not encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    async fn read_database(&self, state: &AppState) -> Result<(), sea_orm::DbErr> {
        // The owner pool sees every organisation: these are the operator's totals.
        let sql = "SELECT coalesce(sum(last_seq - dispatched_seq), 0)::bigint AS events, \
                     count(*) FILTER (WHERE last_seq > dispatched_seq) AS orgs, \
                     (SELECT coalesce(sum(tokens_in + tokens_out), 0)::bigint FROM ai_usage WHERE day = current_date) AS tokens, \
                     (SELECT coalesce(sum(cost_micros), 0)::bigint FROM ai_usage WHERE day = current_date) AS cost \
                   FROM event_counters";
        let row = state.pool.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
        if let Some(r) = row {
            self.outbox.with_label_values(&["events"]).set(r.try_get("", "events")?);
            self.outbox.with_label_values(&["organizations"]).set(r.try_get("", "orgs")?);
            self.ai.with_label_values(&["tokens"]).set(r.try_get("", "tokens")?);
            self.ai.with_label_values(&["cost_micros"]).set(r.try_get("", "cost")?);
        }
        Ok(())
    }
}

/// The name of a request's operation: `operationName`, else the first operation's name in
/// the document (`query Me {…}`), else `-`.
pub fn operation_of(req: &async_graphql::Request) -> String {
    if let Some(n) = &req.operation_name {
        return n.clone();
    }
    let text = req.query.trim_start();
    for kw in ["query", "mutation", "subscription"] {
        if let Some(rest) = text.strip_prefix(kw) {
            let name: String =
                rest.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && rest.starts_with(char::is_whitespace) {
                return name;
            }
        }
    }
    "-".into()
}

/// The counters of `live_messages_total`, one per stage.
pub struct Deliveries {
    /// Put into a socket's send queue.
    pub queued: IntCounter,
    /// Written to the socket.
    pub written: IntCounter,
    /// Not queued: the queue was full and the socket closes as a slow consumer.
    pub refused: IntCounter,
    /// Still in the queue when the socket closed.
    pub dropped: IntCounter,
}

/// One live subscription, counted from creation to drop.
pub struct Live;

impl Live {
    /// Counts one more.
    #[must_use = "the subscription counts as long as the guard lives"]
    pub fn start() -> Live {
        global().subscriptions.inc();
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        global().subscriptions.dec();
    }
}

/// `GET /metrics`: 404 unless a token is configured, 401 without it.
pub async fn endpoint(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(token) = state.config.metrics_token.as_deref().filter(|t| !t.is_empty()) else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // Compared in constant time.
    let ok = given.is_some_and(|g| {
        g.len() == token.len() && g.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    });
    if !ok {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    }
    let body = global().render(&state).await;
    ([("content-type", "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
