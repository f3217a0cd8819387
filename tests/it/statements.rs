//! N+1 guard: the statements a nested query issues do not grow with list sizes.

use opsgraph_e2e::{TestApp, data, portfolio};
use serde_json::json;

const NESTED: &str = "{ organization { members(first: 100) { totalCount nodes { role user { email displayName } manager { user { displayName } } teamMemberships { nodes { team { name } } } } } teams(first: 50) { nodes { name lead { user { email } } members(first: 50) { totalCount nodes { role membership { role user { email } } } } } } projects { nodes { key manager { user { email } } team { name } } } } }";

async fn build_org(app: &TestApp, email: &str, members: usize, teams: usize) -> String {
    let (owner, _) = app.sign_up(email, &format!("Org of {email}")).await;
    let mut ids = vec![];
    for i in 0..members {
        let r = app.gql(Some(&owner), "mutation($e: String!) { addMember(input: { email: $e, role: MEMBER, firstName: \"P\", lastName: \"Q\" }) { membership { id } } }", json!({ "e": format!("m{i}-{email}") })).await;
        ids.push(data(&r)["addMember"]["membership"]["id"].as_str().expect("id").to_owned());
    }
    for t in 0..teams {
        let r = app
            .gql(
                Some(&owner),
                "mutation($n: String!, $l: ID) { createTeam(input: { name: $n, leadId: $l }) { team { id } } }",
                json!({ "n": format!("Team {t}"), "l": ids.get(t) }),
            )
            .await;
        let team = data(&r)["createTeam"]["team"]["id"].as_str().expect("id").to_owned();
        for m in ids.iter().skip(t).step_by(teams.max(1)) {
            data(&app.gql(Some(&owner), "mutation($t: ID!, $m: ID!) { addTeamMember(input: { teamId: $t, membershipId: $m }) { teamMember { id } } }", json!({ "t": team, "m": m })).await);
        }
        data(&app.gql(Some(&owner), "mutation($n: String!, $t: ID!, $m: ID) { createProject(input: { key: $n, name: $n, teamId: $t, managerId: $m }) { project { id } } }", json!({ "n": format!("P{t}X"), "t": team, "m": ids.first() })).await);
    }
    owner
}

#[tokio::test]
async fn nested_query_statement_count_is_constant() {
    let app = TestApp::spawn().await;
    let small = build_org(&app, "small@example.com", 3, 2).await;
    let large = build_org(&app, "large@example.com", 40, 12).await;
    let count = |r: &serde_json::Value| r["extensions"]["sqlStatements"].as_u64().expect("sqlStatements");
    let rs = app.gql(Some(&small), NESTED, json!({})).await;
    let rl = app.gql(Some(&large), NESTED, json!({})).await;
    assert_eq!(data(&rs)["organization"]["members"]["totalCount"], 4);
    assert_eq!(data(&rl)["organization"]["members"]["totalCount"], 41);
    assert_eq!(data(&rl)["organization"]["teams"]["nodes"].as_array().map(Vec::len), Some(12));
    let (s, l) = (count(&rs), count(&rl));
    eprintln!("statements per request: small org {s}, large org {l}");
    assert_eq!(s, l, "statement count must not depend on list sizes");
    assert!(l <= 20, "one statement per relationship level, got {l}");
    app.finish().await;
}

/// `node(id:)` of type `ty` with `selection`, as `token` sees it (the whole response).
async fn node_as(app: &TestApp, token: &str, ty: &str, selection: &str, id: &serde_json::Value) -> serde_json::Value {
    let query = format!("query($id: ID!) {{ node(id: $id) {{ ... on {ty} {{ {selection} }} }} }}");
    app.gql(Some(token), &query, json!({ "id": id })).await
}

async fn portfolio(app: &TestApp, email: &str, projects: i32, tasks: i32) -> String {
    let (token, _) = app.sign_up(email, &format!("Portfolio of {email}")).await;
    let (org, me) = portfolio::owner_ids(&app.pool, email).await.expect("ids");
    portfolio::seed(&app.pool, org, me, projects, tasks).await.expect("seed");
    token
}

