//! Workflows, prompt templates, insights, voice recordings and MCP servers through the
//! endpoint: a won deal starts a workflow that creates a task, notifies and calls a webhook
//! that fails once (retried, the task not created twice); templates render with their
//! variables checked and count their uses; insights attach to a task; a voice
//! conversation keeps its recordings; an MCP server's tools are listed over the protocol.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const PIPELINE: &str = "mutation { createPipeline(input: { name: \"Sales\", stages: [\
    { name: \"Lead\", probability: 10 }, { name: \"Won\", probability: 100, kind: WON }, \
    { name: \"Lost\", probability: 0, kind: LOST }] }) { pipeline { stages { id } } } }";
const DEAL: &str = "mutation($i: CreateDealInput!) { createDeal(input: $i) { deal { id } } }";
const MOVE: &str = "mutation($i: MoveDealInput!) { moveDeal(input: $i) { deal { id } } }";
const WORKFLOW: &str = "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { workflow { id status } } }";

/// A webhook receiver that answers 500 to its first call, then 200; keeps bodies and
/// idempotency keys.
async fn receiver() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let s = s.clone();
            async move {
                let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let mut calls = s.lock().expect("calls");
                calls.push((key, body.0));
                if calls.len() == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test]
async fn a_won_deal_runs_a_workflow_at_least_once_without_doing_a_step_twice() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Flow Co").await;
    let (member, member_id) = app.member(&owner, "m@example.com", "MEMBER").await;
    let q = "mutation { createProject(input: { key: \"DEL\", name: \"Delivery\" }) { project { id } } }";
    let project = data(&app.gql(Some(&owner), q, json!({})).await)["createProject"]["project"]["id"].clone();
    let stages =
        data(&app.gql(Some(&owner), PIPELINE, json!({})).await)["createPipeline"]["pipeline"]["stages"].clone();
    let deal = |name: &str| json!({ "i": { "name": name, "amount": "5000" } });
    let early = data(&app.gql(Some(&owner), DEAL, deal("Early")).await)["createDeal"]["deal"]["id"].clone();
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": early, "stageId": stages[1]["id"] } })).await);

    let (url, calls) = receiver().await;
    let steps = json!([
        { "kind": "CREATE_TASK", "config": { "projectId": project, "title": "Kick-off for {{event.data.name}}" } },
        { "kind": "NOTIFY", "config": { "memberIds": [member_id], "title": "Won: {{event.data.name}}" } },
        { "kind": "CALL_WEBHOOK", "config": { "url": url } },
    ]);
    let input = json!({ "name": "Won deal follow-up", "triggerEvent": "deal.won", "steps": steps,
                        "conditions": [{ "path": "data.toStage", "op": "EQ", "value": "Won" }] });
    assert_eq!(code(&app.gql(Some(&member), WORKFLOW, json!({ "i": input })).await), Some("FORBIDDEN"));
    let bad = json!({ "name": "Bad", "triggerEvent": "deal.won", "steps": [{ "kind": "CREATE_TASK", "config": { "projectId": project } }] });
    let r = app.gql(Some(&owner), WORKFLOW, json!({ "i": bad })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("steps.0.config.title")));
    let wf = data(&app.gql(Some(&owner), WORKFLOW, json!({ "i": input })).await)["createWorkflow"]["workflow"].clone();
    assert_eq!(wf["status"], "ACTIVE");

    let big = data(&app.gql(Some(&owner), DEAL, deal("Acme rollout")).await)["createDeal"]["deal"]["id"].clone();
    let lost = data(&app.gql(Some(&owner), DEAL, deal("Gone")).await)["createDeal"]["deal"]["id"].clone();
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": big, "stageId": stages[1]["id"] } })).await);
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": lost, "stageId": stages[2]["id"] } })).await);

    // First pass: the task and the notification are done, the webhook fails.
    assert_eq!(app.run_workflows().await, 2);
    assert_eq!(app.count("SELECT count(*) AS n FROM workflow_runs").await, 1, "one run: the early deal predates it");
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks WHERE title = 'Kick-off for Acme rollout'").await, 1);
    opsgraph_org::service::dispatch::run_once(&app.pool).await.expect("dispatch");
    let n = app.gql(Some(&member), "{ viewer { notifications { nodes { kind title } } } }", json!({})).await;
    assert_eq!(data(&n)["viewer"]["notifications"]["nodes"], json!([{ "kind": "INFO", "title": "Won: Acme rollout" }]));
    // Its back-off elapses; the second pass retries only the webhook.
    app.count("WITH u AS (UPDATE workflow_runs SET next_attempt_at = now() RETURNING 1) SELECT count(*) AS n FROM u")
        .await;
    assert_eq!(app.run_workflows().await, 1);
    assert_eq!(app.run_workflows().await, 0, "nothing left, nothing started twice");
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 1, "the task was not created again");
    let calls = calls.lock().expect("calls").clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].0, calls[1].0, "one idempotency key across retries");
    assert_eq!(calls[1].1["event"]["data"]["name"], "Acme rollout");

    let q = "query($w: ID!) { node(id: $w) { ... on Workflow { runCount runs { nodes { status stepIndex log { stepIndex kind status error } } } } } }";
    let w = data(&app.gql(Some(&owner), q, json!({ "w": wf["id"] })).await)["node"].clone();
    assert_eq!(w["runCount"], 1);
    let run = &w["runs"]["nodes"][0];
    assert_eq!((run["status"].as_str(), run["stepIndex"].as_i64()), (Some("COMPLETE"), Some(3)));
    let log: Vec<(i64, String)> = run["log"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| (l["stepIndex"].as_i64().unwrap_or(-1), l["status"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let expected: Vec<(i64, String)> =
        [(0, "DONE"), (1, "DONE"), (2, "FAILED"), (2, "DONE")].iter().map(|(i, s)| (*i, (*s).to_owned())).collect();
    assert_eq!(log, expected);
    assert_eq!(run["log"][2]["error"], "webhook answered 500");
    app.finish().await;
}

/// A fake MCP server: `initialize` (gives a session), the initialized notification, and
/// `tools/list` answered as a server-sent event, only within the session.
async fn mcp_server() -> String {
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(|headers: HeaderMap, body: axum::Json<Value>| async move {
            let session = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
            match (body["method"].as_str(), session.as_deref()) {
                (Some("initialize"), _) => {
                    let r = json!({ "jsonrpc": "2.0", "id": body["id"], "result": { "protocolVersion": "2025-03-26",
                        "capabilities": { "tools": {} }, "serverInfo": { "name": "weather", "version": "1" } } });
                    ([("mcp-session-id", "s-1")], axum::Json(r)).into_response()
                }
                (Some("notifications/initialized"), Some("s-1")) => StatusCode::ACCEPTED.into_response(),
                (Some("tools/list"), Some("s-1")) => {
                    let r = json!({ "jsonrpc": "2.0", "id": body["id"], "result": { "tools": [
                        { "name": "get_weather", "description": "Weather for a city", "inputSchema": { "type": "object" } }] } });
                    ([("content-type", "text/event-stream")], format!("event: message\ndata: {r}\n\n")).into_response()
                }
                _ => StatusCode::BAD_REQUEST.into_response(),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/mcp")
}

#[tokio::test]
async fn templates_insights_recordings_and_mcp_servers() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Kit Co").await;
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    let (other, _) = app.member(&owner, "x@example.com", "MEMBER").await;

    // Templates: placeholders declared, values checked by name, versions, use counted.
    let q = "mutation($i: CreatePromptTemplateInput!) { createPromptTemplate(input: $i) { template { id currentVersion } } }";
    let bad = json!({ "name": "T", "body": "Speak {{mood}}." });
    let r = app.gql(Some(&owner), q, json!({ "i": bad })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("body")));
    let input = json!({ "name": "Concise", "body": "You are {{agent_name}}. Answer {{tone}}.", "variables": [{ "name": "tone" }] });
    let t = data(&app.gql(Some(&owner), q, json!({ "i": input })).await)["createPromptTemplate"]["template"].clone();
    let render = "query($t: ID!, $v: JSON) { renderPromptTemplate(templateId: $t, variables: $v) }";
    let r = app.gql(Some(&member), render, json!({ "t": t["id"], "v": { "tone": "in one sentence" } })).await;
    assert_eq!(data(&r)["renderPromptTemplate"], "You are the agent. Answer in one sentence.");
    let r = app.gql(Some(&member), render, json!({ "t": t["id"], "v": {} })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("variables.tone")));
    let r = app.gql(Some(&member), render, json!({ "t": t["id"], "v": { "tone": "x", "mood": "y" } })).await;
    assert_eq!(field(&r), Some("variables.mood"));
    let q = "mutation($i: AddPromptVersionInput!) { addPromptTemplateVersion(input: $i) { template { currentVersion versions { number } } } }";
    let i = json!({ "templateId": t["id"], "body": "You are {{agent_name}}. Answer {{tone}}, kindly.", "variables": [{ "name": "tone", "default": "briefly" }] });
    let v = data(&app.gql(Some(&owner), q, json!({ "i": i })).await)["addPromptTemplateVersion"]["template"].clone();
    assert_eq!((v["currentVersion"].as_i64(), v["versions"].as_array().map(Vec::len)), (Some(2), Some(2)));
    let q = "mutation($i: CreateAgentInput!) { createAgent(input: $i) { agent { id } } }";
    let r = app
        .gql(
            Some(&owner),
            q,
            json!({ "i": { "name": "T", "templateId": t["id"], "templateVariables": { "mood": "x" } } }),
        )
        .await;
    assert_eq!(field(&r), Some("templateVariables.mood"));
    let i = json!({ "name": "Templated", "maxTokens": 8, "templateId": t["id"], "templateVariables": { "tone": "in one word" } });
    let agent = data(&app.gql(Some(&owner), q, json!({ "i": i })).await)["createAgent"]["agent"]["id"].clone();
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id channel } } }";
    let chat = data(&app.gql(Some(&member), q, json!({ "i": { "agentId": agent } })).await)["startConversation"]["conversation"].clone();
    assert_eq!(chat["channel"], "CHAT");
    let send = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }";
    data(&app.gql(Some(&member), send, json!({ "i": { "conversationId": chat["id"], "content": "Hi" } })).await);
    app.run_agents().await;
    let q = "query($t: ID!) { node(id: $t) { ... on PromptTemplate { usageCount successRate lastUsedAt } } }";
    let stats = data(&app.gql(Some(&owner), q, json!({ "t": t["id"] })).await)["node"].clone();
    assert_eq!((stats["usageCount"].as_str(), stats["successRate"].as_f64()), (Some("1"), Some(1.0)), "{stats}");

    // Insights on a task.
    let q = "mutation { createProject(input: { key: \"INS\", name: \"Insights\" }) { project { id } } }";
    let project = data(&app.gql(Some(&owner), q, json!({})).await)["createProject"]["project"]["id"].clone();
    let q = "mutation($p: ID!) { createTask(input: { projectId: $p, title: \"Migrate\" }) { task { id } } }";
    let task = data(&app.gql(Some(&owner), q, json!({ "p": project })).await)["createTask"]["task"]["id"].clone();
    let q = "mutation($i: RecordInsightInput!) { recordInsight(input: $i) { insight { id kind subjectId } } }";
    let i = json!({ "subjectId": task, "kind": "RISK", "title": "Likely late", "confidence": 0.8, "sentiment": -0.4, "actionable": true });
    let ins = data(&app.gql(Some(&member), q, json!({ "i": i })).await)["recordInsight"]["insight"].clone();
    assert_eq!((ins["kind"].as_str(), ins["subjectId"].as_str()), (Some("RISK"), task.as_str()));
    let r = app
        .gql(Some(&member), q, json!({ "i": { "subjectId": task, "kind": "RISK", "title": "x", "confidence": 2 } }))
        .await;
    assert_eq!(field(&r), Some("confidence"));
    let r = app
        .gql(Some(&member), q, json!({ "i": { "subjectId": agent, "kind": "RISK", "title": "x", "confidence": 0.5 } }))
        .await;
    assert_eq!(field(&r), Some("subjectId"));
    let q = "query($t: ID!) { node(id: $t) { ... on Task { aiInsights { nodes { title sentiment actionable } } } } }";
    let found = data(&app.gql(Some(&owner), q, json!({ "t": task })).await)["node"]["aiInsights"]["nodes"].clone();
    assert_eq!(found, json!([{ "title": "Likely late", "sentiment": -0.4, "actionable": true }]));

    // A voice conversation with a contact keeps its recordings; only VOICE ones, only its member.
    let q = "mutation { createContact(input: { firstName: \"Ann\", lastName: \"Lee\" }) { contact { id } } }";
    let contact = data(&app.gql(Some(&owner), q, json!({})).await)["createContact"]["contact"]["id"].clone();
    let q = "mutation($i: StartConversationInput!) { startConversation(input: $i) { conversation { id channel contact { id } } } }";
    let call = data(
        &app.gql(Some(&member), q, json!({ "i": { "agentId": agent, "channel": "VOICE", "contactId": contact } }))
            .await,
    )["startConversation"]["conversation"]
        .clone();
    assert_eq!((call["channel"].as_str(), &call["contact"]["id"]), (Some("VOICE"), &contact));
    let add = "mutation($i: AddCallRecordingInput!) { addCallRecording(input: $i) { recording { durationSecs contact { id } } } }";
    let rec = |c: &Value| {
        json!({ "i": { "conversationId": c, "url": "s3://calls/1.ogg", "durationSecs": 95,
        "transcript": "Hello Ann", "startedAt": "2026-12-03T09:00:00Z" } })
    };
    let r = data(&app.gql(Some(&member), add, rec(&call["id"])).await)["addCallRecording"]["recording"].clone();
    assert_eq!((r["durationSecs"].as_i64(), &r["contact"]["id"]), (Some(95), &contact));
    assert_eq!(field(&app.gql(Some(&member), add, rec(&chat["id"])).await), Some("conversationId"));
    assert_eq!(code(&app.gql(Some(&other), add, rec(&call["id"])).await), Some("NOT_FOUND"));
    let q = "query($c: ID!) { node(id: $c) { ... on AgentConversation { recordings { nodes { transcript } } } } }";
    let r = data(&app.gql(Some(&member), q, json!({ "c": call["id"] })).await)["node"]["recordings"]["nodes"].clone();
    assert_eq!(r, json!([{ "transcript": "Hello Ann" }]));

    // MCP: registered, its tools listed over the protocol, bound to an agent.
    let url = mcp_server().await;
    let q = "mutation($i: RegisterMcpServerInput!) { registerMcpServer(input: $i) { server { id } } }";
    let s = data(&app.gql(Some(&owner), q, json!({ "i": { "name": "Weather", "url": url } })).await)["registerMcpServer"]["server"]["id"].clone();
    let q = "mutation($i: McpServerIdInput!) { refreshMcpServerTools(input: $i) { server { tools lastError toolsListedAt } } }";
    let listed =
        data(&app.gql(Some(&owner), q, json!({ "i": { "id": s } })).await)["refreshMcpServerTools"]["server"].clone();
    assert_eq!(listed["tools"], json!([{ "name": "get_weather", "description": "Weather for a city" }]), "{listed}");
    assert!(listed["lastError"].is_null() && listed["toolsListedAt"].is_string());
    let q = "mutation($i: BindMcpServerInput!) { bindMcpServer(input: $i) { server { id } } }";
    data(&app.gql(Some(&owner), q, json!({ "i": { "agentId": agent, "serverId": s } })).await);
    data(&app.gql(Some(&owner), q, json!({ "i": { "agentId": agent, "serverId": s } })).await);
    assert_eq!(app.count("SELECT count(*) AS n FROM agent_mcp_servers").await, 1);
    app.finish().await;
}
