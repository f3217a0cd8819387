//! Team chat through the endpoint: public, private, direct, announcement and project
//! channels (who sees what, by Row Level Security); threads, edits, pins, reactions,
//! attachments; mentions notifying only those who see the channel; unread counts for the
//! viewer in one statement; full-text search; `channelEvents` that ends when a member is
//! removed from a private channel or taken off the project.

use std::time::Duration;

use opsgraph_e2e::live::{Frame, Live};
use opsgraph_e2e::{TestApp, code, data};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateChannelInput!) { createChannel(input: $i) { channel { id version } } }";
const POST: &str = "mutation($i: PostMessageInput!) { postMessage(input: $i) { channelMessage { id version body } } }";
const CHANNELS: &str = "{ organization { channels(first: 20) { nodes { id name unreadCount } } } }";

async fn channel(app: &TestApp, token: &str, i: Value) -> Value {
    data(&app.gql(Some(token), CREATE, json!({ "i": i })).await)["createChannel"]["channel"]["id"].clone()
}

async fn post(app: &TestApp, token: &str, channel: &Value, body: &str, parent: Option<&Value>) -> Value {
    let i = json!({ "channelId": channel, "body": body, "parentId": parent });
    data(&app.gql(Some(token), POST, json!({ "i": i })).await)["postMessage"]["channelMessage"].clone()
}

fn unread(resp: &Value, name: &str) -> Option<i64> {
    data(resp)["organization"]["channels"]["nodes"].as_array()?.iter().find(|c| c["name"] == name)?["unreadCount"]
        .as_i64()
}

fn names(resp: &Value) -> Vec<String> {
    let nodes = data(resp)["organization"]["channels"]["nodes"].as_array().cloned().unwrap_or_default();
    nodes.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect()
}