#[tokio::test]
async fn project_dashboard_statement_count_is_constant() {
    // 32 requests at once queue for the pool (4 connections here) instead of timing out.
    let app = TestApp::spawn_with(|c| c.db_acquire_timeout_ms = 60_000).await;
    let small = portfolio(&app, "small@example.com", 2, 3).await;
    let large = portfolio(&app, "large@example.com", 50, 40).await;
    let rs = app.gql(Some(&small), portfolio::DASHBOARD, json!({})).await;
    let rl = app.gql(Some(&large), portfolio::DASHBOARD, json!({})).await;
    let projects = &data(&rl)["organization"]["projects"];
    assert_eq!(projects["totalCount"], 50);
    let first = &projects["nodes"][0];
    assert_eq!(first["tasks"]["totalCount"], 40);
    assert_eq!(first["tasks"]["nodes"].as_array().map(Vec::len), Some(40));
    // 40 tasks x 1.5 h logged; estimates 2 + t % 5 for t in 1..=40 sum to 160.
    assert_eq!(first["hours"]["loggedHours"], "60");
    assert_eq!(first["hours"]["estimatedHours"], "160");
    // Key results at 20/40/60 of 100: the objective is 40% done.
    assert!((first["okrProgress"].as_f64().expect("progress") - 0.4).abs() < 1e-9);
    assert_eq!(first["client"]["name"].as_str().map(|n| n.starts_with("Client ")), Some(true));
    let count = |r: &serde_json::Value| r["extensions"]["sqlStatements"].as_u64().expect("sqlStatements");
    // Batches dispatch when the request can make no more progress (no timer), so the count
    // is the plan's, whatever the load: the same for 32 requests at once.
    let (s, l) = (count(&rs), count(&rl));
    eprintln!("dashboard statements per request: 2x3 {s}, 50x40 {l}");
    assert_eq!(s, l, "statement count must not depend on list sizes");
    let concurrent = futures_util::future::join_all(
        (0..32).map(|i| app.gql(Some(if i % 2 == 0 { &small } else { &large }), portfolio::DASHBOARD, json!({}))),
    )
    .await;
    for r in &concurrent {
        assert!(r.get("errors").is_none(), "{r}");
    }
    let counts: Vec<u64> = concurrent.iter().map(count).collect();
    assert!(counts.iter().all(|c| *c == l), "32 concurrent requests: {counts:?}, alone {l}");
    app.finish().await;
}

#[tokio::test]
async fn sibling_relationship_fields_share_one_batch() {
    // `assignee` and `reporter` both read memberships by id. The fields of an object
    // resolve concurrently (the executor patch in vendor/), so both join one batch: asking
    // for both costs no statement more than asking for one. Serially it would cost one.
    let app = TestApp::spawn().await;
    let token = portfolio(&app, "siblings@example.com", 3, 4).await;
    let count = |r: &serde_json::Value| r["extensions"]["sqlStatements"].as_u64().expect("sqlStatements");
    let query = |f: &str| format!("{{ organization {{ projects {{ nodes {{ tasks {{ nodes {{ {f} }} }} }} }} }} }}");
    let one = app.gql(Some(&token), &query("assignee { id }"), json!({})).await;
    let both = app.gql(Some(&token), &query("assignee { id } reporter { id } title"), json!({})).await;
    let task = &data(&both)["organization"]["projects"]["nodes"][0]["tasks"]["nodes"][0];
    assert_eq!(task["assignee"], task["reporter"]);
    let keys: Vec<&String> = task.as_object().expect("task").keys().collect();
    assert_eq!(keys, ["assignee", "reporter", "title"], "keys in selection order");
    assert_eq!(count(&one), count(&both));
    app.finish().await;
}

#[tokio::test]
async fn a_reference_loads_with_the_references_its_selection_asks_for() {
    // `assignee { user { … } }`: the statement loading the tasks' memberships joins their
    // users (Membership's `user` is declared by its column), so asking for the users costs
    // no statement, also through a fragment. They are those their own loader gives:
    // `node(id:)` loads a plain membership, whose `user` loads by id.
    let app = TestApp::spawn().await;
    let token = portfolio(&app, "joined@example.com", 3, 4).await;
    let count = |r: &serde_json::Value| r["extensions"]["sqlStatements"].as_u64().expect("sqlStatements");
    let tasks = |f: &str| format!("{{ organization {{ projects {{ nodes {{ tasks {{ nodes {{ {f} }} }} }} }} }} }}");
    let plain = app.gql(Some(&token), &tasks("assignee { id }"), json!({})).await;
    let joined = app.gql(Some(&token), &tasks("assignee { id role user { email firstName } }"), json!({})).await;
    let via_fragment =
        format!("{} fragment U on Membership {{ role user {{ email firstName }} }}", tasks("assignee { id ...U }"));
    let fragment = app.gql(Some(&token), &via_fragment, json!({})).await;
    assert_eq!(count(&joined), count(&plain), "the user comes with its membership");
    assert_eq!(count(&fragment), count(&plain));
    assert_eq!(data(&fragment), data(&joined));
    let mut seen = 0;
    for project in data(&joined)["organization"]["projects"]["nodes"].as_array().expect("projects") {
        for task in project["tasks"]["nodes"].as_array().expect("tasks") {
            let assignee = &task["assignee"];
            let alone = node_as(&app, &token, "Membership", "role user { email firstName }", &assignee["id"]).await;
            assert_eq!(data(&alone)["node"]["user"], assignee["user"]);
            assert_eq!(data(&alone)["node"]["role"], assignee["role"]);
            assert!(assignee["user"]["email"].as_str().is_some_and(|e| e.contains('@')), "{assignee}");
            seen += 1;
        }
    }
    assert_eq!(seen, 12);
    app.finish().await;
}

