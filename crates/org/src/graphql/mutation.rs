//! Mutations of the org domain: identity, members, teams, skills, API keys, settings,
//! notifications. Each takes one `input` and returns a payload.

use std::sync::Arc;

use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, TypeRef,
};
use opsgraph_core::gql::{SchemaParts, mutation, payload, payload_value, prop};
use opsgraph_core::id::decode_as;
use opsgraph_core::id::new_id;
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx, audit, validate};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;

use crate::entity::{notification, org_setting, organization};
use crate::service::auth::{self, AuthTokens};
use crate::service::tokens::AuthConfig;
use crate::service::{api_keys, members, skills, teams};

fn input(name: &str, desc: &str, fields: &[(&str, TypeRef, &str)]) -> InputObject {
    fields
        .iter()
        .fold(InputObject::new(name).description(desc), |o, (n, t, d)| {
            o.field(InputValue::new(*n, t.clone()).description(*d))
        })
}
fn s() -> TypeRef {
    TypeRef::named(TypeRef::STRING)
}
fn s_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::STRING)
}
fn id() -> TypeRef {
    TypeRef::named(TypeRef::ID)
}
fn id_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::ID)
}
fn int_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::INT)
}

fn auth_payload_object() -> Object {
    type A = AuthTokens;
    Object::new("AuthPayload")
        .description("Tokens of a signed-in session.")
        .field(prop::<A>(
            "accessToken",
            s_nn(),
            "Short-lived bearer token for `Authorization: Bearer`.",
            |a| a.access_token.clone().into(),
        ))
        .field(prop::<A>(
            "accessTokenExpiresAt",
            TypeRef::named_nn("DateTime"),
            "When the access token expires.",
            |a| {
                a.access_expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    .into()
            },
        ))
        .field(prop::<A>(
            "refreshToken",
            s_nn(),
            "Single-use token for `refreshToken`; reuse revokes the session.",
            |a| a.refresh_token.clone().into(),
        ))
        .field(
            Field::new("user", TypeRef::named_nn("User"), |ctx| {
                FieldFuture::new(async move {
                    Ok(Some(FieldValue::owned_any(
                        opsgraph_core::gql::parent::<A>(&ctx)?.user.clone(),
                    )))
                })
            })
            .description("The signed-in user."),
        )
        .field(prop::<A>(
            "organizationId",
            id(),
            "The active organisation of these tokens.",
            |a| {
                opsgraph_core::gql::opt(
                    a.org_id
                        .map(|o| opsgraph_core::id::encode("Organization", o)),
                )
            },
        ))
}

