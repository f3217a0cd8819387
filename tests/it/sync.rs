//! Sync with outside systems: external references on any node, upsert by reference (one
//! and bulk), the change feed, and project deadlines.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const SET_REF: &str = "mutation($i: SetExternalRefInput!) { setExternalRef(input: $i) { node { id ... on Project { externalRefs { system externalId } } } } }";
const BY_REF: &str = "query($s: String!, $e: String!, $t: String!) { nodeByExternalRef(system: $s, externalId: $e, type: $t) { id ... on Project { key externalRefs { system externalId } } } }";
const UPSERT_TASK: &str = "mutation($i: UpsertTaskInput!) { upsertTask(input: $i) { status task { id title version dueDate status externalRefs { system externalId } } } }";
const UPSERT_TASKS: &str = "mutation($i: UpsertTasksInput!) { upsertTasks(input: $i) { created updated unchanged failed results { index status task { title } error { code field message } } } }";
const CHANGES: &str = "query($s: EventSeq, $t: [String!], $f: Int) { changes(since: $s, types: $t, first: $f) { cursor hasMore changes { seq kind type id node { id } } } }";

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

fn by_ref(system: &str, ext: &str, ty: &str) -> Value {
    json!({ "s": system, "e": ext, "t": ty })
}

#[tokio::test]
async fn external_refs_resolve_in_their_own_tenant_only() {
    let app = TestApp::spawn().await;
    let (a, _) = app.sign_up("a@example.com", "Alpha").await;
    let (b, _) = app.sign_up("b@example.com", "Beta").await;
    let pa = project(&app, &a, "ALPHA").await;
    let pa2 = project(&app, &a, "ALPHA2").await;
    let pb = project(&app, &b, "BETA").await;

    let set = |node: &str, ext: Option<&str>| json!({ "i": { "nodeId": node, "system": "Perfex", "externalId": ext } });
    let r = app.gql(Some(&a), SET_REF, set(&pa, Some("42"))).await;
    assert_eq!(data(&r)["setExternalRef"]["node"]["externalRefs"], json!([{ "system": "perfex", "externalId": "42" }]));
    let found = app.gql(Some(&a), BY_REF, by_ref("perfex", "42", "Project")).await;
    assert_eq!(data(&found)["nodeByExternalRef"]["key"], "ALPHA");
    // The same id in the same system may name a node of another type (not this project).
    assert_eq!(
        data(&app.gql(Some(&a), BY_REF, by_ref("perfex", "42", "Task")).await)["nodeByExternalRef"],
        Value::Null
    );

    // Another tenant sees nothing of it, and may use the same reference for its own node.
    assert_eq!(
        data(&app.gql(Some(&b), BY_REF, by_ref("perfex", "42", "Project")).await)["nodeByExternalRef"],
        Value::Null
    );
    data(&app.gql(Some(&b), SET_REF, set(&pb, Some("42"))).await);
    assert_eq!(
        data(&app.gql(Some(&b), BY_REF, by_ref("perfex", "42", "Project")).await)["nodeByExternalRef"]["key"],
        "BETA"
    );
    assert_eq!(
        data(&app.gql(Some(&a), BY_REF, by_ref("perfex", "42", "Project")).await)["nodeByExternalRef"]["key"],
        "ALPHA"
    );
    // ...but cannot reach the other tenant's node.
    assert_eq!(code(&app.gql(Some(&b), SET_REF, set(&pa, Some("7"))).await), Some("NOT_FOUND"));

    // Within a tenant a reference names one node; a node has one id per system.
    assert_eq!(code(&app.gql(Some(&a), SET_REF, set(&pa2, Some("42"))).await), Some("CONFLICT"));
    data(&app.gql(Some(&a), SET_REF, set(&pa, Some("43"))).await);
    assert_eq!(
        data(&app.gql(Some(&a), BY_REF, by_ref("perfex", "42", "Project")).await)["nodeByExternalRef"],
        Value::Null
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM external_refs").await, 2);

    // Removing, bad input, and who may do it.
    data(&app.gql(Some(&a), SET_REF, set(&pa, None)).await);
    assert_eq!(
        data(&app.gql(Some(&a), BY_REF, by_ref("perfex", "43", "Project")).await)["nodeByExternalRef"],
        Value::Null
    );
    let bad =
        app.gql(Some(&a), SET_REF, json!({ "i": { "nodeId": pa, "system": "no spaces", "externalId": "1" } })).await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("system")));
    let bad_type = app.gql(Some(&a), BY_REF, by_ref("perfex", "1", "Nope")).await;
    assert_eq!((code(&bad_type), field(&bad_type)), (Some("BAD_USER_INPUT"), Some("type")));
    let (member, _) = app.member(&a, "m@example.com", "MEMBER").await;
    assert_eq!(code(&app.gql(Some(&member), SET_REF, set(&pa, Some("9"))).await), Some("FORBIDDEN"));
    assert_eq!(code(&app.gql(Some(&member), BY_REF, by_ref("perfex", "42", "Project")).await), Some("FORBIDDEN"));
    app.finish().await;
}