#[tokio::test]
async fn statements_released_together_share_one_round_trip() {
    // A project's `tasks`, `milestones` and `risks` are three loaders released in the same
    // batch round: their three statements go out behind one `Sync` (`core::db::pipeline`).
    // One statement per round trip would make as many round trips as statements.
    let app = TestApp::spawn().await;
    let token = portfolio(&app, "pipeline@example.com", 2, 3).await;
    let count = |r: &serde_json::Value, k: &str| r["extensions"][k].as_u64().unwrap_or_else(|| panic!("{k}: {r}"));
    const PAGES: &str = "tasks(first: 5) { nodes { title } } milestones(first: 5) { nodes { name } } \
                         risks(first: 5) { nodes { title } }";
    let list = app
        .gql(Some(&token), &format!("{{ organization {{ projects {{ nodes {{ id {PAGES} }} }} }} }}"), json!({}))
        .await;
    let project = &data(&list)["organization"]["projects"]["nodes"][0];
    let together = node_as(&app, &token, "Project", PAGES, &project["id"]).await;
    let pages = &data(&together)["node"];
    for page in ["tasks", "milestones", "risks"] {
        assert!(pages[page]["nodes"].as_array().is_some_and(|n| !n.is_empty()), "{page}: {together}");
        assert_eq!(pages[page], project[page], "the same {page} as through the list");
    }
    // The project by id, then the three pages.
    assert_eq!(count(&together, "sqlStatements"), 4, "{together}");
    assert_eq!(count(&together, "sqlRoundTrips"), 2, "{together}");
    // The organization, its projects, then their pages: again the pages share a round trip.
    let (statements, trips) = (count(&list, "sqlStatements"), count(&list, "sqlRoundTrips"));
    assert_eq!(trips + 2, statements, "three pages in one round trip: {list}");
    app.finish().await;
}

#[tokio::test]
async fn joined_rows_read_what_their_selection_needs_and_give_what_a_whole_row_gives() {
    // A membership loaded with its user reads, of each row, only the columns of the fields
    // selected on it (declared with `projection::declare_fields`); three selections of the
    // same assignees in one request read three sets of columns. Each must give what a
    // whole row gives: `node(id:)` loads the membership whole and its user by id.
    let app = TestApp::spawn().await;
    let token = portfolio(&app, "lean-joins@example.com", 2, 3).await;
    // Each declared field is selected where no other field reads its columns.
    const SELECTIONS: [(&str, &str); 5] = [
        ("first", "user { firstName }"),
        ("mail", "user { email }"),
        ("display", "user { displayName }"),
        ("wide", "role jobTitle isActive joinedAt user { hasPassword createdAt lastName }"),
        // `costRate` is not declared: that selection reads whole rows.
        ("whole", "costRate { amount currency } user { firstName lastName }"),
    ];
    let aliases: Vec<String> = SELECTIONS.iter().map(|(a, s)| format!("{a}: assignee {{ id {s} }}")).collect();
    let query =
        format!("{{ organization {{ projects {{ nodes {{ tasks {{ nodes {{ {} }} }} }} }} }} }}", aliases.join(" "));
    let resp = app.gql(Some(&token), &query, json!({})).await;
    let mut seen = 0;
    for project in data(&resp)["organization"]["projects"]["nodes"].as_array().expect("projects") {
        for task in project["tasks"]["nodes"].as_array().expect("tasks") {
            for (alias, selection) in SELECTIONS {
                let got = &task[alias];
                let alone = node_as(&app, &token, "Membership", &format!("id {selection}"), &got["id"]).await;
                assert_eq!(&data(&alone)["node"], got, "{alias}");
            }
            assert!(task["mail"]["user"]["email"].as_str().is_some_and(|e| e.contains('@')), "{task}");
            assert!(task["display"]["user"]["displayName"].as_str().is_some_and(|n| n.contains(' ')), "{task}");
            assert!(task["wide"]["role"].is_string() && task["wide"]["isActive"].is_boolean(), "{task}");
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
    app.finish().await;
}
