//! The HTTP surface (GraphQL over HTTP): `POST /graphql` with `application/json` (anything
//! else is 415, so a cross-site form cannot post without a CORS preflight), `GET /graphql`
//! for queries (never mutations) or GraphiQL for a browser asking for HTML, CORS for the
//! configured origins, graphql-transport-ws on `/graphql/ws` (see [`crate::ws`]),
//! `/invoices/<id>.pdf` and `/reports/<id>` (see [`crate::documents`]), `/healthz`, `/readyz`. One transaction
//! per operation, tenant set first.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{BatchRequest, Response, ServerError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use futures_util::FutureExt;
use opsgraph_core::{AppError, RequestCtx, Session, Tenant, TxDb};
use opsgraph_org::Credentials;
use tracing::Instrument;

use crate::cost::CostLimiter;
use crate::persisted;
use crate::state::AppState;
use crate::{limits, wire};

/// The router of the whole API.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let shared = Arc::new(state.clone());
    let ws = move |peer, headers, upgrade| websocket(shared.clone(), peer, headers, upgrade);
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql).options(crate::cors::preflight))
        .route("/graphql/ws", get(ws))
        .route("/assets/{file}", get(crate::graphiql::asset))
        .route("/favicon.ico", get(crate::graphiql::favicon))
        .route("/invoices/{file}", get(crate::documents::invoice_pdf))
        .route("/reports/{id}", get(crate::documents::report_file))
        .route("/metrics", get(crate::metrics::endpoint))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route_layer(axum::middleware::from_fn(crate::telemetry::request_span))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::cors::headers))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and is migrated; answers within a second either way.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    use sea_orm::ConnectionTrait;
    let check = async {
        let db_ok = state.pool.execute_unprepared("SELECT 1").await.is_ok();
        (db_ok, db_ok && crate::db::migrations_current(&state.pool).await)
    };
    match tokio::time::timeout(Duration::from_millis(900), check).await {
        Ok((true, true)) => (StatusCode::OK, "ready"),
        Ok((false, _)) | Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable"),
        Ok((true, false)) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending"),
    }
}

/// The client's `x-request-id` when it is short and plain, else a new UUID.
pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn error_response(err: AppError) -> Response {
    let e = err.into_graphql();
    Response::from_errors(vec![ServerError {
        message: e.message,
        source: None,
        locations: vec![],
        path: vec![],
        extensions: e.extensions,
    }])
}

fn bad_request(message: &str) -> axum::response::Response {
    let resp = error_response(AppError::BadUserInput { field: None, message: message.to_owned() });
    (StatusCode::BAD_REQUEST, axum::Json(resp)).into_response()
}

/// Who is calling, as read from the request (before authentication).
pub(crate) struct Caller {
    pub(crate) credentials: Credentials,
    pub(crate) org_header: Option<String>,
    pub(crate) request_id: String,
    pub(crate) ip: String,
    pub(crate) user_agent: Option<String>,
}

pub(crate) fn caller(headers: &HeaderMap, peer: SocketAddr) -> Caller {
    Caller {
        credentials: Credentials::from_headers(header(headers, "authorization"), header(headers, "x-api-key")),
        org_header: header(headers, "x-organization-id").map(str::to_owned),
        request_id: request_id(headers),
        ip: peer.ip().to_string(),
        user_agent: header(headers, "user-agent").map(|s| s.chars().take(256).collect()),
    }
}

/// `POST /graphql`: one operation or a batch, as `application/json`.
async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let media = wire::ResponseMedia::negotiate(&headers);
    if !wire::is_json_request(&headers) {
        return wire::unsupported_media_type();
    }
    let caller = caller(&headers, peer);
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => return bad_request("the body must be a GraphQL request as JSON"),
    };
    let body = match batch {
        BatchRequest::Single(req) => {
            let resp = execute(&state, &caller, req).await;
            return wire::respond(media, &resp, &caller.request_id);
        }
        BatchRequest::Batch(reqs) => {
            if reqs.len() > state.config.max_batch {
                return bad_request(&format!("at most {} operations per batch", state.config.max_batch));
            }
            // Each operation of a batch runs (and commits) on its own, in order.
            let mut out = Vec::with_capacity(reqs.len());
            for req in reqs {
                out.push(execute(&state, &caller, req).await);
            }
            serde_json::to_vec(&out)
        }
    };
    wire::json_body(media, body, &caller.request_id)
}

