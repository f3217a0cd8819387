//! The client portal: a contact's CLIENT login reads exactly its account's projects,
//! their client-visible tasks and milestones, its sent proposals and its feedback; it
//! answers proposals and gives feedback for its own account only. Checked through the
//! endpoint and, underneath, in the database with the client's tenant settings.

use opsgraph_e2e::{PASSWORD, TestApp, code, data, field};
use serde_json::{Value, json};

const GRANT: &str = "mutation($c: ID!, $on: Boolean!) { setPortalAccess(input: { contactId: $c, enabled: $on }) { contact { portalMember { id role isActive } } } }";
const PORTAL: &str = "{ viewer { clientAccount { name projects { nodes { key tasks { nodes { title } } milestones { nodes { name } } } } \
    proposals { nodes { title status } } feedback { totalCount } } } }";

async fn make(app: &TestApp, token: &str, q: &str, vars: Value) -> String {
    let r = app.gql(Some(token), q, vars).await;
    let payload = data(&r).as_object().and_then(|o| o.values().next()).cloned().unwrap_or(Value::Null);
    let node = payload.as_object().and_then(|o| o.values().next()).cloned().unwrap_or(Value::Null);
    node["id"].as_str().unwrap_or_else(|| panic!("no id: {r}")).to_owned()
}

/// Two accounts, each with a contact and a linked project (a shared and an internal task,
/// a milestone), proposals (draft and sent) and feedback; a third project has no client.
struct World {
    client_co: String,
    other_co: String,
    cara: String,
    p1: String,
    p3: String,
    internal_task: String,
    draft: String,
    sent: String,
    other_sent: String,
}

async fn world(app: &TestApp, owner: &str) -> World {
    let account = "mutation($n: String!) { createAccount(input: { name: $n }) { account { id } } }";
    let client_co = make(app, owner, account, json!({ "n": "Client Co" })).await;
    let other_co = make(app, owner, account, json!({ "n": "Other Co" })).await;
    let contact = "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }";
    let cara = make(
        app,
        owner,
        contact,
        json!({ "i": { "firstName": "Cara", "email": "cara@client.example", "accountId": client_co } }),
    )
    .await;
    let project = "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }";
    let link =
        "mutation($p: ID!, $a: ID) { setProjectAccount(input: { projectId: $p, accountId: $a }) { project { id } } }";
    let task = "mutation($p: ID!, $t: String!, $v: Boolean) { createTask(input: { projectId: $p, title: $t, clientVisible: $v }) { task { id } } }";
    let milestone =
        "mutation($p: ID!) { createMilestone(input: { projectId: $p, name: \"Go-live\" }) { milestone { id } } }";
    let mut ids = vec![];
    for (key, acct) in [("P1", Some(&client_co)), ("P2", Some(&other_co)), ("P3", None)] {
        let p = make(app, owner, project, json!({ "k": key })).await;
        if let Some(a) = acct {
            data(&app.gql(Some(owner), link, json!({ "p": p, "a": a })).await);
        }
        make(app, owner, task, json!({ "p": p, "t": format!("{key} shared"), "v": true })).await;
        ids.push(make(app, owner, task, json!({ "p": p, "t": format!("{key} internal") })).await);
        make(app, owner, milestone, json!({ "p": p })).await;
        ids.push(p);
    }
    let proposal = "mutation($a: ID!, $t: String!) { createProposal(input: { accountId: $a, title: $t, amount: \"1000\", currency: \"USD\" }) { proposal { id } } }";
    let send = "mutation($id: ID!) { decideProposal(input: { id: $id, status: SENT }) { proposal { status } } }";
    let draft = make(app, owner, proposal, json!({ "a": client_co, "t": "Draft" })).await;
    let sent = make(app, owner, proposal, json!({ "a": client_co, "t": "Phase 2" })).await;
    let other_sent = make(app, owner, proposal, json!({ "a": other_co, "t": "Theirs" })).await;
    for p in [&sent, &other_sent] {
        data(&app.gql(Some(owner), send, json!({ "id": p })).await);
    }
    let feedback = "mutation($a: ID!) { giveClientFeedback(input: { accountId: $a, rating: 4 }) { feedback { id } } }";
    for a in [&client_co, &other_co] {
        make(app, owner, feedback, json!({ "a": a })).await;
    }
    World {
        client_co,
        other_co,
        cara,
        p1: ids[1].clone(),
        p3: ids[5].clone(),
        internal_task: ids[0].clone(),
        draft,
        sent,
        other_sent,
    }
}

