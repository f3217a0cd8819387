//! The organisation profile, member profiles (patch semantics), settings and the inbox.

use opsgraph_e2e::{TestApp, code, data, field};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

#[tokio::test]
async fn organization_profile_and_settings() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Profile Co").await;
    let (viewer, _) = app.member(&owner, "v@example.com", "VIEWER").await;
    let upd = "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { organization { name defaultCurrency fiscalYearStartMonth version } } }";
    let r = app.gql(Some(&owner), upd, json!({ "i": { "expectedVersion": 1, "name": "Profile Ltd", "defaultCurrency": "eur", "fiscalYearStartMonth": 4 } })).await;
    assert_eq!(
        data(&r)["updateOrganization"]["organization"],
        json!({ "name": "Profile Ltd", "defaultCurrency": "EUR", "fiscalYearStartMonth": 4, "version": 2 })
    );
    assert_eq!(
        code(&app.gql(Some(&owner), upd, json!({ "i": { "expectedVersion": 1, "name": "Stale" } })).await),
        Some("CONFLICT")
    );
    let bad = app.gql(Some(&owner), upd, json!({ "i": { "expectedVersion": 2, "defaultCurrency": "EURO" } })).await;
    assert_eq!(field(&bad), Some("defaultCurrency"));
    assert_eq!(
        code(&app.gql(Some(&viewer), upd, json!({ "i": { "expectedVersion": 2, "name": "X" } })).await),
        Some("FORBIDDEN")
    );

    let set =
        "mutation($k: String!, $v: JSON!) { setOrgSetting(input: { key: $k, value: $v }) { setting { key value } } }";
    data(&app.gql(Some(&owner), set, json!({ "k": "billing.terms_days", "v": 30 })).await);
    let again = app.gql(Some(&owner), set, json!({ "k": "billing.terms_days", "v": { "net": 45 } })).await;
    assert_eq!(data(&again)["setOrgSetting"]["setting"]["value"], json!({ "net": 45 }));
    assert_eq!(field(&app.gql(Some(&owner), set, json!({ "k": "Bad Key!", "v": 1 })).await), Some("key"));
    assert_eq!(code(&app.gql(Some(&viewer), set, json!({ "k": "x", "v": 1 })).await), Some("FORBIDDEN"));
    let read = app.gql(Some(&viewer), "{ organization { settings { key value } } }", json!({})).await;
    assert_eq!(
        data(&read)["organization"]["settings"],
        json!([{ "key": "billing.terms_days", "value": { "net": 45 } }])
    );
    app.finish().await;
}

