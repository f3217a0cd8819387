//! Relation filters through the endpoint: `some` / `every` / `none` on to-many relations
//! (tasks whose checklist has an open item, projects with some overdue open task, members
//! with some skill of 7 or more) and a to-one relation (tasks whose project matches), each
//! one `EXISTS` in the same statement, under Row Level Security (another organisation's
//! rows never match).

use opsgraph_e2e::{TestApp, data};
use serde_json::{Value, json};

fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["title"].as_str().or(n["key"].as_str()).or(n["jobTitle"].as_str()).map(str::to_owned))
        .collect();
    out.sort();
    out
}

async fn task(app: &TestApp, token: &str, project: &Value, title: &str, due: Option<&str>) -> Value {
    let q = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }";
    let i = json!({ "projectId": project, "title": title, "dueDate": due });
    data(&app.gql(Some(token), q, json!({ "i": i })).await)["createTask"]["task"]["id"].clone()
}

async fn item(app: &TestApp, token: &str, task: &Value, done: bool) {
    let q = "mutation($i: AddChecklistItemInput!) { addChecklistItem(input: $i) { checklistItem { id version } } }";
    let it = data(&app.gql(Some(token), q, json!({ "i": { "taskId": task, "body": "step" } })).await)["addChecklistItem"]
        ["checklistItem"]
        .clone();
    if done {
        let q = "mutation($i: UpdateChecklistItemInput!) { updateChecklistItem(input: $i) { checklistItem { id } } }";
        let i = json!({ "id": it["id"], "expectedVersion": it["version"], "isDone": true });
        data(&app.gql(Some(token), q, json!({ "i": i })).await);
    }
}

#[tokio::test]
async fn lists_filter_across_relations() {
    let app = TestApp::spawn().await;
    let (a, _) = app.sign_up("a@example.com", "Rel A").await;
    let (b, _) = app.sign_up("b@example.com", "Rel B").await;
    let mut projects = vec![];
    for key in ["PA", "PB"] {
        let q = format!(
            "mutation {{ createProject(input: {{ key: \"{key}\", name: \"{key}\" }}) {{ project {{ id }} }} }}"
        );
        projects.push(data(&app.gql(Some(&a), &q, json!({})).await)["createProject"]["project"]["id"].clone());
    }
    let open = task(&app, &a, &projects[0], "Open checklist", Some("2020-01-01")).await;
    item(&app, &a, &open, false).await;
    item(&app, &a, &open, true).await;
    let done = task(&app, &a, &projects[0], "Done checklist", None).await;
    item(&app, &a, &done, true).await;
    task(&app, &a, &projects[1], "No checklist", Some("2999-01-01")).await;
    // Another organisation's open item on a task of the same title never matches for A.
    let q = "mutation { createProject(input: { key: \"PA\", name: \"B's\" }) { project { id } } }";
    let pb = data(&app.gql(Some(&b), q, json!({})).await)["createProject"]["project"]["id"].clone();
    let other = task(&app, &b, &pb, "Theirs", Some("2020-01-01")).await;
    item(&app, &b, &other, false).await;

    let tasks = |f: Value| {
        let (app, a, projects) = (&app, a.clone(), projects.clone());
        async move {
            let q = "query($p: [ID!]!, $f: TaskFilter) { nodes(ids: $p) { ... on Project { tasks(filter: $f) { nodes { title } } } } }";
            let r = app.gql(Some(&a), q, json!({ "p": projects, "f": f })).await;
            let mut all: Vec<String> =
                data(&r)["nodes"].as_array().into_iter().flatten().flat_map(|p| names(&p["tasks"])).collect();
            all.sort();
            (all, r["extensions"]["sqlStatements"].clone())
        }
    };
    let (some, statements) = tasks(json!({ "checklist": { "some": { "isDone": { "eq": false } } } })).await;
    assert_eq!(some, ["Open checklist"]);
    let (_, plain) = tasks(json!({})).await;
    assert_eq!(statements, plain, "one EXISTS in the same statement, no extra query");
    assert_eq!(
        tasks(json!({ "checklist": { "every": { "isDone": { "eq": true } } } })).await.0,
        ["Done checklist", "No checklist"],
        "every holds when there are none"
    );
    assert_eq!(tasks(json!({ "checklist": { "none": {} } })).await.0, ["No checklist"]);
    assert_eq!(tasks(json!({ "project": { "key": { "eq": "PA" } } })).await.0, ["Done checklist", "Open checklist"]);
    assert_eq!(
        tasks(json!({ "not": { "project": { "key": { "eq": "PA" } } } })).await.0,
        ["No checklist"],
        "B's project PA is not A's"
    );

    let q = "query($f: ProjectFilter) { organization { projects(filter: $f) { nodes { key } } } }";
    let overdue = json!({ "tasks": { "some": { "dueDate": { "lt": "2026-01-01" }, "status": { "notIn": ["DONE", "CANCELLED"] } } } });
    let r = app.gql(Some(&a), q, json!({ "f": overdue })).await;
    assert_eq!(names(&data(&r)["organization"]["projects"]), ["PA"]);

    // Members with some skill of 7 or more.
    let q = "mutation { createSkill(input: { name: \"Rust\" }) { skill { id } } }";
    let skill = data(&app.gql(Some(&a), q, json!({})).await)["createSkill"]["skill"]["id"].clone();
    let (_, expert) = app.member(&a, "e@example.com", "MEMBER").await;
    let (_, novice) = app.member(&a, "n@example.com", "MEMBER").await;
    for (m, level) in [(&expert, 8), (&novice, 3)] {
        let q = "mutation($i: SetMemberSkillInput!) { setMemberSkill(input: $i) { __typename } }";
        let i = json!({ "membershipId": m, "skillId": skill, "proficiency": level });
        data(&app.gql(Some(&a), q, json!({ "i": i })).await);
    }
    let q = "query($f: MembershipFilter) { organization { members(filter: $f) { nodes { id } } } }";
    let f = json!({ "skills": { "some": { "proficiency": { "gte": 7 } } } });
    let r = app.gql(Some(&a), q, json!({ "f": f })).await;
    assert_eq!(data(&r)["organization"]["members"]["nodes"], json!([{ "id": expert }]));
    app.finish().await;
}
