//! Aggregates and group-by on lists: measures under the list's filter, groups in enum rank
//! order, date buckets, global-ID keys, one statement per level.

use opsgraph_e2e::{TestApp, code, data, field, portfolio};
use serde_json::{Value, json};

async fn project_with_tasks(app: &TestApp, token: &str) -> String {
    let r = app
        .gql(
            Some(token),
            "mutation { createProject(input: { key: \"AGG\", name: \"Agg\" }) { project { id } } }",
            json!({}),
        )
        .await;
    let p = data(&r)["createProject"]["project"]["id"].as_str().expect("project").to_owned();
    let me =
        data(&app.gql(Some(token), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]["id"]
            .clone();
    for (status, est, due) in [
        ("TODO", Some("1"), Some("2026-03-05")),
        ("TODO", Some("2"), Some("2026-03-20")),
        ("IN_PROGRESS", Some("3"), Some("2026-04-02")),
        ("BLOCKED", None, None),
    ] {
        let input = json!({ "projectId": p, "title": status, "status": status, "estimateHours": est, "dueDate": due, "assigneeId": me });
        let r = app
            .gql(
                Some(token),
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
                json!({ "i": input }),
            )
            .await;
        data(&r);
    }
    p
}

fn groups(v: &Value) -> Vec<(String, i64)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|g| (g["key"].as_str().unwrap_or("null").to_owned(), g["count"].as_i64().unwrap_or(-1)))
        .collect()
}

#[tokio::test]
async fn task_aggregates_follow_filter_rank_and_buckets() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("agg@example.com", "Agg Co").await;
    let p = project_with_tasks(&app, &owner).await;
    let q = "query($p: ID!) { node(id: $p) { ... on Project {
        all: tasks { aggregate { count sum { estimateHours loggedHours } avg { estimateHours } min { estimateHours } max { estimateHours } } }
        todo: tasks(filter: { status: { eq: TODO } }) { aggregate { count sum { estimateHours } } }
        byStatus: tasks { groupBy(field: STATUS) { key count sum { estimateHours } } }
        byMonth: tasks { groupBy(field: DUE_DATE, bucket: MONTH) { key count } }
        byAssignee: tasks { groupBy(field: ASSIGNEE) { key count } }
        taskStats { status count estimateHours }
    } } }";
    let r = app.gql(Some(&owner), q, json!({ "p": p })).await;
    let n = &data(&r)["node"];
    let all = &n["all"]["aggregate"];
    assert_eq!(all["count"], 4);
    assert_eq!(all["sum"], json!({ "estimateHours": "6", "loggedHours": "0" }));
    assert_eq!(
        (&all["avg"]["estimateHours"], &all["min"]["estimateHours"], &all["max"]["estimateHours"]),
        (&json!("2"), &json!("1"), &json!("3"))
    );
    assert_eq!(n["todo"]["aggregate"], json!({ "count": 2, "sum": { "estimateHours": "3" } }));
    // Rank order (TODO < IN_PROGRESS < BLOCKED), not the alphabet.
    assert_eq!(
        groups(&n["byStatus"]["groupBy"]),
        vec![("TODO".into(), 2), ("IN_PROGRESS".into(), 1), ("BLOCKED".into(), 1)]
    );
    assert_eq!(n["byStatus"]["groupBy"][2]["sum"]["estimateHours"], Value::Null);
    assert_eq!(
        groups(&n["byMonth"]["groupBy"]),
        vec![("2026-03-01".into(), 2), ("2026-04-01".into(), 1), ("null".into(), 1)]
    );
    let by_assignee = groups(&n["byAssignee"]["groupBy"]);
    assert_eq!(by_assignee.len(), 1);
    assert!(by_assignee[0].0.len() > 20 && by_assignee[0].1 == 4, "{by_assignee:?}");
    let member = app
        .gql(Some(&owner), "query($id: ID!) { node(id: $id) { __typename } }", json!({ "id": by_assignee[0].0 }))
        .await;
    assert_eq!(data(&member)["node"]["__typename"], "Membership");
    // taskStats is the same grouping.
    assert_eq!(n["taskStats"][0], json!({ "status": "TODO", "count": 2, "estimateHours": "3.00" }));

    let bad = app
        .gql(Some(&owner), "query($p: ID!) { node(id: $p) { ... on Project { tasks { groupBy(field: STATUS, bucket: WEEK) { key } } } } }", json!({ "p": p }))
        .await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("bucket")));
    app.finish().await;
}

