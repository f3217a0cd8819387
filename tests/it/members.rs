//! Roles and guards, the last-owner rule, optimistic concurrency, audit rows, teams.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::json;

const ROLE: &str = "mutation($id: ID!, $r: Role!, $v: Int!) { changeMemberRole(input: { id: $id, role: $r, expectedVersion: $v }) { membership { role version } } }";

#[tokio::test]
async fn role_guards_and_the_last_owner() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Guarded").await;
    let (admin, admin_id) = app.member(&owner, "admin@example.com", "ADMIN").await;
    let (member, member_id) = app.member(&owner, "member@example.com", "MEMBER").await;
    let (viewer, _) = app.member(&owner, "viewer@example.com", "VIEWER").await;

    // MEMBER cannot add people; VIEWER cannot create teams; ADMIN can do both.
    let add = "mutation($e: String!) { addMember(input: { email: $e, role: MEMBER }) { membership { id } } }";
    assert_eq!(code(&app.gql(Some(&member), add, json!({ "e": "x@example.com" })).await), Some("FORBIDDEN"));
    assert_eq!(
        code(
            &app.gql(Some(&viewer), "mutation { createTeam(input: { name: \"V\" }) { team { id } } }", json!({})).await
        ),
        Some("FORBIDDEN")
    );
    data(&app.gql(Some(&admin), add, json!({ "e": "y@example.com" })).await);

    // Rates are visible to managers and above, and to the person themself.
    let rates = "{ organization { members { nodes { costRate { amount } } } } }";
    assert_eq!(code(&app.gql(Some(&member), rates, json!({})).await), Some("FORBIDDEN"));
    data(&app.gql(Some(&admin), rates, json!({})).await);

    // ADMIN cannot grant OWNER; OWNER can.
    assert_eq!(
        code(&app.gql(Some(&admin), ROLE, json!({ "id": member_id, "r": "OWNER", "v": 1 })).await),
        Some("FORBIDDEN")
    );
    let promoted = app.gql(Some(&owner), ROLE, json!({ "id": admin_id, "r": "OWNER", "v": 1 })).await;
    assert_eq!(data(&promoted)["changeMemberRole"]["membership"]["version"], 2);

    // Stale version: CONFLICT, nothing changed.
    let stale = app.gql(Some(&owner), ROLE, json!({ "id": admin_id, "r": "MANAGER", "v": 1 })).await;
    assert_eq!(code(&stale), Some("CONFLICT"));
    assert_eq!(app.count("SELECT count(*) AS n FROM memberships WHERE role = 'OWNER'").await, 2);

    // With two owners one may step down; the last one may not.
    let me = app.gql(Some(&owner), "{ viewer { membership { id version } } }", json!({})).await;
    let my_id = data(&me)["viewer"]["membership"]["id"].as_str().expect("id").to_owned();
    data(&app.gql(Some(&owner), ROLE, json!({ "id": my_id, "r": "ADMIN", "v": 1 })).await);
    let admin_again = app.log_in("admin@example.com").await;
    let last = app.gql(Some(&admin_again), ROLE, json!({ "id": admin_id, "r": "ADMIN", "v": 2 })).await;
    assert_eq!(code(&last), Some("CONFLICT"), "{last}");
    let deact = app
        .gql(
            Some(&admin_again),
            "mutation($id: ID!) { deactivateMember(input: { id: $id }) { membership { isActive } } }",
            json!({ "id": admin_id }),
        )
        .await;
    assert_eq!(code(&deact), Some("CONFLICT"));
    assert_eq!(app.count("SELECT count(*) AS n FROM memberships WHERE role = 'OWNER' AND is_active").await, 1);

    // Deactivated members lose access to the organisation at once.
    data(
        &app.gql(
            Some(&admin_again),
            "mutation($id: ID!) { deactivateMember(input: { id: $id }) { membership { isActive } } }",
            json!({ "id": member_id }),
        )
        .await,
    );
    assert_eq!(code(&app.gql(Some(&member), "{ organization { name } }", json!({})).await), Some("FORBIDDEN"));
    app.finish().await;
}

