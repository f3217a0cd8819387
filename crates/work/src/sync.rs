//! What integrations write: projects, tasks and time entries created or updated by an
//! outside system's reference (see `opsgraph_core::sync::upsert`). Each maps its upsert
//! input onto the domain's own create and update, so the same rules, audit rows and events
//! apply.

use chrono::NaiveDate;
use opsgraph_core::db::TxDb;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::sync::ExternalRefInput;
use opsgraph_core::sync::upsert::{Upsert, required, unchanged};
use opsgraph_core::{AppResult, Session};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{project, task, time_entry};
use crate::enums::{ProjectStatus, TaskKind, TaskPriority, TaskStatus};
use crate::nodes::{Project, Task, TimeEntry};
use crate::service::projects::{self, CreateProjectInput, UpdateProjectInput};
use crate::service::tasks::{self, CreateTaskInput, UpdateTaskInput};
use crate::service::time::{self, LogTimeInput, UpdateTimeEntryInput};

/// Create or update the project an outside system's reference names. Absent fields keep
/// their value, null clears; `key` and `name` are needed to create.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertProjectInput {
    /// The project's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// Short key (set on create; cannot change).
    pub key: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "patch")]
    pub description: Option<Option<String>>,
    /// Status.
    pub status: Option<ProjectStatus>,
    /// Manager (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub manager_id: Option<Option<Id>>,
    /// Owning team.
    #[serde(default, deserialize_with = "patch")]
    pub team_id: Option<Option<Id>>,
    /// Start date.
    #[serde(default, deserialize_with = "patch")]
    pub start_date: Option<Option<NaiveDate>>,
    /// End date.
    #[serde(default, deserialize_with = "patch")]
    pub end_date: Option<Option<NaiveDate>>,
    /// Contractual deadline.
    #[serde(default, deserialize_with = "patch")]
    pub deadline: Option<Option<NaiveDate>>,
    /// Client name.
    #[serde(default, deserialize_with = "patch")]
    pub client_name: Option<Option<String>>,
}

impl Upsert for Project {
    type Input = UpsertProjectInput;
    const FIELD: &'static str = "project";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<project::Model> {
        let input = CreateProjectInput {
            key: required(&i.key, "key")?,
            name: required(&i.name, "name")?,
            description: i.description.clone().flatten(),
            status: i.status,
            manager_id: i.manager_id.clone().flatten(),
            team_id: i.team_id.clone().flatten(),
            start_date: i.start_date.flatten(),
            end_date: i.end_date.flatten(),
            deadline: i.deadline.flatten(),
            client_name: i.client_name.clone().flatten(),
            idempotency_key: None,
        };
        projects::create(db, session, input).await
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(project::Model, bool)>> {
        let live = project::Entity::find_by_id(id).filter(project::Column::DeletedAt.is_null());
        let Some(current) = live.one(db).await? else { return Ok(None) };
        unchanged(i.key.as_ref().map(|k| k.trim().to_uppercase()), current.key.clone(), "key")?;
        let input = UpdateProjectInput {
            id: Id::of::<Project>(id),
            expected_version: expected.unwrap_or(current.version),
            name: i.name.clone(),
            description: i.description.clone(),
            status: i.status,
            manager_id: i.manager_id.clone(),
            team_id: i.team_id.clone(),
            start_date: i.start_date,
            end_date: i.end_date,
            deadline: i.deadline,
            client_name: i.client_name.clone(),
        };
        let row = projects::update(db, session, input).await?;
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}

/// Create or update the task an outside system's reference names. Absent fields keep
/// their value, null clears; `projectId` and `title` are needed to create.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertTaskInput {
    /// The task's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// The project (set on create; cannot change).
    pub project_id: Option<Id>,
    /// Parent task (set on create).
    pub parent_id: Option<Id>,
    /// Title.
    pub title: Option<String>,
    /// Description (markdown).
    #[serde(default, deserialize_with = "patch")]
    pub description: Option<Option<String>>,
    /// Kind.
    pub kind: Option<TaskKind>,
    /// Status: the initial one on create; on update a move under the workflow rules.
    pub status: Option<TaskStatus>,
    /// Priority.
    pub priority: Option<TaskPriority>,
    /// Assignee (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub assignee_id: Option<Option<Id>>,
    /// Start date.
    #[serde(default, deserialize_with = "patch")]
    pub start_date: Option<Option<NaiveDate>>,
    /// Due date.
    #[serde(default, deserialize_with = "patch")]
    pub due_date: Option<Option<NaiveDate>>,
    /// Estimated hours.
    #[serde(default, deserialize_with = "patch")]
    pub estimate_hours: Option<Option<Decimal>>,
    /// Labels (replaces the set).
    pub labels: Option<Vec<String>>,
    /// Shown to the project's client in the portal.
    pub client_visible: Option<bool>,
}

