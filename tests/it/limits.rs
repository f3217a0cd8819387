//! Query limits reject abusive documents before doing work.

use opsgraph_e2e::{TestApp, code};
use serde_json::json;

#[tokio::test]
async fn abusive_documents_are_rejected() {
    let app = TestApp::spawn_with(|c| {
        c.max_depth = 8;
        c.max_aliases = 5;
        c.max_batch = 3;
        c.max_body_bytes = 64 * 1024;
    })
    .await;
    let (t, _) = app.sign_up("l@example.com", "Limits").await;
    // Depth.
    let deep = "{ organization { teams { nodes { members { nodes { membership { user { memberships { organization { members { nodes { id } } } } } } } } } } } }";
    let r = app.gql(Some(&t), deep, json!({})).await;
    assert!(r["errors"][0]["message"].as_str().unwrap_or_default().to_lowercase().contains("nested too deep"), "{r}");
    assert_eq!(code(&r), Some("BAD_USER_INPUT"));
    // Aliases.
    let aliases = format!("{{ {} }}", (0..6).map(|i| format!("a{i}: viewer {{ role }}")).collect::<Vec<_>>().join(" "));
    let r = app.gql(Some(&t), &aliases, json!({})).await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"));
    // Bracket bombs are refused without parsing.
    let bomb = format!("{}{}", "{a".repeat(20_000), "}".repeat(20_000));
    let started = std::time::Instant::now();
    let r = app.gql(Some(&t), &bomb, json!({})).await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Batches.
    let op = json!({ "query": "{ viewer { role } }" });
    let auth = format!("Bearer {t}");
    let (status, r) =
        app.post_raw(serde_json::to_vec(&json!([op, op, op, op])).expect("json"), &[("authorization", &auth)]).await;
    assert_eq!(status, 400);
    assert_eq!(code(&r), Some("BAD_USER_INPUT"));
    let (status, r) =
        app.post_raw(serde_json::to_vec(&json!([op, op])).expect("json"), &[("authorization", &auth)]).await;
    assert_eq!(status, 200);
    assert_eq!(r[1]["data"]["viewer"]["role"], "OWNER");
    // Body size.
    let big = json!({ "query": format!("{{ viewer {{ role }} }} # {}", "x".repeat(70 * 1024)) });
    let (status, _) = app.post_raw(serde_json::to_vec(&big).expect("json"), &[]).await;
    assert_eq!(status, 413);
    // Not JSON.
    let (status, r) = app.post_raw(b"not json".to_vec(), &[]).await;
    assert_eq!((status, code(&r)), (400, Some("BAD_USER_INPUT")));
    // Complexity: a wide list query over the limit.
    let app2 = TestApp::spawn_with(|c| c.max_complexity = 15).await;
    let (t2, _) = app2.sign_up("l@example.com", "Limits").await;
    let r = app2.gql(Some(&t2), "{ organization { members { nodes { id role jobTitle department hireDate isActive joinedAt createdAt updatedAt version user { id email firstName lastName displayName avatarUrl } } } } }", json!({})).await;
    assert!(r["errors"][0]["message"].as_str().unwrap_or_default().contains("too many fields"), "{r}");
    assert_eq!(code(&r), Some("BAD_USER_INPUT"));
    app2.finish().await;
    app.finish().await;
}

#[tokio::test]
async fn introspection_can_be_disabled() {
    let app = TestApp::spawn_with(|c| c.introspection = false).await;
    let r = app.gql(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert!(r["errors"].is_array() || r["data"]["__schema"].is_null(), "{r}");
    app.finish().await;
}

/// Issue 9, item 3: fragment fan-out (a 650-byte document expanding to millions of
/// fields) is refused before execution, with or without login; `__typename` counts.
/// The rejection time is asserted by `./dev bench limits`, not here.
#[tokio::test]
async fn fragment_fan_out_is_refused_before_execution() {
    let app = TestApp::spawn().await;
    let fan_out = |levels: usize, width: usize| {
        let mut q = format!("{{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
        for i in 1..=levels {
            q.push_str(&format!(" fragment F{i} on Query {{ {}}}", format!("...F{} ", i - 1).repeat(width)));
        }
        q
    };
    for (levels, width) in [(22, 2), (7, 10), (13, 2)] {
        let r = app.gql(None, &fan_out(levels, width), json!({})).await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{levels}x{width}: {r}");
        assert!(r["errors"][0]["message"].as_str().unwrap_or_default().contains("too many fields"), "{r}");
        assert!(r["data"].is_null());
    }
    let cycle = app.gql(None, "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", json!({})).await;
    assert_eq!(code(&cycle), Some("BAD_USER_INPUT"));
    // Small expansions still run.
    let ok = app.gql(None, &fan_out(3, 2), json!({})).await;
    assert_eq!(ok["data"]["__typename"], "Query", "{ok}");
    app.finish().await;
}

/// A request seen before (same text, operation name and variables, and it ran without an
/// error) skips parsing, the limits and validation; any other is checked in full.
#[tokio::test]
async fn requests_seen_before_reuse_their_checks_and_others_are_checked() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("p@example.com", "Prepared").await;
    let q = "query M($n: Int) { organization { members(first: $n) { nodes { role } } } }";
    let first = app.gql(Some(&t), q, json!({"n": 5})).await;
    assert!(first["errors"].is_null(), "{first}");
    let hits = app.prepared.hits();
    let again = app.gql(Some(&t), q, json!({"n": 5})).await;
    assert_eq!(app.prepared.hits(), hits + 1, "the same request reused its checks");
    assert_eq!(again["data"], first["data"]);
    assert_eq!(again["extensions"]["cost"]["requested"], first["extensions"]["cost"]["requested"]);
    // Other variables are validated and costed: a wrong type is refused every time (a
    // request with an error is not kept), a bigger page costs more.
    for _ in 0..2 {
        let wrong = app.gql(Some(&t), q, json!({"n": "five"})).await;
        assert_eq!(code(&wrong), Some("BAD_USER_INPUT"), "{wrong}");
    }
    let bigger = app.gql(Some(&t), q, json!({"n": 50})).await;
    let cost = |r: &serde_json::Value| r["extensions"]["cost"]["requested"].as_u64().unwrap_or_default();
    assert!(cost(&bigger) > cost(&first), "{bigger}");
    // Another operation name over the same text is checked too.
    let body = json!({ "query": q, "operationName": "Nope", "variables": {"n": 5} });
    let auth = format!("Bearer {t}");
    let (_, named) = app.post_raw(serde_json::to_vec(&body).expect("json"), &[("authorization", &auth)]).await;
    assert!(named["errors"][0]["message"].as_str().unwrap_or_default().contains("Unknown operation"), "{named}");
    assert_eq!(app.prepared.hits(), hits + 1, "none of those reused anything");
    app.finish().await;
}