#[tokio::test]
async fn a_client_login_reads_exactly_its_account() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@agency.example", "Agency").await;
    let (manager, _) = app.member(&owner, "m@agency.example", "MANAGER").await;
    let w = world(&app, &owner).await;

    // Granting: admins only; the contact needs an e-mail; staff addresses are refused.
    assert_eq!(code(&app.gql(Some(&manager), GRANT, json!({ "c": w.cara, "on": true })).await), Some("FORBIDDEN"));
    let contact = "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }";
    let mailless =
        make(&app, &owner, contact, json!({ "i": { "firstName": "Nomail", "accountId": w.client_co } })).await;
    let staff = make(
        &app,
        &owner,
        contact,
        json!({ "i": { "firstName": "Mo", "email": "M@agency.example", "accountId": w.client_co } }),
    )
    .await;
    for c in [&mailless, &staff] {
        let r = app.gql(Some(&owner), GRANT, json!({ "c": c, "on": true })).await;
        assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("contactId")), "{r}");
    }
    let r = app.gql(Some(&owner), GRANT, json!({ "c": w.cara, "on": true })).await;
    let member = data(&r)["setPortalAccess"]["contact"]["portalMember"].clone();
    assert_eq!((member["role"].as_str(), member["isActive"].as_bool()), (Some("CLIENT"), Some(true)));
    let again = app.gql(Some(&owner), GRANT, json!({ "c": w.cara, "on": true })).await;
    assert_eq!(data(&again)["setPortalAccess"]["contact"]["portalMember"]["id"], member["id"], "idempotent");

    // The invitation e-mail carries the token; the client sets a password with it.
    let token = app.emailed_token("cara@client.example", "member.invite").await.expect("invitation e-mail");
    let accept = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }";
    let r = app.gql(None, accept, json!({ "i": { "token": token, "password": PASSWORD } })).await;
    let client = data(&r)["acceptInvitation"]["accessToken"].as_str().expect("token").to_owned();

    let r = app.gql(Some(&client), PORTAL, json!({})).await;
    assert_eq!(
        data(&r)["viewer"]["clientAccount"],
        json!({
            "name": "Client Co",
            "projects": { "nodes": [{ "key": "P1", "tasks": { "nodes": [{ "title": "P1 shared" }] }, "milestones": { "nodes": [{ "name": "Go-live" }] } }] },
            "proposals": { "nodes": [{ "title": "Phase 2", "status": "SENT" }] },
            "feedback": { "totalCount": 1 }
        })
    );
    // Staff see no client account; the client sees nothing of the sales side.
    let r = app.gql(Some(&owner), "{ viewer { clientAccount { name } } }", json!({})).await;
    assert_eq!(data(&r)["viewer"]["clientAccount"], Value::Null);
    for q in [
        "{ viewer { clientAccount { tags } } }",
        "{ viewer { clientAccount { deals { totalCount } } } }",
        "{ viewer { clientAccount { contacts { totalCount } } } }",
        "{ viewer { clientAccount { timeline { kind } } } }",
        "{ organization { deals { totalCount } } }",
    ] {
        let r = app.gql(Some(&client), q, json!({})).await;
        assert_eq!(code(&r), Some("FORBIDDEN"), "{q}: {r}");
    }
    // A forbidden scalar field resolved without a future (`sync_resolver`) fails at its
    // path, and only there.
    let r = app.gql(Some(&client), "{ viewer { role clientAccount { name status } } }", json!({})).await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "{r}");
    assert_eq!(r["errors"][0]["path"], json!(["viewer", "clientAccount", "status"]), "{r}");
    assert_eq!(r["data"]["viewer"]["clientAccount"]["name"], "Client Co", "{r}");
    assert_eq!(r["data"]["viewer"]["role"], "CLIENT", "{r}");
    let node = "query($id: ID!) { node(id: $id) { id } }";
    assert_eq!(data(&app.gql(Some(&client), node, json!({ "id": w.p1 })).await)["node"]["id"], w.p1.as_str());
    for hidden in [&w.other_co, &w.p3, &w.internal_task, &w.draft, &w.other_sent] {
        let r = app.gql(Some(&client), node, json!({ "id": hidden })).await;
        assert_eq!(code(&r), Some("NOT_FOUND"), "{hidden}: {r}");
    }

    // Underneath: the client's tenant settings alone narrow every table.
    let expected = [
        ("accounts", 1),
        ("contacts", 1),
        ("projects", 1),
        ("tasks", 1),
        ("milestones", 1),
        ("proposals", 1),
        ("client_feedback", 1),
        ("deals", 0),
        ("interactions", 0),
        ("audit_log", 0),
    ];
    let tables: Vec<&str> = expected.iter().map(|e| e.0).collect();
    let expected: Vec<(String, i64)> = expected.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
    assert_eq!(app.counts_as_client(member["id"].as_str().expect("id"), &tables).await, expected);
    app.finish().await;
}

