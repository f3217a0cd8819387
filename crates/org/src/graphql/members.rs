//! `User` and `Membership`: types, the member list and the member mutations.

use super::common::{S, nn, nullable, opt_ts, s_nn, ts};
use crate::entity::{membership, user};
use crate::loader::{MembershipsOfUser, ReportsOf, SkillsOfMember, TeamsOfMember};
use crate::nodes::{Membership, Organization, User};
use crate::service::members;
use crate::service::rates::{RateHistoryLoader, RatePeriod, Rates};
use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::aggregate::{GroupKind as G, gf};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::payload;
use opsgraph_core::gql::{
    GqlEnum, Money, SchemaParts, enum_value, mutation, node_mutation, node_object, opt, page_field, parent,
    payload_value, prop, ref_col, ref_col_nn, scalar,
};
use opsgraph_core::input::Id;
use opsgraph_core::loader::failed;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::projection::declare_fields;
use opsgraph_core::{Permission, RequestCtx, Role};
use opsgraph_derive::GqlInput;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::LazyLock;

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    let changing = |node: &str| format!("Result of a mutation changing a {node}.");
    parts.object(payload::<Membership>("membership", &changing("Membership")));
    parts.input::<members::AddMemberInput>();
    parts.input::<members::UpdateMemberInput>();
    parts.input::<RoleInput>();
    parts.input::<MemberIdInput>();
    parts.enumeration::<Role>();
    parts.list(&*MEMBERS);
    parts.list(&*super::teams::TEAM_MEMBERS);
    parts.object(user_object());
    parts.object(membership_object());
    parts.object(member_rate_object());
    parts.node::<Membership>();
    parts.extend::<User>(page_field::<user::Model, MembershipsOfUser>(
        "memberships",
        "Organisations this user belongs to (visible: your own, or within the active organisation).",
        |u| u.id,
    ));
    parts.object(
        Object::new("AddMemberPayload")
            .description("A new member and their invitation token, shown only this once.")
            .field(
                Field::new("membership", Membership::nn(), |ctx| {
                    FieldFuture::new(async move { Ok(Some(FieldValue::borrowed_any(&parent::<AddedMember>(&ctx)?.0))) })
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
    parts.mutation(node_mutation(
        Membership,
        "reactivateMember",
        "Reactivate a member.",
        |req, i: MemberIdInput| async move {
            Ok(payload_value(members::set_active(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
}

fn user_object() -> Object {
    type U = user::Model;
    use user::Column as C;
    // What each plain field below reads besides the id (rows joined to a reference read
    // only these: `opsgraph_core::joined`).
    declare_fields::<user::Entity>(&[
        ("email", &[C::Email]),
        ("firstName", &[C::FirstName]),
        ("lastName", &[C::LastName]),
        ("displayName", &[C::FirstName, C::LastName, C::Email]),
        ("avatarUrl", &[C::AvatarUrl]),
        ("hasPassword", &[C::PasswordHash]),
        ("lastLoginAt", &[C::LastLoginAt]),
        ("createdAt", &[C::CreatedAt]),
    ]);
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

/// The parent of `AddMemberPayload`.
struct AddedMember(membership::Model, String);

/// A member's skills, for `MembershipFilter.skills`.
pub static SKILLS_OF_MEMBER: opsgraph_core::filter::Relation = opsgraph_core::filter::Relation {
    node: crate::nodes::MemberSkill::NAME,
    table: "member_skills",
    column: "membership_id",
    compile: |v| opsgraph_core::filter::compile(&super::skills::MEMBER_SKILLS.filters, v),
};

/// `Membership` lists.
pub static MEMBERS: LazyLock<ListSpec<membership::Entity>> = LazyLock::new(|| {
    use membership::Column as C;
    ListSpec {
        node: Membership::NAME,
        id: C::Id,
        filters: vec![
            ff("role", C::Role, K::Enum(Role::NAME)),
            ff("jobTitle", C::JobTitle, K::Text),
            ff("department", C::Department, K::Text),
            ff("managerId", C::ManagerId, K::Id(Membership::NAME)),
            ff("hireDate", C::HireDate, K::Date),
            ff("isActive", C::IsActive, K::Boolean),
            ff("createdAt", C::CreatedAt, K::DateTime),
            ff("skills", C::Id, K::Many(&SKILLS_OF_MEMBER)),
        ],
        sorts: vec![
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
            sk("ROLE", C::Role, S::Ranked(&Role::VALUES)),
            sk("UPDATED_AT", C::UpdatedAt, S::DateTime),
        ],
        default_sort: "CREATED_AT",
        lean: vec![],
        // Rates are not measures: they need RatesRead, which a list does not check.
        aggregates: vec![],
        groups: vec![
            gf("ROLE", C::Role, G::Enum(&Role::VALUES)),
            gf("DEPARTMENT", C::Department, G::Text),
            gf("MANAGER", C::ManagerId, G::Id(Membership::NAME)),
            gf("HIRE_DATE", C::HireDate, G::Date),
            gf("IS_ACTIVE", C::IsActive, G::Text),
        ],
    }
});

/// The rates a viewer reads of member `m`: theirs, or anyone's with RatesRead.
async fn rate_history(req: &RequestCtx, m: &membership::Model) -> opsgraph_core::AppResult<RateHistory> {
    if req.session.membership_id != Some(m.id) {
        req.require(Permission::RatesRead)?;
    }
    let currency = match &m.rate_currency {
        Some(c) => c.clone(),
        None => crate::loader::default_currency(req, m.org_id).await?,
    };
    let periods =
        req.loader(RateHistoryLoader).load_one((m.org_id, m.id)).await.map_err(|e| failed(&e))?.unwrap_or_default();
    Ok(RateHistory { periods, currency })
}

/// A member's rate periods with their currency.
struct RateHistory {
    periods: Arc<Vec<RatePeriod>>,
    currency: String,
}

/// A rate period as GraphQL sees it.
struct RateRow(RatePeriod, String);

fn money(amount: Option<rust_decimal::Decimal>, currency: &str) -> Option<FieldValue<'static>> {
    amount.map(|amount| FieldValue::owned_any(Money { amount, currency: currency.to_owned() }))
}

fn rate_field(name: &'static str, desc: &str, get: fn(&Rates) -> Option<rust_decimal::Decimal>) -> Field {
    Field::new(name, nullable("Money"), move |ctx| {
        FieldFuture::new(async move {
            let m = parent::<membership::Model>(&ctx)?;
            let h = rate_history(&*RequestCtx::of(&ctx)?, m).await?;
            let today = chrono::Utc::now().date_naive();
            let now = h.periods.iter().find(|p| p.covers(today));
            Ok(money(now.and_then(|p| get(&p.rates)), &h.currency))
        })
    })
    .description(desc)
}

fn rate_history_field() -> Field {
    Field::new("rateHistory", TypeRef::named_nn_list_nn("MemberRate"), |ctx| {
        FieldFuture::new(async move {
            let m = parent::<membership::Model>(&ctx)?;
            let h = rate_history(&*RequestCtx::of(&ctx)?, m).await?;
            let rows = h.periods.iter().map(|p| FieldValue::owned_any(RateRow(p.clone(), h.currency.clone())));
            Ok(Some(FieldValue::list(rows)))
        })
    })
    .description(
        "Cost and bill rates over time, oldest first: time is priced at the rates of its day (needs RatesRead \
         unless it is your own).",
    )
}

fn member_rate_object() -> Object {
    Object::new("MemberRate")
        .description("A member's rates over one period of days.")
        .field(prop::<RateRow>("validFrom", nullable(scalar::DATE), "First day (null: since the start).", |r| {
            opt(r.0.from.map(|d| d.to_string()))
        }))
        .field(prop::<RateRow>("validUntil", nullable(scalar::DATE), "Last day (null: still in effect).", |r| {
            opt(r.0.until.map(|d| d.to_string()))
        }))
        .field(
            Field::new("costRate", nullable("Money"), |ctx| {
                FieldFuture::new(async move {
                    let r = parent::<RateRow>(&ctx)?;
                    Ok(money(r.0.rates.cost, &r.1))
                })
            })
            .description("Internal cost per hour."),
        )
        .field(
            Field::new("billRate", nullable("Money"), |ctx| {
                FieldFuture::new(async move {
                    let r = parent::<RateRow>(&ctx)?;
                    Ok(money(r.0.rates.bill, &r.1))
                })
            })
            .description("Billing rate per hour."),
        )
}

fn membership_object() -> Object {
    type M = membership::Model;
    use membership::Column as C;
    // What each plain field below reads besides the id (see `user_object`).
    declare_fields::<membership::Entity>(&[
        ("role", &[C::Role]),
        ("jobTitle", &[C::JobTitle]),
        ("department", &[C::Department]),
        ("directReports", &[]),
        ("hireDate", &[C::HireDate]),
        ("teamMemberships", &[]),
        ("skills", &[]),
        ("isActive", &[C::IsActive]),
        ("joinedAt", &[C::JoinedAt]),
        ("version", &[C::Version]),
        ("createdAt", &[C::CreatedAt]),
        ("updatedAt", &[C::UpdatedAt]),
    ]);
    node_object::<Membership>("A person inside an organisation: role and employee profile.")
        .field(ref_col_nn::<Membership, User>("user", "The person's identity.", membership::Column::UserId))
        .field(ref_col_nn::<Membership, Organization>("organization", "The organisation.", membership::Column::OrgId))
        .field(prop::<M>("role", Role::nn(), "Role in the organisation.", |m| enum_value(&m.role)))
        .field(prop::<M>("jobTitle", nullable(S), "Job title.", |m| opt(m.job_title.clone())))
        .field(prop::<M>("department", nullable(S), "Department.", |m| opt(m.department.clone())))
        .field(ref_col::<Membership, Membership>("manager", "Line manager.", membership::Column::ManagerId))
        .field(page_field::<M, ReportsOf>("directReports", "Active members this person manages.", |m| m.id))
        .field(prop::<M>("hireDate", nullable(scalar::DATE), "Hire date.", |m| opt(m.hire_date.map(|d| d.to_string()))))
        .field(rate_field("costRate", "Internal cost per hour today (needs RatesRead unless it is your own).", |r| {
            r.cost
        }))
        .field(rate_field("billRate", "Billing rate per hour today (needs RatesRead unless it is your own).", |r| {
            r.bill
        }))
        .field(rate_history_field())
        .field(page_field::<M, TeamsOfMember>("teamMemberships", "Teams this member belongs to.", |m| m.id))
        .field(page_field::<M, SkillsOfMember>("skills", "Skills with proficiency.", |m| m.id))
        .field(prop::<M>("isActive", nn(TypeRef::BOOLEAN), "False once deactivated.", |m| m.is_active.into()))
        .field(prop::<M>("joinedAt", nullable(scalar::DATE_TIME), "When the person joined.", |m| opt_ts(&m.joined_at)))
        .field(prop::<M>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into()))
        .field(prop::<M>("createdAt", nn(scalar::DATE_TIME), "When the membership was created.", |m| ts(&m.created_at)))
        .field(prop::<M>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |m| ts(&m.updated_at)))
}