#[tokio::test]
async fn hours_by_week_and_members_by_role() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("hours@example.com", "Hours Co").await;
    app.member(&owner, "m1@example.com", "MEMBER").await;
    app.member(&owner, "m2@example.com", "VIEWER").await;
    let p = project_with_tasks(&app, &owner).await;
    for (date, hours) in [("2026-03-02", "2"), ("2026-03-04", "1.5"), ("2026-03-10", "4")] {
        let r = app
            .gql(Some(&owner), "mutation($p: ID!, $d: Date!, $h: Decimal!) { logTime(input: { projectId: $p, date: $d, hours: $h }) { timeEntry { id } } }", json!({ "p": p, "d": date, "h": hours }))
            .await;
        data(&r);
    }
    let q = "query($p: ID!) {
        node(id: $p) { ... on Project { timeEntries { byWeek: groupBy(field: DATE, bucket: WEEK) { key count sum { hours } }
                                                      byMember: groupBy(field: MEMBER) { count sum { hours } }
                                                      aggregate { sum { hours } } } } }
        organization { members { groupBy(field: ROLE) { key count } } } }";
    let r = app.gql(Some(&owner), q, json!({ "p": p })).await;
    let te = &data(&r)["node"]["timeEntries"];
    assert_eq!(groups(&te["byWeek"]), vec![("2026-03-02".into(), 2), ("2026-03-09".into(), 1)]);
    assert_eq!(te["byWeek"][0]["sum"]["hours"], "3.5");
    assert_eq!(te["byMember"], json!([{ "count": 3, "sum": { "hours": "7.5" } }]));
    assert_eq!(te["aggregate"]["sum"]["hours"], "7.5");
    assert_eq!(
        groups(&data(&r)["organization"]["members"]["groupBy"]),
        vec![("OWNER".into(), 1), ("MEMBER".into(), 1), ("VIEWER".into(), 1)]
    );
    app.finish().await;
}

const NESTED: &str = "{ organization { projects(first: 50) { aggregate { count } nodes { key
    tasks { aggregate { count sum { estimateHours } } groupBy(field: STATUS) { key count } }
    timeEntries { groupBy(field: DATE, bucket: MONTH) { key sum { hours } } } } } } }";

#[tokio::test]
async fn nested_aggregates_take_one_statement_per_level() {
    let app = TestApp::spawn().await;
    let mut counts = vec![];
    for (email, projects, tasks) in [("s@example.com", 2, 3), ("l@example.com", 30, 40)] {
        let (token, _) = app.sign_up(email, email).await;
        let (org, me) = portfolio::owner_ids(&app.pool, email).await.expect("ids");
        portfolio::seed(&app.pool, org, me, projects, tasks).await.expect("seed");
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..3 {
            let r = app.gql(Some(&token), NESTED, json!({})).await;
            let nodes = &data(&r)["organization"]["projects"]["nodes"];
            assert_eq!(nodes[0]["tasks"]["aggregate"]["count"], tasks);
            let by_status: i64 = groups(&nodes[0]["tasks"]["groupBy"]).iter().map(|g| g.1).sum();
            assert_eq!(by_status, i64::from(tasks));
            seen.insert(r["extensions"]["sqlStatements"].as_u64().expect("sqlStatements"));
        }
        assert_eq!(seen.len(), 1, "the same count every time: {seen:?}");
        counts.extend(seen);
    }
    eprintln!("aggregate statements per request: small {}, large {}", counts[0], counts[1]);
    assert_eq!(counts[0], counts[1], "statement count must not depend on list sizes");
    app.finish().await;
}

#[tokio::test]
async fn money_is_summed_per_currency_never_across() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("money@example.com", "Money Co").await;
    let p = project_with_tasks(&app, &owner).await;
    for (title, amount, currency) in [("A", "100.50", "EUR"), ("B", "20", "EUR"), ("C", "70", "USD")] {
        let cost = json!({ "amount": amount, "currency": currency });
        let r = app
            .gql(
                Some(&owner),
                "mutation($i: ProposeChangeRequestInput!) { proposeChangeRequest(input: $i) { changeRequest { id } } }",
                json!({ "i": { "projectId": p, "title": title, "scheduleImpactDays": 2, "costImpact": cost } }),
            )
            .await;
        data(&r);
    }
    let q = "query($p: ID!) { node(id: $p) { ... on Project { changeRequests {
        aggregate { count sum { scheduleImpactDays costImpact { amount currency } } max { costImpact { amount currency } } avg { costImpact { amount currency } } }
        groupBy(field: STATUS) { key count sum { costImpact { amount currency } } } } } } }";
    let r = app.gql(Some(&owner), q, json!({ "p": p })).await;
    let cr = &data(&r)["node"]["changeRequests"];
    let a = &cr["aggregate"];
    assert_eq!(a["count"], 3);
    assert_eq!(a["sum"]["scheduleImpactDays"], "6");
    assert_eq!(
        a["sum"]["costImpact"],
        json!([{ "amount": "120.50", "currency": "EUR" }, { "amount": "70.00", "currency": "USD" }])
    );
    assert_eq!(a["max"]["costImpact"][0], json!({ "amount": "100.50", "currency": "EUR" }));
    assert_eq!(a["avg"]["costImpact"][0], json!({ "amount": "60.25", "currency": "EUR" }));
    assert_eq!(cr["groupBy"][0]["key"], "PROPOSED");
    assert_eq!(cr["groupBy"][0]["count"], 3);
    assert_eq!(cr["groupBy"][0]["sum"]["costImpact"].as_array().map(Vec::len), Some(2));
    app.finish().await;
}
