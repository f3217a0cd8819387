//! Mutations of the org domain: identity, members, teams, skills, API keys, settings,
//! notifications. Each takes one `input` and returns a payload.

use crate::enums::ApiKeyScope;
use crate::nodes::{ApiKey, MemberSkill, Membership, Organization, Skill, Team, TeamMember};
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::Role;
use opsgraph_core::gql::{
    SchemaParts, mutation, node_mutation, payload, payload_named, payload_object, payload_value, prop,
};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_derive::GqlInput;
use serde::Deserialize;

use crate::service::{api_keys, members, skills, teams};

pub(crate) fn s_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::STRING)
}
pub(crate) fn id() -> TypeRef {
    TypeRef::named(TypeRef::ID)
}
pub(crate) fn id_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::ID)
}
pub(crate) fn int_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::INT)
}

/// Change a member's role.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "ChangeMemberRoleInput")]
struct RoleInput {
    /// The membership.
    id: Id,
    /// The new role.
    role: Role,
    /// The version you last read.
    expected_version: i32,
}
opsgraph_core::id_input!(
    /// Names one membership.
    MemberIdInput,
    "The membership."
);
opsgraph_core::id_input!(
    /// Delete a team.
    DeleteTeamInput,
    "The team."
);
opsgraph_core::id_input!(
    /// Revoke an API key.
    RevokeApiKeyInput,
    "The key."
);
opsgraph_core::id_input!(
    /// Delete a catalog entry.
    DeleteSkillInput,
    "The entry."
);
/// A member's place in a team.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct TeamMemberInput {
    /// The team.
    team_id: Id,
    /// The member.
    membership_id: Id,
    /// Role in the team (add only).
    role: Option<String>,
}
/// Set a member's proficiency.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "SetMemberSkillInput")]
struct MemberSkillInput {
    /// The member.
    membership_id: Id,
    /// The skill.
    skill_id: Id,
    /// 0 (none) to 10 (expert).
    proficiency: i64,
}
/// Create an API key.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "CreateApiKeyInput")]
struct ApiKeyInput {
    /// Name.
    name: String,
    /// What it may do.
    scope: ApiKeyScope,
    /// Expiry (default: never).
    expires_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// Remove a member's rating of a skill.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "RemoveMemberSkillInput")]
struct RemoveSkillInput {
    /// The member.
    membership_id: Id,
    /// The skill.
    skill_id: Id,
}

/// The parent of `AddMemberPayload`.
struct AddedMember(crate::entity::membership::Model, String);

/// The parent of `DeleteSkillPayload`.
struct DeletedSkill(uuid::Uuid);

/// The parent of `CreateApiKeyPayload`.
struct CreatedKey(crate::entity::api_key::Model, String);

/// Registers the org mutations and their input / payload types.
pub fn register(parts: &mut SchemaParts) {
    inputs(parts);
    update_organization_mutations(parts);
    membership_mutations(parts);
    membership_mutations_2(parts);
    skill_mutations(parts);
    set_org_setting_mutations(parts);
}

fn inputs(parts: &mut SchemaParts) {
    let changing = |node: &str| format!("Result of a mutation changing a {node}.");
    parts.object(payload_named::<Organization>("UpdateOrganizationPayload", "organization", &changing("Organization")));
    parts.object(payload::<Membership>("membership", &changing("Membership")));
    parts.object(payload::<Team>("team", &changing("Team")));
    parts.object(payload::<TeamMember>("teamMember", &changing("TeamMember")));
    parts.object(payload::<Skill>("skill", &changing("Skill")));
    parts.object(payload::<MemberSkill>("memberSkill", &changing("MemberSkill")));
    parts.object(payload::<ApiKey>("apiKey", &changing("ApiKey")));
    parts.object(payload_object(
        "OrgSettingPayload",
        "setting",
        TypeRef::named_nn("OrgSetting"),
        &changing("OrgSetting"),
    ));
    parts.input::<crate::service::organization::UpdateOrgInput>();
    parts.input::<members::AddMemberInput>();
    parts.input::<members::UpdateMemberInput>();
    parts.input::<RoleInput>();
    parts.input::<MemberIdInput>();
    parts.input::<teams::CreateTeamInput>();
    parts.input::<teams::UpdateTeamInput>();
    parts.input::<DeleteTeamInput>();
    parts.input::<TeamMemberInput>();
    parts.input::<skills::CreateSkillInput>();
    parts.input::<MemberSkillInput>();
    parts.input::<ApiKeyInput>();
    parts.input::<RevokeApiKeyInput>();
    parts.input::<crate::service::settings::SettingInput>();
    parts.input::<crate::service::notifications::MarkInput>();
}

fn update_organization_mutations(parts: &mut SchemaParts) {
    parts.object(
        Object::new("CreateApiKeyPayload")
            .description("A new API key and its secret, shown only this once.")
            .field(
                Field::new("apiKey", ApiKey::nn(), |ctx| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::borrowed_any(&opsgraph_core::gql::parent::<CreatedKey>(&ctx)?.0)))
                    })
                })
                .description("The key."),
            )
            .field(prop::<CreatedKey>(
                "secret",
                s_nn(),
                "The full key (`ogk_<prefix>_<secret>`); store it now.",
                |k| k.1.clone().into(),
            )),
    );
    parts.object(Object::new("DeleteTeamPayload").description("Result of deleting a team.").field(prop::<uuid::Uuid>(
        "deletedTeamId",
        id_nn(),
        "The deleted team's ID.",
        |id| opsgraph_core::id::encode("Team", *id).into(),
    )));
    parts.object(Object::new("DeleteSkillPayload").description("Result of deleting a catalog entry.").field(prop::<
        DeletedSkill,
    >(
        "deletedSkillId",
        id_nn(),
        "The deleted entry's ID.",
        |d| opsgraph_core::id::encode("Skill", d.0).into(),
    )));
    parts.object(
        Object::new("MarkNotificationsPayload").description("Result of marking notifications.").field(prop::<u64>(
            "updatedCount",
            int_nn(),
            "How many notifications changed.",
            |n| (*n as i64).into(),
        )),
    );

    parts.mutation(mutation(
        "updateOrganization",
        "UpdateOrganizationPayload",
        "Change the active organisation's profile.",
        |req, i: crate::service::organization::UpdateOrgInput| async move {
            Ok(payload_value(crate::service::organization::update(&req, i).await?))
        },
    ));
}

