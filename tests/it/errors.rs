//! Every error code, and bad input that gets a clear error and changes nothing.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::json;

const CREATE_TEAM: &str = "mutation($i: CreateTeamInput!) { createTeam(input: $i) { team { id } } }";
const ADD: &str = "mutation($i: AddMemberInput!) { addMember(input: $i) { membership { id } } }";

#[tokio::test]
async fn bad_input_is_rejected_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Inputs").await;
    let teams_before = app.count("SELECT count(*) AS n FROM teams").await;
    let audit_before = app.count("SELECT count(*) AS n FROM audit_log").await;
    let long = "x".repeat(201);
    for (input, f) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "   " }), "name"),
        (json!({ "name": long }), "name"),
        (json!({ "name": "nul\u{0}byte" }), "name"),
        (json!({ "name": "ok", "parentId": "not-an-id" }), "parentId"),
    ] {
        let r = app.gql(Some(&t), CREATE_TEAM, json!({ "i": input })).await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{input} -> {r}");
        assert_eq!(field(&r), Some(f), "{input} -> {r}");
        assert!(!r["errors"][0]["message"].as_str().unwrap_or_default().is_empty());
    }
    // A valid ID of the wrong type.
    let me = app.gql(Some(&t), "{ viewer { membership { id } } }", json!({})).await;
    let member = data(&me)["viewer"]["membership"]["id"].clone();
    let wrong_type = app.gql(Some(&t), CREATE_TEAM, json!({ "i": { "name": "ok", "parentId": member } })).await;
    assert_eq!(code(&wrong_type), Some("BAD_USER_INPUT"));
    assert!(wrong_type["errors"][0]["message"].as_str().unwrap_or_default().contains("expected a Team ID"));
    for email in ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com"] {
        let r = app.gql(Some(&t), ADD, json!({ "i": { "email": email, "role": "MEMBER" } })).await;
        assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{email}");
        assert_eq!(field(&r), Some("email"));
    }
    let neg =
        app.gql(Some(&t), ADD, json!({ "i": { "email": "r@example.com", "role": "MEMBER", "costRate": "-1" } })).await;
    assert_eq!(field(&neg), Some("costRate"));
    let bad_enum = app.gql(Some(&t), ADD, json!({ "i": { "email": "r@example.com", "role": "KING" } })).await;
    assert!(bad_enum["errors"].is_array(), "GraphQL validation rejects unknown enum values");
    assert_eq!(app.count("SELECT count(*) AS n FROM teams").await, teams_before);
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_log").await, audit_before);
    assert_eq!(app.count("SELECT count(*) AS n FROM memberships").await, 1);
    assert_eq!(app.count("SELECT count(*) AS n FROM users").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn constraint_violations_map_to_codes_with_fields() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Constraints").await;
    data(&app.gql(Some(&t), CREATE_TEAM, json!({ "i": { "name": "Core" } })).await);
    let dup = app.gql(Some(&t), CREATE_TEAM, json!({ "i": { "name": "Core" } })).await;
    assert_eq!(code(&dup), Some("CONFLICT"));
    assert_eq!(field(&dup), None, "CONFLICT carries its message: {dup}");
    assert!(dup["errors"][0]["message"].as_str().unwrap_or_default().contains("name"), "{dup}");
    let dupe_member = app.gql(Some(&t), ADD, json!({ "i": { "email": "owner@example.com", "role": "MEMBER" } })).await;
    assert_eq!(code(&dupe_member), Some("CONFLICT"));
    let p = app
        .gql(
            Some(&t),
            "mutation { createProject(input: { key: \"ACME\", name: \"A\" }) { project { id } } }",
            json!({}),
        )
        .await;
    data(&p);
    let dup_key = app
        .gql(
            Some(&t),
            "mutation { createProject(input: { key: \"acme\", name: \"B\" }) { project { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&dup_key), Some("CONFLICT"));
    assert!(dup_key["errors"][0]["message"].as_str().unwrap_or_default().contains("key"));
    // Internal details never leak: the message is generic for INTERNAL, and constraint
    // names / SQL never appear in any message.
    for r in [&dup, &dupe_member, &dup_key] {
        let msg = r["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(!msg.contains("violates") && !msg.contains("_key") && !msg.contains("INSERT"), "{msg}");
    }
    app.finish().await;
}

#[tokio::test]
async fn each_error_code_is_reachable() {
    let app = TestApp::spawn().await;
    let (t, _) = app.sign_up("owner@example.com", "Codes").await;
    let (viewer, _) = app.member(&t, "v@example.com", "VIEWER").await;
    assert_eq!(code(&app.gql(None, "{ organization { name } }", json!({})).await), Some("UNAUTHENTICATED"));
    assert_eq!(
        code(&app.gql(Some(&viewer), "{ organization { auditLog { totalCount } } }", json!({})).await),
        Some("FORBIDDEN")
    );
    let missing = opsgraph_core::id::encode("Team", uuid::Uuid::now_v7());
    assert_eq!(
        code(&app.gql(Some(&t), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": missing })).await),
        Some("NOT_FOUND")
    );
    assert_eq!(code(&app.gql(Some(&t), CREATE_TEAM, json!({ "i": { "name": "" } })).await), Some("BAD_USER_INPUT"));
    data(&app.gql(Some(&t), CREATE_TEAM, json!({ "i": { "name": "A" } })).await);
    assert_eq!(code(&app.gql(Some(&t), CREATE_TEAM, json!({ "i": { "name": "A" } })).await), Some("CONFLICT"));
    app.finish().await;
}