#[tokio::test]
async fn mutations_write_the_audit_log() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Audited").await;
    let r = app
        .gql(
            Some(&owner),
            "mutation { createTeam(input: { name: \"Core\", kind: STUDIO }) { team { id version } } }",
            json!({}),
        )
        .await;
    let team = data(&r)["createTeam"]["team"]["id"].as_str().expect("id").to_owned();
    let u = app.gql(Some(&owner), "mutation($id: ID!) { updateTeam(input: { id: $id, expectedVersion: 1, name: \"Core Platform\" }) { team { name version } } }", json!({ "id": team })).await;
    assert_eq!(data(&u)["updateTeam"]["team"]["version"], 2);
    let log = app.gql(Some(&owner), "{ organization { auditLog(orderBy: [{ field: CREATED_AT, direction: DESC }], first: 5) { nodes { action entityType entityId changes actor { role } actorType requestId } } } }", json!({})).await;
    let nodes = data(&log)["organization"]["auditLog"]["nodes"].as_array().cloned().unwrap_or_default();
    let update = nodes.iter().find(|n| n["action"] == "team.update").expect("team.update audited");
    assert_eq!(update["entityId"], team.as_str());
    assert_eq!(update["changes"]["name"], json!({ "from": "Core", "to": "Core Platform" }));
    assert_eq!(update["actor"]["role"], "OWNER");
    assert!(nodes.iter().any(|n| n["action"] == "team.create"));
    assert!(nodes.iter().any(|n| n["action"] == "organization.create"));
    app.finish().await;
}

#[tokio::test]
async fn teams_members_and_skills() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Teams").await;
    let (_, m1) = app.member(&owner, "m1@example.com", "MEMBER").await;
    let parent = app
        .gql(
            Some(&owner),
            "mutation { createTeam(input: { name: \"Engineering\", kind: DEPARTMENT }) { team { id } } }",
            json!({}),
        )
        .await;
    let parent = data(&parent)["createTeam"]["team"]["id"].as_str().expect("id").to_owned();
    let child = app.gql(Some(&owner), "mutation($p: ID!, $l: ID!) { createTeam(input: { name: \"Platform\", parentId: $p, leadId: $l }) { team { id parent { name } lead { role } } } }", json!({ "p": parent, "l": m1 })).await;
    let c = &data(&child)["createTeam"]["team"];
    assert_eq!(c["parent"]["name"], "Engineering");
    let child_id = c["id"].as_str().expect("id").to_owned();
    // A team cannot become its own ancestor.
    let cyc = app.gql(Some(&owner), "mutation($id: ID!, $p: ID!) { updateTeam(input: { id: $id, expectedVersion: 1, parentId: $p }) { team { id } } }", json!({ "id": parent, "p": child_id })).await;
    assert_eq!(code(&cyc), Some("BAD_USER_INPUT"));
    assert_eq!(field(&cyc), Some("parentId"));
    let add = "mutation($t: ID!, $m: ID!) { addTeamMember(input: { teamId: $t, membershipId: $m, role: \"Dev\" }) { teamMember { role team { name } membership { id } } } }";
    data(&app.gql(Some(&owner), add, json!({ "t": child_id, "m": m1 })).await);
    assert_eq!(code(&app.gql(Some(&owner), add, json!({ "t": child_id, "m": m1 })).await), Some("CONFLICT"));
    let sk = app
        .gql(
            Some(&owner),
            "mutation { createSkill(input: { name: \"Rust\", category: \"Languages\" }) { skill { id kind } } }",
            json!({}),
        )
        .await;
    let skill = data(&sk)["createSkill"]["skill"]["id"].as_str().expect("id").to_owned();
    let set = "mutation($m: ID!, $s: ID!, $p: Int!) { setMemberSkill(input: { membershipId: $m, skillId: $s, proficiency: $p }) { memberSkill { proficiency skill { name } } } }";
    assert_eq!(
        code(&app.gql(Some(&owner), set, json!({ "m": m1, "s": skill, "p": 11 })).await),
        Some("BAD_USER_INPUT")
    );
    data(&app.gql(Some(&owner), set, json!({ "m": m1, "s": skill, "p": 7 })).await);
    let again = app.gql(Some(&owner), set, json!({ "m": m1, "s": skill, "p": 9 })).await;
    assert_eq!(data(&again)["setMemberSkill"]["memberSkill"]["proficiency"], 9);
    let view = app.gql(Some(&owner), "query($id: ID!) { node(id: $id) { ... on Membership { skills { nodes { proficiency skill { name } } } teamMemberships { nodes { team { name parent { name } } } } } } }", json!({ "id": m1 })).await;
    let v = &data(&view)["node"];
    assert_eq!(v["skills"]["nodes"], json!([{ "proficiency": 9, "skill": { "name": "Rust" } }]));
    assert_eq!(v["teamMemberships"]["nodes"][0]["team"]["parent"]["name"], "Engineering");
    let del = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { deleteTeam(input: { id: $id }) { deletedTeamId } }",
            json!({ "id": parent }),
        )
        .await;
    assert_eq!(code(&del), Some("CONFLICT"), "sub-teams must move first");
    let rm = app.gql(Some(&owner), "mutation($t: ID!, $m: ID!) { removeTeamMember(input: { teamId: $t, membershipId: $m }) { team { members { totalCount } } } }", json!({ "t": child_id, "m": m1 })).await;
    assert_eq!(data(&rm)["removeTeamMember"]["team"]["members"]["totalCount"], 0);
    app.finish().await;
}

