//! Issue 9, authentication and correct answers: one winner per refresh token, API keys
//! and organisation headers, the signed-in user's e-mail, enum order by rank, strict
//! dates and time zones, argument names in errors.

use std::time::Duration;

use opsgraph_e2e::live::{Frame, open};
use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const REFRESH: &str =
    "mutation($t: String!) { refreshToken(input: { refreshToken: $t }) { accessToken refreshToken } }";

/// Item 8: eight concurrent exchanges of one refresh token: exactly one wins, and the
/// reuse revokes the family, the winner's new token included.
#[tokio::test]
async fn one_refresh_token_has_one_winner() {
    let app = TestApp::spawn().await;
    let (_, refresh) = app.sign_up("ada@example.com", "Race").await;
    let calls = (0..8).map(|_| app.gql(None, REFRESH, json!({ "t": refresh })));
    let results = futures_util::future::join_all(calls).await;
    let winners: Vec<&Value> =
        results.iter().filter(|r| r["data"]["refreshToken"]["accessToken"].is_string()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().filter(|r| code(r) == Some("UNAUTHENTICATED")).count() == 7);
    let forked = winners[0]["data"]["refreshToken"]["refreshToken"].as_str().unwrap_or_default().to_owned();
    let r = app.gql(None, REFRESH, json!({ "t": forked })).await;
    assert_eq!(code(&r), Some("UNAUTHENTICATED"), "the family is revoked: {r}");
    assert_eq!(app.count("SELECT count(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL").await, 0);
    app.finish().await;
}

/// Item 11: an API key naming another organisation is NOT_FOUND like a user token; keys
/// cannot create keys; a deactivated member's socket is refused (4403).
#[tokio::test]
async fn keys_headers_and_deactivated_members() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Keys").await;
    let (other, _) = app.sign_up("other@example.com", "Other").await;
    let other_org = data(&app.gql(Some(&other), "{ organization { id } }", json!({})).await)["organization"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let create = "mutation($s: ApiKeyScope!) { createApiKey(input: { name: \"ci\", scope: $s }) { secret } }";
    let key = data(&app.gql(Some(&owner), create, json!({ "s": "ADMIN" })).await)["createApiKey"]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::to_vec(&json!({ "query": "{ organization { name } }" })).unwrap_or_default();
    let (_, by_key) = app.post_raw(body.clone(), &[("x-api-key", &key), ("x-organization-id", &other_org)]).await;
    let bearer = format!("Bearer {owner}");
    let (_, by_user) = app.post_raw(body, &[("authorization", &bearer), ("x-organization-id", &other_org)]).await;
    assert_eq!(code(&by_key), Some("NOT_FOUND"), "{by_key}");
    assert_eq!(code(&by_key), code(&by_user));
    assert_eq!(by_key["errors"][0]["message"], by_user["errors"][0]["message"]);
    let q = serde_json::to_vec(&json!({ "query": create, "variables": { "s": "ADMIN" } })).unwrap_or_default();
    let (_, minted) = app.post_raw(q, &[("x-api-key", &key)]).await;
    assert_eq!(code(&minted), Some("FORBIDDEN"), "{minted}");
    assert_eq!(app.count("SELECT count(*) AS n FROM api_keys").await, 1);

    let (member, id) = app.member(&owner, "leaver@example.com", "MEMBER").await;
    let r = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { deactivateMember(input: { id: $id }) { membership { isActive } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&r)["deactivateMember"]["membership"]["isActive"], false);
    let mut ws = open(&app.base).await;
    ws.init(json!({ "Authorization": format!("Bearer {member}") })).await;
    match ws.recv(Duration::from_secs(10)).await {
        Frame::Closed(4403, _) => {}
        other => panic!("a deactivated member's init is refused with 4403, got {other:?}"),
    }
    app.finish().await;
}

/// Item 13: the signed-in user sees their own e-mail in `logIn`, as in `viewer`.
#[tokio::test]
async fn log_in_shows_the_users_own_email() {
    let app = TestApp::spawn().await;
    app.sign_up("ada@example.com", "Mail").await;
    let r = app
        .gql(
            None,
            "mutation($i: LogInInput!) { logIn(input: $i) { user { email } } }",
            json!({ "i": { "email": "ada@example.com", "password": opsgraph_e2e::PASSWORD } }),
        )
        .await;
    assert_eq!(data(&r)["logIn"]["user"]["email"], "ada@example.com", "{r}");
    app.finish().await;
}

