//! The whole agent loop against a fake OpenAI-compatible provider speaking the real
//! streaming protocol: providers and models as data (the API key sealed, never returned),
//! a grounded agent with a write tool that must ask first, the tool call becoming a
//! pending action, approval applying it through the task service as the agent (audited
//! with its run and message), the run resuming to a streamed final answer with citations,
//! the ledger holding the exact tokens and cost; a stale approval refused and rejected;
//! the monthly budget refusing new work.

use opsgraph_e2e::fake_chat::{FakeChat, KEY, Scripted};
use opsgraph_e2e::live::Live;
use opsgraph_e2e::{TestApp, code, data};
use serde_json::{Value, json};

const SEND: &str = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id status } } }";
const SUB: &str = "subscription($c: ID!, $a: EventSeq) { conversationEvents(conversationId: $c, after: $a) { kind delta messageId } }";
const MSG: &str = "query($m: ID!) { node(id: $m) { ... on AgentMessage { status content error tokensIn tokensOut \
    citations { title } toolCalls { name status result action { id status } } \
    run { status steps tokensIn tokensOut cost { amount currency } } } } }";
const DECIDE: &str = "mutation($i: DecideActionInput!) { approveAction(input: $i) { action { status result } } }";
const REJECT: &str = "mutation($i: DecideActionInput!) { rejectAction(input: $i) { action { status reason } } }";

/// Provider, model (2.50 / 10 per million tokens, with tools) and a grounded agent whose
/// task tools must ask first; returns the agent's id.
async fn configure(app: &TestApp, owner: &str, fake: &FakeChat) -> Value {
    let q =
        "mutation($i: CreateLlmProviderInput!) { createLlmProvider(input: $i) { provider { id kind apiKeyHint } } }";
    let r = app.gql(Some(owner), q, json!({ "i": { "name": "Fake", "baseUrl": fake.url, "apiKey": KEY } })).await;
    assert!(!r.to_string().contains(KEY), "the key never comes back: {r}");
    let provider = data(&r)["createLlmProvider"]["provider"].clone();
    assert_eq!(
        (provider["kind"].as_str(), provider["apiKeyHint"].as_str()),
        (Some("OPENAI_COMPATIBLE"), Some("…6789"))
    );
    let sealed =
        format!("SELECT count(*) AS n FROM llm_providers WHERE position('{KEY}'::bytea IN api_key_sealed) > 0");
    assert_eq!(app.count(&sealed).await, 0, "sealed at rest");
    let q = "mutation($i: CreateLlmModelInput!) { createLlmModel(input: $i) { model { id capabilities inputPrice } } }";
    let input = json!({ "providerId": provider["id"], "name": "fake-gpt", "contextWindow": 128000,
                        "capabilities": ["CHAT", "TOOLS"], "inputPrice": "2.50", "outputPrice": "10" });
    let model = data(&app.gql(Some(owner), q, json!({ "i": input })).await)["createLlmModel"]["model"].clone();
    assert_eq!((model["capabilities"].clone(), model["inputPrice"].as_str()), (json!(["CHAT", "TOOLS"]), Some("2.5")));

    let q = "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id } } }";
    let c = data(&app.gql(Some(owner), q, json!({ "i": { "name": "Runbooks", "visibility": "ORGANIZATION" } })).await)
        ["createCollection"]["collection"]["id"]
        .clone();
    let q = "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }";
    let body = "VPN certificates expire yearly. Rotate them in the admin console before they lapse.";
    let doc = json!({ "collectionId": c, "kind": "WIKI_PAGE", "title": "VPN certificates", "body": body });
    data(&app.gql(Some(owner), q, json!({ "i": doc })).await);
    app.index().await;
    let q =
        "mutation($i: CreateAgentInput!) { createAgent(input: $i) { agent { id tools { name requiresApproval } } } }";
    let input = json!({ "name": "Ops", "modelId": model["id"], "knowledgeCollectionId": c,
        "tools": [{ "name": "search_knowledge" }, { "name": "create_task" }, { "name": "update_task" }] });
    let agent = data(&app.gql(Some(owner), q, json!({ "i": input })).await)["createAgent"]["agent"].clone();
    assert_eq!(agent["tools"][1], json!({ "name": "create_task", "requiresApproval": true }), "writes ask by default");
    assert_eq!(agent["tools"][0]["requiresApproval"], false);
    agent["id"].clone()
}

