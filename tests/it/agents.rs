//! Agents and conversations through the endpoint: an admin configures an agent, a member
//! talks with it, the reply is written by the local model and streams over
//! `conversationEvents` piece by piece, the finished message records its tokens and
//! latency, and nobody else reads the conversation.

use opsgraph_e2e::live::Live;
use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const AGENT: &str = "mutation($i: CreateAgentInput!) { createAgent(input: $i) { agent { id model { name } status } } }";
const START: &str = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }";
const SEND: &str = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id role status content } } }";
const SUB: &str = "subscription($c: ID!, $a: EventSeq) { conversationEvents(conversationId: $c, after: $a) { kind messageId delta message { status content } } }";

#[tokio::test]
async fn a_reply_streams_from_the_local_model() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Agents Co").await;
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    let (other, _) = app.member(&owner, "x@example.com", "MEMBER").await;
    let (client, _) = app.member(&owner, "c@example.com", "CLIENT").await;

    let input = json!({ "name": "Helper", "systemPrompt": "You are a helpful assistant. Answer in one short sentence.",
                        "maxTokens": 24 });
    assert_eq!(
        code(&app.gql(Some(&member), AGENT, json!({ "i": input })).await),
        Some("FORBIDDEN"),
        "admins configure"
    );
    let bad = app.gql(Some(&owner), AGENT, json!({ "i": { "name": "X", "maxTokens": 0 } })).await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("maxTokens")));
    let r = app.gql(Some(&owner), AGENT, json!({ "i": input })).await;
    let agent = data(&r)["createAgent"]["agent"].clone();
    assert_eq!(
        (agent["model"]["name"].as_str(), agent["status"].as_str()),
        (Some("SmolLM2-135M-Instruct"), Some("ACTIVE"))
    );
    let listed = app.gql(Some(&member), "{ organization { agents { nodes { name } } } }", json!({})).await;
    assert_eq!(data(&listed)["organization"]["agents"]["nodes"], json!([{ "name": "Helper" }]));

    let r = app.gql(Some(&member), START, json!({ "i": { "agentId": agent["id"], "title": "Geography" } })).await;
    let conversation = data(&r)["startConversation"]["conversation"]["id"].clone();
    assert_eq!(
        code(&app.gql(Some(&client), START, json!({ "i": { "agentId": agent["id"] } })).await),
        Some("FORBIDDEN")
    );

    let from = app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string();
    let mut live = Live::connect(&app.base, &member).await;
    live.subscribe("c", SUB, json!({ "c": conversation, "a": from })).await;
    let send = json!({ "conversationId": conversation, "content": "What is the capital of France?" });
    let r = app.gql(Some(&member), SEND, json!({ "i": send })).await;
    let reply = data(&r)["sendMessage"]["message"].clone();
    assert_eq!((reply["role"].as_str(), reply["status"].as_str()), (Some("ASSISTANT"), Some("PENDING")));
    for role in ["USER", "ASSISTANT"] {
        let e = live.next_data("c").await;
        assert_eq!(e["conversationEvents"]["kind"], "message.created", "{role}");
    }

    assert_eq!(app.run_agents().await, 1);
    let mut streamed = String::new();
    let mut deltas = 0;
    let last: Value = loop {
        let e = live.next_data("c").await["conversationEvents"].clone();
        assert_eq!(e["messageId"], reply["id"]);
        match e["kind"].as_str() {
            Some("message.delta") => {
                streamed.push_str(e["delta"].as_str().unwrap_or_default());
                deltas += 1;
            }
            _ => break e,
        }
    };
    assert_eq!(last["kind"], "message.completed", "{last}");
    assert!(deltas >= 1, "the reply streamed");
    assert_eq!(last["message"]["content"].as_str(), Some(streamed.as_str()), "the deltas add up to the reply");
    assert!(streamed.contains("Paris"), "{streamed}");

    let q = "query($c: ID!) { node(id: $c) { ... on AgentConversation { title messages { nodes { role status content tokensIn \
             tokensOut latencyMs model run { status steps tokensIn tokensOut trigger cost { amount currency } } } } } } }";
    let r = app.gql(Some(&member), q, json!({ "c": conversation })).await;
    let msgs = data(&r)["node"]["messages"]["nodes"].clone();
    assert_eq!(msgs[0]["role"], "USER");
    assert_eq!((msgs[1]["role"].as_str(), msgs[1]["status"].as_str()), (Some("ASSISTANT"), Some("COMPLETE")));
    assert!(
        msgs[1]["tokensIn"].as_i64() > Some(10) && msgs[1]["tokensOut"].as_i64().is_some_and(|t| (1..=24).contains(&t))
    );
    assert!(msgs[1]["latencyMs"].as_i64().is_some());
    assert_eq!(msgs[1]["model"], "SmolLM2-135M-Instruct");
    // The run and the ledger: one model call, its exact tokens, and the local model is free.
    let run = &msgs[1]["run"];
    assert_eq!(
        (run["status"].as_str(), run["trigger"].as_str(), run["steps"].as_i64()),
        (Some("COMPLETE"), Some("CHAT"), Some(1))
    );
    assert_eq!(run["tokensIn"].as_str(), Some(msgs[1]["tokensIn"].to_string().as_str()));
    assert_eq!(run["cost"], json!({ "amount": "0", "currency": "USD" }));
    let ledger = app.count("SELECT sum(tokens_out)::bigint AS n FROM ai_usage").await;
    assert_eq!(Some(ledger), msgs[1]["tokensOut"].as_i64());

    // Only its member reads the conversation, or follows it.
    assert_eq!(code(&app.gql(Some(&other), q, json!({ "c": conversation })).await), Some("NOT_FOUND"));
    let send_other = app.gql(Some(&other), SEND, json!({ "i": send })).await;
    assert_eq!(code(&send_other), Some("NOT_FOUND"));
    let mut outsider = Live::connect(&app.base, &other).await;
    outsider.subscribe("o", SUB, json!({ "c": conversation, "a": from })).await;
    match outsider.recv(std::time::Duration::from_secs(10)).await {
        opsgraph_e2e::live::Frame::Msg(m) => assert!(m.to_string().contains("NOT_FOUND"), "{m}"),
        other => panic!("expected an error, got {other:?}"),
    }
    app.finish().await;
}

