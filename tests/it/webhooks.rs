//! Outgoing webhooks through the endpoint and a local receiver that verifies signatures on
//! its own: admins only, secret shown once, events delivered signed and in order, a
//! receiver that is down gets every event afterwards in order and once per delivery id,
//! the delivery log, ping, replay, automatic disabling after repeated failures and
//! re-enabling, private addresses refused unless allowed, and private chat never sent.

use std::collections::HashSet;

use opsgraph_e2e::fake_webhook::FakeReceiver;
use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { \
                      secret webhookEndpoint { id version secretHint status eventTypes } } }";

async fn project(app: &TestApp, token: &str, key: &str) -> Value {
    let q =
        format!("mutation {{ createProject(input: {{ key: \"{key}\", name: \"{key}\" }}) {{ project {{ id }} }} }}");
    data(&app.gql(Some(token), &q, json!({})).await)["createProject"]["project"]["id"].clone()
}

async fn tasks(app: &TestApp, token: &str, project: &Value, titles: &[&str]) {
    for t in titles {
        let q = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }";
        data(&app.gql(Some(token), q, json!({ "i": { "projectId": project, "title": t } })).await);
    }
}

async fn endpoint(app: &TestApp, token: &str, id: &Value) -> Value {
    let q = "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { status disabledReason consecutiveFailures \
             version deliveries(first: 50) { nodes { id eventType status attemptCount lastStatusCode \
             attempts { attempt statusCode latencyMs error } } } } } }";
    data(&app.gql(Some(token), q, json!({ "id": id })).await)["node"].clone()
}