async fn message(app: &TestApp, who: &str, id: &Value) -> Value {
    data(&app.gql(Some(who), MSG, json!({ "m": id })).await)["node"].clone()
}

async fn send(app: &TestApp, who: &str, conversation: &Value, text: &str) -> Value {
    let i = json!({ "conversationId": conversation, "content": text });
    data(&app.gql(Some(who), SEND, json!({ "i": i })).await)["sendMessage"]["message"]["id"].clone()
}

#[tokio::test]
async fn a_tool_call_waits_for_approval_then_the_run_finishes_with_exact_spend() {
    let app = TestApp::spawn().await;
    let fake = FakeChat::start().await;
    let (owner, _) = app.sign_up("o@example.com", "Loop Co").await;
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    let (other, _) = app.member(&owner, "x@example.com", "MEMBER").await;
    let agent = configure(&app, &owner, &fake).await;
    let q = "mutation { createProject(input: { key: \"OPS\", name: \"Ops\" }) { project { id } } }";
    let project = data(&app.gql(Some(&owner), q, json!({})).await)["createProject"]["project"]["id"].clone();
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }";
    let conversation = data(&app.gql(Some(&member), q, json!({ "i": { "agentId": agent } })).await)
        ["startConversation"]["conversation"]["id"]
        .clone();

    let args = json!({ "projectId": project, "title": "Rotate the VPN certificates" }).to_string();
    fake.state.script([
        Scripted::Calls(vec![("create_task", args)], (120, 30)),
        Scripted::Text(vec!["Done: ", "the task is created [1]."], (200, 12)),
    ]);
    let from = app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string();
    let mut live = Live::connect(&app.base, &member).await;
    live.subscribe("c", SUB, json!({ "c": conversation, "a": from })).await;
    let reply = send(&app, &member, &conversation, "Please make a task to rotate the VPN certificates.").await;
    app.run_agents().await;

    // The write waits: a pending action with its diff, nothing created yet.
    let m = message(&app, &member, &reply).await;
    assert_eq!(
        (m["status"].as_str(), m["toolCalls"][0]["status"].as_str()),
        (Some("WAITING"), Some("PROPOSED")),
        "{m}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 0);
    let q = "{ organization { pendingActions(filter: { status: { eq: PENDING } }) { nodes { id tool risk diff expectedVersion member { id } } } } }";
    let actions = data(&app.gql(Some(&member), q, json!({})).await)["organization"]["pendingActions"]["nodes"].clone();
    let action = actions[0].clone();
    assert_eq!((action["tool"].as_str(), action["risk"].as_str()), (Some("create_task"), Some("LOW")));
    assert_eq!(action["diff"]["title"], json!({ "from": null, "to": "Rotate the VPN certificates" }));
    assert_eq!(
        data(&app.gql(Some(&other), q, json!({})).await)["organization"]["pendingActions"]["nodes"],
        json!([]),
        "another member does not see it"
    );
    assert_eq!(code(&app.gql(Some(&other), DECIDE, json!({ "i": { "id": action["id"] } })).await), Some("NOT_FOUND"));
    opsgraph_org::service::dispatch::run_once(&app.pool).await.expect("dispatch");
    let n = app.gql(Some(&member), "{ viewer { notifications { nodes { title } } } }", json!({})).await;
    assert_eq!(
        data(&n)["viewer"]["notifications"]["nodes"],
        json!([{ "title": "An agent asks your approval: Create a task in a project." }]),
        "the approver is told"
    );

    // Approved: applied through the task service as the agent, audited with its run.
    let r = app.gql(Some(&member), DECIDE, json!({ "i": { "id": action["id"] } })).await;
    assert_eq!(data(&r)["approveAction"]["action"]["status"], "APPROVED");
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks WHERE title = 'Rotate the VPN certificates'").await, 1);
    let audited = "SELECT count(*) AS n FROM audit_log a JOIN ai_runs r ON r.id = a.agent_run_id \
                   WHERE a.action = 'task.create' AND a.actor_type = 'agent' AND a.agent_message_id = r.message_id \
                   AND a.agent_id = r.agent_id";
    assert_eq!(app.count(audited).await, 1, "the write carries its provenance");
    assert_eq!(
        code(&app.gql(Some(&member), DECIDE, json!({ "i": { "id": action["id"] } })).await),
        Some("CONFLICT"),
        "decided once"
    );

    // Resumed: the final answer streams, grounded, and the ledger has the exact spend.
    app.run_agents().await;
    let mut kinds = vec![];
    let mut streamed = String::new();
    while !kinds.contains(&"message.completed".to_owned()) {
        let e = live.next_data("c").await["conversationEvents"].clone();
        if e["messageId"] == reply {
            streamed.push_str(e["delta"].as_str().unwrap_or_default());
            kinds.push(e["kind"].as_str().unwrap_or_default().to_owned());
        }
    }
    for k in ["message.tool_calls", "message.waiting", "message.action_approved", "message.delta"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    let m = message(&app, &member, &reply).await;
    assert_eq!(m["status"], "COMPLETE", "{m}");
    assert_eq!(m["content"], "Done: the task is created [1].");
    assert_eq!(streamed, "Done: the task is created [1].");
    assert_eq!(m["citations"][0]["title"], "VPN certificates");
    assert_eq!(m["toolCalls"][0]["status"], "APPROVED");
    assert!(m["toolCalls"][0]["result"]["taskId"].is_string(), "{m}");
    assert_eq!((m["tokensIn"].as_i64(), m["tokensOut"].as_i64()), (Some(320), Some(42)));
    // 320 x 2.50 + 42 x 10 per million = 0.00122 USD.
    assert_eq!(m["run"]["cost"], json!({ "amount": "0.00122", "currency": "USD" }));
    assert_eq!((m["run"]["status"].as_str(), m["run"]["steps"].as_i64()), (Some("COMPLETE"), Some(2)));
    let sent = fake.state.seen();
    let told = sent[1]["messages"].as_array().cloned().unwrap_or_default();
    let tool_turn = told.iter().find(|t| t["role"] == "tool").cloned().unwrap_or_default();
    assert!(tool_turn["content"].as_str().unwrap_or_default().contains("taskId"), "{told:?}");
    assert!(sent[0]["tools"].as_array().is_some_and(|t| t.len() == 3));
    assert!(sent[0]["messages"][0]["content"].as_str().unwrap_or_default().contains("VPN certificates expire"));
    let q = "query($d: Date!) { organization { aiUsage(from: $d, to: $d, groupBy: MODEL) { model { name } calls tokensIn tokensOut cost { amount } } } }";
    let today = chrono::Utc::now().date_naive().to_string();
    let usage = data(&app.gql(Some(&owner), q, json!({ "d": today })).await)["organization"]["aiUsage"].clone();
    assert_eq!(
        usage,
        json!([{ "model": { "name": "fake-gpt" }, "calls": 2, "tokensIn": "320", "tokensOut": "42", "cost": { "amount": "0.00122" } }])
    );
    assert_eq!(code(&app.gql(Some(&member), q, json!({ "d": today })).await), Some("FORBIDDEN"));

    stale_then_rejected(&app, (&owner, &member), &fake, (&conversation, &project)).await;

    // The budget: once spent, new messages are refused.
    let q = "mutation { setAiBudget(input: { monthlyLimit: \"0.001\" }) { budget { monthlyLimit { amount } spent { amount } remaining { amount } } } }";
    let b = data(&app.gql(Some(&owner), q, json!({})).await)["setAiBudget"]["budget"].clone();
    assert_eq!(b["remaining"]["amount"], "0");
    let i = json!({ "conversationId": conversation, "content": "One more thing" });
    assert_eq!(code(&app.gql(Some(&member), SEND, json!({ "i": i })).await), Some("QUOTA_EXCEEDED"));
    app.finish().await;
}

/// An update proposed, then the task changed by a person: approving is CONFLICT and
/// applies nothing; rejecting tells the model why.
async fn stale_then_rejected(
    app: &TestApp,
    (owner, member): (&str, &str),
    fake: &FakeChat,
    (c, project): (&Value, &Value),
) {
    let q = "query($p: ID!) { node(id: $p) { ... on Project { tasks { nodes { id version } } } } }";
    let task = data(&app.gql(Some(owner), q, json!({ "p": project })).await)["node"]["tasks"]["nodes"][0].clone();
    let args = json!({ "id": task["id"], "title": "Rotate certificates (urgent)" }).to_string();
    fake.state.script([
        Scripted::Calls(vec![("update_task", args)], (50, 5)),
        Scripted::Text(vec!["Understood, I left it."], (60, 6)),
    ]);
    let reply = send(app, member, c, "Mark it urgent in the title.").await;
    app.run_agents().await;
    let m = message(app, member, &reply).await;
    let action = m["toolCalls"][0]["action"]["id"].clone();
    assert_eq!(m["status"], "WAITING", "{m}");
    let q = "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { version } } }";
    let i = json!({ "id": task["id"], "expectedVersion": task["version"], "priority": "HIGH" });
    data(&app.gql(Some(owner), q, json!({ "i": i })).await);
    let r = app.gql(Some(member), DECIDE, json!({ "i": { "id": action } })).await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks WHERE title LIKE '%urgent%'").await, 0, "nothing applied");
    let r = app.gql(Some(member), REJECT, json!({ "i": { "id": action, "reason": "It changed meanwhile" } })).await;
    assert_eq!(data(&r)["rejectAction"]["action"]["status"], "REJECTED");
    app.run_agents().await;
    let m = message(app, member, &reply).await;
    assert_eq!((m["status"].as_str(), m["content"].as_str()), (Some("COMPLETE"), Some("Understood, I left it.")));
    let last = fake.state.seen().last().cloned().unwrap_or_default();
    assert!(last.to_string().contains("It changed meanwhile"), "the model is told why");
}

/// A provider that refuses the key or cuts its stream fails the reply with a reason that
/// names neither the key nor internals.
#[tokio::test]
async fn provider_failures_fail_the_reply_without_leaking_the_key() {
    let app = TestApp::spawn().await;
    let fake = FakeChat::start().await;
    let (owner, _) = app.sign_up("o@example.com", "Fail Co").await;
    let agent = configure(&app, &owner, &fake).await;
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }";
    let c = data(&app.gql(Some(&owner), q, json!({ "i": { "agentId": agent } })).await)["startConversation"]
        ["conversation"]["id"]
        .clone();
    fake.state.script([Scripted::Cut(vec!["Half an ans"])]);
    let reply = send(&app, &owner, &c, "Hello?").await;
    app.run_agents().await;
    let m = message(&app, &owner, &reply).await;
    assert_eq!(m["status"], "FAILED");
    assert!(m["error"].as_str().unwrap_or_default().contains("[DONE]"), "{m}");

    let q = "{ organization { llmProviders { nodes { id version } } } }";
    let p = data(&app.gql(Some(&owner), q, json!({})).await)["organization"]["llmProviders"]["nodes"].clone();
    let fake_p = p.as_array().and_then(|a| a.iter().find(|x| x["version"] == 1).cloned()).unwrap_or_default();
    let q = "mutation($i: UpdateLlmProviderInput!) { updateLlmProvider(input: $i) { provider { apiKeyHint } } }";
    let i = json!({ "id": fake_p["id"], "expectedVersion": 1, "apiKey": "sk-wrong-key-9999" });
    let r = app.gql(Some(&owner), q, json!({ "i": i })).await;
    assert!(!r.to_string().contains("sk-wrong"), "{r}");
    let reply = send(&app, &owner, &c, "Hello again?").await;
    app.run_agents().await;
    let m = message(&app, &owner, &reply).await;
    let error = m["error"].as_str().unwrap_or_default().to_owned();
    assert_eq!(m["status"], "FAILED");
    assert!(error.contains("401") && !error.contains("sk-wrong") && !error.contains(KEY), "{error}");
    app.finish().await;
}