/// An auth mutation: gets the request context, the auth config and the deserialized input.
fn auth_mutation<I, F, Fut>(name: &str, input_type: &str, desc: &str, f: F) -> Field
where
    I: serde::de::DeserializeOwned + Send + 'static,
    F: Fn(Arc<RequestCtx>, AuthConfig, DatabaseConnection, I) -> Fut
        + Send
        + Sync
        + Clone
        + 'static,
    Fut: Future<Output = AppResult<AuthTokens>> + Send + 'static,
{
    Field::new(name, TypeRef::named_nn("AuthPayload"), move |ctx| {
        let f = f.clone();
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?.clone();
            let cfg = ctx
                .data::<AuthConfig>()
                .map_err(|_| AppError::internal("auth config missing"))?
                .clone();
            let pool = ctx
                .data::<DatabaseConnection>()
                .map_err(|_| AppError::internal("pool missing"))?
                .clone();
            let input: I = ctx
                .args
                .try_get("input")?
                .deserialize()
                .map_err(|e| AppError::bad_input("input", e.message))?;
            Ok(Some(FieldValue::owned_any(f(req, cfg, pool, input).await?)))
        })
    })
    .argument(
        InputValue::new("input", TypeRef::named_nn(input_type))
            .description("The mutation's input."),
    )
    .description(desc)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenInput {
    refresh_token: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrgInput {
    organization_id: String,
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
struct SettingInput {
    key: String,
    value: serde_json::Value,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarkInput {
    ids: Vec<String>,
    read: Option<bool>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateOrgInput {
    expected_version: i32,
    name: Option<String>,
    domain: Option<String>,
    timezone: Option<String>,
    default_currency: Option<String>,
    fiscal_year_start_month: Option<i16>,
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
    parts.ty(input(
        "SignUpInput",
        "Create an account and an organisation you own.",
        &[
            ("email", s_nn(), "Login e-mail."),
            ("password", s_nn(), "At least 10 characters."),
            ("firstName", s_nn(), "Given name."),
            ("lastName", s_nn(), "Family name."),
            ("organizationName", s_nn(), "Name of the new organisation."),
        ],
    ));
    parts.ty(input(
        "LogInInput",
        "Sign in.",
        &[
            ("email", s_nn(), "Login e-mail."),
            ("password", s_nn(), "Password."),
            (
                "organizationId",
                id(),
                "Organisation to activate (default: your first).",
            ),
        ],
    ));
    parts.ty(input(
        "RefreshTokenInput",
        "Exchange a refresh token.",
        &[("refreshToken", s_nn(), "The refresh token.")],
    ));
    parts.ty(input(
        "LogOutInput",
        "End a session.",
        &[("refreshToken", s_nn(), "The session's refresh token.")],
    ));
    parts.ty(input(
        "SwitchOrganizationInput",
        "Activate another of your organisations.",
        &[("organizationId", id_nn(), "The organisation.")],
    ));
    parts.ty(input(
        "UpdateOrganizationInput",
        "Change the active organisation's profile.",
        &[
            (
                "expectedVersion",
                int_nn(),
                "The version you last read (stale = CONFLICT).",
            ),
            ("name", s(), "New name."),
            ("domain", s(), "New domain."),
            ("timezone", s(), "New IANA time zone."),
            ("defaultCurrency", s(), "New default currency (ISO 4217)."),
            (
                "fiscalYearStartMonth",
                TypeRef::named(TypeRef::INT),
                "New fiscal year start month (1-12).",
            ),
        ],
    ));
    parts.ty(input(
        "AddMemberInput",
        "Add a person to the organisation.",
        &[
            (
                "email",
                s_nn(),
                "Their e-mail; an existing account is reused.",
            ),
            ("firstName", s(), "Given name (new accounts)."),
            ("lastName", s(), "Family name (new accounts)."),
            ("role", TypeRef::named_nn("Role"), "Role."),
            ("jobTitle", s(), "Job title."),
            ("department", s(), "Department."),
            ("managerId", id(), "Line manager (Membership)."),
            ("hireDate", TypeRef::named("Date"), "Hire date."),
            (
                "costRate",
                TypeRef::named("Decimal"),
                "Internal cost per hour.",
            ),
            (
                "billRate",
                TypeRef::named("Decimal"),
                "Billing rate per hour.",
            ),
        ],
    ));
    parts.ty(input(
        "UpdateMemberInput",
        "Change a member's profile; omitted fields stay, null clears.",
        &[
            ("id", id_nn(), "The membership."),
            (
                "expectedVersion",
                int_nn(),
                "The version you last read (stale = CONFLICT).",
            ),
            ("jobTitle", s(), "Job title."),
            ("department", s(), "Department."),
            ("managerId", id(), "Line manager (Membership)."),
            ("hireDate", TypeRef::named("Date"), "Hire date."),
            (
                "costRate",
                TypeRef::named("Decimal"),
                "Internal cost per hour.",
            ),
            (
                "billRate",
                TypeRef::named("Decimal"),
                "Billing rate per hour.",
            ),
        ],
    ));
    parts.ty(input(
        "ChangeMemberRoleInput",
        "Change a member's role.",
        &[
            ("id", id_nn(), "The membership."),
            ("role", TypeRef::named_nn("Role"), "The new role."),
            ("expectedVersion", int_nn(), "The version you last read."),
        ],
    ));
    parts.ty(input(
        "MemberIdInput",
        "Names one membership.",
        &[("id", id_nn(), "The membership.")],
    ));
    parts.ty(input(
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
    parts.ty(input(
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
    parts.ty(input(
        "DeleteTeamInput",
        "Delete a team.",
        &[("id", id_nn(), "The team.")],
    ));
    parts.ty(input(
        "TeamMemberInput",
        "A member's place in a team.",
        &[
            ("teamId", id_nn(), "The team."),
            ("membershipId", id_nn(), "The member."),
            ("role", s(), "Role in the team (add only)."),
        ],
    ));
    parts.ty(input(
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
    parts.ty(input(
        "SetMemberSkillInput",
        "Set a member's proficiency.",
        &[
            ("membershipId", id_nn(), "The member."),
            ("skillId", id_nn(), "The skill."),
            ("proficiency", int_nn(), "0 (none) to 10 (expert)."),
        ],
    ));
    parts.ty(input(
        "CreateApiKeyInput",
        "Create an API key.",
        &[
            ("name", s_nn(), "Name."),
            ("scope", TypeRef::named_nn("ApiKeyScope"), "What it may do."),
            (
                "expiresAt",
                TypeRef::named("DateTime"),
                "Expiry (default: never).",
            ),
        ],
    ));
    parts.ty(input(
        "RevokeApiKeyInput",
        "Revoke an API key.",
        &[("id", id_nn(), "The key.")],
    ));
    parts.ty(input(
        "SetOrgSettingInput",
        "Set one setting.",
        &[
            ("key", s_nn(), "Key (`a-z0-9_.`)."),
            ("value", TypeRef::named_nn("JSON"), "Value."),
        ],
    ));
    parts.ty(input(
        "MarkNotificationsInput",
        "Mark notifications read or unread.",
        &[
            (
                "ids",
                TypeRef::named_nn_list_nn(TypeRef::ID),
                "The notifications (at most 100).",
            ),
            (
                "read",
                TypeRef::named(TypeRef::BOOLEAN),
                "True (default): read; false: unread.",
            ),
        ],
    ));

    parts.object(auth_payload_object());
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
        parts.object(payload(
            name,
            field,
            node,
            &format!("Result of a mutation changing a {node}."),
        ));
    }
    parts.object(
        Object::new("CreateApiKeyPayload")
            .description("A new API key and its secret, shown only this once.")
            .field(
                Field::new("apiKey", TypeRef::named_nn("ApiKey"), |ctx| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::borrowed_any(
                            &opsgraph_core::gql::parent::<CreatedKey>(&ctx)?.0,
                        )))
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
    parts.object(
        Object::new("DeleteTeamPayload")
            .description("Result of deleting a team.")
            .field(prop::<uuid::Uuid>(
                "deletedTeamId",
                id_nn(),
                "The deleted team's ID.",
                |id| opsgraph_core::id::encode("Team", *id).into(),
            )),
    );
    parts.object(
        Object::new("DeleteSkillPayload")
            .description("Result of deleting a catalog entry.")
            .field(prop::<DeletedSkill>(
                "deletedSkillId",
                id_nn(),
                "The deleted entry's ID.",
                |d| opsgraph_core::id::encode("Skill", d.0).into(),
            )),
    );
    parts.object(
        Object::new("MarkNotificationsPayload")
            .description("Result of marking notifications.")
            .field(prop::<u64>(
                "updatedCount",
                int_nn(),
                "How many notifications changed.",
                |n| (*n as i64).into(),
            )),
    );

    parts.mutation(auth_mutation(
        "signUp",
        "SignUpInput",
        "Create an account and organisation; signs in.",
        |req, cfg, _pool, i: auth::SignUpInput| async move {
            auth::sign_up(&req.db, &cfg, &req.session, i).await
        },
    ));
    parts.mutation(auth_mutation(
        "logIn",
        "LogInInput",
        "Sign in (rate limited per account and address).",
        |req, cfg, pool, i: auth::LogInInput| async move {
            auth::log_in(&req.db, &pool, &cfg, &req.session, i).await
        },
    ));
    parts.mutation(auth_mutation(
        "refreshToken",
        "RefreshTokenInput",
        "Rotate a refresh token into a new token pair.",
        |req, cfg, pool, i: TokenInput| async move {
            auth::refresh(&req.db, &pool, &cfg, &i.refresh_token).await
        },
    ));
    parts.ty(input(
        "AcceptInvitationInput",
        "Redeem an invitation.",
        &[
            ("token", s_nn(), "The invitation token from `addMember`."),
            (
                "password",
                s_nn(),
                "Your password (an existing account must give its own).",
            ),
            ("firstName", s(), "Given name."),
            ("lastName", s(), "Family name."),
        ],
    ));
    parts.mutation(auth_mutation("acceptInvitation", "AcceptInvitationInput", "Set your password with an invitation and sign in.", |req, cfg, _pool, i| async move {
        crate::service::invitations::accept(&req.db, &cfg, i).await
    }));
    parts.mutation(auth_mutation(
        "switchOrganization",
        "SwitchOrganizationInput",
        "New tokens with another of your organisations active.",
        |req, cfg, _pool, i: OrgInput| async move {
            auth::switch_organization(&req.db, &cfg, &req.session, &i.organization_id).await
        },
    ));
    parts.object(
        Object::new("LogOutPayload")
            .description("Result of logging out.")
            .field(prop::<bool>(
                "revoked",
                TypeRef::named_nn(TypeRef::BOOLEAN),
                "Whether a session was revoked.",
                |b| (*b).into(),
            )),
    );
    parts.mutation(mutation(
        "logOut",
        "LogOutInput",
        "LogOutPayload",
        "Revoke the session of a refresh token.",
        |req, i: TokenInput| async move {
            Ok(FieldValue::owned_any(
                auth::log_out(&req.db, &i.refresh_token).await?,
            ))
        },
    ));
    parts.mutation(mutation("updateOrganization", "UpdateOrganizationInput", "UpdateOrganizationPayload", "Change the active organisation's profile.", |req, i: UpdateOrgInput| async move {
        Ok(payload_value(update_organization(&req, i).await?))
    }));
    parts.object(
        Object::new("AddMemberPayload")
            .description("A new member and their invitation token, shown only this once.")
            .field(
                Field::new("membership", TypeRef::named_nn("Membership"), |ctx| {
                    FieldFuture::new(async move {
                        Ok(Some(FieldValue::borrowed_any(
                            &opsgraph_core::gql::parent::<AddedMember>(&ctx)?.0,
                        )))
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
            let token =
                crate::service::invitations::create(req.db.as_ref(), &req.session, m.org_id, m.id)
                    .await?;
            Ok(FieldValue::owned_any(AddedMember(m, token)))
        },
    ));
    parts.mutation(mutation(
        "updateMember",
        "UpdateMemberInput",
        "MembershipPayload",
        "Change a member's profile.",
        |req, i| async move {
            Ok(payload_value(
                members::update(req.db.as_ref(), &req.session, i).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "changeMemberRole",
        "ChangeMemberRoleInput",
        "MembershipPayload",
        "Change a member's role (an organisation keeps an owner).",
        |req, i: RoleInput| async move {
            Ok(payload_value(
                members::change_role(
                    req.db.as_ref(),
                    &req.session,
                    &i.id,
                    &i.role,
                    i.expected_version,
                )
                .await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "deactivateMember",
        "MemberIdInput",
        "MembershipPayload",
        "Deactivate a member.",
        |req, i: IdInput| async move {
            Ok(payload_value(
                members::set_active(req.db.as_ref(), &req.session, &i.id, false).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "reactivateMember",
        "MemberIdInput",
        "MembershipPayload",
        "Reactivate a member.",
        |req, i: IdInput| async move {
            Ok(payload_value(
                members::set_active(req.db.as_ref(), &req.session, &i.id, true).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "createTeam",
        "CreateTeamInput",
        "TeamPayload",
        "Create a team.",
        |req, i| async move {
            Ok(payload_value(
                teams::create(req.db.as_ref(), &req.session, i).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "updateTeam",
        "UpdateTeamInput",
        "TeamPayload",
        "Change a team.",
        |req, i| async move {
            Ok(payload_value(
                teams::update(req.db.as_ref(), &req.session, i).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "deleteTeam",
        "DeleteTeamInput",
        "DeleteTeamPayload",
        "Delete a team without sub-teams.",
        |req, i: IdInput| async move {
            Ok(FieldValue::owned_any(
                teams::delete(req.db.as_ref(), &req.session, &i.id).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "addTeamMember",
        "TeamMemberInput",
        "TeamMemberPayload",
        "Add a member to a team.",
        |req, i: TeamMemberInput| async move {
            Ok(payload_value(
                teams::add_member(
                    req.db.as_ref(),
                    &req.session,
                    &i.team_id,
                    &i.membership_id,
                    i.role.as_deref(),
                )
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
            Ok(payload_value(
                teams::remove_member(req.db.as_ref(), &req.session, &i.team_id, &i.membership_id)
                    .await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "createSkill",
        "CreateSkillInput",
        "SkillPayload",
        "Add a skills-catalog entry.",
        |req, i| async move {
            Ok(payload_value(
                skills::create(req.db.as_ref(), &req.session, i).await?,
            ))
        },
    ));
    parts.ty(input(
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
    parts.ty(input(
        "DeleteSkillInput",
        "Delete a catalog entry.",
        &[("id", id_nn(), "The entry.")],
    ));
    parts.ty(input(
        "RemoveMemberSkillInput",
        "Remove a member's rating of a skill.",
        &[
            ("membershipId", id_nn(), "The member."),
            ("skillId", id_nn(), "The skill."),
        ],
    ));
    parts.mutation(mutation(
        "updateSkill",
        "UpdateSkillInput",
        "SkillPayload",
        "Change a skills-catalog entry.",
        |req, i| async move {
            Ok(payload_value(
                skills::update(req.db.as_ref(), &req.session, i).await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "deleteSkill",
        "DeleteSkillInput",
        "DeleteSkillPayload",
        "Delete a catalog entry and its ratings.",
        |req, i: IdInput| async move {
            Ok(FieldValue::owned_any(DeletedSkill(
                skills::delete(req.db.as_ref(), &req.session, &i.id).await?,
            )))
        },
    ));
    parts.mutation(mutation(
        "removeMemberSkill",
        "RemoveMemberSkillInput",
        "MembershipPayload",
        "Remove a member's rating of a skill.",
        |req, i: RemoveSkillInput| async move {
            Ok(payload_value(
                skills::remove_member_skill(
                    req.db.as_ref(),
                    &req.session,
                    &i.membership_id,
                    &i.skill_id,
                )
                .await?,
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
                skills::set_member_skill(
                    req.db.as_ref(),
                    &req.session,
                    &i.membership_id,
                    &i.skill_id,
                    i.proficiency,
                )
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
            let (key, secret) = api_keys::create(
                req.db.as_ref(),
                &req.session,
                &i.name,
                &i.scope,
                i.expires_at,
            )
            .await?;
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
        |req, i: SettingInput| async move { Ok(payload_value(set_setting(&req, i).await?)) },
    ));
    parts.mutation(mutation(
        "markNotifications",
        "MarkNotificationsInput",
        "MarkNotificationsPayload",
        "Mark your notifications read or unread.",
        |req, i: MarkInput| async move { Ok(FieldValue::owned_any(mark(&req, i).await?)) },
    ));
}

async fn update_organization(
    req: &RequestCtx,
    i: UpdateOrgInput,
) -> AppResult<organization::Model> {
    let org = req.require(Permission::OrgManage)?;
    let db = req.db.as_ref();
    let current = organization::Entity::find_by_id(org)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("organisation"))?;
    let mut am = organization::ActiveModel {
        version: Set(i.expected_version + 1),
        ..Default::default()
    };
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.domain {
        am.domain = Set(validate::opt_text("domain", Some(d), 253, false)?);
    }
    if let Some(t) = &i.timezone {
        am.timezone = Set(validate::text("timezone", t, 1, 64, false)?);
    }
    if let Some(c) = &i.default_currency {
        am.default_currency = Set(validate::currency("defaultCurrency", c)?);
    }
    if let Some(m) = i.fiscal_year_start_month {
        if !(1..=12).contains(&m) {
            return Err(AppError::bad_input(
                "fiscalYearStartMonth",
                "month must be 1..12",
            ));
        }
        am.fiscal_year_start_month = Set(m);
    }
    let updated = organization::Entity::update_many()
        .set(am)
        .filter(organization::Column::Id.eq(org))
        .filter(organization::Column::Version.eq(i.expected_version))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or(crate::error::OrgError::StaleVersion("organisation"))?;
    audit::record(
        db,
        &req.session,
        org,
        audit::AuditEntry {
            action: "organization.update",
            entity_type: "Organization",
            entity_id: org,
            changes: audit::diff(&[
                ("name", current.name.into(), updated.name.clone().into()),
                (
                    "domain",
                    current.domain.into(),
                    updated.domain.clone().into(),
                ),
                (
                    "timezone",
                    current.timezone.into(),
                    updated.timezone.clone().into(),
                ),
                (
                    "defaultCurrency",
                    current.default_currency.into(),
                    updated.default_currency.clone().into(),
                ),
            ]),
        },
    )
    .await?;
    Ok(updated)
}

async fn set_setting(req: &RequestCtx, i: SettingInput) -> AppResult<org_setting::Model> {
    let org = req.require(Permission::SettingsManage)?;
    let key = validate::text("key", &i.key, 1, 100, false)?;
    if !key.starts_with(|c: char| c.is_ascii_lowercase())
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
    {
        return Err(AppError::bad_input(
            "key",
            "key may contain a-z, 0-9, `_` and `.` and must start with a letter",
        ));
    }
    if i.value.to_string().len() > 64 * 1024 {
        return Err(AppError::bad_input(
            "value",
            "value must be at most 64 KiB of JSON",
        ));
    }
    let row = org_setting::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org),
        key: Set(key.clone()),
        value: Set(i.value.clone()),
        ..Default::default()
    };
    let saved = org_setting::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([org_setting::Column::OrgId, org_setting::Column::Key])
                .update_columns([org_setting::Column::Value])
                .to_owned(),
        )
        .exec_with_returning(req.db.as_ref())
        .await?;
    audit::record(
        req.db.as_ref(),
        &req.session,
        org,
        audit::AuditEntry {
            action: "setting.set",
            entity_type: "Organization",
            entity_id: org,
            changes: serde_json::json!({ key: i.value }),
        },
    )
    .await?;
    Ok(saved)
}

async fn mark(req: &RequestCtx, i: MarkInput) -> AppResult<u64> {
    let org = req.require(Permission::NotificationsOwn)?;
    let me = req
        .session
        .membership_id
        .ok_or_else(|| AppError::Forbidden("API keys have no inbox".into()))?;
    if i.ids.len() > 100 {
        return Err(AppError::bad_input("ids", "at most 100 ids"));
    }
    let ids = i
        .ids
        .iter()
        .map(|g| decode_as(g, "Notification", "ids"))
        .collect::<AppResult<Vec<_>>>()?;
    let value = if i.read.unwrap_or(true) {
        Expr::current_timestamp()
    } else {
        Expr::cust("NULL")
    };
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, value)
        .filter(notification::Column::OrgId.eq(org))
        .filter(notification::Column::MembershipId.eq(me))
        .filter(notification::Column::Id.is_in(ids))
        .exec(req.db.as_ref())
        .await?;
    Ok(res.rows_affected)
}
