//! crm conversations through the endpoint: threads with a contact on a phone number, inbound
//! and outbound messages (interactions), counters, reopening, read marks, notifications to
//! the assignee, and correcting or deleting interactions.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const THREAD: &str = "query($id: ID!) { node(id: $id) { ... on Conversation { status messageCount unreadCount lastMessageAt version \
    assignee { user { email } } phoneNumber { number } messages { nodes { body direction senderType readAt } } } } }";
const POST: &str = "mutation($i: PostConversationMessageInput!) { postConversationMessage(input: $i) { interaction { id occurredAt version } } }";

async fn thread(app: &TestApp, token: &str, id: &str) -> Value {
    data(&app.gql(Some(token), THREAD, json!({ "id": id })).await)["node"].clone()
}

async fn post(app: &TestApp, token: &str, conv: &str, direction: &str, body: &str, at: &str) -> Value {
    let i = json!({ "conversationId": conv, "direction": direction, "body": body, "occurredAt": at });
    data(&app.gql(Some(token), POST, json!({ "i": i })).await)["postConversationMessage"]["interaction"].clone()
}

#[tokio::test]
async fn conversations_keep_their_counters_and_tell_the_assignee() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Inbox Co").await;
    let (rep, rep_id) = app.member(&owner, "rep@example.com", "MEMBER").await;

    let number = "mutation($n: String!) { createPhoneNumber(input: { number: $n, friendlyName: \"Sales\", capabilities: [SMS, VOICE, SMS], monthlyPrice: \"1.15\" }) { phoneNumber { id number capabilities monthlyPrice { amount currency } } } }";
    let r = app.gql(Some(&owner), number, json!({ "n": "+14155550100" })).await;
    let n = &data(&r)["createPhoneNumber"]["phoneNumber"];
    assert_eq!(
        (n["capabilities"].clone(), n["monthlyPrice"]["currency"].as_str()),
        (json!(["SMS", "VOICE"]), Some("USD"))
    );
    let phone = n["id"].as_str().expect("id").to_owned();
    assert_eq!(code(&app.gql(Some(&owner), number, json!({ "n": "+14155550100" })).await), Some("CONFLICT"));
    let keyed = "mutation($n: String!) { createPhoneNumber(input: { number: $n, idempotencyKey: \"pn-1\" }) { phoneNumber { id } } }";
    let first = app.gql(Some(&owner), keyed, json!({ "n": "+14155550199" })).await;
    let retry = app.gql(Some(&owner), keyed, json!({ "n": "+14155550199" })).await;
    assert_eq!(
        data(&first)["createPhoneNumber"],
        data(&retry)["createPhoneNumber"],
        "a retried create is the same number"
    );
    let bad = app.gql(Some(&owner), number, json!({ "n": "0415 555" })).await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("number")));
    assert_eq!(code(&app.gql(Some(&rep), number, json!({ "n": "+14155550101" })).await), Some("FORBIDDEN"));

    let contact = "mutation($o: ID) { createContact(input: { firstName: \"Ann\", lastName: \"Lee\", ownerId: $o }) { contact { id } } }";
    let ann = data(&app.gql(Some(&owner), contact, json!({ "o": rep_id })).await)["createContact"]["contact"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let open = "mutation($c: ID!, $p: ID) { openConversation(input: { contactId: $c, channel: SMS, subject: \"Renewal\", phoneNumberId: $p }) { conversation { id status assignee { id } } } }";
    let r = app.gql(Some(&owner), open, json!({ "c": ann, "p": phone })).await;
    let conv = &data(&r)["openConversation"]["conversation"];
    assert_eq!((conv["status"].as_str(), conv["assignee"]["id"].as_str()), (Some("ACTIVE"), Some(rep_id.as_str())));
    let conv = conv["id"].as_str().expect("id").to_owned();

    post(&app, &owner, &conv, "INBOUND", "Can we talk about the renewal?", "2026-11-02T09:00:00Z").await;
    let t = thread(&app, &owner, &conv).await;
    assert_eq!((t["messageCount"].as_i64(), t["unreadCount"].as_i64()), (Some(1), Some(1)));
    assert_eq!(t["phoneNumber"]["number"], "+14155550100");
    let up =
        "mutation($i: UpdateConversationInput!) { updateConversation(input: $i) { conversation { status version } } }";
    let r = app
        .gql(Some(&rep), up, json!({ "i": { "id": conv, "expectedVersion": t["version"], "status": "CLOSED" } }))
        .await;
    assert_eq!(data(&r)["updateConversation"]["conversation"]["status"], "CLOSED");
    let stale = app
        .gql(Some(&rep), up, json!({ "i": { "id": conv, "expectedVersion": t["version"], "status": "SPAM" } }))
        .await;
    assert_eq!(code(&stale), Some("CONFLICT"));

    // A new inbound message reopens it; the reply is outbound; reading clears the count.
    post(&app, &owner, &conv, "INBOUND", "Hello again", "2026-11-03T09:00:00Z").await;
    let reply = post(&app, &rep, &conv, "OUTBOUND", "Calling you at 3", "2026-11-03T10:00:00Z").await;
    let t = thread(&app, &rep, &conv).await;
    assert_eq!(
        (t["status"].as_str(), t["messageCount"].as_i64(), t["unreadCount"].as_i64(), t["lastMessageAt"].as_str()),
        (Some("ACTIVE"), Some(3), Some(2), Some("2026-11-03T10:00:00.000Z"))
    );
    let bodies: Vec<&str> =
        t["messages"]["nodes"].as_array().expect("nodes").iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, ["Can we talk about the renewal?", "Hello again", "Calling you at 3"]);
    assert_eq!(t["messages"]["nodes"][2]["senderType"], "MEMBER");
    let read = "mutation($id: ID!) { markConversationRead(input: { id: $id }) { conversation { unreadCount } } }";
    assert_eq!(
        data(&app.gql(Some(&rep), read, json!({ "id": conv })).await)["markConversationRead"]["conversation"]["unreadCount"],
        0
    );
    let t = thread(&app, &rep, &conv).await;
    assert!(t["messages"]["nodes"][0]["readAt"].is_string() && t["messages"]["nodes"][2]["readAt"].is_null());

    // The inbox and the contact's timeline show it.
    let inbox =
        "{ organization { conversations(filter: { status: { eq: ACTIVE } }) { nodes { subject messageCount } } } }";
    assert_eq!(
        data(&app.gql(Some(&rep), inbox, json!({})).await)["organization"]["conversations"]["nodes"],
        json!([{ "subject": "Renewal", "messageCount": 3 }])
    );
    let who = "query($id: ID!) { node(id: $id) { ... on Contact { lastContactedAt timeline { kind } conversations { totalCount } } } }";
    let c = data(&app.gql(Some(&rep), who, json!({ "id": ann })).await)["node"].clone();
    assert_eq!(c["lastContactedAt"], "2026-11-03T10:00:00.000Z");
    assert_eq!((c["timeline"].as_array().map(Vec::len), c["conversations"]["totalCount"].as_i64()), (Some(3), Some(1)));

    // Correcting the reply's time moves lastContactedAt; deleting it recounts the thread.
    let fix = "mutation($i: UpdateInteractionInput!) { updateInteraction(input: $i) { interaction { occurredAt } } }";
    let i = json!({ "id": reply["id"], "expectedVersion": reply["version"], "occurredAt": "2026-11-03T08:00:00Z" });
    data(&app.gql(Some(&rep), fix, json!({ "i": i })).await);
    let c = data(&app.gql(Some(&rep), who, json!({ "id": ann })).await)["node"].clone();
    assert_eq!(c["lastContactedAt"], "2026-11-03T09:00:00.000Z");
    let del = "mutation($id: ID!) { deleteInteraction(input: { id: $id }) { interaction { id } } }";
    data(&app.gql(Some(&rep), del, json!({ "id": reply["id"] })).await);
    let t = thread(&app, &rep, &conv).await;
    assert_eq!((t["messageCount"].as_i64(), t["lastMessageAt"].as_str()), (Some(2), Some("2026-11-03T09:00:00.000Z")));

    // The assignee heard of the assignment and of each inbound message.
    opsgraph_org::service::dispatch::run_once(&app.pool).await.expect("dispatch");
    let inbox =
        "{ viewer { notifications(orderBy: [{ field: CREATED_AT, direction: ASC }]) { nodes { kind title } } } }";
    let titles: Vec<String> = data(&app.gql(Some(&rep), inbox, json!({})).await)["viewer"]["notifications"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| format!("{} {}", n["kind"].as_str().unwrap_or(""), n["title"].as_str().unwrap_or("")))
        .collect();
    assert!(titles.contains(&"ASSIGNMENT Conversation assigned to you: Renewal".to_owned()), "{titles:?}");
    assert_eq!(titles.iter().filter(|t| t.as_str() == "MENTION New message from Ann Lee").count(), 2, "{titles:?}");
    app.finish().await;
}
