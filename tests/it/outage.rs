//! Issue 9, resources and outages: failing sign-ins never hold two pool connections (the
//! pool keeps serving everyone else), and a database outage fails fast with
//! SERVICE_UNAVAILABLE / 503 + Retry-After while subscriptions survive it.

use std::time::{Duration, Instant};

use opsgraph_e2e::live::{Frame, Live};
use opsgraph_e2e::proxy::{PgProxy, database_addr};
use opsgraph_e2e::{TestApp, code, data};
use reqwest::Method;
use serde_json::{Value, json};

const LOGIN: &str = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }";

/// Item 4: 4x the pool size of concurrent failing sign-ins on one account (and reuses of a
/// revoked refresh token) while other requests keep answering.
#[tokio::test]
async fn failing_sign_ins_never_starve_the_pool() {
    let app = TestApp::spawn_with(|c| {
        c.db_pool_max = 4;
        c.login_max_failures_account = 100;
        c.login_max_failures_ip = 1000;
    })
    .await;
    let (token, refresh) = app.sign_up("ada@example.com", "Pool").await;
    let rotate = "mutation($t: String!) { refreshToken(input: { refreshToken: $t }) { accessToken } }";
    data(&app.gql(None, rotate, json!({ "t": refresh })).await);
    let started = Instant::now();
    let wrong = json!({ "i": { "email": "ada@example.com", "password": "wrong password!" } });
    let logins = (0..16).map(|_| app.gql(None, LOGIN, wrong.clone()));
    let reuses = (0..16).map(|_| app.gql(None, rotate, json!({ "t": refresh })));
    let viewer = async {
        let mut answers = vec![];
        for _ in 0..5 {
            answers.push(app.gql(Some(&token), "{ viewer { role } }", json!({})).await);
            answers.push(json!({ "ready": app.get("/readyz").await.0 }));
        }
        answers
    };
    let (logins, reuses, others) =
        tokio::join!(futures_util::future::join_all(logins), futures_util::future::join_all(reuses), viewer);
    for r in logins.iter().chain(&reuses) {
        assert_eq!(code(r), Some("UNAUTHENTICATED"), "{r}");
    }
    for r in &others {
        assert!(r["data"]["viewer"]["role"] == "OWNER" || r["ready"] == 200, "everyone else is served: {r}");
    }
    assert!(started.elapsed() < Duration::from_secs(20), "no stall: {:?}", started.elapsed());
    assert_eq!(app.count("SELECT count(*) AS n FROM login_attempts WHERE NOT succeeded").await, 16, "all recorded");
    app.finish().await;
}

/// Signs up, creates a project and follows its tasks from the current head (so nothing
/// committed while the subscription starts is missed): (token, project id, socket).
async fn following_a_project(app: &TestApp, email: &str) -> (String, Value, Live) {
    let (t, _) = app.sign_up(email, "Live org").await;
    let r = app
        .gql(
            Some(&t),
            "mutation { createProject(input: { key: \"LIVE\", name: \"Live\" }) { project { id } } }",
            json!({}),
        )
        .await;
    let project = data(&r)["createProject"]["project"]["id"].clone();
    let mut ws = Live::connect(&app.base, &t).await;
    let head = app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string();
    let sub = "subscription($p: ID!, $a: EventSeq) { taskChanged(projectId: $p, after: $a) { kind task { title } } }";
    ws.subscribe("s", sub, json!({ "p": project, "a": head })).await;
    (t, project, ws)
}

async fn create_task(app: &TestApp, token: &str, project: &Value, title: &str) -> Value {
    app.gql(
        Some(token),
        "mutation($p: ID!, $t: String!) { createTask(input: { projectId: $p, title: $t }) { task { id } } }",
        json!({ "p": project, "t": title }),
    )
    .await
}

