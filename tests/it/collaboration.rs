//! Project staffing, watchers, threaded comments with mentions, checklists, change
//! requests, feedback and kudos, project update / soft delete / restore.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

async fn project(app: &TestApp, token: &str, key: &str) -> String {
    let r = app
        .gql(
            Some(token),
            "mutation($k: String!) { createProject(input: { key: $k, name: $k, clientName: \"Acme Corp\" }) { project { id } } }",
            json!({ "k": key }),
        )
        .await;
    data(&r)["createProject"]["project"]["id"].as_str().expect("id").to_owned()
}

async fn task(app: &TestApp, token: &str, project: &str, title: &str) -> String {
    let r = app
        .gql(
            Some(token),
            "mutation($p: ID!, $t: String!) { createTask(input: { projectId: $p, title: $t }) { task { id } } }",
            json!({ "p": project, "t": title }),
        )
        .await;
    data(&r)["createTask"]["task"]["id"].as_str().expect("id").to_owned()
}

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_owned()
}

#[tokio::test]
async fn staffing_watchers_and_project_lifecycle() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@staff.example", "Staff Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@staff.example", "MEMBER").await;
    let p = project(&app, &owner, "STAFF").await;

    let add = "mutation($i: AddProjectMemberInput!) { addProjectMember(input: $i) { projectMember { id role allocationPercent version membership { id } } } }";
    let input = json!({ "projectId": p, "membershipId": dev_id, "role": "Developer", "allocationPercent": 60, "idempotencyKey": "staff-1" });
    let pm =
        data(&app.gql(Some(&owner), add, json!({ "i": input })).await)["addProjectMember"]["projectMember"].clone();
    assert_eq!((pm["role"].as_str(), pm["allocationPercent"].as_i64()), (Some("Developer"), Some(60)));
    let again =
        data(&app.gql(Some(&owner), add, json!({ "i": input })).await)["addProjectMember"]["projectMember"]["id"]
            .clone();
    assert_eq!(again, pm["id"], "same idempotency key, same row");
    let dup = app.gql(Some(&owner), add, json!({ "i": { "projectId": p, "membershipId": dev_id } })).await;
    assert_eq!(code(&dup), Some("CONFLICT"));
    let over = app
        .gql(Some(&owner), add, json!({ "i": { "projectId": p, "membershipId": dev_id, "allocationPercent": 101 } }))
        .await;
    assert_eq!((code(&over), field(&over)), (Some("BAD_USER_INPUT"), Some("allocationPercent")));
    let by_member = app.gql(Some(&dev), add, json!({ "i": { "projectId": p, "membershipId": dev_id } })).await;
    assert_eq!(code(&by_member), Some("FORBIDDEN"), "members cannot staff projects");

    let upd = "mutation($i: UpdateProjectMemberInput!) { updateProjectMember(input: $i) { projectMember { allocationPercent version } } }";
    let r = app
        .gql(Some(&owner), upd, json!({ "i": { "id": pm["id"], "expectedVersion": 1, "allocationPercent": 80 } }))
        .await;
    assert_eq!(data(&r)["updateProjectMember"]["projectMember"], json!({ "allocationPercent": 80, "version": 2 }));
    let stale = app
        .gql(Some(&owner), upd, json!({ "i": { "id": pm["id"], "expectedVersion": 1, "allocationPercent": 10 } }))
        .await;
    assert_eq!(code(&stale), Some("CONFLICT"));

    let staffed = "query($m: ID!) { node(id: $m) { ... on Membership { projectMemberships { totalCount nodes { project { key } } } } } }";
    let r = app.gql(Some(&dev), staffed, json!({ "m": dev_id })).await;
    assert_eq!(data(&r)["node"]["projectMemberships"]["nodes"][0]["project"]["key"], "STAFF");
    let me = data(&app.gql(Some(&owner), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]
        ["id"]
        .clone();
    let temp = data(&app.gql(Some(&owner), add, json!({ "i": { "projectId": p, "membershipId": me } })).await)["addProjectMember"]["projectMember"]["id"]
        .clone();
    let rm = "mutation($id: ID!) { removeProjectMember(input: { id: $id }) { projectMember { id } } }";
    let by_dev = app.gql(Some(&dev), rm, json!({ "id": temp })).await;
    assert_eq!(code(&by_dev), Some("FORBIDDEN"));
    data(&app.gql(Some(&owner), rm, json!({ "id": temp })).await);
    let again = app.gql(Some(&owner), rm, json!({ "id": temp })).await;
    assert_eq!(code(&again), Some("NOT_FOUND"));
    assert_eq!(app.count("SELECT count(*) AS n FROM domain_events WHERE kind = 'project.member_removed'").await, 1);

    // Staffing made the developer a watcher; the creator watches too.
    let q = "query($id: ID!) { node(id: $id) { ... on Project { client { name accountId } members { totalCount } watchers { nodes { membership { user { email } } } } } } }";
    let r = app.gql(Some(&owner), q, json!({ "id": p })).await;
    let proj = &data(&r)["node"];
    assert_eq!(proj["client"], json!({ "name": "Acme Corp", "accountId": null }));
    assert_eq!(proj["members"]["totalCount"], 1);
    let mut emails: Vec<String> = proj["watchers"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|w| s(&w["membership"]["user"]["email"]))
        .collect();
    emails.sort();
    assert_eq!(emails, ["dev@staff.example", "owner@staff.example"]);
    let unwatch = "mutation($s: ID!) { unwatch(input: { subjectId: $s }) { watching membership { id } } }";
    let r = app.gql(Some(&dev), unwatch, json!({ "s": p })).await;
    assert_eq!(data(&r)["unwatch"]["watching"], false);
    let not_a_subject = app.gql(Some(&dev), unwatch, json!({ "s": dev_id })).await;
    assert_eq!((code(&not_a_subject), field(&not_a_subject)), (Some("BAD_USER_INPUT"), Some("subjectId")));
    let watch_other = app
        .gql(
            Some(&dev),
            "mutation($s: ID!, $m: ID) { watch(input: { subjectId: $s, membershipId: $m }) { watching } }",
            json!({ "s": p, "m": pm["membership"]["id"] }),
        )
        .await;
    assert!(data(&watch_other)["watch"]["watching"].as_bool().expect("bool"), "watching yourself by id is allowed");

    // Update, soft delete and restore a project.
    let upd = "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { name status version client { name } } } }";
    let r = app.gql(Some(&owner), upd, json!({ "i": { "id": p, "expectedVersion": 1, "name": "Staffing", "status": "ACTIVE", "clientName": null } })).await;
    assert_eq!(
        data(&r)["updateProject"]["project"],
        json!({ "name": "Staffing", "status": "ACTIVE", "version": 2, "client": null })
    );
    let bad = app
        .gql(
            Some(&owner),
            upd,
            json!({ "i": { "id": p, "expectedVersion": 2, "startDate": "2026-12-01", "endDate": "2026-11-01" } }),
        )
        .await;
    assert_eq!(field(&bad), Some("endDate"));
    let del = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { deleteProject(input: { id: $id }) { project { isDeleted } } }",
            json!({ "id": p }),
        )
        .await;
    assert_eq!(data(&del)["deleteProject"]["project"]["isDeleted"], true);
    let list = app.gql(Some(&owner), "{ organization { projects { totalCount } } }", json!({})).await;
    assert_eq!(data(&list)["organization"]["projects"]["totalCount"], 0);
    let gone = app
        .gql(
            Some(&owner),
            "mutation($p: ID!) { createTask(input: { projectId: $p, title: \"x\" }) { task { id } } }",
            json!({ "p": p }),
        )
        .await;
    assert_eq!(code(&gone), Some("NOT_FOUND"));
    let res = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { restoreProject(input: { id: $id }) { project { isDeleted } } }",
            json!({ "id": p }),
        )
        .await;
    assert_eq!(data(&res)["restoreProject"]["project"]["isDeleted"], false);
    let twice = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { restoreProject(input: { id: $id }) { project { isDeleted } } }",
            json!({ "id": p }),
        )
        .await;
    assert_eq!(code(&twice), Some("NOT_FOUND"), "only deleted projects can be restored");
    assert!(app.count("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'project%'").await >= 4);
    app.finish().await;
}

