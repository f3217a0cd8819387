//! OpenTelemetry traces through the real binary: with `OTEL_EXPORTER_OTLP_ENDPOINT` set,
//! one GraphQL request reaches a local fake collector (OTLP/HTTP protobuf) as the tree
//! `POST /graphql -> graphql <operation> -> load <loader> -> <statement>`, continuing the
//! caller's `traceparent`, carrying the request id, tenant and operation name, and no
//! variable's value anywhere.

use opsgraph_e2e::fake_otlp::{FakeCollector, Span};
use opsgraph_e2e::{ServerProcess, TestApp, data};
use serde_json::json;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const Q: &str = "query TracedProjects($title: String!) { organization { projects(first: 5) { nodes { name \
                 tasks(first: 5, filter: { title: { contains: $title } }) { nodes { title project { key } } } } } } }";

fn children<'a>(spans: &'a [Span], parent: &Span) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.parent_id == parent.span_id).collect()
}

#[tokio::test]
async fn a_request_arrives_at_the_collector_as_one_span_tree() {
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("t@example.com", "Traced Co").await;
    let q = "mutation { createProject(input: { key: \"TR\", name: \"Traced\" }) { project { id } } }";
    let project = data(&app.gql(Some(&token), q, json!({})).await)["createProject"]["project"]["id"].clone();
    let q = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }";
    data(&app.gql(Some(&token), q, json!({ "i": { "projectId": project, "title": "Zebra crossing plan" } })).await);
    let org = data(&app.gql(Some(&token), "{ organization { id } }", json!({})).await)["organization"]["id"].clone();
    let org = opsgraph_core::id::decode_as(org.as_str().unwrap_or_default(), "Organization", "id").expect("org id");

    let collector = FakeCollector::start().await;
    let server = ServerProcess::spawn(
        &app.database_url(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", "opsgraph-test"),
        ],
    )
    .await;
    let resp: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("x-request-id", "trace-req-1")
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .body(json!({ "query": Q, "variables": { "title": "ebra crossi" } }).to_string())
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let tasks = &data(&resp)["organization"]["projects"]["nodes"][0]["tasks"]["nodes"];
    assert_eq!(tasks[0]["title"], "Zebra crossing plan", "{resp}");

    let spans = collector
        .wait_for(|s| s.iter().any(|s| s.name == "POST /graphql" && s.attr("request.id") == Some("trace-req-1")))
        .await;
    let spans: Vec<Span> = spans.into_iter().filter(|s| s.trace_id == TRACE).collect();
    let request = spans.iter().find(|s| s.name == "POST /graphql").unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(request.service, "opsgraph-test");
    assert_eq!(request.parent_id, CALLER_SPAN, "continues the caller's trace");
    assert_eq!(request.attr("http.response.status_code"), Some("200"));
    assert_eq!(request.attr("http.route"), Some("/graphql"));

    let ops = children(&spans, request);
    assert_eq!(ops.len(), 1, "{spans:#?}");
    let op = ops[0];
    assert_eq!(op.name, "graphql TracedProjects");
    assert_eq!(op.attr("graphql.operation.name"), Some("TracedProjects"));
    assert_eq!(op.attr("request_id"), Some("trace-req-1"));
    assert_eq!(op.attr("tenant.id"), Some(org.to_string().as_str()));

    // The operation's statements, and its loader batches each with their own statement.
    let below = children(&spans, op);
    let batches: Vec<&&Span> = below.iter().filter(|s| s.name.starts_with("load ")).collect();
    assert!(batches.iter().any(|b| b.name == "load ById<project>"), "project by id is a batch: {below:#?}");
    assert!(batches.iter().any(|b| b.name == "load PageBy<TasksOfProject>"), "tasks by project: {below:#?}");
    for b in &batches {
        let stmts = children(&spans, b);
        assert_eq!(stmts.len(), 1, "one statement per batch: {b:?}");
        assert_eq!(stmts[0].attr("db.system.name"), Some("postgresql"));
        assert_eq!(stmts[0].name, "SELECT");
        assert!(b.attr("loader.keys").is_some_and(|k| k.parse::<u32>().is_ok_and(|k| k >= 1)), "{b:?}");
    }
    assert!(below.iter().any(|s| s.name == "SELECT"), "statements outside batches hang on the operation");
    for s in &spans {
        for (k, v) in &s.attributes {
            assert!(!v.contains("ebra crossi"), "a variable's value leaked into {} {k}={v}", s.name);
            assert!(!v.contains(&token), "the token leaked into {} {k}", s.name);
        }
    }
    drop(server);
    app.finish().await;
}