/// `GET /graphql`: GraphiQL for a browser asking for HTML, else a query from the URL
/// (`query`, `variables`, `operationName`); a mutation over GET is 405.
async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> axum::response::Response {
    if wire::wants_html(&headers) {
        return crate::graphiql::page().await.into_response();
    }
    let media = wire::ResponseMedia::negotiate(&headers);
    let req = match wire::request_from_url(query.as_deref().unwrap_or_default()) {
        Ok(r) => r,
        Err(msg) => return bad_request(&msg),
    };
    let mut req = req;
    // A hash alone names its document: resolve it before telling queries from mutations.
    if let Err(e) = state.persisted.resolve(&state.pool, &mut req, !state.config.persisted_only).await {
        return wire::respond(media, &error_response(e), &request_id(&headers));
    }
    if wire::is_mutation(&req) {
        let mut resp = bad_request("mutations are only accepted over POST");
        *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let caller = caller(&headers, peer);
    let resp = execute(&state, &caller, req).await;
    wire::respond(media, &resp, &caller.request_id)
}

/// Runs one operation in its own transaction: authenticate (which sets the tenant),
/// execute, commit when there is no error, roll back otherwise.
pub(crate) async fn execute(state: &AppState, caller: &Caller, mut req: async_graphql::Request) -> Response {
    let hash = match state.persisted.resolve(&state.pool, &mut req, !state.config.persisted_only).await {
        Ok(h) => h,
        Err(e) => return error_response(e),
    };
    let operation = crate::metrics::operation_of(&req);
    let span = tracing::info_span!("graphql", request_id = %caller.request_id, operation = %operation,
        otel.name = %format_args!("graphql {operation}"), graphql.operation.name = %operation,
        tenant.id = tracing::field::Empty);
    async move {
        let started = Instant::now();
        let resp = run(state, caller, req, (hash, &operation)).await;
        let status = if resp.errors.is_empty() { "ok" } else { "error" };
        let codes: Vec<String> = resp
            .errors
            .iter()
            .filter_map(|e| e.extensions.as_ref().and_then(|x| x.get("code")).map(|c| c.to_string()))
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        crate::metrics::global().request(&operation, status, seconds);
        tracing::info!(status, errors = ?codes, duration_ms = seconds * 1000.0, "request");
        resp
    }
    .instrument(span)
    .await
}

async fn run(
    state: &AppState,
    caller: &Caller,
    mut req: async_graphql::Request,
    (hash, operation): (Option<String>, &str),
) -> Response {
    let cfg = &state.config;
    let (checked, miss) = match state.prepared.reuse(&mut req) {
        Ok(checked) => (checked, None),
        Err(key) => match limits::check_request(&mut req, &cfg.limits()) {
            Ok(checked) => (checked, state.prepared.miss(&mut req, key, checked)),
            Err(e) => return error_response(e),
        },
    };
    let (requested, query) = (checked.cost, checked.query);
    // Begins (as the authenticated tenant) with the first statement: one round trip less.
    let db = Arc::new(TxDb::lazy(&state.pool, Tenant::default()));
    let base = Session {
        ip: Some(caller.ip.clone()),
        user_agent: caller.user_agent.clone(),
        ..Session::anonymous(caller.request_id.clone())
    };
    // In allow-list mode, the hash that must be registered.
    let registered = cfg.persisted_only.then(|| hash.unwrap_or_else(|| persisted::hash(&req.query)));
    let session = match admit(state, caller, &db, base, registered).await {
        Ok(s) => s,
        Err(e) => {
            let _ = db.finish(false).await;
            return error_response(e);
        }
    };
    let key = CostLimiter::key(&session, &caller.ip);
    if let Err(e) = state.cost.admit(&key, requested) {
        let _ = db.finish(false).await;
        return error_response(e);
    }
    let (before, trips_before) = (db.statement_count(), db.round_trip_count());
    let ctx = RequestCtx::driven(session, db.clone());
    let executed = AssertUnwindSafe(ctx.drive(state.schema.execute(req.data(ctx.clone())))).catch_unwind().await;
    let mut resp = match executed {
        Ok(resp) => resp,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request_id = %caller.request_id, panic = %what, "resolver panicked; rolled back");
            let _ = db.finish(false).await;
            return error_response(AppError::internal(format!("panic: {what}")));
        }
    };
    ensure_codes(&mut resp);
    if let Some(miss) = miss.filter(|_| resp.errors.is_empty()) {
        state.prepared.remember(miss);
    }
    let statements = db.statement_count() - before;
    let round_trips = db.round_trip_count() - trips_before;
    crate::metrics::global().work(operation, u64::from(statements), ctx.loader_batches());
    // Failed mutation fields were already rolled back to their savepoints; what `data`
    // acknowledges is committed. `data: null` (nothing ran, or a non-null root failed)
    // commits nothing.
    let commit = resp.data != async_graphql::Value::Null;
    if query {
        // A query's response acknowledges no write, so it does not wait for the end of its
        // transaction (which still commits what it wrote, such as an API key's last use).
        tokio::spawn(finish_later(db, commit, caller.request_id.clone()));
    } else if let Err(e) = db.finish(commit).await {
        return error_response(AppError::from(e));
    }
    if cfg.expose_sql_count {
        resp.extensions.insert("sqlStatements".into(), async_graphql::Value::from(statements));
        resp.extensions.insert("sqlRoundTrips".into(), async_graphql::Value::from(round_trips));
    }
    report_cost(state, &mut resp, &key, requested);
    if let Some(c) = ctx.ai_cost().filter(|_| commit) {
        let cost = rust_decimal::Decimal::new(c.cost_micros, 6).normalize().to_string();
        let v = serde_json::json!({ "tokensIn": c.tokens_in, "tokensOut": c.tokens_out,
                                    "cost": { "amount": cost, "currency": c.currency } });
        resp.extensions.insert("aiCost".into(), async_graphql::Value::from_json(v).unwrap_or_default());
    }
    resp
}

