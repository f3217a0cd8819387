//! Query cost through HTTP: the price of known documents in `extensions.cost` (requested
//! before execution, actual after), a document over the maximum refused before it runs,
//! and the per-caller budget: spent, refused with RATE_LIMITED and `retryAfter`, refilled;
//! subscriptions charged when they start.

use opsgraph_e2e::{TestApp, code, data};
use serde_json::json;

#[tokio::test]
async fn costs_are_told_limited_and_refilled() {
    let app = TestApp::spawn_with(|c| {
        c.max_cost = 100;
        c.cost_budget = 100;
        c.cost_refill_per_sec = 20;
    })
    .await;
    let (token, _) = app.sign_up("o@example.com", "Cost Co").await;
    for key in ["KA", "KB", "KC"] {
        let q = format!(
            "mutation {{ createProject(input: {{ key: \"{key}\", name: \"P{key}\" }}) {{ project {{ id }} }} }}"
        );
        data(&app.gql(Some(&token), &q, json!({})).await);
    }
    // organization 1 + projects (2 + 10 x (node 1 + 0)) = 13 requested; 3 projects came back: 1 + 2 + 3 = 6.
    let q = "{ organization { projects(first: 10) { totalCount nodes { name } } } }";
    let r = app.gql(Some(&token), q, json!({})).await;
    data(&r);
    let cost = &r["extensions"]["cost"];
    assert_eq!(
        (cost["requested"].as_u64(), cost["actual"].as_u64(), cost["limit"].as_u64()),
        (Some(13), Some(6), Some(100))
    );
    assert!(cost["remaining"].as_u64().is_some_and(|n| n <= 100) && cost["resetAt"].is_string(), "{cost}");

    // Over the maximum for one document: refused before it runs.
    let big = "{ organization { projects(first: 100) { nodes { tasks(first: 100) { nodes { id } } } } } }";
    let r = app.gql(Some(&token), big, json!({})).await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{r}");
    assert!(r["errors"][0]["message"].as_str().unwrap_or_default().contains("costs too much"));

    // The budget: each read uses 6 of its 13 requested points; the bucket of 100 refills 20
    // points a second, so quick repeats run it down until one is refused.
    let mut refused = None;
    for _ in 0..60 {
        let r = app.gql(Some(&token), q, json!({})).await;
        if code(&r) == Some("RATE_LIMITED") {
            refused = Some(r);
            break;
        }
    }
    let refused = refused.expect("the budget runs out");
    assert!(refused["errors"][0]["extensions"]["retryAfter"].as_u64().is_some_and(|s| s >= 1), "{refused}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    data(&app.gql(Some(&token), q, json!({})).await);
    app.finish().await;
}

#[tokio::test]
async fn subscriptions_are_charged_when_they_start() {
    use opsgraph_e2e::live::{Frame, Live};
    let app = TestApp::spawn_with(|c| {
        c.cost_budget = 10;
        c.max_cost = 10;
        c.cost_refill_per_sec = 1;
    })
    .await;
    let (token, _) = app.sign_up("s@example.com", "Sub Cost Co").await;
    let mut live = Live::connect(&app.base, &token).await;
    let mut refused = None;
    for i in 0..30 {
        let id = format!("s{i}");
        live.subscribe(&id, "subscription { notificationAdded { seq notification { id title } } }", json!({})).await;
        match live.recv(std::time::Duration::from_millis(300)).await {
            Frame::Silent => {}
            Frame::Msg(m) if m["type"] == "error" && m["id"] == id.as_str() => {
                refused = Some((i, m));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let (started, m) = refused.expect("the budget runs out");
    assert!(started >= 2, "the first subscriptions start: {started} {m}");
    assert_eq!(m["payload"][0]["extensions"]["code"], "RATE_LIMITED", "{m}");
    assert!(m["payload"][0]["extensions"]["retryAfter"].as_u64().is_some_and(|s| s >= 1), "{m}");
    app.finish().await;
}
