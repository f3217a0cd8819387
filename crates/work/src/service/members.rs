//! Project members: who works on a project, in which role, at what allocation and when.

use crate::nodes::{Project, ProjectMember};
use chrono::NaiveDate;
use opsgraph_core::db::find_in_org;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::Membership;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::Deserialize;

use crate::entity::project_member;
use crate::service::notify;
use crate::service::projects;
use crate::service::watchers::{self, Subject};

fn allocation(v: i16) -> AppResult<i16> {
    if (0..=100).contains(&v) {
        Ok(v)
    } else {
        Err(AppError::bad_input("allocationPercent", "allocationPercent must be between 0 and 100"))
    }
}

fn dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> AppResult<()> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(AppError::bad_input("endDate", "endDate must not be before startDate")),
        _ => Ok(()),
    }
}

/// Staff a member on a project.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddProjectMemberInput {
    /// The project.
    pub project_id: Id,
    /// The member.
    pub membership_id: Id,
    /// Role on the project.
    pub role: Option<String>,
    /// Share of capacity 0..100 (default 100).
    pub allocation_percent: Option<i16>,
    /// First day.
    pub start_date: Option<NaiveDate>,
    /// Last day.
    pub end_date: Option<NaiveDate>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Staffs a member on a project (they start watching it).
pub async fn add(
    db: &impl ConnectionTrait,
    session: &Session,
    i: AddProjectMemberInput,
) -> AppResult<project_member::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let idem = i.idempotency_key.as_deref();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("addProjectMember", idem).await? {
        return get(db, org_id, id).await;
    }
    let p = projects::get(db, org_id, Project::decode(&i.project_id, "projectId")?).await?;
    let m =
        opsgraph_org::service::members::get(db, org_id, Membership::decode(&i.membership_id, "membershipId")?).await?;
    dates(i.start_date, i.end_date)?;
    let row = project_member::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        project_id: Set(p.id),
        membership_id: Set(m.id),
        role: Set(validate::opt_text("role", i.role.as_deref(), 100, false)?),
        allocation_percent: Set(allocation(i.allocation_percent.unwrap_or(100))?),
        start_date: Set(i.start_date),
        end_date: Set(i.end_date),
        ..Default::default()
    }
    .insert(db)
    .await?;
    watchers::ensure(db, org_id, m.id, Subject::Project(p.id)).await?;
    let data =
        serde_json::json!({ "membershipId": m.id, "allocationPercent": row.allocation_percent, "role": row.role });
    notify::emit(
        db,
        session,
        org_id,
        DomainEvent {
            kind: "project.member_added",
            subject_type: "Project",
            subject_id: p.id,
            project_id: Some(p.id),
            recipients: vec![m.id],
            audience: vec![],
            data,
        },
        None,
    )
    .await?;
    w.created::<ProjectMember>("project_member.add", &row, ("addProjectMember", idem)).await?;
    w.changed::<ProjectMember>("project_member.added", row.id, None).await?;
    Ok(row)
}

async fn get(db: &impl ConnectionTrait, org_id: uuid::Uuid, id: uuid::Uuid) -> AppResult<project_member::Model> {
    find_in_org::<project_member::Entity>(db, project_member::Column::OrgId, org_id, id, "project member").await
}

/// Change a project member; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProjectMemberInput {
    /// The project member.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// Role.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub role: Option<Option<String>>,
    /// Allocation 0..100.
    pub allocation_percent: Option<i16>,
    /// First day.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub start_date: Option<Option<NaiveDate>>,
    /// Last day.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub end_date: Option<Option<NaiveDate>>,
}

/// Changes role, allocation or dates of a project member.
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateProjectMemberInput,
) -> AppResult<project_member::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let id = ProjectMember::decode(&i.id, "id")?;
    let current = get(db, org_id, id).await?;
    let mut am = project_member::ActiveModel { ..Default::default() };
    if let Some(r) = &i.role {
        am.role = Set(validate::opt_text("role", r.as_deref(), 100, false)?);
    }
    if let Some(a) = i.allocation_percent {
        am.allocation_percent = Set(allocation(a)?);
    }
    if let Some(v) = i.start_date {
        am.start_date = Set(v);
    }
    if let Some(v) = i.end_date {
        am.end_date = Set(v);
    }
    dates(i.start_date.unwrap_or(current.start_date), i.end_date.unwrap_or(current.end_date))?;
    let w = Write { db, session, org: org_id };
    let Updated { after: updated, changes, .. } =
        w.update::<ProjectMember, _>("project_member.update", current.clone(), am, i.expected_version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<ProjectMember>("project_member.updated", updated.id, Some(updated.project_id)).await?;
    }
    Ok(updated)
}

/// Takes a member off a project.
pub async fn remove(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<project_member::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let current = get(db, org_id, ProjectMember::decode(gid, "id")?).await?;
    project_member::Entity::delete_by_id(current.id).exec(db).await?;
    let data = serde_json::json!({ "membershipId": current.membership_id });
    let w = Write { db, session, org: org_id };
    w.audit::<ProjectMember>("project_member.remove", current.id, data.clone()).await?;
    w.changed::<ProjectMember>("project_member.removed", current.id, None).await?;
    notify::emit(
        db,
        session,
        org_id,
        DomainEvent {
            kind: "project.member_removed",
            subject_type: "Project",
            subject_id: current.project_id,
            project_id: Some(current.project_id),
            recipients: vec![current.membership_id],
            audience: vec![],
            data,
        },
        None,
    )
    .await?;
    Ok(current)
}
