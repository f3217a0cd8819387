//! N+1 guard: the statements a nested query issues do not grow with list sizes.

use opsgraph_e2e::{TestApp, data};
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
    // A wider batching window keeps batches whole on a loaded CI machine (composition.md:
    // batches group what arrives within the window).
    let app = TestApp::spawn_with(|c| c.loader_delay_ms = 10).await;
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

const DASHBOARD: &str = "{ organization { projects(first: 50) { nodes { key name status manager { user { displayName } } team { name } taskStats { status count estimateHours } tasks(first: 50) { totalCount nodes { identifier status assignee { user { displayName } } subtasks { totalCount } } } milestones { nodes { name dueDate status } } risks(filter: { status: { eq: OPEN } }, orderBy: [{ field: SEVERITY, direction: DESC }]) { nodes { title level owner { user { displayName } } } } } } } }";

async fn build_portfolio(app: &TestApp, email: &str, projects: usize, tasks: usize) -> String {
    let (owner, _) = app.sign_up(email, &format!("Portfolio of {email}")).await;
    let me = data(&app.gql(Some(&owner), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]
        ["id"]
        .clone();
    for p in 0..projects {
        let r = app.gql(Some(&owner), "mutation($k: String!, $m: ID) { createProject(input: { key: $k, name: $k, managerId: $m }) { project { id } } }", json!({ "k": format!("P{p}X"), "m": me })).await;
        let pid = data(&r)["createProject"]["project"]["id"].clone();
        for t in 0..tasks {
            data(&app.gql(Some(&owner), "mutation($p: ID!, $t: String!, $a: ID) { createTask(input: { projectId: $p, title: $t, assigneeId: $a, estimateHours: \"2\" }) { task { id } } }", json!({ "p": pid, "t": format!("task {t}"), "a": me })).await);
        }
        data(
            &app.gql(
                Some(&owner),
                "mutation($p: ID!) { createMilestone(input: { projectId: $p, name: \"M1\" }) { milestone { id } } }",
                json!({ "p": pid }),
            )
            .await,
        );
        data(&app.gql(Some(&owner), "mutation($p: ID!, $o: ID) { raiseRisk(input: { projectId: $p, title: \"R\", probability: 3, impact: 4, ownerId: $o }) { risk { id } } }", json!({ "p": pid, "o": me })).await);
    }
    owner
}

#[tokio::test]
async fn project_dashboard_statement_count_is_constant() {
    let app = TestApp::spawn_with(|c| c.loader_delay_ms = 10).await;
    let small = build_portfolio(&app, "small@example.com", 2, 3).await;
    let large = build_portfolio(&app, "large@example.com", 10, 12).await;
    let rs = app.gql(Some(&small), DASHBOARD, json!({})).await;
    let rl = app.gql(Some(&large), DASHBOARD, json!({})).await;
    assert_eq!(data(&rl)["organization"]["projects"]["nodes"][0]["tasks"]["totalCount"], 12);
    let count = |r: &serde_json::Value| r["extensions"]["sqlStatements"].as_u64().expect("sqlStatements");
    let (s, l) = (count(&rs), count(&rl));
    eprintln!("dashboard statements per request: 2x3 {s}, 10x12 {l}");
    assert_eq!(s, l, "statement count must not depend on list sizes");
    app.finish().await;
}
