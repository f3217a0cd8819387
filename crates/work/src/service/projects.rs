//! Projects (engagements / initiatives).

use crate::enums::ProjectStatus;
use crate::nodes::Project;
use chrono::NaiveDate;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::project;
use crate::service::notify;
use crate::service::watchers::{self, Subject};

/// Create a project.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateProjectInput {
    /// Short key (2-10 upper-case letters/digits).
    pub key: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Status (default PLANNING).
    pub status: Option<ProjectStatus>,
    /// Manager (Membership).
    pub manager_id: Option<Id>,
    /// Owning team.
    pub team_id: Option<Id>,
    /// Start date.
    pub start_date: Option<NaiveDate>,
    /// End date.
    pub end_date: Option<NaiveDate>,
    /// Contractual deadline (not before the start date).
    pub deadline: Option<NaiveDate>,
    /// Client name (until crm links an account).
    pub client_name: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Creates a project. References to members and teams go through the org crate's API.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    input: CreateProjectInput,
) -> AppResult<project::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let idem = input.idempotency_key.as_deref();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("createProject", idem).await? {
        return get(db, org_id, id).await;
    }
    let key = input.key.trim().to_uppercase();
    if !(2..=10).contains(&key.len())
        || !key.starts_with(|c: char| c.is_ascii_uppercase())
        || !key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(AppError::bad_input("key", "key must be 2-10 letters or digits, starting with a letter"));
    }
    let status = input.status.unwrap_or(ProjectStatus::Planning).as_str().to_owned();
    if let (Some(s), Some(e)) = (input.start_date, input.end_date)
        && e < s
    {
        return Err(AppError::bad_input("endDate", "endDate must not be before startDate"));
    }
    deadline_ok(input.start_date, input.deadline)?;
    let manager_id =
        opsgraph_org::service::members::resolve(db, org_id, input.manager_id.as_deref(), "managerId").await?;
    let team_id = opsgraph_org::service::teams::resolve(db, org_id, input.team_id.as_deref(), "teamId").await?;
    let p = project::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        key: Set(key),
        name: Set(validate::text("name", &input.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", input.description.as_deref(), 20000, true)?),
        status: Set(status),
        manager_id: Set(manager_id),
        team_id: Set(team_id),
        start_date: Set(input.start_date),
        end_date: Set(input.end_date),
        deadline: Set(input.deadline),
        client_name: Set(validate::opt_text("clientName", input.client_name.as_deref(), 200, false)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let Some(me) = session.membership_id {
        watchers::ensure(db, org_id, me, Subject::Project(p.id)).await?;
    }
    notify::emit(
        db,
        session,
        org_id,
        DomainEvent {
            kind: "project.created",
            subject_type: "Project",
            subject_id: p.id,
            project_id: Some(p.id),
            recipients: p.manager_id.into_iter().collect(),
            audience: vec![],
            data: serde_json::json!({ "key": p.key, "name": p.name }),
        },
        None,
    )
    .await?;
    w.created::<Project>("project.create", &p, ("createProject", idem)).await?;
    Ok(p)
}

fn deadline_ok(start: Option<NaiveDate>, deadline: Option<NaiveDate>) -> AppResult<()> {
    match (start, deadline) {
        (Some(s), Some(d)) if d < s => Err(AppError::bad_input("deadline", "deadline must not be before startDate")),
        _ => Ok(()),
    }
}

/// Loads a project of the active organisation (soft-deleted ones excluded).
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<project::Model> {
    project::Entity::find_by_id(id)
        .filter(project::Column::OrgId.eq(org_id))
        .filter(project::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("project"))
}

/// Change a project; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProjectInput {
    /// The project.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub description: Option<Option<String>>,
    /// Status.
    pub status: Option<ProjectStatus>,
    /// Manager (Membership).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub manager_id: Option<Option<Id>>,
    /// Owning team.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub team_id: Option<Option<Id>>,
    /// Start date.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub start_date: Option<Option<NaiveDate>>,
    /// End date.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub end_date: Option<Option<NaiveDate>>,
    /// Contractual deadline (null clears).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub deadline: Option<Option<NaiveDate>>,
    /// Client name.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub client_name: Option<Option<String>>,
}

/// Changes a project (optimistic concurrency, audit, `project.updated` event).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    input: UpdateProjectInput,
) -> AppResult<project::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let id = Project::decode(&input.id, "id")?;
    let current = get(db, org_id, id).await?;
    let mut am = project::ActiveModel { ..Default::default() };
    if let Some(n) = &input.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &input.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 20000, true)?);
    }
    if let Some(s) = &input.status {
        am.status = Set(s.as_str().to_owned());
    }
    if let Some(m) = &input.manager_id {
        am.manager_id = Set(opsgraph_org::service::members::resolve(db, org_id, m.as_deref(), "managerId").await?);
    }
    if let Some(t) = &input.team_id {
        am.team_id = Set(opsgraph_org::service::teams::resolve(db, org_id, t.as_deref(), "teamId").await?);
    }
    if let Some(v) = input.start_date {
        am.start_date = Set(v);
    }
    if let Some(v) = input.end_date {
        am.end_date = Set(v);
    }
    let start = input.start_date.unwrap_or(current.start_date);
    let end = input.end_date.unwrap_or(current.end_date);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        return Err(AppError::bad_input("endDate", "endDate must not be before startDate"));
    }
    if let Some(v) = input.deadline {
        am.deadline = Set(v);
    }
    deadline_ok(start, input.deadline.unwrap_or(current.deadline))?;
    if let Some(c) = &input.client_name {
        am.client_name = Set(validate::opt_text("clientName", c.as_deref(), 200, false)?);
    }
    let Updated { after: updated, changes, .. } = Write { db, session, org: org_id }
        .update::<Project, _>("project.update", current.clone(), am, input.expected_version)
        .await?;
    if changes.as_object().is_some_and(serde_json::Map::is_empty) {
        return Ok(updated);
    }
    let kind = if current.status != updated.status { "project.status_changed" } else { "project.updated" };
    notify::emit(
        db,
        session,
        org_id,
        DomainEvent {
            kind,
            subject_type: "Project",
            subject_id: id,
            project_id: Some(id),
            recipients: vec![],
            audience: vec![],
            data: changes,
        },
        None,
    )
    .await?;
    Ok(updated)
}

