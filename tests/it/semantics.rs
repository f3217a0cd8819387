//! Issue 9: acknowledged writes exist, failing fields are `null` at their place with a
//! `path`, panics and overflows answer INTERNAL / a clear code instead of dropping the
//! connection, and the same rules over batches and the WebSocket.

use std::time::Duration;

use opsgraph_e2e::live::{Frame, Live};
use opsgraph_e2e::{TestApp, code, data};
use serde_json::{Value, json};

const TWO: &str = r#"mutation { a: createSkill(input: { name: "Rust" }) { skill { id name } } b: createSkill(input: { name: "" }) { skill { id } } c: createSkill(input: { name: "Go" }) { skill { name } } }"#;

fn paths(r: &Value) -> Vec<Value> {
    r["errors"].as_array().map(|e| e.iter().map(|x| x["path"].clone()).collect()).unwrap_or_default()
}

/// Item 1: each top-level mutation field runs in its own savepoint: `a` and `c` are
/// acknowledged and committed, `b` is `null` with its error and changed nothing.
#[tokio::test]
async fn every_acknowledged_write_is_committed() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Savepoints").await;
    let r = app.gql(Some(&t), TWO, json!({})).await;
    let id = r["data"]["a"]["skill"]["id"].as_str().unwrap_or_else(|| panic!("a acknowledged: {r}")).to_owned();
    assert_eq!(r["data"]["b"], Value::Null, "{r}");
    assert_eq!(r["data"]["c"]["skill"]["name"], "Go", "{r}");
    assert_eq!(paths(&r), vec![json!(["b"])], "{r}");
    assert_eq!(code(&r), Some("BAD_USER_INPUT"));
    // What the response acknowledged exists, what it did not does not.
    let seen = app.gql(Some(&t), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(data(&seen)["node"]["id"], id.as_str());
    assert_eq!(app.count("SELECT count(*) AS n FROM skills").await, 2);
    // Keys come back in the order they were asked for.
    let body = serde_json::to_string(&r["data"]).unwrap_or_default();
    assert!(body.find("\"a\"") < body.find("\"b\"") && body.find("\"b\"") < body.find("\"c\""), "{body}");

    // A batch: each operation commits on its own, in order.
    let ok = json!({ "query": "mutation { createSkill(input: { name: \"Zig\" }) { skill { id } } }" });
    let bad = json!({ "query": "mutation { createSkill(input: { name: \"\" }) { skill { id } } }" });
    let (status, rs) = app
        .post_raw(
            serde_json::to_vec(&json!([ok, bad])).unwrap_or_default(),
            &[("authorization", &format!("Bearer {t}"))],
        )
        .await;
    assert_eq!(status, 200);
    assert!(rs[0]["data"]["createSkill"]["skill"]["id"].is_string(), "{rs}");
    assert_eq!(rs[1]["data"]["createSkill"], Value::Null);
    assert_eq!(app.count("SELECT count(*) AS n FROM skills WHERE name = 'Zig'").await, 1);

    // Over the WebSocket: the same rule, keys in selection order.
    let mut ws = Live::connect(&app.base, &t).await;
    let two_more = TWO.replace("Rust", "Elixir").replace("\"Go\"", "\"Ocaml\"");
    ws.subscribe("m", &two_more, json!({})).await;
    let raw = ws.recv_raw(Duration::from_secs(10)).await.unwrap_or_default();
    let msg: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    assert!(msg["payload"]["data"]["a"]["skill"]["id"].is_string(), "{raw}");
    assert_eq!(msg["payload"]["data"]["b"], Value::Null);
    assert_eq!(msg["payload"]["errors"][0]["path"], json!(["b"]));
    let (a, b, c) = (raw.find("\"a\":"), raw.find("\"b\":"), raw.find("\"c\":"));
    assert!(a < b && b < c, "selection order over the socket: {raw}");
    assert!(raw.find("\"skill\":{\"id\"") < raw.find("\"name\":\"Elixir\""), "nested order too: {raw}");
    assert_eq!(app.count("SELECT count(*) AS n FROM skills WHERE name IN ('Elixir', 'Ocaml')").await, 2);
    ws.close().await;
    app.finish().await;
}