#[tokio::test]
async fn a_client_answers_proposals_and_gives_feedback_for_its_own_account_only() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@agency.example", "Agency").await;
    let me = app.gql(Some(&owner), "{ viewer { membership { id } } }", json!({})).await;
    let owner_member = data(&me)["viewer"]["membership"]["id"].as_str().expect("membership").to_owned();
    let w = world(&app, &owner).await;
    let own = "mutation($a: ID!, $m: ID!) { updateAccount(input: { id: $a, expectedVersion: 1, ownerId: $m }) { account { id } } }";
    data(&app.gql(Some(&owner), own, json!({ "a": w.client_co, "m": owner_member })).await);
    data(&app.gql(Some(&owner), GRANT, json!({ "c": w.cara, "on": true })).await);
    let token = app.emailed_token("cara@client.example", "member.invite").await.expect("invitation e-mail");
    let accept = "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }";
    let r = app.gql(None, accept, json!({ "i": { "token": token, "password": PASSWORD } })).await;
    let client = data(&r)["acceptInvitation"]["accessToken"].as_str().expect("token").to_owned();

    let decide = "mutation($id: ID!, $s: ProposalStatus!, $win: Boolean) { decideProposal(input: { id: $id, status: $s, winDeal: $win }) { proposal { status } } }";
    let r = app.gql(Some(&client), decide, json!({ "id": w.sent, "s": "ACCEPTED", "win": true })).await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "winning the deal is the agency's: {r}");
    let r = app.gql(Some(&client), decide, json!({ "id": w.draft, "s": "SENT" })).await;
    assert_eq!(code(&r), Some("NOT_FOUND"), "drafts are invisible: {r}");
    let r = app.gql(Some(&client), decide, json!({ "id": w.other_sent, "s": "ACCEPTED" })).await;
    assert_eq!(code(&r), Some("NOT_FOUND"), "another account's proposal: {r}");
    let r = app.gql(Some(&client), decide, json!({ "id": w.sent, "s": "ACCEPTED" })).await;
    assert_eq!(data(&r)["decideProposal"]["proposal"]["status"], "ACCEPTED");

    let give = "mutation($a: ID!, $p: ID, $k: String) { giveClientFeedback(input: { accountId: $a, projectId: $p, rating: 5, comment: \"Great\", idempotencyKey: $k }) { feedback { id givenBy { id } } } }";
    let first = app.gql(Some(&client), give, json!({ "a": w.client_co, "p": w.p1, "k": "k1" })).await;
    let id = data(&first)["giveClientFeedback"]["feedback"]["id"].clone();
    let retry = app.gql(Some(&client), give, json!({ "a": w.client_co, "p": w.p1, "k": "k1" })).await;
    assert_eq!(data(&retry)["giveClientFeedback"]["feedback"]["id"], id, "a retry is the same feedback");
    // The staff's keys are theirs: the same key creates the owner's own feedback.
    let staff = app.gql(Some(&owner), give, json!({ "a": w.client_co, "k": "k1" })).await;
    assert_ne!(data(&staff)["giveClientFeedback"]["feedback"]["id"], id);
    for (a, p) in [(&w.other_co, None), (&w.client_co, Some(&w.p3))] {
        let r = app.gql(Some(&client), give, json!({ "a": a, "p": p })).await;
        assert_eq!(code(&r), Some("NOT_FOUND"), "{r}");
    }
    let r = app.gql(Some(&client), PORTAL, json!({})).await;
    assert_eq!(data(&r)["viewer"]["clientAccount"]["feedback"]["totalCount"], 3);

    // The account's owner hears of both.
    opsgraph_org::service::dispatch::run_once(&app.pool).await.expect("dispatch");
    let inbox =
        "{ viewer { notifications(orderBy: [{ field: CREATED_AT, direction: ASC }]) { nodes { kind title } } } }";
    let n = app.gql(Some(&owner), inbox, json!({})).await;
    assert_eq!(
        data(&n)["viewer"]["notifications"]["nodes"],
        json!([
            { "kind": "STATUS_CHANGE", "title": "Client Co accepted the proposal \"Phase 2\"" },
            { "kind": "COMMENT", "title": "Feedback from Client Co: 5/5" }
        ])
    );

    // Revoked: the login stops working; granted again: the same member comes back.
    let r = app.gql(Some(&owner), GRANT, json!({ "c": w.cara, "on": false })).await;
    assert_eq!(data(&r)["setPortalAccess"]["contact"]["portalMember"], Value::Null);
    let r = app.gql(Some(&client), PORTAL, json!({})).await;
    assert_eq!(data(&r)["viewer"]["clientAccount"], Value::Null, "{r}");
    let r = app.gql(Some(&client), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": w.p1 })).await;
    assert!(matches!(code(&r), Some("UNAUTHENTICATED" | "FORBIDDEN")), "{r}");
    let r = app.gql(Some(&owner), GRANT, json!({ "c": w.cara, "on": true })).await;
    assert_eq!(data(&r)["setPortalAccess"]["contact"]["portalMember"]["isActive"], true);
    let client = app.log_in("cara@client.example").await;
    let r = app.gql(Some(&client), PORTAL, json!({})).await;
    assert_eq!(data(&r)["viewer"]["clientAccount"]["name"], "Client Co");
    app.finish().await;
}
