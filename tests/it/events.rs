//! The domain event outbox: events are written in the mutation's transaction (none for a
//! failed mutation), numbered per organisation without gaps, and name their recipients.

use opsgraph_e2e::{TestApp, code, data};
use serde_json::json;

#[tokio::test]
async fn events_follow_commits_with_gapless_per_org_sequences() {
    let app = TestApp::spawn().await;
    let (a, _) = app.sign_up("a@events.example", "Events A").await;
    let (b, _) = app.sign_up("b@events.example", "Events B").await;
    let (dev, dev_id) = app.member(&a, "dev@events.example", "MEMBER").await;
    let mk = "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }";
    let pa = data(&app.gql(Some(&a), mk, json!({ "k": "EVA" })).await)["createProject"]["project"]["id"].clone();
    data(&app.gql(Some(&b), mk, json!({ "k": "EVB" })).await);
    let t = data(&app.gql(Some(&a), "mutation($p: ID!, $a: ID) { createTask(input: { projectId: $p, title: \"T\", assigneeId: $a }) { task { id } } }", json!({ "p": pa, "a": dev_id })).await)["createTask"]["task"]["id"].clone();
    data(&app.gql(Some(&dev), "mutation($t: ID!) { transitionTask(input: { id: $t, status: IN_PROGRESS, expectedVersion: 1 }) { task { id } } }", json!({ "t": t })).await);
    data(&app.gql(Some(&a), "mutation($p: ID!) { raiseRisk(input: { projectId: $p, title: \"R\", probability: 4, impact: 5 }) { risk { id } } }", json!({ "p": pa })).await);

    // A failed mutation leaves no event behind (stale version -> CONFLICT, rolled back).
    let before = app.count("SELECT count(*) AS n FROM domain_events").await;
    let stale = app.gql(Some(&dev), "mutation($t: ID!) { transitionTask(input: { id: $t, status: IN_REVIEW, expectedVersion: 1 }) { task { id } } }", json!({ "t": t })).await;
    assert_eq!(code(&stale), Some("CONFLICT"));
    assert_eq!(app.count("SELECT count(*) AS n FROM domain_events").await, before);

    let kinds = app
        .count("SELECT count(*) AS n FROM domain_events WHERE kind IN ('project.created','task.created','task.status_changed','risk.raised')")
        .await;
    assert_eq!(kinds, 5);
    // Per organisation, sequences are 1..n without gaps.
    let gaps = app
        .count("SELECT count(*) AS n FROM (SELECT org_id, count(*) AS n, max(seq) AS m, min(seq) AS lo FROM domain_events GROUP BY org_id) s WHERE n <> m OR lo <> 1")
        .await;
    assert_eq!(gaps, 0);
    assert_eq!(app.count("SELECT count(DISTINCT org_id) AS n FROM domain_events").await, 2);
    let addressed = app
        .count("SELECT count(*) AS n FROM domain_events e JOIN memberships m ON m.id = ANY(e.recipients) JOIN users u ON u.id = m.user_id WHERE e.kind = 'task.created' AND u.email = 'dev@events.example'")
        .await;
    assert_eq!(addressed, 1, "the assignee is a recipient of task.created");
    let actor = app
        .count("SELECT count(*) AS n FROM domain_events WHERE kind = 'task.status_changed' AND actor_membership_id IS NOT NULL AND data->>'to' = 'IN_PROGRESS'")
        .await;
    assert_eq!(actor, 1);
    app.finish().await;
}