/// Item 14: enums with an order sort by rank; due date sorts with undated tasks last, and
/// cursors page through ranked orders without gaps.
#[tokio::test]
async fn ranked_enums_and_due_dates_sort_by_meaning() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Ranks").await;
    let me =
        data(&app.gql(Some(&t), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]["id"]
            .clone();
    let p = data(
        &app.gql(
            Some(&t),
            "mutation { createProject(input: { key: \"RK\", name: \"Ranks\" }) { project { id } } }",
            json!({}),
        )
        .await,
    )["createProject"]["project"]["id"]
        .clone();
    let create = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }";
    for (title, priority, status, due) in [
        ("a", "MEDIUM", "IN_PROGRESS", Some("2026-03-01")),
        ("b", "URGENT", "BACKLOG", None),
        ("c", "LOW", "BLOCKED", Some("2026-01-15")),
        ("d", "HIGH", "TODO", Some("2026-02-01")),
    ] {
        let i = json!({ "projectId": p, "title": title, "priority": priority, "status": status, "dueDate": due, "assigneeId": me });
        data(&app.gql(Some(&t), create, json!({ "i": i })).await);
    }
    let titles = |r: &Value| -> Vec<String> {
        r["data"]["myWork"]["nodes"]
            .as_array()
            .map(|n| n.iter().map(|x| x["title"].as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    };
    let q = "query($o: [TaskOrder!]) { myWork(orderBy: $o, first: 10) { nodes { title } } }";
    let by = |f: &str, d: &str| json!({ "o": [{ "field": f, "direction": d }] });
    assert_eq!(titles(&app.gql(Some(&t), q, by("PRIORITY", "DESC")).await), ["b", "d", "a", "c"]);
    assert_eq!(titles(&app.gql(Some(&t), q, by("PRIORITY", "ASC")).await), ["c", "a", "d", "b"]);
    assert_eq!(titles(&app.gql(Some(&t), q, by("STATUS", "ASC")).await), ["b", "d", "a", "c"]);
    assert_eq!(titles(&app.gql(Some(&t), q, by("DUE_DATE", "ASC")).await), ["c", "d", "a", "b"]);
    // Page by two through the ranked order: same sequence, no gap, no repeat.
    let paged = "query($o: [TaskOrder!], $a: String) { myWork(orderBy: $o, first: 2, after: $a) { nodes { title } pageInfo { endCursor } } }";
    let mut seen = vec![];
    let mut after = Value::Null;
    for _ in 0..2 {
        let r =
            app.gql(Some(&t), paged, json!({ "o": [{ "field": "PRIORITY", "direction": "DESC" }], "a": after })).await;
        seen.extend(titles(&r));
        after = r["data"]["myWork"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["b", "d", "a", "c"]);
    app.finish().await;
}

/// Item 17: strict ISO dates in a sane range, IANA time zones, argument names in errors.
#[tokio::test]
async fn dates_time_zones_and_argument_names_are_validated() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Calendar").await;
    let p = data(
        &app.gql(
            Some(&t),
            "mutation { createProject(input: { key: \"CAL\", name: \"Cal\" }) { project { id } } }",
            json!({}),
        )
        .await,
    )["createProject"]["project"]["id"]
        .clone();
    let create = "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }";
    for bad in ["0000-01-01", "0001-01-01", "2026-1-1", "2026-02-30", "99999-01-01"] {
        let r = app.gql(Some(&t), create, json!({ "i": { "projectId": p, "title": "x", "dueDate": bad } })).await;
        assert!(r["errors"].is_array() && r["data"]["createTask"].is_null(), "{bad}: {r}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 0);
    let upd = "mutation($tz: String!, $v: Int!) { updateOrganization(input: { expectedVersion: $v, timezone: $tz }) { organization { timezone version } } }";
    let v =
        data(&app.gql(Some(&t), "{ organization { version } }", json!({})).await)["organization"]["version"].clone();
    let r = app.gql(Some(&t), upd, json!({ "tz": "Mars/Olympus", "v": v })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("timezone")), "{r}");
    let r = app.gql(Some(&t), upd, json!({ "tz": "europe/berlin", "v": v })).await;
    assert_eq!(data(&r)["updateOrganization"]["organization"]["timezone"], "Europe/Berlin", "{r}");
    let r = app.gql(Some(&t), "{ node(id: \"123\") { id } }", json!({})).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("id")), "{r}");
    app.finish().await;
}

async fn create(app: &TestApp, token: &str, q: &str, vars: Value) -> Value {
    let r = app.gql(Some(token), q, vars).await;
    let obj = data(&r).as_object().and_then(|o| o.values().next().cloned()).unwrap_or(Value::Null);
    obj.as_object().and_then(|o| o.values().next().cloned()).map(|n| n["id"].clone()).unwrap_or(Value::Null)
}