#[tokio::test]
async fn comments_threads_mentions_and_checklists() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@talk.example", "Talk Co").await;
    let (ana, ana_id) = app.member(&owner, "ana.silva@talk.example", "MEMBER").await;
    let (bo, _) = app.member(&owner, "bo@talk.example", "MEMBER").await;
    let p = project(&app, &owner, "TALK").await;
    let t = task(&app, &owner, &p, "Discuss").await;

    let add = "mutation($i: AddCommentInput!) { addComment(input: $i) { comment { id kind body version mentions { id } parent { id } task { id } } } }";
    let c = data(
        &app.gql(
            Some(&owner),
            add,
            json!({ "i": { "subjectId": t, "body": "Hi @Ana.Silva and @nobody, mail a@b.com" } }),
        )
        .await,
    )["addComment"]["comment"]
        .clone();
    assert_eq!(c["mentions"], json!([{ "id": ana_id }]));
    assert_eq!(c["task"]["id"], json!(t));
    let reply = data(&app.gql(Some(&ana), add, json!({ "i": { "parentId": c["id"], "body": "On it" } })).await)["addComment"]["comment"].clone();
    assert_eq!(reply["parent"]["id"], c["id"]);
    let nested = data(&app.gql(Some(&bo), add, json!({ "i": { "parentId": reply["id"], "body": "Me too" } })).await)["addComment"]["comment"].clone();
    assert_eq!(nested["parent"]["id"], c["id"], "replies join the root's thread");
    let update = data(
        &app.gql(Some(&owner), add, json!({ "i": { "subjectId": p, "kind": "UPDATE", "body": "Week 1: on track" } }))
            .await,
    )["addComment"]["comment"]
        .clone();
    assert_eq!((update["kind"].as_str(), update["task"].is_null()), (Some("UPDATE"), true));

    // Mentioned members watch the task; the event addresses them.
    let mentioned = app
        .count("SELECT count(*) AS n FROM domain_events WHERE kind = 'comment.created' AND cardinality(recipients) = 1")
        .await;
    assert_eq!(mentioned, 1);
    let q = "query($t: ID!, $p: ID!) { t: node(id: $t) { ... on Task { watchers { totalCount } comments { totalCount nodes { body replies { totalCount nodes { body author { user { email } } } } } } } } p: node(id: $p) { ... on Project { comments { nodes { kind body } } } } }";
    let r = app.gql(Some(&bo), q, json!({ "t": t, "p": p })).await;
    let d = data(&r);
    assert_eq!(d["t"]["watchers"]["totalCount"], 3, "creator, mentioned ana, commenting bo");
    assert_eq!(d["t"]["comments"]["totalCount"], 1);
    assert_eq!(d["t"]["comments"]["nodes"][0]["replies"]["totalCount"], 2);
    assert_eq!(d["p"]["comments"]["nodes"], json!([{ "kind": "UPDATE", "body": "Week 1: on track" }]));

    // Editing: only the author; stale versions conflict; new mentions are stored.
    let edit = "mutation($i: EditCommentInput!) { editComment(input: $i) { comment { body editedAt version mentions { id } } } }";
    let not_mine =
        app.gql(Some(&ana), edit, json!({ "i": { "id": c["id"], "expectedVersion": 1, "body": "x" } })).await;
    assert_eq!(code(&not_mine), Some("FORBIDDEN"));
    let r = app
        .gql(
            Some(&owner),
            edit,
            json!({ "i": { "id": c["id"], "expectedVersion": 1, "body": "Hi @ana.silva and @bo" } }),
        )
        .await;
    let e = &data(&r)["editComment"]["comment"];
    assert!(e["editedAt"].is_string());
    assert_eq!(e["mentions"].as_array().map(Vec::len), Some(2));
    let stale = app.gql(Some(&owner), edit, json!({ "i": { "id": c["id"], "expectedVersion": 1, "body": "y" } })).await;
    assert_eq!(code(&stale), Some("CONFLICT"));
    let empty = app.gql(Some(&owner), add, json!({ "i": { "subjectId": t, "body": "   " } })).await;
    assert_eq!((code(&empty), field(&empty)), (Some("BAD_USER_INPUT"), Some("body")));
    let no_subject = app.gql(Some(&owner), add, json!({ "i": { "body": "floating" } })).await;
    assert_eq!(field(&no_subject), Some("subjectId"));
    let del = app
        .gql(
            Some(&bo),
            "mutation($id: ID!) { deleteComment(input: { id: $id }) { comment { isDeleted body } } }",
            json!({ "id": nested["id"] }),
        )
        .await;
    assert_eq!(data(&del)["deleteComment"]["comment"], json!({ "isDeleted": true, "body": "" }));

    // Checklist: ordered, ticked with who/when, reordered.
    let addi =
        "mutation($t: ID!, $b: String!) { addChecklistItem(input: { taskId: $t, body: $b }) { checklistItem { id } } }";
    let mut items = vec![];
    for b in ["one", "two", "three"] {
        items.push(s(&data(&app.gql(Some(&ana), addi, json!({ "t": t, "b": b })).await)["addChecklistItem"]["checklistItem"]["id"]));
    }
    let upd = "mutation($i: UpdateChecklistItemInput!) { updateChecklistItem(input: $i) { checklistItem { isDone doneAt doneBy { id } version } } }";
    let r = app.gql(Some(&ana), upd, json!({ "i": { "id": items[1], "expectedVersion": 1, "isDone": true } })).await;
    let ticked = &data(&r)["updateChecklistItem"]["checklistItem"];
    assert_eq!((ticked["isDone"].as_bool(), &ticked["doneBy"]["id"]), (Some(true), &json!(ana_id)));
    data(&app.gql(Some(&ana), upd, json!({ "i": { "id": items[2], "expectedVersion": 1, "afterId": null } })).await);
    let bad_after =
        app.gql(Some(&ana), upd, json!({ "i": { "id": items[0], "expectedVersion": 1, "afterId": items[0] } })).await;
    assert_eq!(field(&bad_after), Some("afterId"));
    let r = app
        .gql(
            Some(&ana),
            "query($t: ID!) { node(id: $t) { ... on Task { checklist { body isDone } } } }",
            json!({ "t": t }),
        )
        .await;
    assert_eq!(
        data(&r)["node"]["checklist"],
        json!([{ "body": "three", "isDone": false }, { "body": "one", "isDone": false }, { "body": "two", "isDone": true }])
    );
    let rm = app
        .gql(
            Some(&ana),
            "mutation($id: ID!) { removeChecklistItem(input: { id: $id }) { checklistItem { body } } }",
            json!({ "id": items[0] }),
        )
        .await;
    assert_eq!(data(&rm)["removeChecklistItem"]["checklistItem"]["body"], "one");
    app.finish().await;
}

