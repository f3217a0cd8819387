//! Members of an organisation: add/invite, profile, role changes (an organisation always
//! keeps an active OWNER), deactivation.

use crate::nodes::Membership;
use chrono::{NaiveDate, Utc};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Role, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{membership, user};
use crate::error::OrgError;
use crate::service::rates::{self, RateChange};

/// Add a person to the organisation.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddMemberInput {
    /// Their e-mail; an existing account is reused.
    pub email: String,
    /// Given name (new accounts).
    pub first_name: Option<String>,
    /// Family name (new accounts).
    pub last_name: Option<String>,
    /// Role.
    pub role: Role,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Line manager (Membership).
    pub manager_id: Option<Id>,
    /// Hire date.
    pub hire_date: Option<NaiveDate>,
    /// Internal cost per hour.
    pub cost_rate: Option<Decimal>,
    /// Billing rate per hour.
    pub bill_rate: Option<Decimal>,
}

/// Loads a membership of the active organisation (NOT_FOUND for other tenants' ids).
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<membership::Model> {
    membership::Entity::find_by_id(id)
        .filter(membership::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("membership"))
}

/// The membership in `org_id` of the user with e-mail `email` (any case), if any.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    email: &str,
) -> AppResult<Option<membership::Model>> {
    let Some(u) =
        user::Entity::find().filter(Expr::cust_with_values("lower(email) = lower($1)", [email])).one(db).await?
    else {
        return Ok(None);
    };
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::UserId.eq(u.id))
        .one(db)
        .await?)
}

/// Adds a person to the organisation.
pub async fn add(db: &impl ConnectionTrait, session: &Session, input: AddMemberInput) -> AppResult<membership::Model> {
    let org_id = session.require(Permission::MembersManage)?;
    let email = validate::email("email", &input.email)?;
    let role = input.role;
    if role == Role::Owner {
        session.require(Permission::OwnersManage)?;
    }
    let first = validate::opt_text("firstName", input.first_name.as_deref(), 100, false)?.unwrap_or_default();
    let last = validate::opt_text("lastName", input.last_name.as_deref(), 100, false)?.unwrap_or_default();
    let job_title = validate::opt_text("jobTitle", input.job_title.as_deref(), 200, false)?;
    let department = validate::opt_text("department", input.department.as_deref(), 200, false)?;
    let manager_id = match &input.manager_id {
        Some(g) => Some(get(db, org_id, Membership::decode(g, "managerId")?).await?.id),
        None => None,
    };
    let rates = RateChange {
        from: None,
        cost: input.cost_rate.map(|v| rates::validate("costRate", Some(v))).transpose()?,
        bill: input.bill_rate.map(|v| rates::validate("billRate", Some(v))).transpose()?,
    };
    let existing =
        user::Entity::find().filter(Expr::cust_with_values("lower(email) = $1", [email.clone()])).one(db).await?;
    let user_id = match existing {
        Some(u) => u.id,
        None => {
            user::ActiveModel {
                id: Set(new_id()),
                email: Set(email.clone()),
                first_name: Set(first),
                last_name: Set(last),
                ..Default::default()
            }
            .insert(db)
            .await?
            .id
        }
    };
    let m = membership::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        user_id: Set(user_id),
        role: Set(role.as_str().into()),
        job_title: Set(job_title),
        department: Set(department),
        manager_id: Set(manager_id),
        hire_date: Set(input.hire_date),
        invited_by: Set(session.user_id().ok()),
        joined_at: Set(Some(Utc::now().fixed_offset())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    rates::set(db, org_id, m.id, &rates).await?;
    let w = Write { db, session, org: org_id };
    w.audit::<Membership>("membership.add", m.id, serde_json::json!({ "email": email, "role": m.role })).await?;
    w.changed::<Membership>("membership.added", m.id, None).await?;
    Ok(m)
}

/// Change a member's profile; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMemberInput {
    /// The membership.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Job title.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub job_title: Option<Option<String>>,
    /// Department.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub department: Option<Option<String>>,
    /// Line manager (Membership).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub manager_id: Option<Option<Id>>,
    /// Hire date.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub hire_date: Option<Option<NaiveDate>>,
    /// Internal cost per hour, from `ratesValidFrom` on.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub cost_rate: Option<Option<Decimal>>,
    /// Billing rate per hour, from `ratesValidFrom` on.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub bill_rate: Option<Option<Decimal>>,
    /// First day the rates given apply, until the next recorded change (default: today, or
    /// since the start for a member's first rates).
    #[serde(default)]
    pub rates_valid_from: Option<NaiveDate>,
}