/// Item 16: a CLIENT staffed on a project reads it (with its client-visible tasks and its
/// milestones), read-only, nothing else — in guards and in the database. (A CLIENT linked
/// to an account through a contact reads that account's projects: `portal.rs`.)
#[tokio::test]
async fn a_client_sees_only_their_projects() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Agency").await;
    let (client, client_member) = app.member(&owner, "buyer@client.example", "CLIENT").await;
    let project = "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }";
    let mine = create(&app, &owner, project, json!({ "k": "MINE" })).await;
    let theirs = create(&app, &owner, project, json!({ "k": "OTHER" })).await;
    let staff = "mutation($p: ID!, $m: ID!) { addProjectMember(input: { projectId: $p, membershipId: $m }) { projectMember { id } } }";
    data(&app.gql(Some(&owner), staff, json!({ "p": mine, "m": client_member })).await);
    let task = "mutation($p: ID!, $t: String!) { createTask(input: { projectId: $p, title: $t, clientVisible: true }) { task { id } } }";
    let visible = create(&app, &owner, task, json!({ "p": mine, "t": "Visible" })).await;
    let internal = "mutation($p: ID!) { createTask(input: { projectId: $p, title: \"Internal\" }) { task { id } } }";
    let internal = create(&app, &owner, internal, json!({ "p": mine })).await;
    let hidden = create(&app, &owner, task, json!({ "p": theirs, "t": "Hidden" })).await;
    let risk = "mutation($p: ID!) { raiseRisk(input: { projectId: $p, title: \"Internal\", probability: 3, impact: 3 }) { risk { id } } }";
    data(&app.gql(Some(&owner), risk, json!({ "p": mine })).await);

    let r = app
        .gql(
            Some(&client),
            "{ organization { projects { nodes { key tasks { nodes { title } } risks { totalCount } } } } }",
            json!({}),
        )
        .await;
    let nodes = data(&r)["organization"]["projects"]["nodes"].clone();
    assert_eq!(nodes.as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(nodes[0]["key"], "MINE");
    assert_eq!(nodes[0]["tasks"]["nodes"], json!([{ "title": "Visible" }]));
    assert_eq!(nodes[0]["risks"]["totalCount"], 0, "the risk register is internal: {r}");
    let node = "query($id: ID!) { node(id: $id) { id } }";
    assert_eq!(data(&app.gql(Some(&client), node, json!({ "id": visible })).await)["node"]["id"], visible);
    for other in [&theirs, &hidden, &internal] {
        assert_eq!(code(&app.gql(Some(&client), node, json!({ "id": other })).await), Some("NOT_FOUND"));
    }
    for q in ["{ organization { members { totalCount } } }", "{ myWork { totalCount } }"] {
        assert_eq!(code(&app.gql(Some(&client), q, json!({})).await), Some("FORBIDDEN"), "{q}");
    }
    let r = app.gql(Some(&client), task, json!({ "p": mine, "t": "Sneaky" })).await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "read-only: {r}");
    // The database itself: unfiltered counts in a CLIENT request transaction.
    let tables = ["projects", "tasks", "risks", "memberships", "audit_log"];
    let counts = app.counts_as_client(&client_member, &tables).await;
    let expected: Vec<(String, i64)> = tables.iter().zip([1, 1, 0, 1, 0]).map(|(t, n)| ((*t).to_owned(), n)).collect();
    assert_eq!(counts, expected);
    app.finish().await;
}

/// Item 15: a deleted project's tasks leave every list (my work, the assignee's tasks,
/// counts) and come back on restore; a task deleted on its own stays deleted.
#[tokio::test]
async fn deleted_projects_take_their_tasks_along() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Deleted").await;
    let me =
        data(&app.gql(Some(&t), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]["id"]
            .clone();
    let project = "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }";
    let p = create(&app, &t, project, json!({ "k": "GONE" })).await;
    let task = "mutation($p: ID!, $t: String!, $a: ID) { createTask(input: { projectId: $p, title: $t, assigneeId: $a }) { task { id } } }";
    create(&app, &t, task, json!({ "p": p, "t": "one", "a": me })).await;
    let alone = create(&app, &t, task, json!({ "p": p, "t": "deleted alone", "a": me })).await;
    let del_task = "mutation($id: ID!) { deleteTask(input: { id: $id }) { task { isDeleted } } }";
    data(&app.gql(Some(&t), del_task, json!({ "id": alone })).await);
    let count =
        "query($m: ID!) { myWork { totalCount } node(id: $m) { ... on Membership { assignedTasks { totalCount } } } }";
    let counts = |r: &Value| {
        (r["data"]["myWork"]["totalCount"].clone(), r["data"]["node"]["assignedTasks"]["totalCount"].clone())
    };
    assert_eq!(counts(&app.gql(Some(&t), count, json!({ "m": me })).await), (json!(1), json!(1)));
    let del = "mutation($id: ID!) { deleteProject(input: { id: $id }) { project { isDeleted } } }";
    data(&app.gql(Some(&t), del, json!({ "id": p })).await);
    assert_eq!(counts(&app.gql(Some(&t), count, json!({ "m": me })).await), (json!(0), json!(0)));
    let restore = "mutation($id: ID!) { restoreProject(input: { id: $id }) { project { isDeleted } } }";
    data(&app.gql(Some(&t), restore, json!({ "id": p })).await);
    assert_eq!(
        counts(&app.gql(Some(&t), count, json!({ "m": me })).await),
        (json!(1), json!(1)),
        "the task deleted alone stays deleted"
    );
    app.finish().await;
}
