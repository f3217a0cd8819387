//! Persisted queries through HTTP: Apollo's automatic protocol (hash miss, register with
//! the document, hit by hash over POST and GET, a wrong hash refused, a mutation by hash
//! over GET refused), and the allow-list mode (unregistered documents refused, clients
//! cannot register, operations registered by the CLI run, globally or for one
//! organisation only).

use opsgraph_e2e::{TestApp, code, data, opsgraph_bin};
use opsgraph_server::persisted::hash;
use serde_json::{Value, json};

const Q: &str = "query Me { viewer { user { email } } }";

fn apq(query: Option<&str>, h: &str) -> Vec<u8> {
    let mut body = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": h } } });
    if let Some(q) = query {
        body["query"] = json!(q);
    }
    serde_json::to_vec(&body).expect("json")
}

async fn post(app: &TestApp, token: &str, body: Vec<u8>) -> Value {
    let auth = format!("Bearer {token}");
    app.post_raw(body, &[("authorization", auth.as_str())]).await.1
}

/// POSTs to another server process.
async fn post_to(base: &str, token: &str, body: Vec<u8>) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .expect("sent");
    resp.json().await.unwrap_or(Value::Null)
}

async fn get(app: &TestApp, token: &str, h: &str, query: Option<&str>) -> (u16, Value) {
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": h } }).to_string();
    let mut url = format!("/graphql?extensions={}", urlencode(&ext));
    if let Some(q) = query {
        url.push_str(&format!("&query={}", urlencode(q)));
    }
    let auth = format!("Bearer {token}");
    let (status, _, body) = app.request(reqwest::Method::GET, &url, &[("authorization", auth.as_str())], None).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn automatic_persisted_queries_miss_register_and_hit() {
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("o@example.com", "Apq Co").await;
    let h = hash(Q);
    let miss = post(&app, &token, apq(None, &h)).await;
    assert_eq!(code(&miss), Some("PERSISTED_QUERY_NOT_FOUND"));
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");
    let wrong = post(&app, &token, apq(Some("{ viewer { id } }"), &h)).await;
    assert_eq!(code(&wrong), Some("BAD_USER_INPUT"));
    let first = post(&app, &token, apq(Some(Q), &h)).await;
    assert_eq!(data(&first)["viewer"]["user"]["email"], "o@example.com");
    let hit = post(&app, &token, apq(None, &h)).await;
    assert_eq!(data(&hit)["viewer"]["user"]["email"], "o@example.com");
    let (status, over_get) = get(&app, &token, &h, None).await;
    assert_eq!((status, data(&over_get)["viewer"]["user"]["email"].as_str()), (200, Some("o@example.com")));
    // A mutation registered over POST does not run by hash over GET.
    let m = "mutation { createSkill(input: { name: \"Rust\" }) { skill { id } } }";
    let mh = hash(m);
    data(&post(&app, &token, apq(Some(m), &mh)).await);
    assert_eq!(get(&app, &token, &mh, None).await.0, 405);
    assert_eq!(app.count("SELECT count(*) AS n FROM persisted_queries WHERE NOT allowed").await, 2);
    app.finish().await;
}

#[tokio::test]
async fn the_allow_list_runs_only_registered_operations() {
    // Accounts are made on a normal server; a second server process on the same database
    // runs in allow-list mode.
    let app = TestApp::spawn().await;
    let (a, _) = app.sign_up("a@example.com", "Allow A").await;
    let (b, _) = app.sign_up("b@example.com", "Allow B").await;
    let strict = opsgraph_e2e::ServerProcess::spawn(&app.database_url(), &[("OPSGRAPH_PERSISTED_ONLY", "true")]).await;
    let base = strict.base.clone();
    let h = hash(Q);
    let whole = || serde_json::to_vec(&json!({ "query": Q })).expect("json");
    let r = post_to(&base, &a, whole()).await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "{r}");
    assert_eq!(code(&post_to(&base, &a, apq(Some(Q), &h)).await), Some("FORBIDDEN"), "clients cannot register");
    assert_eq!(code(&post_to(&base, &a, apq(None, &h)).await), Some("PERSISTED_QUERY_NOT_FOUND"));

    // The CLI registers a client build's operation for organisation A only.
    let dir = std::env::temp_dir().join(format!("ops-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("me.graphql");
    std::fs::write(&file, Q).expect("write");
    let r = app.gql(Some(&a), "{ organization { id } }", json!({})).await;
    let gid = data(&r)["organization"]["id"].as_str().unwrap_or_default().to_owned();
    let a_id = opsgraph_core::id::decode_as(&gid, "Organization", "id").expect("uuid").to_string();
    let out = std::process::Command::new(opsgraph_bin())
        .args(["register-operations", "--org", &a_id])
        .arg(&file)
        .env("DATABASE_URL", app.database_url())
        .output()
        .expect("run the CLI");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&h), "prints the hash");
    assert_eq!(data(&post_to(&base, &a, apq(None, &h)).await)["viewer"]["user"]["email"], "a@example.com");
    let plain = post_to(&base, &a, whole()).await;
    assert_eq!(data(&plain)["viewer"]["user"]["email"], "a@example.com", "the same document sent whole runs too");
    assert_eq!(code(&post_to(&base, &b, apq(None, &h)).await), Some("FORBIDDEN"), "registered for A only");
    opsgraph_server::persisted::register(&app.pool, &[Q.to_owned()], None).await.expect("global");
    assert_eq!(data(&post_to(&base, &b, apq(None, &h)).await)["viewer"]["user"]["email"], "b@example.com");
    // A saved query is a stored document: in allow-list mode it runs only once registered too.
    let doc = "{ organization { name } }";
    let save = "mutation($d: String!) { createSavedQuery(input: { name: \"q\", document: $d }) { savedQuery { id } } }";
    let id = data(&app.gql(Some(&a), save, json!({ "d": doc })).await)["createSavedQuery"]["savedQuery"]["id"].clone();
    let run = "query($id: ID!) { node(id: $id) { ... on SavedQuery { run } } }";
    opsgraph_server::persisted::register(&app.pool, &[run.to_owned()], None).await.expect("register run");
    let body = || serde_json::to_vec(&json!({ "query": run, "variables": { "id": id } })).expect("json");
    let r = post_to(&base, &a, body()).await;
    assert_eq!((code(&r), r["errors"][0]["path"].clone()), (Some("FORBIDDEN"), json!(["node", "run"])), "{r}");
    opsgraph_server::persisted::register(&app.pool, &[doc.to_owned()], None).await.expect("register doc");
    let r = post_to(&base, &a, body()).await;
    assert_eq!(data(&r)["node"]["run"]["data"]["organization"]["name"], "Allow A");
    let _ = std::fs::remove_dir_all(&dir);
    drop(strict);
    app.finish().await;
}
