//! The org node types and enums.

use crate::enums::{ApiKeyScope, NotificationKind, PlanTier, SkillKind, TeamKind};
use crate::nodes::{
    ApiKey, AuditEntry, MemberSkill, Membership, Notification, Organization, Skill, Team, TeamMember, User,
};
use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::Role;
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::gql::{
    Money, SchemaParts, datetime, enum_value, node_object, opt, page_field, parent, prop, ref_field, ref_field_nn,
};
use opsgraph_core::{AppError, Permission, RequestCtx};

use super::lists::{self, ChildTeams, MembershipsOfUser, ReportsOf, SkillsOfMember, TeamMembersOfTeam, TeamsOfMember};
use crate::entity::{
    api_key, audit_entry, member_skill, membership, notification, org_setting, organization, skill, team, team_member,
    user,
};

const S: &str = TypeRef::STRING;

fn nn(t: &str) -> TypeRef {
    TypeRef::named_nn(t)
}
fn nullable(t: &str) -> TypeRef {
    TypeRef::named(t)
}
fn ts(t: &chrono::DateTime<chrono::FixedOffset>) -> Value {
    datetime(t)
}
fn opt_ts(t: &Option<chrono::DateTime<chrono::FixedOffset>>) -> Value {
    t.as_ref().map(datetime).unwrap_or(Value::Null)
}

/// Registers the org types, their lists and node fetchers.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<Role>();
    parts.enumeration::<TeamKind>();
    parts.enumeration::<SkillKind>();
    parts.enumeration::<ApiKeyScope>();
    parts.enum_only::<PlanTier>();
    parts.enumeration::<NotificationKind>();
    parts.list(&*lists::MEMBERS).list(&*lists::TEAMS).list(&*lists::TEAM_MEMBERS).list(&*lists::SKILLS);
    parts.list(&*lists::MEMBER_SKILLS);
    parts.list(&*lists::API_KEYS).list(&*lists::AUDIT).list(&*lists::NOTIFICATIONS);

    parts.object(organization_object()).object(user_object()).object(membership_object()).object(team_object());
    parts.object(team_member_object()).object(skill_object()).object(member_skill_object()).object(api_key_object());
    parts.object(audit_object()).object(notification_object()).object(setting_object());

    parts.node::<Organization>();
    parts.node::<Membership>();
    parts.node::<Team>();
    parts.node::<TeamMember>();
    parts.node::<Skill>();
    parts.node::<MemberSkill>();
    parts.node::<ApiKey>();
    parts.node::<AuditEntry>();
}

fn organization_object() -> Object {
    type O = organization::Model;
    node_object::<Organization>("A tenant: a company using opsgraph. Everything else belongs to one.")
        .field(prop::<O>("name", nn(S), "Display name.", |o| o.name.clone().into()))
        .field(prop::<O>("slug", nn(S), "Unique URL-safe name.", |o| o.slug.clone().into()))
        .field(prop::<O>("domain", nullable(S), "E-mail / web domain.", |o| opt(o.domain.clone())))
        .field(prop::<O>("planTier", PlanTier::nn(), "Subscription tier.", |o| enum_value(&o.plan_tier)))
        .field(prop::<O>("defaultCurrency", nn(S), "ISO 4217 currency used when none is given.", |o| {
            o.default_currency.clone().into()
        }))
        .field(prop::<O>("fiscalYearStartMonth", nn(TypeRef::INT), "Month (1-12) the fiscal year starts.", |o| {
            i32::from(o.fiscal_year_start_month).into()
        }))
        .field(prop::<O>("timezone", nn(S), "IANA time zone.", |o| o.timezone.clone().into()))
        .field(prop::<O>("isActive", nn(TypeRef::BOOLEAN), "Whether the organisation is active.", |o| {
            o.is_active.into()
        }))
        .field(prop::<O>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |o| o.version.into()))
        .field(prop::<O>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |o| ts(&o.created_at)))
        .field(prop::<O>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |o| ts(&o.updated_at)))
}

