//! Issue 9, on the wire: CORS, media types and GET (GraphQL over HTTP), close frames,
//! `@specifiedBy`, the favicon, and no "Did you mean" with introspection off.

use std::time::Duration;

use opsgraph_e2e::live::{Frame, open};
use opsgraph_e2e::{TestApp, code, data};
use reqwest::Method;
use serde_json::{Value, json};

/// Item 18: configured origins get CORS headers (preflight 204), others get none.
#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::spawn_with(|c| c.cors_origins = "https://app.example, https://admin.example".into()).await;
    let preflight = [
        ("origin", "https://app.example"),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type, authorization"),
    ];
    let (status, h, _) = app.request(Method::OPTIONS, "/graphql", &preflight, None).await;
    assert_eq!(status, 204);
    assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("https://app.example"));
    let allowed = h.get("access-control-allow-headers").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert!(h.get("access-control-allow-credentials").is_none(), "credentials are off by default");
    let (_, h, _) = app.request(Method::OPTIONS, "/graphql", &[("origin", "https://evil.example")], None).await;
    assert!(h.get("access-control-allow-origin").is_none());
    let body = serde_json::to_vec(&json!({ "query": "{ viewer { role } }" })).ok();
    let (status, h, _) = app
        .request(
            Method::POST,
            "/graphql",
            &[("origin", "https://admin.example"), ("content-type", "application/json")],
            body,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("https://admin.example"));
    app.finish().await;
}

/// Item 19: only `application/json` bodies execute (a form post cannot), GET runs
/// queries but never mutations, GraphiQL only for browsers, and the
/// `application/graphql-response+json` status codes.
#[tokio::test]
async fn media_types_and_get_follow_graphql_over_http() {
    let app = TestApp::spawn().await;
    let mutation = serde_json::to_vec(&json!({ "query": "mutation { signUp(input: { email: \"f@example.com\", password: \"long-enough-pw\", firstName: \"F\", lastName: \"G\", organizationName: \"Forms\" }) { accessToken } }" })).unwrap_or_default();
    for ct in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let headers: Vec<(&str, &str)> = ct.map(|c| vec![("content-type", c)]).unwrap_or_default();
        let (status, _, _) = app.request(Method::POST, "/graphql", &headers, Some(mutation.clone())).await;
        assert_eq!(status, 415, "{ct:?}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM users").await, 0, "nothing ran");
    let q = "/graphql?query=%7B%20viewer%20%7B%20role%20%7D%20%7D";
    let (status, h, body) = app.request(Method::GET, q, &[("accept", "application/json")], None).await;
    assert_eq!(status, 200, "{body}");
    assert!(h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().starts_with("application/json"));
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    assert_eq!(v["data"]["viewer"]["role"], Value::Null, "{body}");
    assert!(v["data"]["viewer"].is_object(), "{body}");
    let m = "/graphql?query=mutation%20%7B%20logOut(input%3A%20%7BrefreshToken%3A%20%22x%22%7D)%20%7B%20revoked%20%7D%20%7D";
    let (status, h, _) = app.request(Method::GET, m, &[("accept", "application/json")], None).await;
    assert_eq!(status, 405);
    assert_eq!(h.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    let (status, _, page) = app.request(Method::GET, "/graphql", &[("accept", "text/html")], None).await;
    assert!(status == 200 && page.contains("graphiql"));
    // application/graphql-response+json: a request error is 4xx without `data`.
    let accept = [("accept", "application/graphql-response+json"), ("content-type", "application/json")];
    let bad = serde_json::to_vec(&json!({ "query": "{ viewer { nope } }" })).ok();
    let (status, h, body) = app.request(Method::POST, "/graphql", &accept, bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().contains("graphql-response+json"));
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    assert!(v.get("data").is_none() && v["errors"].is_array(), "{body}");
    let ok = serde_json::to_vec(&json!({ "query": "{ viewer { role } }" })).ok();
    let (status, _, _) = app.request(Method::POST, "/graphql", &accept, ok).await;
    assert_eq!(status, 200);
    let anon = serde_json::to_vec(&json!({ "query": "{ organization { name } }" })).ok();
    let (status, _, body) = app.request(Method::POST, "/graphql", &accept, anon).await;
    assert_eq!(status, 200, "executed (a field error, not a request error): {body}");
    app.finish().await;
}

/// Items 20, 21: a client's Close frame is answered with one; scalars carry
/// `specifiedBy`; a favicon is served.
#[tokio::test]
async fn close_frames_specified_by_and_favicon() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Wire").await;
    let mut ws = open(&app.base).await;
    ws.init(json!({ "Authorization": format!("Bearer {t}") })).await;
    assert!(matches!(ws.recv(Duration::from_secs(10)).await, Frame::Msg(m) if m["type"] == "connection_ack"));
    ws.close_with(4000, "bye").await;
    assert_eq!(ws.recv(Duration::from_secs(5)).await, Frame::Closed(4000, "bye".into()), "the close is echoed");
    let r = app.gql(None, "{ __schema { types { name specifiedByURL } } }", json!({})).await;
    let types = data(&r)["__schema"]["types"].as_array().cloned().unwrap_or_default();
    for scalar in ["Date", "DateTime", "Decimal", "JSON", "EventSeq"] {
        let t = types.iter().find(|t| t["name"] == scalar).cloned().unwrap_or(Value::Null);
        assert!(t["specifiedByURL"].as_str().is_some_and(|u| u.starts_with("https://")), "{scalar}: {t}");
    }
    let (status, h, _) = app.request(Method::GET, "/favicon.ico", &[], None).await;
    assert_eq!(status, 200);
    assert!(h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().starts_with("image/"));
    app.finish().await;
}

/// Item 12: with introspection off, error messages suggest no field names.
#[tokio::test]
async fn no_suggestions_without_introspection() {
    let app = TestApp::spawn_with(|c| c.introspection = false).await;
    let r = app.gql(None, "{ viewr { role } organization { nam } }", json!({})).await;
    let text = r["errors"].to_string();
    assert!(r["errors"].as_array().is_some_and(|e| !e.is_empty()), "{r}");
    assert!(!text.contains("Did you mean") && !text.contains("viewer") && !text.contains("\"name\""), "{text}");
    assert_eq!(code(&r), Some("BAD_USER_INPUT"));
    app.finish().await;
}