/// Updates a member's profile; members may edit their own title and department.
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    input: UpdateMemberInput,
) -> AppResult<membership::Model> {
    let org_id = session.require(Permission::MembersRead)?;
    let id = Membership::decode(&input.id, "id")?;
    let current = get(db, org_id, id).await?;
    let own = session.membership_id == Some(id);
    let touches_admin = input.manager_id.is_some()
        || input.hire_date.is_some()
        || input.cost_rate.is_some()
        || input.bill_rate.is_some();
    if !own || touches_admin {
        session.require(Permission::MembersManage)?;
    }
    let mut am: membership::ActiveModel = current.clone().into();
    if let Some(v) = &input.job_title {
        am.job_title = Set(validate::opt_text("jobTitle", v.as_deref(), 200, false)?);
    }
    if let Some(v) = &input.department {
        am.department = Set(validate::opt_text("department", v.as_deref(), 200, false)?);
    }
    if let Some(v) = &input.manager_id {
        let mgr = match v {
            Some(g) => Some(get(db, org_id, Membership::decode(g, "managerId")?).await?.id),
            None => None,
        };
        if mgr == Some(id) {
            return Err(AppError::bad_input("managerId", "a member cannot manage themselves"));
        }
        am.manager_id = Set(mgr);
    }
    if let Some(v) = input.hire_date {
        am.hire_date = Set(v);
    }
    let from = match input.rates_valid_from {
        Some(day) => Some(day),
        // A member's first rates hold since the start; later ones from today.
        None if (input.cost_rate.is_some() || input.bill_rate.is_some()) && rates::recorded(db, org_id, id).await? => {
            Some(Utc::now().date_naive())
        }
        None => None,
    };
    let change = RateChange {
        from,
        cost: input.cost_rate.map(|v| rates::validate("costRate", v)).transpose()?,
        bill: input.bill_rate.map(|v| rates::validate("billRate", v)).transpose()?,
    };
    if input.rates_valid_from.is_some() && change.is_empty() {
        return Err(AppError::bad_input("ratesValidFrom", "give costRate or billRate with ratesValidFrom"));
    }
    let rates_changed = rates::set(db, org_id, id, &change).await?;
    if rates_changed {
        // A change of rates is a change of the member: a new version, even alone.
        am.updated_at = Set(Utc::now().fixed_offset());
    }
    let w = Write { db, session, org: org_id };
    let done = w.update::<Membership, _>("membership.update", current, am, input.expected_version).await?;
    if rates_changed {
        let audit = serde_json::json!({ "from": change.from, "costRate": change.cost, "billRate": change.bill });
        w.audit::<Membership>("membership.rates", id, audit).await?;
    }
    changed(&w, &done, "membership.updated").await?;
    Ok(done.after)
}

/// Locks the organisation's active owners (serialises concurrent demotions).
async fn active_owners(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(membership::Entity::find()
        .select_only()
        .column(membership::Column::Id)
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .filter(membership::Column::IsActive.eq(true))
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?)
}

/// Changes a member's role. Granting or removing OWNER needs an owner; the last active
/// owner cannot be demoted.
pub async fn change_role(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    role: Role,
    expected: i32,
) -> AppResult<membership::Model> {
    let org_id = session.require(Permission::MembersManage)?;
    let id = Membership::decode(gid, "id")?;
    let current = get(db, org_id, id).await?;
    let was_owner = current.role == Role::Owner.as_str();
    if was_owner || role == Role::Owner {
        session.require(Permission::OwnersManage)?;
    }
    if was_owner && role != Role::Owner {
        let owners = active_owners(db, org_id).await?;
        if owners.len() <= 1 && owners.contains(&id) {
            return Err(OrgError::LastOwner.into());
        }
    }
    let mut am: membership::ActiveModel = current.clone().into();
    am.role = Set(role.as_str().into());
    let w = Write { db, session, org: org_id };
    let done = w.update::<Membership, _>("membership.role_change", current, am, expected).await?;
    changed(&w, &done, "membership.role_changed").await?;
    Ok(done.after)
}