/// `askAgent` answers whole, and the response tells what the model cost
/// (`extensions.aiCost`), the same figure its run and the ledger hold.
#[tokio::test]
async fn ask_agent_reports_its_cost_in_the_response() {
    let app = TestApp::spawn().await;
    let fake = FakeChat::start().await;
    let (owner, _) = app.sign_up("o@example.com", "Ask Co").await;
    let agent = configure(&app, &owner, &fake).await;
    fake.state.script([Scripted::Text(vec!["Forty", "-two."], (10, 2))]);
    let q = "mutation($i: AskAgentInput!) { askAgent(input: $i) { answer run { trigger status cost { amount } } } }";
    let r = app.gql(Some(&owner), q, json!({ "i": { "agentId": agent, "question": "The answer?" } })).await;
    let a = data(&r)["askAgent"].clone();
    assert_eq!(a["answer"], "Forty-two.");
    // 10 x 2.50 + 2 x 10 per million = 0.000045.
    assert_eq!(a["run"], json!({ "trigger": "CHAT", "status": "COMPLETE", "cost": { "amount": "0.000045" } }));
    assert_eq!(
        r["extensions"]["aiCost"],
        json!({ "tokensIn": 10, "tokensOut": 2, "cost": { "amount": "0.000045", "currency": "USD" } })
    );
    let plain = app.gql(Some(&owner), "{ viewer { id } }", json!({})).await;
    assert!(plain["extensions"].get("aiCost").is_none(), "only requests that ran a model");
    fake.state.script([Scripted::Cut(vec!["Half"])]);
    let r = app.gql(Some(&owner), q, json!({ "i": { "agentId": agent, "question": "Again?" } })).await;
    assert_eq!(code(&r), Some("SERVICE_UNAVAILABLE"), "{r}");
    app.finish().await;
}