#[tokio::test]
async fn upsert_creates_then_updates_then_changes_nothing() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Sync Co").await;
    let p = project(&app, &owner, "SYNC").await;
    let r#ref = json!({ "system": "jira", "externalId": "SYNC-1" });

    let missing = app.gql(Some(&owner), UPSERT_TASK, json!({ "i": { "externalRef": r#ref, "projectId": p } })).await;
    assert_eq!((code(&missing), field(&missing)), (Some("BAD_USER_INPUT"), Some("title")));
    let stale_create = app
        .gql(
            Some(&owner),
            UPSERT_TASK,
            json!({ "i": { "externalRef": r#ref, "projectId": p, "title": "x", "expectedVersion": 3 } }),
        )
        .await;
    assert_eq!(code(&stale_create), Some("CONFLICT"));

    let first = json!({ "i": { "externalRef": r#ref, "projectId": p, "title": "Imported", "dueDate": "2027-01-15" } });
    let created = app.gql(Some(&owner), UPSERT_TASK, first).await;
    let c = &data(&created)["upsertTask"];
    assert_eq!((c["status"].as_str(), c["task"]["version"].as_i64()), (Some("CREATED"), Some(1)));
    assert_eq!(c["task"]["externalRefs"], json!([{ "system": "jira", "externalId": "SYNC-1" }]));
    let id = c["task"]["id"].as_str().expect("id").to_owned();

    // An update: given fields change, absent ones stay, null clears; status moves by the workflow.
    let change = json!({ "i": { "externalRef": r#ref, "title": "Renamed", "dueDate": null, "status": "IN_PROGRESS" } });
    let updated = app.gql(Some(&owner), UPSERT_TASK, change.clone()).await;
    let u = &data(&updated)["upsertTask"];
    assert_eq!(u["status"], "UPDATED");
    assert_eq!((u["task"]["id"].as_str(), u["task"]["title"].as_str()), (Some(id.as_str()), Some("Renamed")));
    assert_eq!((u["task"]["dueDate"].clone(), u["task"]["status"].as_str()), (Value::Null, Some("IN_PROGRESS")));
    let version = u["task"]["version"].as_i64().expect("version");

    // A retry changes nothing: no version bump, no audit row, no event.
    let audits = app.count("SELECT count(*) AS n FROM audit_log WHERE entity_type = 'Task'").await;
    let events = app.count("SELECT count(*) AS n FROM domain_events WHERE subject_type = 'Task'").await;
    let again = app.gql(Some(&owner), UPSERT_TASK, change).await;
    assert_eq!(data(&again)["upsertTask"]["status"], "UNCHANGED");
    assert_eq!(data(&again)["upsertTask"]["task"]["version"].as_i64(), Some(version));
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_log WHERE entity_type = 'Task'").await, audits);
    assert_eq!(app.count("SELECT count(*) AS n FROM domain_events WHERE subject_type = 'Task'").await, events);
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 1);

    // expectedVersion is honoured; create-only fields cannot change.
    let stale = app
        .gql(Some(&owner), UPSERT_TASK, json!({ "i": { "externalRef": r#ref, "title": "B", "expectedVersion": 1 } }))
        .await;
    assert_eq!(code(&stale), Some("CONFLICT"));
    let other = project(&app, &owner, "OTHER").await;
    let moved = app.gql(Some(&owner), UPSERT_TASK, json!({ "i": { "externalRef": r#ref, "projectId": other } })).await;
    assert_eq!((code(&moved), field(&moved)), (Some("BAD_USER_INPUT"), Some("projectId")));

    // A deleted node's reference makes a new node.
    data(
        &app.gql(
            Some(&owner),
            "mutation($id: ID!) { deleteTask(input: { id: $id }) { task { id } } }",
            json!({ "id": id }),
        )
        .await,
    );
    let deleted_ref = json!({ "i": { "externalRef": r#ref, "projectId": p, "title": "Back" } });
    let recreated = app.gql(Some(&owner), UPSERT_TASK, deleted_ref).await;
    let rc = &data(&recreated)["upsertTask"];
    assert_eq!(rc["status"], "CREATED");
    assert_ne!(rc["task"]["id"].as_str(), Some(id.as_str()));

    // Members, teams, projects and time entries upsert the same way.
    let m = app
        .gql(
            Some(&owner),
            "mutation($i: UpsertMembershipInput!) { upsertMembership(input: $i) { status membership { role jobTitle } } }",
            json!({ "i": { "externalRef": { "system": "bamboohr", "externalId": "E-7" }, "email": "new@example.com", "role": "MEMBER", "jobTitle": "Analyst" } }),
        )
        .await;
    assert_eq!(
        data(&m)["upsertMembership"],
        json!({ "status": "CREATED", "membership": { "role": "MEMBER", "jobTitle": "Analyst" } })
    );
    let invited = app
        .count(
            "SELECT count(*) AS n FROM outbound_emails WHERE to_address = 'new@example.com' AND kind = 'member.invite'",
        )
        .await;
    assert_eq!(invited, 1, "an upserted member is invited by e-mail");
    let m2 = app
        .gql(
            Some(&owner),
            "mutation($i: UpsertMembershipInput!) { upsertMembership(input: $i) { status membership { role jobTitle isActive } } }",
            json!({ "i": { "externalRef": { "system": "bamboohr", "externalId": "E-7" }, "role": "MANAGER", "isActive": false } }),
        )
        .await;
    assert_eq!(
        data(&m2)["upsertMembership"],
        json!({ "status": "UPDATED", "membership": { "role": "MANAGER", "jobTitle": "Analyst", "isActive": false } })
    );
    let t = app
        .gql(
            Some(&owner),
            "mutation($i: UpsertTeamInput!) { upsertTeam(input: $i) { status team { name } } }",
            json!({ "i": { "externalRef": { "system": "okta", "externalId": "grp-1" }, "name": "Data" } }),
        )
        .await;
    assert_eq!(data(&t)["upsertTeam"]["status"], "CREATED");
    let pr = app
        .gql(
            Some(&owner),
            "mutation($i: UpsertProjectInput!) { upsertProject(input: $i) { status project { key deadline } } }",
            json!({ "i": { "externalRef": { "system": "perfex", "externalId": "9" }, "key": "PX", "name": "Perfex 9", "deadline": "2027-03-01" } }),
        )
        .await;
    assert_eq!(
        data(&pr)["upsertProject"],
        json!({ "status": "CREATED", "project": { "key": "PX", "deadline": "2027-03-01" } })
    );
    let te = app
        .gql(
            Some(&owner),
            "mutation($i: UpsertTimeEntryInput!) { upsertTimeEntry(input: $i) { status timeEntry { hours } } }",
            json!({ "i": { "externalRef": { "system": "harvest", "externalId": "h1" }, "projectId": p, "date": "2026-11-02", "hours": "2.5" } }),
        )
        .await;
    assert_eq!(data(&te)["upsertTimeEntry"]["status"], "CREATED");
    app.finish().await;
}

#[tokio::test]
async fn concurrent_upserts_of_one_reference_make_one_row() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Race Co").await;
    let q = "mutation($i: UpsertProjectInput!) { upsertProject(input: $i) { status project { id } } }";
    let calls = (0..8).map(|i| {
        let vars = json!({ "i": { "externalRef": { "system": "crm", "externalId": "P-1" }, "key": "RACE", "name": format!("Race {i}") } });
        let (app, owner) = (&app, &owner);
        async move { app.gql(Some(owner), q, vars).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let mut statuses: Vec<String> =
        results.iter().map(|r| data(r)["upsertProject"]["status"].as_str().expect("status").to_owned()).collect();
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| *s == "CREATED").count(), 1, "{statuses:?}");
    let ids: std::collections::HashSet<_> =
        results.iter().map(|r| data(r)["upsertProject"]["project"]["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM projects WHERE key = 'RACE'").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM external_refs").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn bulk_upsert_with_a_bad_item_in_both_modes() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Bulk Co").await;
    let p = project(&app, &owner, "BULK").await;
    let items = |bad: usize| -> Vec<Value> {
        (0..5)
            .map(|i| {
                let r = json!({ "system": "csv", "externalId": format!("row-{i}") });
                if i == bad {
                    json!({ "externalRef": r, "projectId": p })
                } else {
                    json!({ "externalRef": r, "projectId": p, "title": format!("Row {i}") })
                }
            })
            .collect()
    };

    // All or nothing by default: the bad item fails the call, nothing is written.
    let all = app.gql(Some(&owner), UPSERT_TASKS, json!({ "i": { "items": items(3) } })).await;
    assert_eq!((code(&all), field(&all)), (Some("BAD_USER_INPUT"), Some("items[3].title")));
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM external_refs").await, 0);

    // Partial: the bad item alone is rolled back and reported.
    let some = app.gql(Some(&owner), UPSERT_TASKS, json!({ "i": { "items": items(3), "partial": true } })).await;
    let s = &data(&some)["upsertTasks"];
    assert_eq!((s["created"].as_i64(), s["failed"].as_i64()), (Some(4), Some(1)));
    assert_eq!(s["results"][3]["status"], Value::Null);
    assert_eq!(s["results"][3]["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(s["results"][3]["error"]["field"], "items[3].title");
    assert_eq!(
        s["results"][4],
        json!({ "index": 4, "status": "CREATED", "task": { "title": "Row 4" }, "error": null })
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 4);
    assert_eq!(app.count("SELECT count(*) AS n FROM external_refs").await, 4);

    // Again with the fixed item: four unchanged, one created.
    let fixed = app.gql(Some(&owner), UPSERT_TASKS, json!({ "i": { "items": items(9) } })).await;
    let f = &data(&fixed)["upsertTasks"];
    assert_eq!((f["created"].as_i64(), f["unchanged"].as_i64(), f["updated"].as_i64()), (Some(1), Some(4), Some(0)));
    assert_eq!(app.count("SELECT count(*) AS n FROM tasks").await, 5);

    // A bad reference in partial mode fails its item; too many items fail the call.
    let mut odd = items(9);
    odd[1]["externalRef"]["system"] = json!("bad system");
    let r = app.gql(Some(&owner), UPSERT_TASKS, json!({ "i": { "items": odd, "partial": true } })).await;
    assert_eq!(data(&r)["upsertTasks"]["results"][1]["error"]["field"], "items[1].externalRef.system");
    let many: Vec<Value> =
        (0..501).map(|i| json!({ "externalRef": { "system": "csv", "externalId": format!("x{i}") } })).collect();
    let too_many = app.gql(Some(&owner), UPSERT_TASKS, json!({ "i": { "items": many } })).await;
    assert_eq!((code(&too_many), field(&too_many)), (Some("BAD_USER_INPUT"), Some("items")));
    app.finish().await;
}

async fn all_changes(app: &TestApp, token: &str, since: &str, types: Value) -> (Vec<Value>, String) {
    let (mut seen, mut cursor) = (vec![], since.to_owned());
    loop {
        let r = app.gql(Some(token), CHANGES, json!({ "s": cursor, "t": types, "f": 2 })).await;
        let page = &data(&r)["changes"];
        seen.extend(page["changes"].as_array().expect("changes").iter().cloned());
        cursor = page["cursor"].as_str().expect("cursor").to_owned();
        if page["hasMore"] != true {
            return (seen, cursor);
        }
    }
}

#[tokio::test]
async fn changes_resume_from_a_cursor_and_see_every_change_once() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Feed Co").await;
    let (other, _) = app.sign_up("x@example.com", "Other Co").await;
    let p = project(&app, &owner, "FEED").await;
    let start =
        data(&app.gql(Some(&owner), CHANGES, json!({})).await)["changes"]["cursor"].as_str().expect("c").to_owned();

    let up = |title: &str| json!({ "i": { "externalRef": { "system": "s", "externalId": "1" }, "projectId": p, "title": title } });
    data(&app.gql(Some(&owner), UPSERT_TASK, up("One")).await);
    data(&app.gql(Some(&owner), UPSERT_TASK, up("Two")).await);
    data(&app.gql(Some(&owner), UPSERT_TASK, up("Two")).await);
    data(
        &app.gql(Some(&owner), "mutation { createTeam(input: { name: \"Feeders\" }) { team { id } } }", json!({}))
            .await,
    );
    data(
        &app.gql(Some(&other), "mutation { createTeam(input: { name: \"Not mine\" }) { team { id } } }", json!({}))
            .await,
    );

    let (tasks, cursor) = all_changes(&app, &owner, &start, json!(["Task"])).await;
    let kinds: Vec<&str> = tasks.iter().map(|c| c["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, ["task.created", "task.updated"], "the unchanged retry is not a change");
    assert!(tasks.iter().all(|c| c["node"]["id"] == c["id"]));
    let seqs: Vec<i64> = tasks.iter().map(|c| c["seq"].as_str().expect("s").parse().expect("n")).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    let (teams, _) = all_changes(&app, &owner, &start, json!(["Team"])).await;
    assert_eq!(teams.len(), 1, "only this tenant's team: {teams:?}");
    assert_eq!(teams[0]["kind"], "team.created");

    // Resuming from the cursor sees only what happened after it, once.
    let (none, same) = all_changes(&app, &owner, &cursor, json!(["Task"])).await;
    assert!(none.is_empty());
    assert_eq!(same, cursor);
    data(&app.gql(Some(&owner), UPSERT_TASK, up("Three")).await);
    let (next, _) = all_changes(&app, &owner, &cursor, json!(["Task"])).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0]["kind"], "task.updated");

    let future = app.gql(Some(&owner), CHANGES, json!({ "s": "999999" })).await;
    assert_eq!((code(&future), field(&future)), (Some("BAD_USER_INPUT"), Some("since")));
    let bad_type = app.gql(Some(&owner), CHANGES, json!({ "t": ["Nope"] })).await;
    assert_eq!((code(&bad_type), field(&bad_type)), (Some("BAD_USER_INPUT"), Some("types[0]")));
    let big = app.gql(Some(&owner), CHANGES, json!({ "f": 5000 })).await;
    assert_eq!(field(&big), Some("first"));
    app.finish().await;
}

#[tokio::test]
async fn projects_due_in_the_next_30_days_soonest_first() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Due Co").await;
    let today = chrono::Utc::now().date_naive();
    let day = |n: u64| (today + chrono::Days::new(n)).to_string();
    let create = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id deadline } } }";
    for (key, deadline) in [("LATE", Some(day(40))), ("SOON", Some(day(5))), ("MID", Some(day(20))), ("NONE", None)] {
        let r = app.gql(Some(&owner), create, json!({ "i": { "key": key, "name": key, "deadline": deadline } })).await;
        assert_eq!(data(&r)["createProject"]["project"]["deadline"], json!(deadline));
    }
    let q = "query($from: Date!, $to: Date!) { organization { projects(filter: { deadline: { gte: $from, lte: $to } }, orderBy: [{ field: DEADLINE }]) { nodes { key deadline } } } }";
    let due = app.gql(Some(&owner), q, json!({ "from": day(0), "to": day(30) })).await;
    assert_eq!(
        data(&due)["organization"]["projects"]["nodes"],
        json!([{ "key": "SOON", "deadline": day(5) }, { "key": "MID", "deadline": day(20) }])
    );
    // Ordered by deadline, projects without one come last.
    let all = app
        .gql(Some(&owner), "{ organization { projects(orderBy: [{ field: DEADLINE }]) { nodes { key } } } }", json!({}))
        .await;
    let keys: Vec<&str> = data(&all)["organization"]["projects"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["key"].as_str().expect("k"))
        .collect();
    assert_eq!(keys, ["SOON", "MID", "LATE", "NONE"]);

    // Set, clear, and checked against the start date.
    let r = app
        .gql(
            Some(&owner),
            create,
            json!({ "i": { "key": "EARLY", "name": "E", "startDate": day(10), "deadline": day(1) } }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("deadline")));
    let id = data(&app.gql(Some(&owner), create, json!({ "i": { "key": "UPD", "name": "U" } })).await)["createProject"]
        ["project"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let update = "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { deadline version } } }";
    let set =
        app.gql(Some(&owner), update, json!({ "i": { "id": id, "expectedVersion": 1, "deadline": day(3) } })).await;
    assert_eq!(data(&set)["updateProject"]["project"], json!({ "deadline": day(3), "version": 2 }));
    let cleared =
        app.gql(Some(&owner), update, json!({ "i": { "id": id, "expectedVersion": 2, "deadline": null } })).await;
    assert_eq!(data(&cleared)["updateProject"]["project"], json!({ "deadline": null, "version": 3 }));
    app.finish().await;
}

#[tokio::test]
async fn refs_and_the_feed_load_in_constant_statements() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Count Co").await;
    let statements = |r: &Value| r["extensions"]["sqlStatements"].as_u64().expect("sqlStatements");
    let refs =
        "query($n: Int!) { organization { projects(first: $n) { nodes { key externalRefs { system externalId } } } } }";
    let feed = "query($n: Int!) { changes(types: [\"Project\"], first: $n) { changes { node { id ... on Project { key externalRefs { externalId } } } } } }";
    let mut counts = vec![];
    for n in [2, 12] {
        while app.count("SELECT count(*) AS n FROM projects").await < n {
            let i = app.count("SELECT count(*) AS n FROM projects").await;
            let up = json!({ "i": { "externalRef": { "system": "crm", "externalId": format!("p{i}") }, "key": format!("K{i}"), "name": "P" } });
            data(
                &app.gql(Some(&owner), "mutation($i: UpsertProjectInput!) { upsertProject(input: $i) { status } }", up)
                    .await,
            );
        }
        let r = app.gql(Some(&owner), refs, json!({ "n": n })).await;
        assert_eq!(data(&r)["organization"]["projects"]["nodes"].as_array().map(Vec::len), Some(n as usize));
        let f = app.gql(Some(&owner), feed, json!({ "n": n })).await;
        assert_eq!(data(&f)["changes"]["changes"].as_array().map(Vec::len), Some(n as usize));
        counts.push((statements(&r), statements(&f)));
    }
    assert_eq!(counts[0], counts[1], "statements grow with the number of nodes: {counts:?}");
    app.finish().await;
}