/// Ends a query's transaction after its response went out; a failure is only logged.
async fn finish_later(db: Arc<TxDb>, commit: bool, request_id: String) {
    if let Err(e) = db.finish(commit).await {
        tracing::warn!(request_id = %request_id, error = %e, "ending a query's transaction failed");
    }
}

/// Authenticates the caller (which sets the tenant, recorded on the operation's span)
/// and, in allow-list mode, checks that `registered` (the operation's hash) is.
async fn admit(
    state: &AppState,
    caller: &Caller,
    db: &Arc<TxDb>,
    base: Session,
    registered: Option<String>,
) -> Result<Session, AppError> {
    let creds = &caller.credentials;
    let session = opsgraph_org::authenticate(db, &state.auth, creds, caller.org_header.as_deref(), base).await?;
    if let Some(org) = session.org_id {
        tracing::Span::current().record("tenant.id", tracing::field::display(org));
    }
    if let Some(h) = registered
        && !persisted::allowed(db.as_ref(), &h).await?
    {
        return Err(AppError::Forbidden("only registered operations run on this server (persisted queries)".into()));
    }
    Ok(session)
}

/// Refunds what the response did not use and tells the client
/// `extensions.cost { requested actual limit remaining resetAt }`.
fn report_cost(state: &AppState, resp: &mut Response, key: &str, requested: u64) {
    let actual = limits::actual_cost(&resp.data).min(requested);
    let level = state.cost.refund(key, requested - actual);
    let reset = chrono::Utc::now() + level.full_in;
    let v = serde_json::json!({ "requested": requested, "actual": actual, "limit": state.config.cost_budget,
        "remaining": level.remaining, "resetAt": reset.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) });
    resp.extensions.insert("cost".into(), async_graphql::Value::from_json(v).unwrap_or_default());
}

/// Every error carries a stable code: the library's own validation errors (no path) are
/// BAD_USER_INPUT, its executor failures (with a path) INTERNAL.
pub(crate) fn ensure_codes(resp: &mut Response) {
    for err in &mut resp.errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            let code = if err.path.is_empty() { "BAD_USER_INPUT" } else { "INTERNAL" };
            ext.set("code", code);
        }
    }
}

/// Upgrades to the graphql-transport-ws endpoint. `state` is one shared copy for all
/// sockets (a connection holds a pointer to it, not a copy of its fields).
async fn websocket(
    state: Arc<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> impl IntoResponse {
    let user_agent = header(&headers, "user-agent").map(|s| s.chars().take(256).collect());
    let cfg = &state.config;
    let upgrade = upgrade
        .protocols([crate::ws::PROTOCOL])
        .read_buffer_size(cfg.ws_read_buffer)
        .write_buffer_size(0)
        .max_write_buffer_size(cfg.ws_max_message.max(64 * 1024) * 4)
        .max_message_size(cfg.ws_max_message)
        .max_frame_size(cfg.ws_max_message);
    // One pointer in the upgrade's task: it keeps its callback (and what that captured)
    // for as long as the connection lives.
    let start = Box::new((state, crate::ws::Peer { ip: peer.ip().to_string(), user_agent }));
    upgrade.on_upgrade(move |socket| {
        let (state, peer) = *start;
        crate::ws::serve(state, peer, socket)
    })
}