/// A reply left STREAMING by a runner that stopped is taken over once it has been silent
/// for five minutes, and not before.
#[tokio::test]
async fn a_stalled_reply_is_taken_over() {
    let app = TestApp::spawn().await;
    let fake = FakeChat::start().await;
    let (owner, _) = app.sign_up("o@example.com", "Stall Co").await;
    let agent = configure(&app, &owner, &fake).await;
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }";
    let c = data(&app.gql(Some(&owner), q, json!({ "i": { "agentId": agent } })).await)["startConversation"]
        ["conversation"]["id"]
        .clone();
    let reply = send(&app, &owner, &c, "Hello?").await;
    let stall = |age: &str| {
        format!(
            "SET session_replication_role = replica; \
             UPDATE agent_messages SET status = 'STREAMING', content = 'Half', updated_at = now() - interval '{age}' \
             WHERE status = 'PENDING'; \
             SET session_replication_role = origin"
        )
    };
    use sea_orm::ConnectionTrait;
    app.pool.execute_unprepared(&stall("1 minute")).await.expect("stall");
    assert_eq!(app.run_agents().await, 0, "a recent stream is left to its runner");
    app.pool.execute_unprepared("SET session_replication_role = replica; UPDATE agent_messages SET updated_at = now() - interval '6 minutes' WHERE status = 'STREAMING'; SET session_replication_role = origin").await.expect("age");
    fake.state.script([Scripted::Text(vec!["Back again."], (5, 2))]);
    assert_eq!(app.run_agents().await, 1);
    let m = message(&app, &owner, &reply).await;
    assert_eq!((m["status"].as_str(), m["content"].as_str()), (Some("COMPLETE"), Some("Back again.")), "restarted");
    assert_eq!(app.count("SELECT count(*) AS n FROM domain_events WHERE kind = 'message.restarted'").await, 1);
    app.finish().await;
}

