//! Pages read only the columns their selection needs (`core::projection`): every declared
//! field gives the value whole rows give.

use opsgraph_e2e::{TestApp, data, portfolio};
use serde_json::{Value, json};

/// Every field declared lean on Project, Task, Milestone and Risk.
const TASK: &str = "id number title description kind status priority project { key } parent { id } \
    subtasks { totalCount } assignee { id } reporter { id } startDate dueDate estimateHours position labels \
    clientVisible completedAt isOverdue isDeleted version createdAt updatedAt";
const PROJECT: &str = "id key name description status manager { id } team { id } startDate endDate kind \
    deadline tags isDeleted version createdAt updatedAt";
const MILESTONE: &str = "id project { key } name description dueDate status achievedAt version";
const RISK: &str = "id project { key } title description probability impact severity level mitigation \
    owner { id } status version createdAt";

/// The page query; `extra` adds an undeclared field to every node type (whole rows).
fn query(extra: &str) -> String {
    format!(
        "{{ organization {{ projects(first: 3, orderBy: [{{ field: KEY }}]) {{ nodes {{ {PROJECT} {extra} \
         tasks(first: 30) {{ edges {{ node {{ ... on Task {{ {TASK} }} {extra} }} }} }} \
         milestones {{ nodes {{ {MILESTONE} {extra} }} }} risks {{ nodes {{ {RISK} {extra} }} }} }} }} }} }}"
    )
}

/// `v` without the keys of the undeclared field.
fn without(v: &Value, key: &str) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(k, _)| *k != key).map(|(k, x)| (k.clone(), without(x, key))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| without(x, key)).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn lean_pages_give_what_whole_rows_give() {
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("lean@example.com", "Lean").await;
    let (org, me) = portfolio::owner_ids(&app.pool, "lean@example.com").await.expect("ids");
    portfolio::seed(&app.pool, org, me, 3, 12).await.expect("seed");
    let lean = app.gql(Some(&token), &query(""), json!({})).await;
    // `externalRefs` is declared by no list: the same pages read whole rows.
    let whole = app.gql(Some(&token), &query("externalRefs { system }"), json!({})).await;
    assert!(lean.get("errors").is_none() && whole.get("errors").is_none(), "{lean} {whole}");
    let projects = &data(&lean)["organization"]["projects"]["nodes"];
    let task = &projects[0]["tasks"]["edges"][0]["node"];
    assert!(task["title"].is_string() && task["assignee"]["id"].is_string(), "{lean}");
    assert!(task["labels"].is_array() && task["estimateHours"].is_string(), "{lean}");
    assert!(task["description"].is_string() && task["dueDate"].is_string(), "{lean}");
    assert!(projects[0]["risks"]["nodes"][0]["severity"].is_i64(), "{lean}");
    assert_eq!(without(data(&whole), "externalRefs"), data(&lean).clone());
    app.finish().await;
}

/// A nested page keeps each parent's order (the statement runs one ordered, limited
/// subquery per parent), lean or whole, forward or back.
#[tokio::test]
async fn nested_pages_keep_each_parents_order() {
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("order@example.com", "Order").await;
    let (org, me) = portfolio::owner_ids(&app.pool, "order@example.com").await.expect("ids");
    portfolio::seed(&app.pool, org, me, 3, 12).await.expect("seed");
    for extra in ["", "externalRefs { system }"] {
        let q = format!(
            "{{ organization {{ projects(first: 3, orderBy: [{{ field: KEY }}]) {{ nodes {{ \
             top: tasks(first: 5, orderBy: [{{ field: NUMBER, direction: DESC }}]) {{ nodes {{ number {extra} }} }} \
             tail: tasks(last: 4, orderBy: [{{ field: NUMBER }}]) {{ nodes {{ number {extra} }} }} \
             all: tasks(first: 100) {{ nodes {{ number }} }} }} }} }} }}"
        );
        let r = app.gql(Some(&token), &q, json!({})).await;
        let projects = data(&r)["organization"]["projects"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(projects.len(), 3, "{r}");
        for p in &projects {
            let numbers = |page: &str| -> Vec<i64> {
                p[page]["nodes"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|n| n["number"].as_i64()).collect())
                    .unwrap_or_default()
            };
            let mut all = numbers("all");
            all.sort_unstable();
            let top: Vec<i64> = all.iter().rev().take(5).copied().collect();
            let tail: Vec<i64> = all[all.len().saturating_sub(4)..].to_vec();
            assert_eq!(all.len(), 12, "{r}");
            assert_eq!(numbers("top"), top, "{extra}: {r}");
            assert_eq!(numbers("tail"), tail, "{extra}: {r}");
        }
    }
    app.finish().await;
}