/// Item 2: a failing field is `null` at its place and its error carries `path` — at the
/// root, nested in an object, and inside a list — over HTTP, batches and the socket.
#[tokio::test]
async fn failing_fields_are_null_at_their_path() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Paths").await;
    let (other, _) = app.sign_up("other@example.com", "Elsewhere").await;
    let foreign =
        data(&app.gql(Some(&other), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]["id"]
            .clone();
    for key in ["P1", "P2"] {
        data(
            &app.gql(
                Some(&t),
                "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }",
                json!({ "k": key }),
            )
            .await,
        );
    }
    // Root.
    let q = "query($id: ID!) { a: node(id: $id) { id } viewer { role } }";
    let r = app.gql(Some(&t), q, json!({ "id": foreign })).await;
    assert_eq!(r["data"]["a"], Value::Null, "{r}");
    assert!(r["data"].as_object().is_some_and(|o| o.contains_key("a")), "the key is present: {r}");
    assert_eq!(r["data"]["viewer"]["role"], "OWNER");
    assert_eq!(paths(&r), vec![json!(["a"])]);
    assert_eq!(code(&r), Some("NOT_FOUND"));
    // Nested in an object, and inside a list (each element's field fails on its own).
    let nested = "{ organization { name projects(first: 1000) { totalCount } } }";
    let r = app.gql(Some(&t), nested, json!({})).await;
    assert!(r["data"]["organization"]["name"].is_string(), "{r}");
    assert_eq!(r["data"]["organization"]["projects"], Value::Null);
    assert_eq!(paths(&r), vec![json!(["organization", "projects"])]);
    let listed = "{ organization { projects(first: 5, orderBy: [{ field: KEY }]) { nodes { key tasks(first: 1000) { totalCount } } } } }";
    let r = app.gql(Some(&t), listed, json!({})).await;
    let nodes = r["data"]["organization"]["projects"]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len(), 2, "{r}");
    assert!(nodes.iter().all(|n| n["tasks"].is_null() && n["key"].is_string()), "{r}");
    let mut p = paths(&r);
    p.sort_by_key(|v| v.to_string());
    assert_eq!(
        p,
        vec![
            json!(["organization", "projects", "nodes", 0, "tasks"]),
            json!(["organization", "projects", "nodes", 1, "tasks"])
        ]
    );
    // The same over a batch and over the socket.
    let op = json!({ "query": q, "variables": { "id": foreign } });
    let (_, rs) = app
        .post_raw(
            serde_json::to_vec(&json!([op, op])).unwrap_or_default(),
            &[("authorization", &format!("Bearer {t}"))],
        )
        .await;
    assert_eq!(rs[1]["errors"][0]["path"], json!(["a"]), "{rs}");
    let mut ws = Live::connect(&app.base, &t).await;
    ws.subscribe("q", q, json!({ "id": foreign })).await;
    match ws.recv(Duration::from_secs(10)).await {
        Frame::Msg(m) => {
            assert_eq!(m["payload"]["errors"][0]["path"], json!(["a"]), "{m}");
            assert_eq!(m["payload"]["data"]["viewer"]["role"], "OWNER");
        }
        other => panic!("expected next, got {other:?}"),
    }
    ws.close().await;
    app.finish().await;
}

/// Item 5: client-supplied numbers never overflow (a debug build panicked on
/// `expectedVersion: 2147483647`); the connection answers, nothing changes.
#[tokio::test]
async fn extreme_numbers_get_clear_errors() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Numbers").await;
    let org = data(&app.gql(Some(&t), "{ organization { version } }", json!({})).await)["organization"].clone();
    for v in [i32::MAX, i32::MIN, -1] {
        let r = app
            .gql(
                Some(&t),
                "mutation($v: Int!) { updateOrganization(input: { expectedVersion: $v, name: \"X\" }) { organization { name } } }",
                json!({ "v": v }),
            )
            .await;
        assert_eq!(code(&r), Some("CONFLICT"), "{v}: {r}");
    }
    for first in [i64::from(i32::MAX), -1, 101] {
        let q = "query($f: Int) { organization { projects(first: $f) { totalCount } } }";
        let r = app.gql(Some(&t), q, json!({ "f": first })).await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{first}: {r}");
    }
    let again = app.gql(Some(&t), "{ organization { name version } }", json!({})).await;
    assert_eq!(data(&again)["organization"]["version"], org["version"]);
    app.finish().await;
}

/// Item 20: keys come back in selection order on every path, also when a loader-backed
/// field completes after a plain one (the executor inserts in completion order).
#[tokio::test]
async fn keys_keep_selection_order() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Order").await;
    let q = "{ organization { projects(first: 1) { totalCount } name } __typename viewer { role } zz: __typename }";
    let body = serde_json::to_vec(&json!({ "query": q })).ok();
    let auth = format!("Bearer {t}");
    let headers = [("content-type", "application/json"), ("authorization", auth.as_str())];
    let (_, _, raw) = app.request(reqwest::Method::POST, "/graphql", &headers, body).await;
    let at = |k: &str| raw.find(k).unwrap_or(usize::MAX);
    assert!(at("\"organization\"") < at("\"__typename\""), "{raw}");
    assert!(at("\"__typename\"") < at("\"viewer\"") && at("\"viewer\"") < at("\"zz\""), "{raw}");
    assert!(at("\"projects\"") < at("\"name\""), "{raw}");
    let mut ws = Live::connect(&app.base, &t).await;
    ws.subscribe("q", q, json!({})).await;
    let raw = ws.recv_raw(Duration::from_secs(10)).await.unwrap_or_default();
    let at = |k: &str| raw.find(k).unwrap_or(usize::MAX);
    assert!(at("\"organization\"") < at("\"__typename\"") && at("\"viewer\"") < at("\"zz\""), "{raw}");
    ws.close().await;
    app.finish().await;
}