fn user_object() -> Object {
    type U = user::Model;
    node_object::<User>("A person's login identity, shared across organisations.")
        .field(
            Field::new("email", nullable(S), |ctx| {
                FieldFuture::new(async move {
                    let u = parent::<U>(&ctx)?;
                    let req = &RequestCtx::of(&ctx)?;
                    let own = req.is_self(u.id);
                    Ok(Some(FieldValue::value(if own || req.session.can(Permission::MembersRead) {
                        u.email.clone().into()
                    } else {
                        Value::Null
                    })))
                })
            })
            .description("Login e-mail (visible to the user and to members of their organisations; null otherwise)."),
        )
        .field(prop::<U>("firstName", nn(S), "Given name.", |u| u.first_name.clone().into()))
        .field(prop::<U>("lastName", nn(S), "Family name.", |u| u.last_name.clone().into()))
        .field(prop::<U>("displayName", nn(S), "Full name, or the e-mail's local part when no name is known.", |u| {
            let full = format!("{} {}", u.first_name, u.last_name).trim().to_owned();
            if full.is_empty() { u.email.split('@').next().unwrap_or_default().to_owned().into() } else { full.into() }
        }))
        .field(prop::<U>("avatarUrl", nullable(S), "Avatar image URL.", |u| opt(u.avatar_url.clone())))
        .field(prop::<U>(
            "hasPassword",
            nn(TypeRef::BOOLEAN),
            "False for invited people who never set a password.",
            |u| u.password_hash.is_some().into(),
        ))
        .field(prop::<U>("lastLoginAt", nullable(scalar::DATE_TIME), "Last successful sign-in.", |u| {
            opt_ts(&u.last_login_at)
        }))
        .field(prop::<U>("createdAt", nn(scalar::DATE_TIME), "When the account was created.", |u| ts(&u.created_at)))
}

fn rate_field(name: &'static str, desc: &str, get: fn(&membership::Model) -> Option<rust_decimal::Decimal>) -> Field {
    Field::new(name, nullable("Money"), move |ctx| {
        FieldFuture::new(async move {
            let m = parent::<membership::Model>(&ctx)?;
            let req = &RequestCtx::of(&ctx)?;
            if req.session.membership_id != Some(m.id) {
                req.require(Permission::RatesRead)?;
            }
            let Some(amount) = get(m) else {
                return Ok(None);
            };
            let currency = match &m.rate_currency {
                Some(c) => c.clone(),
                None => opsgraph_core::loader::by_id::<organization::Entity>(req, m.org_id)
                    .await?
                    .map(|o| o.default_currency)
                    .unwrap_or_else(|| "USD".into()),
            };
            Ok(Some(FieldValue::owned_any(Money { amount, currency })))
        })
    })
    .description(desc)
}

fn membership_object() -> Object {
    type M = membership::Model;
    node_object::<Membership>("A person inside an organisation: role and employee profile.")
        .field(ref_field_nn::<M, User>("user", "The person's identity.", |m| m.user_id))
        .field(ref_field_nn::<M, Organization>("organization", "The organisation.", |m| m.org_id))
        .field(prop::<M>("role", Role::nn(), "Role in the organisation.", |m| enum_value(&m.role)))
        .field(prop::<M>("jobTitle", nullable(S), "Job title.", |m| opt(m.job_title.clone())))
        .field(prop::<M>("department", nullable(S), "Department.", |m| opt(m.department.clone())))
        .field(ref_field::<M, Membership>("manager", "Line manager.", |m| m.manager_id))
        .field(page_field::<M, ReportsOf>("directReports", "Active members this person manages.", |m| m.id))
        .field(prop::<M>("hireDate", nullable(scalar::DATE), "Hire date.", |m| opt(m.hire_date.map(|d| d.to_string()))))
        .field(rate_field("costRate", "Internal cost per hour (needs RatesRead unless it is your own).", |m| {
            m.cost_rate
        }))
        .field(rate_field("billRate", "Billing rate per hour (needs RatesRead unless it is your own).", |m| {
            m.bill_rate
        }))
        .field(page_field::<M, TeamsOfMember>("teamMemberships", "Teams this member belongs to.", |m| m.id))
        .field(page_field::<M, SkillsOfMember>("skills", "Skills with proficiency.", |m| m.id))
        .field(prop::<M>("isActive", nn(TypeRef::BOOLEAN), "False once deactivated.", |m| m.is_active.into()))
        .field(prop::<M>("joinedAt", nullable(scalar::DATE_TIME), "When the person joined.", |m| opt_ts(&m.joined_at)))
        .field(prop::<M>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into()))
        .field(prop::<M>("createdAt", nn(scalar::DATE_TIME), "When the membership was created.", |m| ts(&m.created_at)))
        .field(prop::<M>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |m| ts(&m.updated_at)))
}

fn team_object() -> Object {
    type T = team::Model;
    node_object::<Team>("A group of people: team, studio, crew, department, area or practice.")
        .field(prop::<T>("name", nn(S), "Name, unique in the organisation.", |t| t.name.clone().into()))
        .field(prop::<T>("kind", TeamKind::nn(), "What kind of group.", |t| enum_value(&t.kind)))
        .field(prop::<T>("description", nullable(S), "Description.", |t| opt(t.description.clone())))
        .field(ref_field::<T, Team>("parent", "The enclosing team.", |t| t.parent_id))
        .field(page_field::<T, ChildTeams>("children", "Teams nested directly inside.", |t| t.id))
        .field(ref_field::<T, Membership>("lead", "Who leads it.", |t| t.lead_id))
        .field(page_field::<T, TeamMembersOfTeam>("members", "The team's members.", |t| t.id))
        .field(prop::<T>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |t| t.version.into()))
        .field(prop::<T>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |t| ts(&t.created_at)))
        .field(prop::<T>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |t| ts(&t.updated_at)))
}