async fn inbox_titles(app: &TestApp, token: &str) -> Vec<String> {
    opsgraph_org::service::dispatch::run_once(&app.pool).await.expect("dispatch");
    let r = app.gql(Some(token), "{ viewer { notifications(first: 50) { nodes { title } } } }", json!({})).await;
    let nodes = data(&r)["viewer"]["notifications"]["nodes"].as_array().cloned().unwrap_or_default();
    nodes.iter().filter_map(|n| n["title"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn channels_threads_reactions_mentions_unread_and_search() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@chat.example", "Chat Co").await;
    let (ana, ana_id) = app.member(&owner, "ana@chat.example", "MEMBER").await;
    let (bo, _) = app.member(&owner, "bo@chat.example", "MEMBER").await;
    let (cy, _) = app.member(&owner, "cy@chat.example", "MEMBER").await;
    let general = channel(&app, &owner, json!({ "name": "general", "kind": "GENERAL" })).await;
    let dup = app.gql(Some(&ana), CREATE, json!({ "i": { "name": "General", "kind": "GROUP" } })).await;
    assert_eq!(code(&dup), Some("CONFLICT"));
    let secret =
        channel(&app, &owner, json!({ "name": "secret", "kind": "GROUP", "isPrivate": true, "memberIds": [ana_id] }))
            .await;

    // A thread with a mention, replies, reactions, a pin, an edit.
    let hello = post(&app, &ana, &general, "hello @bo, see the **plan** for the zebra launch", None).await;
    let reply = post(&app, &bo, &general, "on it", Some(&hello["id"])).await;
    assert_eq!(reply["body"], "on it");
    let react = "mutation($i: ReactToMessageInput!) { reactToMessage(input: $i) { channelMessage { id } } }";
    for (t, e) in [(&bo, "👍"), (&cy, "👍"), (&cy, ":tada:")] {
        data(&app.gql(Some(t), react, json!({ "i": { "messageId": hello["id"], "emoji": e } })).await);
    }
    let pin =
        "mutation($id: ID!) { pinMessage(input: { id: $id, pinned: true }) { channelMessage { pinnedAt version } } }";
    let pinned =
        data(&app.gql(Some(&cy), pin, json!({ "id": hello["id"] })).await)["pinMessage"]["channelMessage"].clone();
    assert!(pinned["pinnedAt"].is_string());
    let edit =
        "mutation($i: EditMessageInput!) { editMessage(input: $i) { channelMessage { body editedAt version } } }";
    let i = json!({ "i": { "id": hello["id"], "expectedVersion": pinned["version"], "body": "hello @bo and @cy: the zebra plan" } });
    assert_eq!(code(&app.gql(Some(&bo), edit, i.clone()).await), Some("FORBIDDEN"), "only the author edits");
    let edited = data(&app.gql(Some(&ana), edit, i).await)["editMessage"]["channelMessage"].clone();
    assert!(edited["editedAt"].is_string());
    let q = "query($id: ID!) { node(id: $id) { ... on ChannelMessage { replyCount mentions pinnedBy { id } \
             replies(first: 5) { nodes { body } } reactions { emoji count reactedByMe } } } }";
    let m = data(&app.gql(Some(&bo), q, json!({ "id": hello["id"] })).await)["node"].clone();
    assert_eq!(m["replyCount"], 1);
    assert_eq!(m["replies"]["nodes"][0]["body"], "on it");
    assert_eq!(m["mentions"].as_array().map(Vec::len), Some(2), "{m}");
    assert_eq!(
        m["reactions"],
        json!([{ "emoji": "👍", "count": 2, "reactedByMe": true }, { "emoji": ":tada:", "count": 1, "reactedByMe": false }])
    );
    assert!(inbox_titles(&app, &bo).await.iter().any(|t| t == "You were mentioned in #general"));
    assert!(
        inbox_titles(&app, &cy).await.iter().any(|t| t == "You were mentioned in #general"),
        "newly mentioned by the edit"
    );

    // Who sees what: bo does not see the private channel, nor can post there or be mentioned in it.
    assert!(names(&app.gql(Some(&bo), CHANNELS, json!({})).await).iter().all(|n| n != "secret"));
    let r = app.gql(Some(&bo), POST, json!({ "i": { "channelId": secret, "body": "let me in" } })).await;
    assert_eq!(code(&r), Some("NOT_FOUND"));
    let s = post(&app, &ana, &secret, "only us @bo", None).await;
    let q = "query($id: ID!) { node(id: $id) { ... on ChannelMessage { mentions } } }";
    assert_eq!(data(&app.gql(Some(&ana), q, json!({ "id": s["id"] })).await)["node"]["mentions"], json!([]));
    assert!(!inbox_titles(&app, &bo).await.iter().any(|t| t.contains("#secret")));

    // Unread counts for the viewer: top-level messages of others after lastReadAt; one statement for the page.
    let before = app.gql(Some(&cy), CHANNELS, json!({})).await;
    assert_eq!(unread(&before, "general"), Some(1), "{before}");
    let mark = "mutation($c: ID!) { markChannelRead(input: { channelId: $c }) { channel { unreadCount } } }";
    assert_eq!(
        data(&app.gql(Some(&cy), mark, json!({ "c": general })).await)["markChannelRead"]["channel"]["unreadCount"],
        0
    );
    channel(&app, &owner, json!({ "name": "random", "kind": "GENERAL" })).await;
    let three = app.gql(Some(&cy), CHANNELS, json!({})).await;
    assert_eq!(unread(&three, "general"), Some(0));
    assert_eq!(three["extensions"]["sqlStatements"], before["extensions"]["sqlStatements"], "unread counts batch");

    // Direct channels: one per pair, seen by the two only; announcements: managers post.
    let direct = "mutation($m: ID!) { openDirectChannel(input: { membershipId: $m }) { channel { id kind } } }";
    let d1 = data(&app.gql(Some(&bo), direct, json!({ "m": ana_id })).await)["openDirectChannel"]["channel"].clone();
    let d2 = data(&app.gql(Some(&bo), direct, json!({ "m": ana_id })).await)["openDirectChannel"]["channel"].clone();
    assert_eq!((d1["id"].clone(), d1["kind"].clone()), (d2["id"].clone(), json!("DIRECT")));
    let r = app.gql(Some(&cy), POST, json!({ "i": { "channelId": d1["id"], "body": "hi" } })).await;
    assert_eq!(code(&r), Some("NOT_FOUND"));
    let leave = "mutation($c: ID!, $m: ID!) { removeChannelMember(input: { channelId: $c, membershipId: $m }) { channel { id } } }";
    let r = app.gql(Some(&ana), leave, json!({ "c": d1["id"], "m": ana_id })).await;
    assert_eq!(code(&r), Some("BAD_USER_INPUT"), "a direct channel keeps its two members");
    let news = channel(&app, &owner, json!({ "name": "news", "kind": "ANNOUNCEMENT" })).await;
    assert_eq!(
        code(&app.gql(Some(&ana), POST, json!({ "i": { "channelId": news, "body": "x" } })).await),
        Some("FORBIDDEN")
    );
    post(&app, &owner, &news, "all hands on friday", None).await;

    // Search over the text of what the reader sees.
    let q = "query($s: String!) { organization { channelMessages(first: 10, filter: { search: { matches: $s } }) { nodes { body } } } }";
    let found =
        data(&app.gql(Some(&cy), q, json!({ "s": "zebra" })).await)["organization"]["channelMessages"]["nodes"].clone();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let hidden =
        data(&app.gql(Some(&bo), q, json!({ "s": "only" })).await)["organization"]["channelMessages"]["nodes"].clone();
    assert_eq!(hidden, json!([]), "the private channel's message is not found by others");
    app.finish().await;
}

fn event_kind(frame: &Frame, id: &str) -> String {
    match frame {
        Frame::Msg(m) if m["type"] == "next" && m["id"] == id => {
            m["payload"]["data"]["channelEvents"]["kind"].as_str().unwrap_or_default().to_owned()
        }
        Frame::Msg(m) if m["type"] == "error" && m["id"] == id => {
            format!("error:{}", m["payload"][0]["extensions"]["code"].as_str().unwrap_or_default())
        }
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn channel_events_stop_for_a_removed_member_and_follow_project_staffing() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@live-chat.example", "Live Chat Co").await;
    let (ana, ana_id) = app.member(&owner, "ana@live-chat.example", "MEMBER").await;
    let secret =
        channel(&app, &owner, json!({ "name": "secret", "kind": "GROUP", "isPrivate": true, "memberIds": [ana_id] }))
            .await;
    let sub = "subscription($c: ID!) { channelEvents(channelId: $c) { kind messageId message { body } } }";
    let mut live = Live::connect(&app.base, &ana).await;
    live.subscribe("s", sub, json!({ "c": secret })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    post(&app, &owner, &secret, "first", None).await;
    assert_eq!(event_kind(&live.recv(Duration::from_secs(10)).await, "s"), "channel_message.posted");
    let rm = "mutation($c: ID!, $m: ID!) { removeChannelMember(input: { channelId: $c, membershipId: $m }) { channel { id } } }";
    data(&app.gql(Some(&owner), rm, json!({ "c": secret, "m": ana_id })).await);
    post(&app, &owner, &secret, "after you left", None).await;
    assert_eq!(event_kind(&live.recv(Duration::from_secs(10)).await, "s"), "error:FORBIDDEN", "the stream ends");

    // A project channel: its staff see it; taken off the project, the stream ends too.
    let q = "mutation { createProject(input: { key: \"LC\", name: \"Live chat\" }) { project { id } } }";
    let project = data(&app.gql(Some(&owner), q, json!({})).await)["createProject"]["project"]["id"].clone();
    let proj_chan = channel(&app, &owner, json!({ "name": "lc-team", "kind": "GROUP", "projectId": project })).await;
    let r = app.gql(Some(&ana), POST, json!({ "i": { "channelId": proj_chan, "body": "hi" } })).await;
    assert_eq!(code(&r), Some("NOT_FOUND"), "not staffed: not seen");
    let staff = "mutation($p: ID!, $m: ID!) { addProjectMember(input: { projectId: $p, membershipId: $m }) { projectMember { id } } }";
    let pm = data(&app.gql(Some(&owner), staff, json!({ "p": project, "m": ana_id })).await)["addProjectMember"]["projectMember"]["id"].clone();
    post(&app, &ana, &proj_chan, "staffed now", None).await;
    live.subscribe("p", sub, json!({ "c": proj_chan })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    post(&app, &owner, &proj_chan, "welcome", None).await;
    assert_eq!(event_kind(&live.recv(Duration::from_secs(10)).await, "p"), "channel_message.posted");
    let unstaff = "mutation($id: ID!) { removeProjectMember(input: { id: $id }) { projectMember { id } } }";
    data(&app.gql(Some(&owner), unstaff, json!({ "id": pm })).await);
    post(&app, &owner, &proj_chan, "bye", None).await;
    assert_eq!(event_kind(&live.recv(Duration::from_secs(10)).await, "p"), "error:FORBIDDEN");
    app.finish().await;
}