#[tokio::test]
async fn change_requests_feedback_and_kudos() {
    let app = TestApp::spawn().await;
    let (owner, owner_token_id) = {
        let (t, _) = app.sign_up("owner@cr.example", "CR Co").await;
        let me = data(&app.gql(Some(&t), "{ viewer { membership { id } } }", json!({})).await)["viewer"]["membership"]
            ["id"]
            .clone();
        (t, s(&me))
    };
    let (dev, dev_id) = app.member(&owner, "dev@cr.example", "MEMBER").await;
    let (other, _) = app.member(&owner, "other@cr.example", "MEMBER").await;
    let p = project(&app, &owner, "CR").await;

    let propose = "mutation($i: ProposeChangeRequestInput!) { proposeChangeRequest(input: $i) { changeRequest { id status version scheduleImpactDays costImpact { amount currency } requestedBy { id } } } }";
    let cr = data(&app.gql(Some(&dev), propose, json!({ "i": { "projectId": p, "title": "Add SSO", "scheduleImpactDays": 10, "costImpact": { "amount": "12500.00", "currency": "EUR" } } })).await)["proposeChangeRequest"]["changeRequest"].clone();
    assert_eq!(cr["costImpact"], json!({ "amount": "12500.00", "currency": "EUR" }));
    assert_eq!(cr["requestedBy"]["id"], json!(dev_id));
    let bad = app
        .gql(
            Some(&dev),
            propose,
            json!({ "i": { "projectId": p, "title": "x", "costImpact": { "amount": "1", "currency": "euro" } } }),
        )
        .await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    let decide = "mutation($i: DecideChangeRequestInput!) { decideChangeRequest(input: $i) { changeRequest { status decidedBy { id } decisionNote version } } }";
    let by_dev = app
        .gql(Some(&dev), decide, json!({ "i": { "id": cr["id"], "expectedVersion": 1, "status": "APPROVED" } }))
        .await;
    assert_eq!(code(&by_dev), Some("FORBIDDEN"), "requesters cannot approve their own change");
    let r = app
        .gql(
            Some(&owner),
            decide,
            json!({ "i": { "id": cr["id"], "expectedVersion": 1, "status": "APPROVED", "note": "Budget ok" } }),
        )
        .await;
    assert_eq!(data(&r)["decideChangeRequest"]["changeRequest"]["status"], "APPROVED");
    let again = app
        .gql(Some(&dev), decide, json!({ "i": { "id": cr["id"], "expectedVersion": 2, "status": "WITHDRAWN" } }))
        .await;
    assert_eq!((code(&again), field(&again)), (Some("BAD_USER_INPUT"), Some("status")));
    let r = app.gql(Some(&dev), "query($p: ID!) { node(id: $p) { ... on Project { changeRequests(filter: { status: { eq: APPROVED } }) { totalCount } } } }", json!({ "p": p })).await;
    assert_eq!(data(&r)["node"]["changeRequests"]["totalCount"], 1);

    // Feedback: rating 1..5, never to oneself; visible to author, subject (shared) and managers only.
    let give = "mutation($i: GiveFeedbackInput!) { giveFeedback(input: $i) { feedback { id rating } } }";
    let out_of_range = app.gql(Some(&owner), give, json!({ "i": { "toId": dev_id, "rating": 6 } })).await;
    assert_eq!((code(&out_of_range), field(&out_of_range)), (Some("BAD_USER_INPUT"), Some("rating")));
    let me_me = app.gql(Some(&dev), give, json!({ "i": { "toId": dev_id, "rating": 5 } })).await;
    assert_eq!(field(&me_me), Some("toId"));
    data(
        &app.gql(
            Some(&owner),
            give,
            json!({ "i": { "toId": dev_id, "rating": 5, "body": "Great sprint", "projectId": p } }),
        )
        .await,
    );
    let private = data(
        &app.gql(Some(&owner), give, json!({ "i": { "toId": dev_id, "rating": 3, "isShared": false } })).await,
    )["giveFeedback"]["feedback"]["id"]
        .clone();
    let received = "query($m: ID!) { node(id: $m) { ... on Membership { feedbackReceived { totalCount nodes { rating author { id } } } } } }";
    let r = app.gql(Some(&dev), received, json!({ "m": dev_id })).await;
    assert_eq!(data(&r)["node"]["feedbackReceived"]["totalCount"], 1, "the subject sees shared feedback only");
    let r = app.gql(Some(&owner), received, json!({ "m": dev_id })).await;
    assert_eq!(data(&r)["node"]["feedbackReceived"]["totalCount"], 2, "managers see all of it");
    let r = app.gql(Some(&other), received, json!({ "m": dev_id })).await;
    assert_eq!(code(&r), Some("FORBIDDEN"));
    let r = app.gql(Some(&dev), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": private })).await;
    assert_eq!(code(&r), Some("NOT_FOUND"), "private feedback is invisible to its subject");
    let r = app
        .gql(
            Some(&owner),
            "query($m: ID!) { node(id: $m) { ... on Membership { feedbackGiven { totalCount } } } }",
            json!({ "m": owner_token_id }),
        )
        .await;
    assert_eq!(data(&r)["node"]["feedbackGiven"]["totalCount"], 2);

    // Kudos: public wall.
    let kudos =
        "mutation($i: GiveKudosInput!) { giveKudos(input: $i) { kudos { category message to { id } from { id } } } }";
    let r = app
        .gql(
            Some(&other),
            kudos,
            json!({ "i": { "toId": dev_id, "category": "QUALITY", "message": "Clean migration!" } }),
        )
        .await;
    assert_eq!(data(&r)["giveKudos"]["kudos"]["to"]["id"], json!(dev_id));
    let empty = app.gql(Some(&other), kudos, json!({ "i": { "toId": dev_id, "message": "" } })).await;
    assert_eq!(field(&empty), Some("message"));
    let r = app.gql(Some(&dev), "{ organization { kudos { totalCount nodes { category } } } }", json!({})).await;
    assert_eq!(data(&r)["organization"]["kudos"], json!({ "totalCount": 1, "nodes": [{ "category": "QUALITY" }] }));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM domain_events WHERE kind IN ('kudos.received', 'feedback.received')")
            .await,
        2
    );
    app.finish().await;
}