fn team_member_object() -> Object {
    type T = team_member::Model;
    node_object::<TeamMember>("A member's place in a team.")
        .field(ref_field_nn::<T, Team>("team", "The team.", |t| t.team_id))
        .field(ref_field_nn::<T, Membership>("membership", "The member.", |t| t.membership_id))
        .field(prop::<T>("role", nullable(S), "Role in the team.", |t| opt(t.role.clone())))
        .field(prop::<T>("createdAt", nn(scalar::DATE_TIME), "When they joined the team.", |t| ts(&t.created_at)))
}

fn skill_object() -> Object {
    type K = skill::Model;
    node_object::<Skill>("An entry of the skills catalog: a skill, discipline or job title.")
        .field(prop::<K>("name", nn(S), "Name, unique per kind.", |s| s.name.clone().into()))
        .field(prop::<K>("kind", SkillKind::nn(), "Kind of entry.", |s| enum_value(&s.kind)))
        .field(prop::<K>("category", nullable(S), "Category.", |s| opt(s.category.clone())))
        .field(prop::<K>("description", nullable(S), "Description.", |s| opt(s.description.clone())))
        .field(ref_field::<K, Skill>("parent", "Parent entry (e.g. the discipline of a title).", |s| s.parent_id))
        .field(prop::<K>("level", nullable(S), "Seniority level (titles).", |s| opt(s.level.clone())))
        .field(prop::<K>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |s| ts(&s.created_at)))
}

fn member_skill_object() -> Object {
    type K = member_skill::Model;
    node_object::<MemberSkill>("How well a member masters a skill.")
        .field(ref_field_nn::<K, Membership>("membership", "The member.", |s| s.membership_id))
        .field(ref_field_nn::<K, Skill>("skill", "The skill.", |s| s.skill_id))
        .field(prop::<K>("proficiency", nn(TypeRef::INT), "Proficiency from 0 (none) to 10 (expert).", |s| {
            i32::from(s.proficiency).into()
        }))
        .field(prop::<K>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |s| ts(&s.updated_at)))
}

fn api_key_object() -> Object {
    type K = api_key::Model;
    node_object::<ApiKey>("An organisation API key. The secret is shown only once, at creation.")
        .field(prop::<K>("name", nn(S), "Name.", |k| k.name.clone().into()))
        .field(prop::<K>("prefix", nn(S), "Public prefix identifying the key (`ogk_<prefix>_...`).", |k| {
            k.prefix.clone().into()
        }))
        .field(prop::<K>("scope", ApiKeyScope::nn(), "What the key may do.", |k| enum_value(&k.scope)))
        .field(ref_field::<K, Membership>("createdBy", "Who created it.", |k| k.created_by))
        .field(prop::<K>("expiresAt", nullable(scalar::DATE_TIME), "When it stops working.", |k| opt_ts(&k.expires_at)))
        .field(prop::<K>("lastUsedAt", nullable(scalar::DATE_TIME), "Last use (minute precision).", |k| {
            opt_ts(&k.last_used_at)
        }))
        .field(prop::<K>("revokedAt", nullable(scalar::DATE_TIME), "When it was revoked.", |k| opt_ts(&k.revoked_at)))
        .field(prop::<K>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |k| ts(&k.created_at)))
}