/// Soft-deletes (`deleted`) or restores a project; its tasks disappear from every list
/// with it and come back on restore.
pub async fn set_deleted(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    deleted: bool,
) -> AppResult<project::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let id = Project::decode(gid, "id")?;
    let current = project::Entity::find_by_id(id)
        .filter(project::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .filter(|p| p.deleted_at.is_some() != deleted)
        .ok_or_else(|| AppError::not_found("project"))?;
    let stamp = chrono::Utc::now().fixed_offset();
    let mut am = project::ActiveModel { ..Default::default() };
    am.deleted_at = Set(if deleted { Some(stamp) } else { None });
    let action = if deleted { "project.deleted" } else { "project.restored" };
    let Updated { after: updated, .. } =
        Write { db, session, org: org_id }.update::<Project, _>(action, current.clone(), am, current.version).await?;
    // The tasks go with the project (stamped with the project's deletion time, so every
    // list, count, aggregate and reminder that skips deleted tasks skips them too) and
    // come back with it; tasks deleted on their own before stay deleted.
    let (sql, stamp_value) = if deleted {
        ("UPDATE tasks SET deleted_at = $2, version = version + 1 WHERE project_id = $1 AND deleted_at IS NULL", stamp)
    } else {
        let was = current.deleted_at.unwrap_or(stamp);
        ("UPDATE tasks SET deleted_at = NULL, version = version + 1 WHERE project_id = $1 AND deleted_at = $2", was)
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        sql,
        [id.into(), stamp_value.into()],
    ))
    .await?;
    notify::emit(
        db,
        session,
        org_id,
        DomainEvent {
            kind: action,
            subject_type: "Project",
            subject_id: id,
            project_id: Some(id),
            recipients: vec![],
            audience: vec![],
            data: serde_json::json!({ "key": updated.key }),
        },
        None,
    )
    .await?;
    Ok(updated)
}

/// What another domain links to a project: its client account (id and name, kept here
/// for display) and its budget (amount, ISO 4217 currency). `None` leaves a part as is.
pub struct ClientLink {
    /// The crm account and its name, or `Some(None)` to unlink.
    pub account: Option<Option<(Uuid, String)>>,
    /// Budget amount and currency.
    pub budget: Option<(rust_decimal::Decimal, String)>,
}

/// Links project `id` to a client account and/or budget (for the crm domain, which checks
/// the account): audited as `project.client_link`, announced as `project.updated`.
pub async fn link_client(
    db: &impl ConnectionTrait,
    session: &Session,
    id: Uuid,
    link: ClientLink,
) -> AppResult<project::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let current = get(db, org_id, id).await?;
    let mut am = project::ActiveModel { ..Default::default() };
    if let Some(account) = link.account {
        am.client_account_id = Set(account.as_ref().map(|a| a.0));
        am.client_name = Set(account.map(|a| a.1));
    }
    if let Some((amount, currency)) = link.budget {
        am.budget_amount = Set(Some(amount));
        am.budget_currency = Set(Some(validate::currency("budget", &currency)?));
    }
    let w = Write { db, session, org: org_id };
    let Updated { after, changes, .. } =
        w.update::<Project, _>("project.client_link", current.clone(), am, current.version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        let event = DomainEvent {
            kind: "project.updated",
            subject_type: Project::NAME,
            subject_id: id,
            project_id: Some(id),
            recipients: vec![],
            audience: vec![],
            data: changes,
        };
        notify::emit(db, session, org_id, event, None).await?;
    }
    Ok(after)
}

/// How many live projects have client account `account` (for crm's merge dry run).
pub async fn count_for_client(db: &impl ConnectionTrait, org_id: Uuid, account: Uuid) -> AppResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(project::Entity::find()
        .filter(project::Column::OrgId.eq(org_id))
        .filter(project::Column::ClientAccountId.eq(account))
        .filter(project::Column::DeletedAt.is_null())
        .count(db)
        .await?)
}

/// Moves every project of client account `from` to account `to` (named `name`) when crm
/// merges two accounts; returns how many moved.
pub async fn move_client(
    db: &impl ConnectionTrait,
    session: &Session,
    from: Uuid,
    to: Uuid,
    name: &str,
) -> AppResult<u64> {
    let org_id = session.require(Permission::WorkManage)?;
    let done = db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "UPDATE projects SET client_account_id = $3, client_name = $4, version = version + 1 \
             WHERE org_id = $1 AND client_account_id = $2",
            [org_id.into(), from.into(), to.into(), name.into()],
        ))
        .await?;
    Ok(done.rows_affected())
}