/// An agent allowed to write without asking does so, until it joins a team that requires
/// approval: then the same call waits for a person. Agents install from the catalog.
#[tokio::test]
async fn a_team_that_requires_approval_makes_its_members_ask() {
    let app = TestApp::spawn().await;
    let fake = FakeChat::start().await;
    let (owner, _) = app.sign_up("o@example.com", "Team Co").await;
    let agent = configure(&app, &owner, &fake).await;
    let q = "mutation($i: UpdateAgentInput!) { updateAgent(input: $i) { agent { tools { name requiresApproval } } } }";
    let i =
        json!({ "id": agent, "expectedVersion": 1, "tools": [{ "name": "create_task", "requiresApproval": false }] });
    data(&app.gql(Some(&owner), q, json!({ "i": i })).await);
    let q = "mutation { createProject(input: { key: \"TM\", name: \"Team\" }) { project { id } } }";
    let project = data(&app.gql(Some(&owner), q, json!({})).await)["createProject"]["project"]["id"].clone();
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }";
    let c = data(&app.gql(Some(&owner), q, json!({ "i": { "agentId": agent } })).await)["startConversation"]
        ["conversation"]["id"]
        .clone();
    let call = |title: &str| {
        Scripted::Calls(vec![("create_task", json!({ "projectId": project, "title": title }).to_string())], (5, 5))
    };
    fake.state.script([call("Alone"), Scripted::Text(vec!["Done."], (5, 1))]);
    let first = send(&app, &owner, &c, "Add a task").await;
    app.run_agents().await;
    assert_eq!(message(&app, &owner, &first).await["toolCalls"][0]["status"], "DONE");

    let q = "mutation($i: CreateAgentTeamInput!) { createAgentTeam(input: $i) { team { id approvalRequired members { role agent { id } } } } }";
    let team = data(&app.gql(Some(&owner), q, json!({ "i": { "name": "Delivery", "coordinatorId": agent } })).await)
        ["createAgentTeam"]["team"]
        .clone();
    assert_eq!(team["approvalRequired"], true);
    assert_eq!(team["members"], json!([{ "role": "COORDINATOR", "agent": { "id": agent } }]));
    fake.state.script([call("In a team")]);
    let second = send(&app, &owner, &c, "Add another").await;
    app.run_agents().await;
    let m = message(&app, &owner, &second).await;
    assert_eq!((m["status"].as_str(), m["toolCalls"][0]["status"].as_str()), (Some("WAITING"), Some("PROPOSED")));
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 1);

    let q = "{ agentTemplates { slug installCount } }";
    let before = data(&app.gql(Some(&owner), q, json!({})).await)["agentTemplates"].clone();
    assert_eq!(before.as_array().map(Vec::len), Some(3));
    let i = "mutation { installAgentTemplate(input: { slug: \"delivery-coordinator\" }) { agent { name tools { name requiresApproval } } } }";
    let a = data(&app.gql(Some(&owner), i, json!({})).await)["installAgentTemplate"]["agent"].clone();
    assert_eq!(a["name"], "Delivery coordinator");
    assert_eq!(a["tools"][0], json!({ "name": "create_task", "requiresApproval": true }));
    let after = data(&app.gql(Some(&owner), q, json!({})).await)["agentTemplates"].clone();
    let installs =
        |v: &Value| v.as_array().and_then(|a| a.iter().find(|t| t["slug"] == "delivery-coordinator").cloned());
    assert_eq!(installs(&after).map(|t| t["installCount"].clone()), Some(json!("1")));
    let bad = app
        .gql(Some(&owner), "mutation { installAgentTemplate(input: { slug: \"nope\" }) { agent { id } } }", json!({}))
        .await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    app.finish().await;
}