#[tokio::test]
async fn skills_catalog_changes() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@example.com", "Catalog").await;
    let (member, me) = app.member(&owner, "m@example.com", "MEMBER").await;
    let sk = app
        .gql(Some(&owner), "mutation { createSkill(input: { name: \"Go\", kind: SKILL }) { skill { id } } }", json!({}))
        .await;
    let skill = data(&sk)["createSkill"]["skill"]["id"].as_str().expect("id").to_owned();
    let upd = app.gql(Some(&owner), "mutation($id: ID!) { updateSkill(input: { id: $id, name: \"Golang\", category: \"Languages\" }) { skill { name category } } }", json!({ "id": skill })).await;
    assert_eq!(data(&upd)["updateSkill"]["skill"], json!({ "name": "Golang", "category": "Languages" }));
    assert_eq!(
        code(
            &app.gql(
                Some(&member),
                "mutation($id: ID!) { updateSkill(input: { id: $id, name: \"x\" }) { skill { name } } }",
                json!({ "id": skill })
            )
            .await
        ),
        Some("FORBIDDEN")
    );
    // A member rates and un-rates themself.
    let set = "mutation($m: ID!, $s: ID!) { setMemberSkill(input: { membershipId: $m, skillId: $s, proficiency: 4 }) { memberSkill { proficiency } } }";
    data(&app.gql(Some(&member), set, json!({ "m": me, "s": skill })).await);
    let rm = "mutation($m: ID!, $s: ID!) { removeMemberSkill(input: { membershipId: $m, skillId: $s }) { membership { skills { nodes { proficiency } } } } }";
    assert_eq!(
        data(&app.gql(Some(&member), rm, json!({ "m": me, "s": skill })).await)["removeMemberSkill"]["membership"]["skills"]
            ["nodes"],
        json!([])
    );
    assert_eq!(code(&app.gql(Some(&member), rm, json!({ "m": me, "s": skill })).await), Some("NOT_FOUND"));
    let del = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { deleteSkill(input: { id: $id }) { deletedSkillId } }",
            json!({ "id": skill }),
        )
        .await;
    assert_eq!(data(&del)["deleteSkill"]["deletedSkillId"], skill.as_str());
    assert_eq!(app.count("SELECT count(*) AS n FROM skills").await, 0);
    app.finish().await;
}
