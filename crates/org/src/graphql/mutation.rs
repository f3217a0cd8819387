//! Mutations of the org domain: identity, members, teams, skills, API keys, settings,
//! notifications. Each takes one `input` and returns a payload.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::gql::{SchemaParts, input_object, mutation, payload, payload_value, prop};
use serde::Deserialize;

use crate::service::{api_keys, members, skills, teams};

pub(crate) fn s() -> TypeRef {
    TypeRef::named(TypeRef::STRING)
}
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleInput {
    id: String,
    role: String,
    expected_version: i32,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdInput {
    id: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamMemberInput {
    team_id: String,
    membership_id: String,
    role: Option<String>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberSkillInput {
    membership_id: String,
    skill_id: String,
    proficiency: i64,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyInput {
    name: String,
    scope: String,
    expires_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveSkillInput {
    membership_id: String,
    skill_id: String,
}

/// The parent of `AddMemberPayload`.
struct AddedMember(crate::entity::membership::Model, String);

/// The parent of `DeleteSkillPayload`.
struct DeletedSkill(uuid::Uuid);

/// The parent of `CreateApiKeyPayload`.
struct CreatedKey(crate::entity::api_key::Model, String);

/// Registers the org mutations and their input / payload types.
pub fn register(parts: &mut SchemaParts) {
    for (name, field, node) in [
        ("UpdateOrganizationPayload", "organization", "Organization"),
        ("MembershipPayload", "membership", "Membership"),
        ("TeamPayload", "team", "Team"),
        ("TeamMemberPayload", "teamMember", "TeamMember"),
        ("SkillPayload", "skill", "Skill"),
        ("MemberSkillPayload", "memberSkill", "MemberSkill"),
        ("ApiKeyPayload", "apiKey", "ApiKey"),
        ("OrgSettingPayload", "setting", "OrgSetting"),
    ] {
        parts.object(payload(name, field, node, &format!("Result of a mutation changing a {node}.")));
    }
    parts.ty(input_object(
        "UpdateOrganizationInput",
        "Change the active organisation's profile.",
        &[
            ("expectedVersion", int_nn(), "The version you last read (stale = CONFLICT)."),
            ("name", s(), "New name."),
            ("domain", s(), "New domain."),
            ("timezone", s(), "New IANA time zone."),
            ("defaultCurrency", s(), "New default currency (ISO 4217)."),
            ("fiscalYearStartMonth", TypeRef::named(TypeRef::INT), "New fiscal year start month (1-12)."),
        ],
    ));
    parts.ty(input_object(
        "AddMemberInput",
        "Add a person to the organisation.",
        &[
            ("email", s_nn(), "Their e-mail; an existing account is reused."),
            ("firstName", s(), "Given name (new accounts)."),
            ("lastName", s(), "Family name (new accounts)."),
            ("role", TypeRef::named_nn("Role"), "Role."),
            ("jobTitle", s(), "Job title."),
            ("department", s(), "Department."),
            ("managerId", id(), "Line manager (Membership)."),
            ("hireDate", TypeRef::named("Date"), "Hire date."),
            ("costRate", TypeRef::named("Decimal"), "Internal cost per hour."),
            ("billRate", TypeRef::named("Decimal"), "Billing rate per hour."),
        ],
    ));
    parts.ty(input_object(
        "UpdateMemberInput",
        "Change a member's profile; omitted fields stay, null clears.",
        &[
            ("id", id_nn(), "The membership."),
            ("expectedVersion", int_nn(), "The version you last read (stale = CONFLICT)."),
            ("jobTitle", s(), "Job title."),
            ("department", s(), "Department."),
            ("managerId", id(), "Line manager (Membership)."),
            ("hireDate", TypeRef::named("Date"), "Hire date."),
            ("costRate", TypeRef::named("Decimal"), "Internal cost per hour."),
            ("billRate", TypeRef::named("Decimal"), "Billing rate per hour."),
        ],
    ));
    parts.ty(input_object(
        "ChangeMemberRoleInput",
        "Change a member's role.",
        &[
            ("id", id_nn(), "The membership."),
            ("role", TypeRef::named_nn("Role"), "The new role."),
            ("expectedVersion", int_nn(), "The version you last read."),
        ],
    ));
    parts.ty(input_object("MemberIdInput", "Names one membership.", &[("id", id_nn(), "The membership.")]));
    parts.ty(input_object(
        "CreateTeamInput",
        "Create a team.",
        &[
            ("name", s_nn(), "Unique name."),
            ("kind", TypeRef::named("TeamKind"), "Kind (default TEAM)."),
            ("description", s(), "Description."),
            ("parentId", id(), "Enclosing team."),
            ("leadId", id(), "Lead (Membership)."),
        ],
    ));
    parts.ty(input_object(
        "UpdateTeamInput",
        "Change a team; omitted fields stay, null clears.",
        &[
            ("id", id_nn(), "The team."),
            ("expectedVersion", int_nn(), "The version you last read."),
            ("name", s(), "Name."),
            ("kind", TypeRef::named("TeamKind"), "Kind."),
            ("description", s(), "Description."),
            ("parentId", id(), "Enclosing team."),
            ("leadId", id(), "Lead (Membership)."),
        ],
    ));
    parts.ty(input_object("DeleteTeamInput", "Delete a team.", &[("id", id_nn(), "The team.")]));
    parts.ty(input_object(
        "TeamMemberInput",
        "A member's place in a team.",
        &[
            ("teamId", id_nn(), "The team."),
            ("membershipId", id_nn(), "The member."),
            ("role", s(), "Role in the team (add only)."),
        ],
    ));
    parts.ty(input_object(
        "CreateSkillInput",
        "Add a catalog entry.",
        &[
            ("name", s_nn(), "Name."),
            ("kind", TypeRef::named("SkillKind"), "Kind (default SKILL)."),
            ("category", s(), "Category."),
            ("description", s(), "Description."),
            ("parentId", id(), "Parent entry."),
            ("level", s(), "Seniority level."),
        ],
    ));
    parts.ty(input_object(
        "SetMemberSkillInput",
        "Set a member's proficiency.",
        &[
            ("membershipId", id_nn(), "The member."),
            ("skillId", id_nn(), "The skill."),
            ("proficiency", int_nn(), "0 (none) to 10 (expert)."),
        ],
    ));
    parts.ty(input_object(
        "CreateApiKeyInput",
        "Create an API key.",
        &[
            ("name", s_nn(), "Name."),
            ("scope", TypeRef::named_nn("ApiKeyScope"), "What it may do."),
            ("expiresAt", TypeRef::named("DateTime"), "Expiry (default: never)."),
        ],
    ));
    parts.ty(input_object("RevokeApiKeyInput", "Revoke an API key.", &[("id", id_nn(), "The key.")]));
    parts.ty(input_object(
        "SetOrgSettingInput",
        "Set one setting.",
        &[("key", s_nn(), "Key (`a-z0-9_.`)."), ("value", TypeRef::named_nn("JSON"), "Value.")],
    ));
    parts.ty(input_object(
        "MarkNotificationsInput",
        "Mark notifications read or unread.",
        &[
            ("ids", TypeRef::named_nn_list_nn(TypeRef::ID), "The notifications (at most 100)."),
            ("read", TypeRef::named(TypeRef::BOOLEAN), "True (default): read; false: unread."),
        ],
    ));

    parts.object(
        Object::new("CreateApiKeyPayload")
            .description("A new API key and its secret, shown only this once.")
            .field(
                Field::new("apiKey", TypeRef::named_nn("ApiKey"), |ctx| {
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
        "UpdateOrganizationInput",
        "UpdateOrganizationPayload",
        "Change the active organisation's profile.",
        |req, i: crate::service::organization::UpdateOrgInput| async move {
            Ok(payload_value(crate::service::organization::update(&req, i).await?))
        },
    ));
    parts.object(
        Object::new("AddMemberPayload")
            .description("A new member and their invitation token, shown only this once.")
            .field(
                Field::new("membership", TypeRef::named_nn("Membership"), |ctx| {
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
        "AddMemberInput",
        "AddMemberPayload",
        "Add a person to the organisation and invite them.",
        |req, i| async move {
            let m = members::add(req.db.as_ref(), &req.session, i).await?;
            let token = crate::service::invitations::create(req.db.as_ref(), &req.session, m.org_id, m.id).await?;
            Ok(FieldValue::owned_any(AddedMember(m, token)))
        },
    ));
    parts.mutation(mutation(
        "updateMember",
        "UpdateMemberInput",
        "MembershipPayload",
        "Change a member's profile.",
        |req, i| async move { Ok(payload_value(members::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "changeMemberRole",
        "ChangeMemberRoleInput",
        "MembershipPayload",
        "Change a member's role (an organisation keeps an owner).",
        |req, i: RoleInput| async move {
            Ok(payload_value(
                members::change_role(req.db.as_ref(), &req.session, &i.id, &i.role, i.expected_version).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "deactivateMember",
        "MemberIdInput",
        "MembershipPayload",
        "Deactivate a member.",
        |req, i: IdInput| async move {
            Ok(payload_value(members::set_active(req.db.as_ref(), &req.session, &i.id, false).await?))
        },
    ));
    parts.mutation(mutation(
        "reactivateMember",
        "MemberIdInput",
        "MembershipPayload",
        "Reactivate a member.",
        |req, i: IdInput| async move {
            Ok(payload_value(members::set_active(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
    parts.mutation(mutation("createTeam", "CreateTeamInput", "TeamPayload", "Create a team.", |req, i| async move {
        Ok(payload_value(teams::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(mutation("updateTeam", "UpdateTeamInput", "TeamPayload", "Change a team.", |req, i| async move {
        Ok(payload_value(teams::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(mutation(
        "deleteTeam",
        "DeleteTeamInput",
        "DeleteTeamPayload",
        "Delete a team without sub-teams.",
        |req, i: IdInput| async move {
            Ok(FieldValue::owned_any(teams::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(mutation(
        "addTeamMember",
        "TeamMemberInput",
        "TeamMemberPayload",
        "Add a member to a team.",
        |req, i: TeamMemberInput| async move {
            Ok(payload_value(
                teams::add_member(req.db.as_ref(), &req.session, &i.team_id, &i.membership_id, i.role.as_deref())
                    .await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "removeTeamMember",
        "TeamMemberInput",
        "TeamPayload",
        "Remove a member from a team.",
        |req, i: TeamMemberInput| async move {
            Ok(payload_value(teams::remove_member(req.db.as_ref(), &req.session, &i.team_id, &i.membership_id).await?))
        },
    ));
    parts.mutation(mutation(
        "createSkill",
        "CreateSkillInput",
        "SkillPayload",
        "Add a skills-catalog entry.",
        |req, i| async move { Ok(payload_value(skills::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.ty(input_object(
        "UpdateSkillInput",
        "Change a catalog entry; omitted fields stay, null clears.",
        &[
            ("id", id_nn(), "The entry."),
            ("name", s(), "Name."),
            ("category", s(), "Category."),
            ("description", s(), "Description."),
            ("level", s(), "Seniority level."),
        ],
    ));
    parts.ty(input_object("DeleteSkillInput", "Delete a catalog entry.", &[("id", id_nn(), "The entry.")]));
    parts.ty(input_object(
        "RemoveMemberSkillInput",
        "Remove a member's rating of a skill.",
        &[("membershipId", id_nn(), "The member."), ("skillId", id_nn(), "The skill.")],
    ));
    parts.mutation(mutation(
        "updateSkill",
        "UpdateSkillInput",
        "SkillPayload",
        "Change a skills-catalog entry.",
        |req, i| async move { Ok(payload_value(skills::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "deleteSkill",
        "DeleteSkillInput",
        "DeleteSkillPayload",
        "Delete a catalog entry and its ratings.",
        |req, i: IdInput| async move {
            Ok(FieldValue::owned_any(DeletedSkill(skills::delete(req.db.as_ref(), &req.session, &i.id).await?)))
        },
    ));
    parts.mutation(mutation(
        "removeMemberSkill",
        "RemoveMemberSkillInput",
        "MembershipPayload",
        "Remove a member's rating of a skill.",
        |req, i: RemoveSkillInput| async move {
            Ok(payload_value(
                skills::remove_member_skill(req.db.as_ref(), &req.session, &i.membership_id, &i.skill_id).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "setMemberSkill",
        "SetMemberSkillInput",
        "MemberSkillPayload",
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
        "CreateApiKeyInput",
        "CreateApiKeyPayload",
        "Create an API key; its secret is returned only here.",
        |req, i: ApiKeyInput| async move {
            let (key, secret) =
                api_keys::create(req.db.as_ref(), &req.session, &i.name, &i.scope, i.expires_at).await?;
            Ok(FieldValue::owned_any(CreatedKey(key, secret)))
        },
    ));
    parts.mutation(mutation(
        "revokeApiKey",
        "RevokeApiKeyInput",
        "ApiKeyPayload",
        "Revoke an API key.",
        |req, i: IdInput| async move {
            Ok(payload_value(
                api_keys::revoke(req.db.as_ref(), &req.session, &i.id).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "setOrgSetting",
        "SetOrgSettingInput",
        "OrgSettingPayload",
        "Set an organisation setting.",
        |req, i: crate::service::settings::SettingInput| async move {
            Ok(payload_value(crate::service::settings::set(&req, i).await?))
        },
    ));
    parts.mutation(mutation(
        "markNotifications",
        "MarkNotificationsInput",
        "MarkNotificationsPayload",
        "Mark your notifications read or unread.",
        |req, i: crate::service::notifications::MarkInput| async move {
            Ok(FieldValue::owned_any(crate::service::notifications::mark(&req, i).await?))
        },
    ));
}