/// Item 7: while PostgreSQL is unreachable a request fails within seconds with
/// SERVICE_UNAVAILABLE (HTTP 503, Retry-After), `/readyz` answers 503 within a second,
/// and a subscription resumes from the outbox once the database is back.
#[tokio::test]
async fn database_outage_fails_fast_and_subscriptions_survive() {
    let real = database_addr();
    let proxy = PgProxy::start(real).await;
    let (from, to) = (real.to_string(), proxy.addr.to_string());
    let app = TestApp::spawn_with(|c| {
        c.database_url = c.database_url.replace(&from, &to);
        c.db_acquire_timeout_ms = 1000;
    })
    .await;
    let (t, project, mut ws) = following_a_project(&app, "ops@example.com").await;
    data(&create_task(&app, &t, &project, "before").await);
    assert_eq!(ws.next_data("s").await["taskChanged"]["task"]["title"], "before");

    proxy.down();
    let started = Instant::now();
    let body = serde_json::to_vec(&json!({ "query": "{ viewer { role } }" })).ok();
    let auth = format!("Bearer {t}");
    let headers = [("content-type", "application/json"), ("authorization", auth.as_str())];
    let (status, h, text) = app.request(Method::POST, "/graphql", &headers, body.clone()).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{text}");
    assert!(h.get("retry-after").is_some());
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(code(&v), Some("SERVICE_UNAVAILABLE"), "{v}");
    assert!(v["errors"][0]["extensions"]["retryAfter"].as_u64().is_some());
    assert!(took < Duration::from_secs(5), "fails fast: {took:?}");
    let started = Instant::now();
    assert_eq!(app.get("/readyz").await.0, 503);
    assert!(started.elapsed() < Duration::from_millis(1500), "readyz within a second: {:?}", started.elapsed());

    proxy.up();
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.get("/readyz").await.0 != 200 {
        assert!(Instant::now() < deadline, "the server recovers");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    data(&create_task(&app, &t, &project, "after").await);
    let got = match ws.recv(Duration::from_secs(25)).await {
        Frame::Msg(m) if m["type"] == "next" => m["payload"]["data"]["taskChanged"]["task"]["title"].clone(),
        other => panic!("the subscription survives the outage, got {other:?}"),
    };
    assert_eq!(got, json!("after"));
    ws.close().await;
    app.finish().await;
}

/// Item 6: live delivery has its own pool: with every request-pool connection held,
/// events committed elsewhere (a second server process) still reach the subscriber.
#[tokio::test]
async fn live_delivery_does_not_queue_behind_requests() {
    use sea_orm::TransactionTrait;
    let app = TestApp::spawn_with(|c| {
        c.db_pool_max = 2;
        c.live_pool_max = 2;
        c.db_acquire_timeout_ms = 500;
    })
    .await;
    let (t, project, mut ws) = following_a_project(&app, "live@example.com").await;
    let other = opsgraph_e2e::ServerProcess::spawn(&app.database_url(), &[]).await;
    let post = |title: &str| {
        let body = json!({ "query": "mutation($p: ID!, $t: String!) { createTask(input: { projectId: $p, title: $t }) { task { id } } }", "variables": { "p": project, "t": title } });
        reqwest::Client::new().post(format!("{}/graphql", other.base)).bearer_auth(&t).json(&body).send()
    };
    post("warm-up").await.expect("created elsewhere");
    assert_eq!(ws.next_data("s").await["taskChanged"]["task"]["title"], "warm-up");
    // Hold every connection of the request pool.
    let held = (app.pool.begin().await.expect("first"), app.pool.begin().await.expect("second"));
    let starved = app.gql(Some(&t), "{ viewer { role } }", json!({})).await;
    assert_eq!(code(&starved), Some("SERVICE_UNAVAILABLE"), "the request pool is exhausted: {starved}");
    post("while saturated").await.expect("created elsewhere");
    assert_eq!(ws.next_data("s").await["taskChanged"]["task"]["title"], "while saturated");
    drop(held);
    ws.close().await;
    app.finish().await;
}

/// Pooled connections are not tested on every request, only when they sat idle (see
/// `db::TEST_IF_IDLE_FOR`): connections closed by the server while idle are noticed and
/// replaced, and the next request succeeds.
#[tokio::test]
async fn idle_connections_closed_by_the_server_are_replaced() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("idle@example.com", "Idle Co").await;
    assert_eq!(data(&app.gql(Some(&t), "{ viewer { role } }", json!({})).await)["viewer"]["role"], "OWNER");
    let killed = app
        .count(&format!(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = '{}' AND pid <> pg_backend_pid() AND state = 'idle'",
            app.db_name
        ))
        .await;
    assert!(killed >= 1, "the request pool holds idle connections");
    tokio::time::sleep(opsgraph_server::db::TEST_IF_IDLE_FOR + Duration::from_millis(300)).await;
    for _ in 0..3 {
        assert_eq!(data(&app.gql(Some(&t), "{ viewer { role } }", json!({})).await)["viewer"]["role"], "OWNER");
    }
    app.finish().await;
}