#[tokio::test]
async fn member_profiles_patch_and_self_service() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "People Co").await;
    let (member, me) = app.member(&owner, "m@example.com", "MEMBER").await;
    let (_, other) = app.member(&owner, "n@example.com", "MEMBER").await;
    let upd = "mutation($i: UpdateMemberInput!) { updateMember(input: $i) { membership { jobTitle department hireDate costRate { amount currency } manager { id } version } } }";
    let r = app.gql(Some(&owner), upd, json!({ "i": { "id": me, "expectedVersion": 1, "jobTitle": "Engineer", "department": "R&D", "hireDate": "2024-02-29", "costRate": "55.50", "managerId": other } })).await;
    let m = &data(&r)["updateMember"]["membership"];
    assert_eq!(m["costRate"], json!({ "amount": "55.50", "currency": "USD" }));
    assert_eq!(m["hireDate"], "2024-02-29");
    assert_eq!(m["manager"]["id"], other.as_str());
    // Omitted fields stay; null clears.
    let r = app.gql(Some(&owner), upd, json!({ "i": { "id": me, "expectedVersion": 2, "department": null } })).await;
    let m = &data(&r)["updateMember"]["membership"];
    assert_eq!(
        (m["jobTitle"].as_str(), m["department"].is_null(), m["version"].as_i64()),
        (Some("Engineer"), true, Some(3))
    );
    // Members edit their own title, not their rates, and not others.
    data(
        &app.gql(Some(&member), upd, json!({ "i": { "id": me, "expectedVersion": 3, "jobTitle": "Senior Engineer" } }))
            .await,
    );
    assert_eq!(
        code(&app.gql(Some(&member), upd, json!({ "i": { "id": me, "expectedVersion": 4, "costRate": "999" } })).await),
        Some("FORBIDDEN")
    );
    assert_eq!(
        code(
            &app.gql(Some(&member), upd, json!({ "i": { "id": other, "expectedVersion": 1, "jobTitle": "x" } })).await
        ),
        Some("FORBIDDEN")
    );
    let own = app.gql(Some(&member), "{ viewer { membership { costRate { amount } } } }", json!({})).await;
    assert_eq!(data(&own)["viewer"]["membership"]["costRate"]["amount"], "55.50", "you may see your own rate");
    assert_eq!(
        field(&app.gql(Some(&owner), upd, json!({ "i": { "id": me, "expectedVersion": 4, "managerId": me } })).await),
        Some("managerId")
    );
    let react = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { deactivateMember(input: { id: $id }) { membership { isActive } } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(data(&react)["deactivateMember"]["membership"]["isActive"], false);
    let back = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { reactivateMember(input: { id: $id }) { membership { isActive } } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(data(&back)["reactivateMember"]["membership"]["isActive"], true);
    app.finish().await;
}

#[tokio::test]
async fn notification_inbox() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Inbox Co").await;
    let (member, me) = app.member(&owner, "m@example.com", "MEMBER").await;
    let me_uuid = opsgraph_core::id::decode_as(&me, "Membership", "id").expect("uuid");
    // Live delivery arrives with the notifications issue; rows are written directly here.
    for (i, kind) in ["ASSIGNMENT", "MENTION", "INFO"].iter().enumerate() {
        app.pool
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO notifications (id, org_id, membership_id, kind, title, created_at) \
                 SELECT $1, org_id, id, $2, $3, now() + make_interval(secs => $4) FROM memberships WHERE id = $5",
                [
                    uuid::Uuid::now_v7().into(),
                    (*kind).into(),
                    format!("n{i}").into(),
                    (i as f64).into(),
                    me_uuid.into(),
                ],
            ))
            .await
            .expect("insert");
    }
    let inbox = "{ viewer { unreadNotificationCount notifications(orderBy: [{ field: CREATED_AT, direction: DESC }]) { totalCount nodes { id title kind isRead } } } }";
    let r = app.gql(Some(&member), inbox, json!({})).await;
    let v = &data(&r)["viewer"];
    assert_eq!(v["unreadNotificationCount"], 3);
    assert_eq!(v["notifications"]["nodes"][0]["title"], "n2");
    let ids: Vec<String> = v["notifications"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .take(2)
        .map(|n| n["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mark = "mutation($ids: [ID!]!, $read: Boolean) { markNotifications(input: { ids: $ids, read: $read }) { updatedCount } }";
    assert_eq!(
        data(&app.gql(Some(&member), mark, json!({ "ids": ids })).await)["markNotifications"]["updatedCount"],
        2
    );
    let filtered = app.gql(Some(&member), "{ viewer { unreadNotificationCount notifications(filter: { readAt: { isNull: true } }) { nodes { title } } } }", json!({})).await;
    assert_eq!(data(&filtered)["viewer"]["unreadNotificationCount"], 1);
    assert_eq!(data(&filtered)["viewer"]["notifications"]["nodes"], json!([{ "title": "n0" }]));
    assert_eq!(
        data(&app.gql(Some(&member), mark, json!({ "ids": [ids[0]], "read": false })).await)["markNotifications"]["updatedCount"],
        1
    );
    // Someone else's notifications are not theirs to mark, and not visible.
    assert_eq!(data(&app.gql(Some(&owner), mark, json!({ "ids": ids })).await)["markNotifications"]["updatedCount"], 0);
    assert_eq!(data(&app.gql(Some(&owner), inbox, json!({})).await)["viewer"]["notifications"]["totalCount"], 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'notification.mark_%'").await, 2);
    app.finish().await;
}