fn titles(got: &[opsgraph_e2e::fake_webhook::Received]) -> Vec<String> {
    got.iter().map(|r| r.body["data"]["details"]["title"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn events_are_delivered_signed_in_order_and_survive_a_receiver_outage() {
    let app = TestApp::spawn_with(|c| {
        c.webhook_interval_ms = 50;
        c.webhook_retry_base_ms = 50;
        c.webhook_retry_max_ms = 300;
    })
    .await;
    let (owner, _) = app.sign_up("owner@hooks.example", "Hook Co").await;
    let (member, _) = app.member(&owner, "member@hooks.example", "MEMBER").await;
    let rx = FakeReceiver::start().await;
    let input = json!({ "i": { "url": rx.url, "eventTypes": ["task.*"], "description": "ops" } });
    assert_eq!(code(&app.gql(Some(&member), CREATE, input.clone()).await), Some("FORBIDDEN"));
    let bad = json!({ "i": { "url": rx.url, "eventTypes": ["Task Updated"] } });
    assert_eq!(field(&app.gql(Some(&owner), CREATE, bad).await), Some("eventTypes"));
    let created = data(&app.gql(Some(&owner), CREATE, input).await)["createWebhookEndpoint"].clone();
    let secret = created["secret"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{created}");
    let ep = created["webhookEndpoint"].clone();
    assert!(ep["secretHint"].as_str().is_some_and(|h| secret.ends_with(h.trim_start_matches('…'))), "{ep}");
    rx.set_secret(&secret);

    let p = project(&app, &owner, "HK").await;
    tasks(&app, &owner, &p, &["one", "two", "three"]).await;
    let got = rx.wait_for(|r| r.len() >= 3).await;
    assert_eq!(titles(&got), ["one", "two", "three"], "projects are not asked for; tasks in order");
    assert!(got.iter().all(|r| r.verified && r.kind == "task.created"), "{got:#?}");

    // Down: every attempt answered 503 for a while; events keep coming meanwhile.
    rx.answer(503);
    tasks(&app, &owner, &p, &["four", "five", "six", "seven"]).await;
    rx.wait_for(|r| r.iter().filter(|x| x.answered == 503).count() >= 4).await;
    rx.answer(200);
    let accepted = {
        let mut done = vec![];
        for _ in 0..200 {
            done = rx.accepted();
            if done.len() >= 7 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        done
    };
    assert_eq!(titles(&accepted), ["one", "two", "three", "four", "five", "six", "seven"], "every event, in order");
    let ids: HashSet<&str> = accepted.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), accepted.len(), "each delivery acknowledged once");
    let seqs: Vec<i64> = accepted.iter().filter_map(|r| r.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(rx.received().iter().all(|r| r.verified));

    // The delivery log: the retried one shows its 503s, then the 200.
    let log = endpoint(&app, &owner, &ep["id"]).await;
    let retried = log["deliveries"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["attemptCount"].as_i64().is_some_and(|n| n > 1))
        .cloned()
        .unwrap_or_else(|| panic!("a retried delivery: {log}"));
    let attempts = retried["attempts"].as_array().cloned().unwrap_or_default();
    assert_eq!(attempts.first().map(|a| a["statusCode"].clone()), Some(json!(503)), "{retried}");
    assert_eq!(attempts.last().map(|a| a["statusCode"].clone()), Some(json!(200)), "{retried}");
    assert_eq!((retried["status"].as_str(), retried["lastStatusCode"].as_i64()), (Some("SUCCEEDED"), Some(200)));
    assert_eq!(log["consecutiveFailures"], 0);

    // Ping and replay.
    let q = "mutation($i: WebhookIdInput!) { pingWebhookEndpoint(input: $i) { webhookDelivery { id status lastStatusCode } } }";
    let ping = data(&app.gql(Some(&owner), q, json!({ "i": { "id": ep["id"] } })).await)["pingWebhookEndpoint"].clone();
    assert_eq!(ping["webhookDelivery"]["status"], "SUCCEEDED", "{ping}");
    assert!(rx.received().iter().any(|r| r.kind == "webhook.ping" && r.verified));
    let first = log["deliveries"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["attemptCount"] == 1)
        .map(|d| d["id"].clone())
        .unwrap_or(Value::Null);
    let q = "mutation($i: WebhookIdInput!) { replayWebhookDelivery(input: $i) { webhookDelivery { id } } }";
    let replay =
        data(&app.gql(Some(&owner), q, json!({ "i": { "id": first } })).await)["replayWebhookDelivery"].clone();
    let n = rx.accepted().len();
    let got = rx.wait_for(|r| r.iter().filter(|x| x.answered == 200).count() > n).await;
    let last = got.last().cloned().unwrap_or_else(|| panic!("replayed"));
    assert_ne!(Some(last.id.as_str()), first.as_str(), "a replay is a new delivery id");
    assert!(replay["webhookDelivery"]["id"].is_string() && last.verified);
    app.finish().await;
}

#[tokio::test]
async fn failing_endpoints_are_disabled_and_private_addresses_refused() {
    let strict = TestApp::spawn_with(|c| c.outbound_allow_private = false).await;
    let (owner, _) = strict.sign_up("owner@strict.example", "Strict Co").await;
    let r = strict.gql(Some(&owner), CREATE, json!({ "i": { "url": "http://127.0.0.1:9/hook" } })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("url")), "{r}");
    let r = strict.gql(Some(&owner), CREATE, json!({ "i": { "url": "ftp://example.com/x" } })).await;
    assert_eq!(field(&r), Some("url"));
    strict.finish().await;

    let app = TestApp::spawn_with(|c| {
        c.webhook_interval_ms = 50;
        c.webhook_retry_base_ms = 20;
        c.webhook_retry_max_ms = 40;
        c.webhook_disable_after = 3;
    })
    .await;
    let (owner, _) = app.sign_up("owner@down.example", "Down Co").await;
    let rx = FakeReceiver::start().await;
    rx.answer(500);
    let created =
        data(&app.gql(Some(&owner), CREATE, json!({ "i": { "url": rx.url } })).await)["createWebhookEndpoint"].clone();
    rx.set_secret(created["secret"].as_str().unwrap_or_default());
    let id = created["webhookEndpoint"]["id"].clone();
    let p = project(&app, &owner, "DN").await;
    tasks(&app, &owner, &p, &["lost?"]).await;
    let mut ep = Value::Null;
    for _ in 0..200 {
        ep = endpoint(&app, &owner, &id).await;
        if ep["status"] == "DISABLED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ep["status"], "DISABLED", "{ep}");
    assert_eq!(ep["consecutiveFailures"], 3);
    assert!(ep["disabledReason"].as_str().is_some_and(|r| r.contains("3 failed attempts")), "{ep}");
    let tried = rx.received().len();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), tried, "a disabled endpoint gets nothing");

    // Enabled again: its queue resumes where it stopped, nothing lost.
    rx.answer(200);
    let q =
        "mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) { webhookEndpoint { status } } }";
    let i = json!({ "i": { "id": id, "expectedVersion": ep["version"], "active": true } });
    assert_eq!(
        data(&app.gql(Some(&owner), q, i).await)["updateWebhookEndpoint"]["webhookEndpoint"]["status"],
        "ACTIVE"
    );
    let got = rx.wait_for(|r| r.iter().any(|x| x.answered == 200)).await;
    let ok: Vec<_> = got.iter().filter(|x| x.answered == 200).collect();
    assert!(ok.iter().any(|x| x.body["data"]["details"]["title"] == "lost?" && x.verified), "{got:#?}");
    app.finish().await;
}

#[tokio::test]
async fn private_chat_never_leaves_by_webhook() {
    let app = TestApp::spawn_with(|c| c.webhook_interval_ms = 50).await;
    let (owner, _) = app.sign_up("owner@priv.example", "Private Co").await;
    let rx = FakeReceiver::start().await;
    let input = json!({ "i": { "url": rx.url, "eventTypes": ["channel_message.*"] } });
    let created = data(&app.gql(Some(&owner), CREATE, input).await)["createWebhookEndpoint"].clone();
    rx.set_secret(created["secret"].as_str().unwrap_or_default());
    let q = "mutation($i: CreateChannelInput!) { createChannel(input: $i) { channel { id } } }";
    let mut ids = vec![];
    for (name, private) in [("open", false), ("hush", true)] {
        let i = json!({ "i": { "name": name, "kind": "GROUP", "isPrivate": private } });
        ids.push(data(&app.gql(Some(&owner), q, i).await)["createChannel"]["channel"]["id"].clone());
    }
    let post =
        "mutation($c: ID!, $b: String!) { postMessage(input: { channelId: $c, body: $b }) { channelMessage { id } } }";
    data(&app.gql(Some(&owner), post, json!({ "c": ids[1], "b": "between us" })).await);
    data(&app.gql(Some(&owner), post, json!({ "c": ids[0], "b": "for all" })).await);
    rx.wait_for(|r| !r.is_empty()).await;
    // The private message was queued first: had it been sent, it would be here by now.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let got = rx.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].body["data"]["details"]["excerpt"], "for all");
    app.finish().await;
}

/// Webhooks wake on the outbox's NOTIFY: with a two-minute tick, an event still leaves at
/// once (the wait below gives up after 20 s).
#[tokio::test]
async fn events_leave_on_commit_not_on_the_next_tick() {
    let app = TestApp::spawn_with(|c| c.webhook_interval_ms = 120_000).await;
    let (owner, _) = app.sign_up("owner@nudge.example", "Nudge Co").await;
    let rx = FakeReceiver::start().await;
    let input = json!({ "i": { "url": rx.url, "eventTypes": ["task.*"] } });
    let created = data(&app.gql(Some(&owner), CREATE, input).await)["createWebhookEndpoint"].clone();
    rx.set_secret(created["secret"].as_str().unwrap_or_default());
    let p = project(&app, &owner, "NG").await;
    tasks(&app, &owner, &p, &["woken"]).await;
    let got = rx.wait_for(|r| !r.is_empty()).await;
    assert_eq!(titles(&got), ["woken"]);
}