fn membership_mutations(parts: &mut SchemaParts) {
    parts.object(
        Object::new("AddMemberPayload")
            .description("A new member and their invitation token, shown only this once.")
            .field(
                Field::new("membership", Membership::nn(), |ctx| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::borrowed_any(&opsgraph_core::gql::parent::<AddedMember>(&ctx)?.0)))
                    })
                })
                .description("The membership."),
            )
            .field(prop::<AddedMember>(
                "invitationToken",
                s_nn(),
                "One-time token for `acceptInvitation` (valid 7 days); deliver it to the person.",
                |a| a.1.clone().into(),
            )),
    );
    parts.mutation(mutation(
        "addMember",
        "AddMemberPayload",
        "Add a person to the organisation and invite them.",
        |req, i| async move {
            let m = members::add(req.db.as_ref(), &req.session, i).await?;
            let token = crate::service::invitations::create(req.db.as_ref(), &req.session, m.org_id, m.id).await?;
            Ok(FieldValue::owned_any(AddedMember(m, token)))
        },
    ));
    parts.mutation(node_mutation(Membership, "updateMember", "Change a member's profile.", |req, i| async move {
        Ok(payload_value(members::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Membership,
        "changeMemberRole",
        "Change a member's role (an organisation keeps an owner).",
        |req, i: RoleInput| async move {
            Ok(payload_value(
                members::change_role(req.db.as_ref(), &req.session, &i.id, i.role, i.expected_version).await?,
            ))
        },
    ));
    parts.mutation(node_mutation(
        Membership,
        "deactivateMember",
        "Deactivate a member.",
        |req, i: MemberIdInput| async move {
            Ok(payload_value(members::set_active(req.db.as_ref(), &req.session, &i.id, false).await?))
        },
    ));
}

fn membership_mutations_2(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        Membership,
        "reactivateMember",
        "Reactivate a member.",
        |req, i: MemberIdInput| async move {
            Ok(payload_value(members::set_active(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
    parts.mutation(node_mutation(Team, "createTeam", "Create a team.", |req, i| async move {
        Ok(payload_value(teams::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Team, "updateTeam", "Change a team.", |req, i| async move {
        Ok(payload_value(teams::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(mutation(
        "deleteTeam",
        "DeleteTeamPayload",
        "Delete a team without sub-teams.",
        |req, i: DeleteTeamInput| async move {
            Ok(FieldValue::owned_any(teams::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        TeamMember,
        "addTeamMember",
        "Add a member to a team.",
        |req, i: TeamMemberInput| async move {
            Ok(payload_value(
                teams::add_member(req.db.as_ref(), &req.session, &i.team_id, &i.membership_id, i.role.as_deref())
                    .await?,
            ))
        },
    ));
    parts.mutation(node_mutation(
        Team,
        "removeTeamMember",
        "Remove a member from a team.",
        |req, i: TeamMemberInput| async move {
            Ok(payload_value(teams::remove_member(req.db.as_ref(), &req.session, &i.team_id, &i.membership_id).await?))
        },
    ));
    parts.mutation(node_mutation(Skill, "createSkill", "Add a skills-catalog entry.", |req, i| async move {
        Ok(payload_value(skills::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.input::<skills::UpdateSkillInput>();
    parts.input::<DeleteSkillInput>();
    parts.input::<RemoveSkillInput>();
}

fn skill_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(Skill, "updateSkill", "Change a skills-catalog entry.", |req, i| async move {
        Ok(payload_value(skills::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(mutation(
        "deleteSkill",
        "DeleteSkillPayload",
        "Delete a catalog entry and its ratings.",
        |req, i: DeleteSkillInput| async move {
            Ok(FieldValue::owned_any(DeletedSkill(skills::delete(req.db.as_ref(), &req.session, &i.id).await?)))
        },
    ));
    parts.mutation(node_mutation(
        Membership,
        "removeMemberSkill",
        "Remove a member's rating of a skill.",
        |req, i: RemoveSkillInput| async move {
            Ok(payload_value(
                skills::remove_member_skill(req.db.as_ref(), &req.session, &i.membership_id, &i.skill_id).await?,
            ))
        },
    ));
    parts.mutation(node_mutation(
        MemberSkill,
        "setMemberSkill",
        "Set a member's proficiency in a skill.",
        |req, i: MemberSkillInput| async move {
            Ok(payload_value(
                skills::set_member_skill(req.db.as_ref(), &req.session, &i.membership_id, &i.skill_id, i.proficiency)
                    .await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "createApiKey",
        "CreateApiKeyPayload",
        "Create an API key; its secret is returned only here.",
        |req, i: ApiKeyInput| async move {
            let (key, secret) = api_keys::create(req.db.as_ref(), &req.session, &i.name, i.scope, i.expires_at).await?;
            Ok(FieldValue::owned_any(CreatedKey(key, secret)))
        },
    ));
    parts.mutation(node_mutation(
        ApiKey,
        "revokeApiKey",
        "Revoke an API key.",
        |req, i: RevokeApiKeyInput| async move {
            Ok(payload_value(api_keys::revoke(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
}

fn set_org_setting_mutations(parts: &mut SchemaParts) {
    parts.mutation(mutation(
        "setOrgSetting",
        "OrgSettingPayload",
        "Set an organisation setting.",
        |req, i: crate::service::settings::SettingInput| async move {
            Ok(payload_value(crate::service::settings::set(&req, i).await?))
        },
    ));
    parts.mutation(mutation(
        "markNotifications",
        "MarkNotificationsPayload",
        "Mark your notifications read or unread.",
        |req, i: crate::service::notifications::MarkInput| async move {
            Ok(FieldValue::owned_any(crate::service::notifications::mark(&req, i).await?))
        },
    ));
}
