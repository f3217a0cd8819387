//! Tasks: numbering, workflow, subtasks, soft delete, concurrency, cross-crate edges.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id identifier number status version completedAt } } }";
const MOVE: &str = "mutation($id: ID!, $s: TaskStatus!, $v: Int!) { transitionTask(input: { id: $id, status: $s, expectedVersion: $v }) { task { status version completedAt } } }";

async fn project(app: &TestApp, token: &str, key: &str) -> String {
    let r = app
        .gql(
            Some(token),
            "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }",
            json!({ "k": key }),
        )
        .await;
    data(&r)["createProject"]["project"]["id"].as_str().expect("id").to_owned()
}

async fn task(app: &TestApp, token: &str, input: Value) -> Value {
    let r = app.gql(Some(token), CREATE, json!({ "i": input })).await;
    data(&r)["createTask"]["task"].clone()
}

#[tokio::test]
async fn numbering_workflow_and_subtasks() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Tasks Co").await;
    let p = project(&app, &owner, "ACME").await;
    let other = project(&app, &owner, "BETA").await;
    let t1 = task(&app, &owner, json!({ "projectId": p, "title": "First" })).await;
    let t2 = task(&app, &owner, json!({ "projectId": p, "title": "Second" })).await;
    let b1 = task(&app, &owner, json!({ "projectId": other, "title": "Other" })).await;
    assert_eq!(
        (t1["identifier"].as_str(), t2["identifier"].as_str(), b1["identifier"].as_str()),
        (Some("ACME-1"), Some("ACME-2"), Some("BETA-1"))
    );
    let id = t1["id"].as_str().expect("id").to_owned();

    // Subtask: the parent cannot be completed while it is open.
    let sub = task(&app, &owner, json!({ "projectId": p, "parentId": id, "title": "Sub" })).await;
    let blocked = app.gql(Some(&owner), MOVE, json!({ "id": id, "s": "DONE", "v": 1 })).await;
    assert_eq!((code(&blocked), field(&blocked)), (Some("BAD_USER_INPUT"), Some("status")));
    let cross =
        app.gql(Some(&owner), CREATE, json!({ "i": { "projectId": other, "parentId": id, "title": "x" } })).await;
    assert_eq!(field(&cross), Some("parentId"));
    let sub_id = sub["id"].as_str().expect("id");
    data(&app.gql(Some(&owner), MOVE, json!({ "id": sub_id, "s": "CANCELLED", "v": 1 })).await);

    // Workflow: completedAt is kept by the server; DONE leaves only via reopen.
    let done = app.gql(Some(&owner), MOVE, json!({ "id": id, "s": "DONE", "v": 1 })).await;
    let d = &data(&done)["transitionTask"]["task"];
    assert!(d["completedAt"].is_string());
    assert_eq!(d["version"], 2);
    let back = app.gql(Some(&owner), MOVE, json!({ "id": id, "s": "TODO", "v": 2 })).await;
    assert_eq!(code(&back), Some("BAD_USER_INPUT"));
    let stale = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { reopenTask(input: { id: $id, expectedVersion: 1 }) { task { status } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&stale), Some("CONFLICT"));
    let reopened = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { reopenTask(input: { id: $id, expectedVersion: 2 }) { task { status completedAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&reopened)["reopenTask"]["task"], json!({ "status": "TODO", "completedAt": null }));
    let cancelled_move = app.gql(Some(&owner), MOVE, json!({ "id": sub_id, "s": "IN_PROGRESS", "v": 2 })).await;
    assert_eq!(code(&cancelled_move), Some("BAD_USER_INPUT"), "CANCELLED is terminal unless reopened");

    // Soft delete takes subtasks along; restore brings them back.
    let del = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { deleteTask(input: { id: $id }) { task { isDeleted } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&del)["deleteTask"]["task"]["isDeleted"], true);
    let list = app
        .gql(
            Some(&owner),
            "query($p: ID!) { node(id: $p) { ... on Project { tasks { totalCount } } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(data(&list)["node"]["tasks"]["totalCount"], 1, "only ACME-2 is live");
    assert_eq!(
        code(&app.gql(Some(&owner), MOVE, json!({ "id": sub_id, "s": "TODO", "v": 3 })).await),
        Some("NOT_FOUND")
    );
    data(
        &app.gql(
            Some(&owner),
            "mutation($id: ID!) { restoreTask(input: { id: $id }) { task { isDeleted } } }",
            json!({ "id": id }),
        )
        .await,
    );
    let list = app.gql(Some(&owner), "query($p: ID!) { node(id: $p) { ... on Project { tasks(orderBy: [{ field: NUMBER }]) { totalCount nodes { identifier subtasks { nodes { title } } } } } } }", json!({ "p": p })).await;
    assert_eq!(data(&list)["node"]["tasks"]["totalCount"], 3);
    assert_eq!(data(&list)["node"]["tasks"]["nodes"][0]["subtasks"]["nodes"], json!([{ "title": "Sub" }]));
    app.finish().await;
}

#[tokio::test]
async fn assignment_edges_filters_and_guards() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Assign Co").await;
    let (member, me) = app.member(&owner, "m@example.com", "MEMBER").await;
    let (viewer, _) = app.member(&owner, "v@example.com", "VIEWER").await;
    let p = project(&app, &owner, "WORK").await;
    for (title, prio) in [("Fix login bug", "URGENT"), ("Write docs", "LOW"), ("Login audit", "HIGH")] {
        task(
            &app,
            &owner,
            json!({ "projectId": p, "title": title, "priority": prio, "assigneeId": me, "dueDate": "2026-12-01" }),
        )
        .await;
    }
    task(&app, &owner, json!({ "projectId": p, "title": "Unassigned login work" })).await;
    // "My work": the viewer's assigned tasks, filtered and ordered.
    let q = "{ viewer { membership { assignedTasks(filter: { title: { contains: \"login\" } }, orderBy: [{ field: PRIORITY, direction: DESC }]) { totalCount nodes { title assignee { user { email } } project { key } } } } } }";
    let r = app.gql(Some(&member), q, json!({})).await;
    let a = &data(&r)["viewer"]["membership"]["assignedTasks"];
    assert_eq!(a["totalCount"], 2);
    assert_eq!(a["nodes"][0]["assignee"]["user"]["email"], "m@example.com");
    assert_eq!(a["nodes"][0]["project"]["key"], "WORK");
    // Members may create and move tasks; viewers may only read.
    let mine = app.gql(Some(&member), CREATE, json!({ "i": { "projectId": p, "title": "By a member" } })).await;
    data(&mine);
    assert_eq!(
        code(&app.gql(Some(&viewer), CREATE, json!({ "i": { "projectId": p, "title": "Nope" } })).await),
        Some("FORBIDDEN")
    );
    let bad = app
        .gql(
            Some(&owner),
            CREATE,
            json!({ "i": { "projectId": p, "title": "x", "startDate": "2026-05-02", "dueDate": "2026-05-01" } }),
        )
        .await;
    assert_eq!(field(&bad), Some("dueDate"));
    let bad = app.gql(Some(&owner), CREATE, json!({ "i": { "projectId": p, "title": "x", "status": "DONE" } })).await;
    assert_eq!(field(&bad), Some("status"));
    // Patch semantics on update: unassign with null; other fields stay.
    let t = task(&app, &owner, json!({ "projectId": p, "title": "Patch me", "assigneeId": me, "labels": ["a", "b"] }))
        .await;
    let upd = app.gql(Some(&owner), "mutation($id: ID!) { updateTask(input: { id: $id, expectedVersion: 1, assigneeId: null, priority: HIGH }) { task { assignee { id } priority labels version } } }", json!({ "id": t["id"] })).await;
    assert_eq!(
        data(&upd)["updateTask"]["task"],
        json!({ "assignee": null, "priority": "HIGH", "labels": ["a", "b"], "version": 2 })
    );
    // Another tenant sees none of it.
    let (stranger, _) = app.sign_up("s@example.com", "Elsewhere").await;
    assert_eq!(
        code(&app.gql(Some(&stranger), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": t["id"] })).await),
        Some("NOT_FOUND")
    );
    assert_eq!(
        code(&app.gql(Some(&stranger), CREATE, json!({ "i": { "projectId": p, "title": "x" } })).await),
        Some("NOT_FOUND")
    );
    app.finish().await;
}

const MOVE_POS: &str = "mutation($i: MoveTaskInput!) { moveTask(input: $i) { task { status position } } }";

async fn column(app: &TestApp, token: &str, p: &str, status: &str) -> Vec<String> {
    let q = "query($p: ID!, $s: TaskStatus!) { node(id: $p) { ... on Project { tasks(filter: { status: { eq: $s } }, orderBy: [{ field: NUMBER }], first: 100) { nodes { title position } } } } }";
    let r = app.gql(Some(token), q, json!({ "p": p, "s": status })).await;
    let mut nodes: Vec<(f64, String)> = data(&r)["node"]["tasks"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["position"].as_f64().unwrap_or_default(), n["title"].as_str().unwrap_or_default().to_owned()))
        .collect();
    nodes.sort_by(|a, b| a.0.total_cmp(&b.0));
    nodes.into_iter().map(|n| n.1).collect()
}

#[tokio::test]
async fn board_aggregates_and_moves() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Board Co").await;
    let p = project(&app, &owner, "BRD").await;
    let mut ids = std::collections::HashMap::new();
    for (title, est) in [("A", "2"), ("B", "3"), ("C", "5"), ("D", "1.5")] {
        let t = task(&app, &owner, json!({ "projectId": p, "title": title, "estimateHours": est })).await;
        ids.insert(title, t["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(column(&app, &owner, &p, "TODO").await, ["A", "B", "C", "D"]);
    // To the top, then after another task.
    data(&app.gql(Some(&owner), MOVE_POS, json!({ "i": { "id": ids["D"] } })).await);
    assert_eq!(column(&app, &owner, &p, "TODO").await, ["D", "A", "B", "C"]);
    data(&app.gql(Some(&owner), MOVE_POS, json!({ "i": { "id": ids["A"], "afterId": ids["C"] } })).await);
    assert_eq!(column(&app, &owner, &p, "TODO").await, ["D", "B", "C", "A"]);
    // Across columns (workflow applies), then the aggregates per column.
    data(&app.gql(Some(&owner), MOVE_POS, json!({ "i": { "id": ids["C"], "status": "IN_PROGRESS" } })).await);
    let stats = app
        .gql(
            Some(&owner),
            "query($p: ID!) { node(id: $p) { ... on Project { taskStats { status count estimateHours } } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(
        data(&stats)["node"]["taskStats"],
        json!([
            { "status": "TODO", "count": 3, "estimateHours": "6.50" },
            { "status": "IN_PROGRESS", "count": 1, "estimateHours": "5.00" },
        ])
    );
    let wrong = app.gql(Some(&owner), MOVE_POS, json!({ "i": { "id": ids["A"], "afterId": ids["C"] } })).await;
    assert_eq!(field(&wrong), Some("afterId"), "afterId must be in the target column");
    // Repeated moves into the same gap force a renumbering; order stays exact.
    for _ in 0..60 {
        data(&app.gql(Some(&owner), MOVE_POS, json!({ "i": { "id": ids["A"], "afterId": ids["D"] } })).await);
        data(&app.gql(Some(&owner), MOVE_POS, json!({ "i": { "id": ids["B"], "afterId": ids["D"] } })).await);
    }
    assert_eq!(column(&app, &owner, &p, "TODO").await, ["D", "B", "A"]);
    // Concurrent moves serialise on the project: every task keeps a distinct position.
    let moves = (0..8).map(|i| {
        let (app, owner) = (&app, owner.clone());
        let (id, after) =
            if i % 2 == 0 { (ids["A"].clone(), ids["D"].clone()) } else { (ids["D"].clone(), ids["B"].clone()) };
        async move { app.gql(Some(&owner), MOVE_POS, json!({ "i": { "id": id, "afterId": after } })).await }
    });
    for r in futures_util::future::join_all(moves).await {
        assert!(r.get("errors").is_none() || code(&r) == Some("CONFLICT"), "{r}");
    }
    let col = column(&app, &owner, &p, "TODO").await;
    assert_eq!(col.len(), 3);
    assert_eq!(app.count("SELECT count(DISTINCT position) AS n FROM tasks WHERE status = 'TODO'").await, 3);
    app.finish().await;
}

#[tokio::test]
async fn my_work_search_labels_and_overdue() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Search Co").await;
    let (member, me) = app.member(&owner, "m@example.com", "MEMBER").await;
    let p1 = project(&app, &owner, "ONE").await;
    let p2 = project(&app, &owner, "TWO").await;
    task(&app, &owner, json!({ "projectId": p1, "title": "Invoice export", "description": "Export invoices to CSV", "assigneeId": me, "labels": ["finance", "export"], "dueDate": "2020-01-01" })).await;
    task(&app, &owner, json!({ "projectId": p2, "title": "Payroll report", "description": "Monthly payroll", "assigneeId": me, "labels": ["finance"], "dueDate": "2999-01-01" })).await;
    task(&app, &owner, json!({ "projectId": p2, "title": "Invoice design", "labels": ["design"] })).await;
    let q = "query($f: TaskFilter) { myWork(filter: $f, orderBy: [{ field: CREATED_AT }]) { totalCount nodes { identifier isOverdue } } }";
    let all = app.gql(Some(&member), q, json!({})).await;
    assert_eq!(data(&all)["myWork"]["totalCount"], 2, "only my tasks, across projects");
    assert_eq!(
        data(&all)["myWork"]["nodes"],
        json!([{ "identifier": "ONE-1", "isOverdue": true }, { "identifier": "TWO-1", "isOverdue": false }])
    );
    let ids = |r: &Value| -> Vec<String> {
        data(r)["myWork"]["nodes"]
            .as_array()
            .expect("n")
            .iter()
            .map(|n| n["identifier"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&app.gql(Some(&member), q, json!({ "f": { "search": { "matches": "invoices csv" } } })).await),
        ["ONE-1"]
    );
    assert_eq!(
        ids(&app.gql(Some(&member), q, json!({ "f": { "search": { "matches": "payroll -invoice" } } })).await),
        ["TWO-1"]
    );
    assert_eq!(
        ids(&app.gql(Some(&member), q, json!({ "f": { "labels": { "containsAll": ["finance", "export"] } } })).await),
        ["ONE-1"]
    );
    assert_eq!(
        ids(&app.gql(Some(&member), q, json!({ "f": { "labels": { "containsAny": ["export", "nope"] } } })).await),
        ["ONE-1"]
    );
    assert_eq!(
        ids(&app.gql(Some(&member), q, json!({ "f": { "dueDate": { "lt": "2026-11-01" } } })).await),
        ["ONE-1"],
        "overdue filter"
    );
    assert_eq!(ids(&app.gql(Some(&member), q, json!({ "f": { "projectId": { "eq": p2 } } })).await), ["TWO-1"]);
    let bad = app.gql(Some(&member), q, json!({ "f": { "search": { "matches": "x".repeat(501) } } })).await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    app.finish().await;
}

#[tokio::test]
async fn dependencies_refuse_cycles_and_name_them() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Deps Co").await;
    let p = project(&app, &owner, "DEP").await;
    let mut t = vec![];
    for title in ["one", "two", "three"] {
        t.push(
            task(&app, &owner, json!({ "projectId": p, "title": title })).await["id"].as_str().expect("id").to_owned(),
        );
    }
    let add = "mutation($a: ID!, $b: ID!) { addTaskDependency(input: { taskId: $a, dependsOnId: $b }) { dependency { kind task { identifier } dependsOn { identifier } } } }";
    // DEP-2 depends on DEP-1, DEP-3 on DEP-2.
    let r = app.gql(Some(&owner), add, json!({ "a": t[1], "b": t[0] })).await;
    assert_eq!(
        data(&r)["addTaskDependency"]["dependency"],
        json!({ "kind": "FINISH_TO_START", "task": { "identifier": "DEP-2" }, "dependsOn": { "identifier": "DEP-1" } })
    );
    data(&app.gql(Some(&owner), add, json!({ "a": t[2], "b": t[1] })).await);
    // DEP-1 depending on DEP-3 would close DEP-1 → DEP-3 → DEP-2 → DEP-1.
    let cycle = app.gql(Some(&owner), add, json!({ "a": t[0], "b": t[2] })).await;
    assert_eq!((code(&cycle), field(&cycle)), (Some("BAD_USER_INPUT"), Some("dependsOnId")));
    let msg = cycle["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("DEP-1 → DEP-3 → DEP-2 → DEP-1"), "{msg}");
    assert_eq!(field(&app.gql(Some(&owner), add, json!({ "a": t[0], "b": t[0] })).await), Some("dependsOnId"));
    assert_eq!(
        code(&app.gql(Some(&owner), add, json!({ "a": t[1], "b": t[0] })).await),
        Some("CONFLICT"),
        "no duplicates"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM task_dependencies").await, 2, "nothing changed");
    let view = app.gql(Some(&owner), "query($id: ID!) { node(id: $id) { ... on Task { dependencies { nodes { dependsOn { identifier } } } dependents { nodes { task { identifier } } } } } }", json!({ "id": t[1] })).await;
    assert_eq!(
        data(&view)["node"],
        json!({ "dependencies": { "nodes": [{ "dependsOn": { "identifier": "DEP-1" } }] }, "dependents": { "nodes": [{ "task": { "identifier": "DEP-3" } }] } })
    );
    let rm = "mutation($a: ID!, $b: ID!) { removeTaskDependency(input: { taskId: $a, dependsOnId: $b }) { task { dependencies { totalCount } } } }";
    assert_eq!(
        data(&app.gql(Some(&owner), rm, json!({ "a": t[2], "b": t[1] })).await)["removeTaskDependency"]["task"]["dependencies"]
            ["totalCount"],
        0
    );
    // Now the former cycle is allowed.
    data(&app.gql(Some(&owner), add, json!({ "a": t[0], "b": t[2] })).await);
    let (stranger, _) = app.sign_up("s@example.com", "Other").await;
    assert_eq!(code(&app.gql(Some(&stranger), rm, json!({ "a": t[1], "b": t[0] })).await), Some("NOT_FOUND"));
    app.finish().await;
}

#[tokio::test]
async fn milestones_and_risk_register() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Risky Co").await;
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    let p = project(&app, &owner, "RSK").await;
    let raise = "mutation($i: RaiseRiskInput!) { raiseRisk(input: $i) { risk { id severity level version } } }";
    let mut ids = vec![];
    for (title, prob, imp) in [("Low", 1, 2), ("Critical", 5, 4), ("Medium", 2, 3)] {
        let r = app
            .gql(
                Some(&member),
                raise,
                json!({ "i": { "projectId": p, "title": title, "probability": prob, "impact": imp } }),
            )
            .await;
        ids.push(data(&r)["raiseRisk"]["risk"].clone());
    }
    assert_eq!((ids[1]["severity"].as_i64(), ids[1]["level"].as_str()), (Some(20), Some("CRITICAL")));
    let bad = app
        .gql(Some(&member), raise, json!({ "i": { "projectId": p, "title": "x", "probability": 6, "impact": 1 } }))
        .await;
    assert_eq!(field(&bad), Some("probability"));
    // Close the medium one; open risks by severity for the dashboard.
    let upd = "mutation($i: UpdateRiskInput!) { updateRisk(input: $i) { risk { status severity } } }";
    data(
        &app.gql(Some(&member), upd, json!({ "i": { "id": ids[2]["id"], "expectedVersion": 1, "status": "CLOSED" } }))
            .await,
    );
    let reassess = app
        .gql(Some(&member), upd, json!({ "i": { "id": ids[0]["id"], "expectedVersion": 1, "probability": 4 } }))
        .await;
    assert_eq!(data(&reassess)["updateRisk"]["risk"], json!({ "status": "OPEN", "severity": 8 }));
    let q = "query($p: ID!) { node(id: $p) { ... on Project { risks(filter: { status: { eq: OPEN } }, orderBy: [{ field: SEVERITY, direction: DESC }]) { nodes { title level } } } } }";
    let open = app.gql(Some(&member), q, json!({ "p": p })).await;
    assert_eq!(
        data(&open)["node"]["risks"]["nodes"],
        json!([{ "title": "Critical", "level": "CRITICAL" }, { "title": "Low", "level": "MEDIUM" }])
    );
    // Milestones need a manager; ACHIEVED is stamped by the server.
    let create = "mutation($i: CreateMilestoneInput!) { createMilestone(input: $i) { milestone { id status } } }";
    assert_eq!(
        code(&app.gql(Some(&member), create, json!({ "i": { "projectId": p, "name": "Go-live" } })).await),
        Some("FORBIDDEN")
    );
    let m = app
        .gql(Some(&owner), create, json!({ "i": { "projectId": p, "name": "Go-live", "dueDate": "2026-12-24" } }))
        .await;
    let mid = data(&m)["createMilestone"]["milestone"]["id"].clone();
    let done = app.gql(Some(&owner), "mutation($id: ID!) { updateMilestone(input: { id: $id, expectedVersion: 1, status: ACHIEVED }) { milestone { status achievedAt dueDate } } }", json!({ "id": mid })).await;
    let d = &data(&done)["updateMilestone"]["milestone"];
    assert_eq!(
        (d["status"].as_str(), d["achievedAt"].is_string(), d["dueDate"].as_str()),
        (Some("ACHIEVED"), true, Some("2026-12-24"))
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_log WHERE action IN ('risk.raise', 'risk.update', 'milestone.create', 'milestone.update')").await, 7);
    app.finish().await;
}

#[tokio::test]
async fn creates_are_idempotent_with_a_key() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Retry Co").await;
    let p = project(&app, &owner, "IDEM").await;
    let input = json!({ "projectId": p, "title": "Only once", "idempotencyKey": "req-123" });
    let first = task(&app, &owner, input.clone()).await;
    let again = task(&app, &owner, input.clone()).await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(again["identifier"], "IDEM-1");
    // Concurrent duplicates wait on the first claim and get the same task.
    let dupes = (0..4).map(|_| {
        let (app, owner) = (&app, owner.clone());
        let i = json!({ "projectId": p, "title": "Racing", "idempotencyKey": "req-456" });
        async move { app.gql(Some(&owner), CREATE, json!({ "i": i })).await }
    });
    let ids: std::collections::HashSet<String> = futures_util::future::join_all(dupes)
        .await
        .iter()
        .map(|r| data(r)["createTask"]["task"]["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one task for one key");
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 2);
    // A failed first attempt releases its key (the claim rolls back with it).
    let bad = app
        .gql(Some(&owner), CREATE, json!({ "i": { "projectId": p, "title": "", "idempotencyKey": "req-789" } }))
        .await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    let ok = task(&app, &owner, json!({ "projectId": p, "title": "Fixed", "idempotencyKey": "req-789" })).await;
    assert_eq!(ok["identifier"], "IDEM-3");
    let proj = app.gql(Some(&owner), "mutation { createProject(input: { key: \"ONCE\", name: \"Once\", idempotencyKey: \"p-1\" }) { project { id } } }", json!({})).await;
    let proj2 = app.gql(Some(&owner), "mutation { createProject(input: { key: \"ONCE\", name: \"Once\", idempotencyKey: \"p-1\" }) { project { id } } }", json!({})).await;
    assert_eq!(data(&proj)["createProject"]["project"]["id"], data(&proj2)["createProject"]["project"]["id"]);
    app.finish().await;
}

#[tokio::test]
async fn my_work_views_and_blocked_tasks() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@views.example", "Views Co").await;
    let me = data(&app.gql(Some(&owner), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]
        ["id"]
        .clone();
    let p = project(&app, &owner, "VIEW").await;
    let today = chrono::Utc::now().date_naive();
    let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
    task(&app, &owner, json!({ "projectId": p, "title": "late", "assigneeId": me, "dueDate": day(-2) })).await;
    let soon =
        task(&app, &owner, json!({ "projectId": p, "title": "soon", "assigneeId": me, "dueDate": day(3) })).await;
    let later =
        task(&app, &owner, json!({ "projectId": p, "title": "later", "assigneeId": me, "dueDate": day(30) })).await;
    task(&app, &owner, json!({ "projectId": p, "title": "stuck", "assigneeId": me, "status": "BLOCKED" })).await;
    // "later" waits on "soon", so it is blocked until "soon" is done.
    data(&app.gql(Some(&owner), "mutation($t: ID!, $o: ID!) { addTaskDependency(input: { taskId: $t, dependsOnId: $o }) { dependency { kind } } }", json!({ "t": later["id"], "o": soon["id"] })).await);
    let q = "query($v: MyWorkView) { myWork(view: $v, orderBy: [{ field: NUMBER, direction: ASC }]) { nodes { title isBlocked isOverdue } } }";
    let titles = |r: &Value, key: &str| -> Vec<String> {
        data(r)["myWork"]["nodes"].as_array().expect("nodes").iter().map(|n| n[key].to_string()).collect()
    };
    let r = app.gql(Some(&owner), q, json!({ "v": "OVERDUE" })).await;
    assert_eq!(titles(&r, "title"), ["\"late\""]);
    let r = app.gql(Some(&owner), q, json!({ "v": "DUE_SOON" })).await;
    assert_eq!(titles(&r, "title"), ["\"soon\""]);
    let r = app.gql(Some(&owner), q, json!({ "v": "BLOCKED" })).await;
    assert_eq!(titles(&r, "title"), ["\"later\"", "\"stuck\""]);
    assert_eq!(titles(&r, "isBlocked"), ["true", "true"]);
    let r = app.gql(Some(&owner), q, json!({ "v": "OPEN" })).await;
    assert_eq!(titles(&r, "title").len(), 4);
    data(&app.gql(Some(&owner), MOVE, json!({ "id": soon["id"], "s": "DONE", "v": 1 })).await);
    let r = app.gql(Some(&owner), q, json!({ "v": "BLOCKED" })).await;
    assert_eq!(titles(&r, "title"), ["\"stuck\""], "finishing the dependency unblocks");
    let r = app.gql(Some(&owner), q, json!({ "v": null })).await;
    assert_eq!(titles(&r, "title").len(), 4, "no view: every live task, done ones included");
    app.finish().await;
}

#[tokio::test]
async fn creates_are_idempotent() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@idem.example", "Idem Co").await;
    let (_, dev_id) = app.member(&owner, "dev@idem.example", "MEMBER").await;
    let p = project(&app, &owner, "IDEM").await;
    let t = task(&app, &owner, json!({ "projectId": p, "title": "t" })).await;
    for (q, input, path) in [
        (
            "mutation($i: CreateMilestoneInput!) { r: createMilestone(input: $i) { x: milestone { id } } }",
            json!({ "projectId": p, "name": "M", "idempotencyKey": "k" }),
            "milestone",
        ),
        (
            "mutation($i: RaiseRiskInput!) { r: raiseRisk(input: $i) { x: risk { id } } }",
            json!({ "projectId": p, "title": "R", "probability": 2, "impact": 2, "idempotencyKey": "k" }),
            "risk",
        ),
        (
            "mutation($i: AddChecklistItemInput!) { r: addChecklistItem(input: $i) { x: checklistItem { id } } }",
            json!({ "taskId": t["id"], "body": "b", "idempotencyKey": "k" }),
            "checklist",
        ),
        (
            "mutation($i: GiveKudosInput!) { r: giveKudos(input: $i) { x: kudos { id } } }",
            json!({ "toId": dev_id, "message": "m", "idempotencyKey": "k" }),
            "kudos",
        ),
        (
            "mutation($i: RequestTimeOffInput!) { r: requestTimeOff(input: $i) { x: timeOff { id } } }",
            json!({ "startDate": "2027-01-04", "endDate": "2027-01-05", "idempotencyKey": "k" }),
            "time off",
        ),
        (
            "mutation($i: AddCommentInput!) { r: addComment(input: $i) { x: comment { id } } }",
            json!({ "subjectId": t["id"], "body": "b", "idempotencyKey": "k" }),
            "comment",
        ),
    ] {
        let a = app.gql(Some(&owner), q, json!({ "i": input })).await;
        let b = app.gql(Some(&owner), q, json!({ "i": input })).await;
        assert_eq!(data(&a)["r"]["x"]["id"], data(&b)["r"]["x"]["id"], "{path}: a retry returns the first result");
        assert!(data(&a)["r"]["x"]["id"].is_string());
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM kudos").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM time_off").await, 1);
    let bad = app
        .gql(
            Some(&owner),
            "mutation($i: GiveKudosInput!) { giveKudos(input: $i) { kudos { id } } }",
            json!({ "i": { "toId": dev_id, "message": "m", "idempotencyKey": "" } }),
        )
        .await;
    assert_eq!(field(&bad), Some("idempotencyKey"));
    app.finish().await;
}