fn audit_object() -> Object {
    type A = audit_entry::Model;
    node_object::<AuditEntry>("One recorded change: who did what to which object.")
        .field(prop::<A>("actorType", nn(S), "user, api_key, agent, system.", |a| a.actor_type.clone().into()))
        .field(ref_field::<A, Membership>("actor", "The acting member, if a person.", |a| a.actor_membership_id))
        .field(ref_field::<A, ApiKey>("apiKey", "The acting API key, if any.", |a| a.api_key_id))
        .field(prop::<A>("action", nn(S), "What was done, e.g. `team.create`.", |a| a.action.clone().into()))
        .field(prop::<A>("entityType", nn(S), "Type of the changed object.", |a| a.entity_type.clone().into()))
        .field(prop::<A>("entityId", nullable(TypeRef::ID), "Global ID of the changed object.", |a| {
            opt(a.entity_id.map(|id| opsgraph_core::id::encode(&a.entity_type, id)))
        }))
        .field(prop::<A>("changes", nn(scalar::JSON), "Changed fields: `{field: {from, to}}` or a snapshot.", |a| {
            Value::from_json(a.changes.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<A>("ip", nullable(S), "Client address.", |a| opt(a.ip.clone())))
        .field(prop::<A>("userAgent", nullable(S), "Client user agent.", |a| opt(a.user_agent.clone())))
        .field(prop::<A>("requestId", nullable(S), "Request id (matches server logs).", |a| opt(a.request_id.clone())))
        .field(prop::<A>("createdAt", nn(scalar::DATE_TIME), "When it happened.", |a| ts(&a.created_at)))
}

fn notification_object() -> Object {
    type N = notification::Model;
    node_object::<Notification>("An item in a member's inbox.")
        .field(prop::<N>("kind", NotificationKind::nn(), "Kind.", |n| enum_value(&n.kind)))
        .field(prop::<N>("title", nn(S), "Title.", |n| n.title.clone().into()))
        .field(prop::<N>("body", nullable(S), "Body text.", |n| opt(n.body.clone())))
        .field(prop::<N>("link", nullable(S), "Where to go.", |n| opt(n.link.clone())))
        .field(prop::<N>("subjectId", nullable(TypeRef::ID), "Global ID of the object it is about.", |n| {
            match (&n.subject_type, n.subject_id) {
                (Some(t), Some(id)) => opsgraph_core::gql::gid_named(t, id),
                _ => Value::Null,
            }
        }))
        .field(prop::<N>("data", nn(scalar::JSON), "Extra structured data.", |n| {
            Value::from_json(n.data.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<N>("isRead", nn(TypeRef::BOOLEAN), "Whether it has been read.", |n| n.read_at.is_some().into()))
        .field(prop::<N>("readAt", nullable(scalar::DATE_TIME), "When it was read.", |n| opt_ts(&n.read_at)))
        .field(prop::<N>("archivedAt", nullable(scalar::DATE_TIME), "When it was archived.", |n| {
            opt_ts(&n.archived_at)
        }))
        .field(prop::<N>("createdAt", nn(scalar::DATE_TIME), "When it arrived.", |n| ts(&n.created_at)))
}

fn setting_object() -> Object {
    type X = org_setting::Model;
    Object::new("OrgSetting")
        .description("One organisation setting.")
        .field(prop::<X>("key", nn(S), "Key (`a-z0-9_.`).", |s| s.key.clone().into()))
        .field(prop::<X>("value", nn(scalar::JSON), "Value.", |s| {
            Value::from_json(s.value.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<X>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |s| ts(&s.updated_at)))
}

/// Relationship fields added to `Organization` (lists scoped to it).
pub fn organization_lists(parts: &mut SchemaParts) {
    use opsgraph_core::gql::list_field;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    parts.extend::<Organization>(list_field("members", &lists::MEMBERS, "Members of the organisation.", |_, req| {
        let org = req.require(Permission::MembersRead)?;
        Ok(membership::Entity::find().filter(membership::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(list_field("teams", &lists::TEAMS, "Teams of the organisation.", |_, req| {
        let org = req.require(Permission::TeamsRead)?;
        Ok(team::Entity::find().filter(team::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(list_field("skills", &lists::SKILLS, "The skills catalog.", |_, req| {
        let org = req.require(Permission::SkillsRead)?;
        Ok(skill::Entity::find().filter(skill::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(list_field(
        "apiKeys",
        &lists::API_KEYS,
        "API keys (needs ApiKeysManage).",
        |_, req| {
            let org = req.require(Permission::ApiKeysManage)?;
            Ok(api_key::Entity::find().filter(api_key::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(list_field(
        "auditLog",
        &lists::AUDIT,
        "The audit log (needs AuditRead).",
        |_, req| {
            let org = req.require(Permission::AuditRead)?;
            Ok(audit_entry::Entity::find().filter(audit_entry::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(
        Field::new("settings", TypeRef::named_nn_list_nn("OrgSetting"), |ctx| {
            FieldFuture::new(async move {
                let req = &RequestCtx::of(&ctx)?;
                let org = req.require(Permission::SettingsRead)?;
                let rows = org_setting::Entity::find()
                    .filter(org_setting::Column::OrgId.eq(org))
                    .all(req.db.as_ref())
                    .await
                    .map_err(AppError::from)?;
                Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("Organisation settings."),
    );
    parts.extend::<User>(page_field::<user::Model, MembershipsOfUser>(
        "memberships",
        "Organisations this user belongs to (visible: your own, or within the active organisation).",
        |u| u.id,
    ));
}