/// Deactivates (`active = false`) or reactivates a member; the last owner stays.
pub async fn set_active(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    active: bool,
) -> AppResult<membership::Model> {
    let org_id = session.require(Permission::MembersManage)?;
    let id = Membership::decode(gid, "id")?;
    let current = get(db, org_id, id).await?;
    if current.role == Role::Owner.as_str() {
        session.require(Permission::OwnersManage)?;
        if !active {
            let owners = active_owners(db, org_id).await?;
            if owners.len() <= 1 && owners.contains(&id) {
                return Err(OrgError::LastOwner.into());
            }
        }
    }
    let mut am: membership::ActiveModel = current.clone().into();
    am.is_active = Set(active);
    let action = if active { "membership.reactivate" } else { "membership.deactivate" };
    let expected = current.version;
    let w = Write { db, session, org: org_id };
    let done = w.update::<Membership, _>(action, current, am, expected).await?;
    changed(&w, &done, if active { "membership.reactivated" } else { "membership.deactivated" }).await?;
    Ok(done.after)
}

/// Emits `kind` about a membership update that changed something.
async fn changed(w: &Write<'_, impl ConnectionTrait>, done: &Updated<Membership>, kind: &'static str) -> AppResult<()> {
    if done.changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<Membership>(kind, done.after.id, None).await?;
    }
    Ok(())
}

/// Active members addressed by mention handles: an e-mail address or its local part
/// (`@ana.silva`), case-insensitive. A local part shared by several members is ambiguous
/// and resolves to nobody. Returns `(handle, membership id)` pairs.
pub async fn resolve_handles(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    handles: &[String],
) -> AppResult<Vec<(String, Uuid)>> {
    if handles.is_empty() {
        return Ok(vec![]);
    }
    let lowered: Vec<String> = handles.iter().map(|h| h.to_lowercase()).collect();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT h AS handle, (array_agg(m.id))[1] AS id FROM unnest($2::text[]) AS h \
             JOIN users u ON lower(u.email) = h OR lower(split_part(u.email, '@', 1)) = h \
             JOIN memberships m ON m.user_id = u.id AND m.org_id = $1 AND m.is_active \
             GROUP BY h HAVING count(*) = 1",
            [org_id.into(), lowered.into()],
        ))
        .await?;
    rows.iter().map(|r| Ok((r.try_get("", "handle")?, r.try_get("", "id")?))).collect()
}

/// Members `ids` of `org` (any state), one statement: for rates and names in other domains.
pub async fn many(db: &impl ConnectionTrait, org_id: Uuid, ids: &[Uuid]) -> AppResult<Vec<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?)
}

/// A member's name as people read it: full name, or the e-mail's local part.
pub async fn display_name(db: &impl ConnectionTrait, m: &membership::Model) -> AppResult<String> {
    let u = user::Entity::find_by_id(m.user_id).one(db).await?.ok_or_else(|| AppError::not_found("user"))?;
    let full = format!("{} {}", u.first_name, u.last_name).trim().to_owned();
    Ok(if full.is_empty() { u.email.split('@').next().unwrap_or_default().to_owned() } else { full })
}

/// Ids of the organisation's active members, optionally only those of `team_id`.
pub async fn active_ids(db: &impl ConnectionTrait, org_id: Uuid, team_id: Option<Uuid>) -> AppResult<Vec<Uuid>> {
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT m.id FROM memberships m WHERE m.org_id = $1 AND m.is_active \
             AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM team_members t WHERE t.team_id = $2 AND t.membership_id = m.id)) \
             ORDER BY m.created_at, m.id LIMIT 500",
            [org_id.into(), team_id.into()],
        ))
        .await?;
    rows.iter().map(|r| Ok(r.try_get("", "id")?)).collect()
}

/// Resolves an optional Membership global id given in input `field` to a member of the
/// organisation (NOT_FOUND for other tenants', BAD_USER_INPUT for other types).
pub async fn resolve(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    gid: Option<&str>,
    field: &str,
) -> AppResult<Option<Uuid>> {
    match gid {
        Some(g) => Ok(Some(get(db, org_id, Membership::decode(g, field)?).await?.id)),
        None => Ok(None),
    }
}

/// Locks membership `id` until the transaction ends: writes that must see one member's
/// totals one at a time (time logged per day) serialise on it.
pub async fn lock(db: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    db.query_one_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT 1 AS x FROM memberships WHERE id = $1 FOR UPDATE",
        [id.into()],
    ))
    .await?
    .ok_or_else(|| AppError::not_found("membership"))?;
    Ok(())
}