impl Upsert for Task {
    type Input = UpsertTaskInput;
    const FIELD: &'static str = "task";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<task::Model> {
        let input = CreateTaskInput {
            project_id: required(&i.project_id, "projectId")?,
            parent_id: i.parent_id.clone(),
            title: required(&i.title, "title")?,
            description: i.description.clone().flatten(),
            kind: i.kind,
            status: i.status,
            priority: i.priority,
            assignee_id: i.assignee_id.clone().flatten(),
            start_date: i.start_date.flatten(),
            due_date: i.due_date.flatten(),
            estimate_hours: i.estimate_hours.flatten(),
            labels: i.labels.clone(),
            client_visible: i.client_visible,
            idempotency_key: None,
        };
        tasks::create(db, session, input).await
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(task::Model, bool)>> {
        let live = task::Entity::find_by_id(id).filter(task::Column::DeletedAt.is_null());
        let Some(current) = live.one(db).await? else { return Ok(None) };
        let project = i.project_id.as_deref().map(|p| Project::decode(p, "projectId")).transpose()?;
        unchanged(project, current.project_id, "projectId")?;
        let parent = i.parent_id.as_deref().map(|p| Task::decode(p, "parentId")).transpose()?;
        unchanged(parent.map(Some), current.parent_id, "parentId")?;
        let input = UpdateTaskInput {
            id: Id::of::<Task>(id),
            expected_version: expected.unwrap_or(current.version),
            title: i.title.clone(),
            description: i.description.clone(),
            kind: i.kind,
            priority: i.priority,
            assignee_id: i.assignee_id.clone(),
            start_date: i.start_date,
            due_date: i.due_date,
            estimate_hours: i.estimate_hours,
            labels: i.labels.clone(),
            client_visible: i.client_visible,
        };
        let mut row = tasks::update(db, session, input).await?;
        if let Some(status) = i.status
            && status.as_str() != row.status
        {
            row = tasks::transition(db, session, &Task::gid(id), status.as_str(), row.version).await?;
        }
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}

/// Create or update the time entry an outside system's reference names. `date` and
/// `hours` and a task or project are needed to create; whose time it is (`membershipId`)
/// and where it was logged are set on create.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertTimeEntryInput {
    /// The entry's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// The task (set on create).
    pub task_id: Option<Id>,
    /// The project, when no task (set on create).
    pub project_id: Option<Id>,
    /// Whose time (set on create; default yours).
    pub membership_id: Option<Id>,
    /// The day.
    pub date: Option<NaiveDate>,
    /// Hours, 0.01..24.
    pub hours: Option<Decimal>,
    /// Billable (default true).
    pub is_billable: Option<bool>,
    /// What was done.
    #[serde(default, deserialize_with = "patch")]
    pub note: Option<Option<String>>,
}

impl Upsert for TimeEntry {
    type Input = UpsertTimeEntryInput;
    const FIELD: &'static str = "timeEntry";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<time_entry::Model> {
        let input = LogTimeInput {
            task_id: i.task_id.clone(),
            project_id: i.project_id.clone(),
            membership_id: i.membership_id.clone(),
            date: required(&i.date, "date")?,
            hours: required(&i.hours, "hours")?,
            is_billable: i.is_billable,
            note: i.note.clone().flatten(),
            idempotency_key: None,
        };
        time::log_time(db, session, input).await
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(time_entry::Model, bool)>> {
        let Some(current) = time_entry::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
        let task = i.task_id.as_deref().map(|t| Task::decode(t, "taskId")).transpose()?;
        unchanged(task.map(Some), current.task_id, "taskId")?;
        let project = i.project_id.as_deref().map(|p| Project::decode(p, "projectId")).transpose()?;
        unchanged(project, current.project_id, "projectId")?;
        let member = i.membership_id.as_deref().map(|m| opsgraph_org::nodes::Membership::decode(m, "membershipId"));
        unchanged(member.transpose()?, current.membership_id, "membershipId")?;
        let input = UpdateTimeEntryInput {
            id: Id::of::<TimeEntry>(id),
            expected_version: expected.unwrap_or(current.version),
            hours: i.hours,
            date: i.date,
            is_billable: i.is_billable,
            note: i.note.clone(),
        };
        let row = time::update_entry(db, session, input).await?;
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}