/// A tool allowed to write without asking writes at once through crm's service, as the
/// agent; a tool call with bad arguments fails alone and the model is told why.
#[tokio::test]
async fn an_agent_logs_an_interaction_and_hears_about_bad_arguments() {
    let app = TestApp::spawn().await;
    let fake = FakeChat::start().await;
    let (owner, _) = app.sign_up("o@example.com", "Log Co").await;
    let agent = configure(&app, &owner, &fake).await;
    let q = "mutation($i: UpdateAgentInput!) { updateAgent(input: $i) { agent { id } } }";
    let i = json!({ "id": agent, "expectedVersion": 1, "tools": [{ "name": "log_interaction", "requiresApproval": false }] });
    data(&app.gql(Some(&owner), q, json!({ "i": i })).await);
    let q = "mutation { createContact(input: { firstName: \"Ann\", lastName: \"Lee\" }) { contact { id } } }";
    let contact = data(&app.gql(Some(&owner), q, json!({})).await)["createContact"]["contact"]["id"].clone();
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }";
    let c = data(&app.gql(Some(&owner), q, json!({ "i": { "agentId": agent } })).await)["startConversation"]
        ["conversation"]["id"]
        .clone();
    let good = json!({ "kind": "CALL", "subject": "Renewal", "contactIds": [contact] }).to_string();
    let bad = json!({ "kind": "TELEPATHY", "contactIds": [] }).to_string();
    fake.state.script([
        Scripted::Calls(vec![("log_interaction", good), ("log_interaction", bad)], (20, 10)),
        Scripted::Text(vec!["Logged the call."], (30, 4)),
    ]);
    let reply = send(&app, &owner, &c, "I just called Ann about the renewal.").await;
    app.run_agents().await;
    let m = message(&app, &owner, &reply).await;
    assert_eq!(m["status"], "COMPLETE", "{m}");
    assert_eq!(
        (m["toolCalls"][0]["status"].as_str(), m["toolCalls"][1]["status"].as_str()),
        (Some("DONE"), Some("FAILED"))
    );
    assert!(m["toolCalls"][1]["result"]["error"].as_str().is_some_and(|e| e.contains("bad arguments")), "{m}");
    assert_eq!(app.count("SELECT count(*) AS n FROM interactions WHERE subject = 'Renewal'").await, 1);
    let audited = "SELECT count(*) AS n FROM audit_log WHERE actor_type = 'agent' AND agent_run_id IS NOT NULL";
    assert!(app.count(audited).await >= 1);
    app.finish().await;
}