/// An agent bound to a knowledge collection answers from it and cites the passages, which
/// it retrieves as the member it talks with: a collection the member may not read gives
/// no passages.
#[tokio::test]
async fn grounded_replies_cite_what_the_member_may_read() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Grounded Co").await;
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    let collection = "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id } } }";
    let doc = "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }";
    let mut agents = vec![];
    for (name, visibility, title, body) in [
        (
            "Handbook",
            "ORGANIZATION",
            "VPN errors",
            "Error 809 means the network blocks the VPN protocol. Switch the client to the SSL fallback.",
        ),
        ("Secrets", "PRIVATE", "Board notes", "Error 809 is also the code name of the secret acquisition."),
    ] {
        let r = app.gql(Some(&owner), collection, json!({ "i": { "name": name, "visibility": visibility } })).await;
        let c = data(&r)["createCollection"]["collection"]["id"].clone();
        let input = json!({ "collectionId": c, "kind": "WIKI_PAGE", "title": title, "body": body });
        data(&app.gql(Some(&owner), doc, json!({ "i": input })).await);
        let other = json!({ "collectionId": c, "kind": "NOTE", "title": "Lunch", "body": "Lunch is served at noon in the kitchen." });
        data(&app.gql(Some(&owner), doc, json!({ "i": other })).await);
        let input = json!({ "name": format!("{name} helper"), "maxTokens": 16, "knowledgeCollectionId": c });
        let r = app.gql(Some(&owner), AGENT, json!({ "i": input })).await;
        agents.push(data(&r)["createAgent"]["agent"]["id"].clone());
    }
    app.index().await;
    let mut cited = vec![];
    for agent in &agents {
        let r = app.gql(Some(&member), START, json!({ "i": { "agentId": agent } })).await;
        let conversation = data(&r)["startConversation"]["conversation"]["id"].clone();
        let send = json!({ "conversationId": conversation, "content": "What does VPN error 809 mean?" });
        let reply =
            data(&app.gql(Some(&member), SEND, json!({ "i": send })).await)["sendMessage"]["message"]["id"].clone();
        app.run_agents().await;
        let q = "query($m: ID!) { node(id: $m) { ... on AgentMessage { status content citations { title documentRevision \
                 charStart charEnd document { title } } } } }";
        let r = app.gql(Some(&member), q, json!({ "m": reply })).await;
        let m = data(&r)["node"].clone();
        assert_eq!(m["status"], "COMPLETE", "{m}");
        cited.push(m["citations"].clone());
    }
    let first = &cited[0][0];
    assert_eq!((first["title"].as_str(), first["documentRevision"].as_i64()), (Some("VPN errors"), Some(1)));
    assert_eq!(first["document"]["title"], "VPN errors");
    assert!(first["charEnd"].as_i64() > first["charStart"].as_i64());
    assert_eq!(cited[1], json!([]), "the member may not read the private collection");
    app.finish().await;
}
