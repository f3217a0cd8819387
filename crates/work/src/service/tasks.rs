//! Tasks: creation with per-project numbers, edits with optimistic concurrency, the status
//! workflow (server-kept `completedAt`), soft delete and restore.

use crate::enums::{TaskKind, TaskPriority, TaskStatus};
use crate::error::WorkError;
use crate::nodes::{Project, Task};
use chrono::{NaiveDate, Utc};
use opsgraph_core::board::Lane;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    Set, Statement,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::task;
use crate::service::notify;
use crate::service::watchers::{self, Subject};
use crate::service::{projects, workflow};

fn hours(v: Option<Decimal>) -> AppResult<Option<Decimal>> {
    match v {
        Some(d) if d.is_sign_negative() || d > Decimal::from(100_000) => {
            Err(AppError::bad_input("estimateHours", "estimateHours must be between 0 and 100000"))
        }
        other => Ok(other),
    }
}

fn labels(v: Option<Vec<String>>) -> AppResult<Vec<String>> {
    let v = v.unwrap_or_default();
    if v.len() > 20 {
        return Err(AppError::bad_input("labels", "at most 20 labels"));
    }
    v.iter().map(|l| validate::text("labels", l, 1, 50, false)).collect()
}

/// Loads a live task of the active organisation.
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<task::Model> {
    task::Entity::find_by_id(id)
        .filter(task::Column::OrgId.eq(org_id))
        .filter(task::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("task"))
}

/// Emits `kind` about task `t`.
async fn emit(
    db: &impl ConnectionTrait,
    session: &Session,
    t: &task::Model,
    kind: &'static str,
    recipients: Vec<Uuid>,
    data: serde_json::Value,
) -> AppResult<()> {
    let event = DomainEvent {
        kind,
        subject_type: "Task",
        subject_id: t.id,
        project_id: Some(t.project_id),
        recipients,
        audience: vec![],
        data,
    };
    notify::emit(db, session, t.org_id, event, Some(t.id)).await?;
    Ok(())
}

/// Create a task.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateTaskInput {
    /// The project.
    pub project_id: Id,
    /// Parent task (makes this a subtask).
    pub parent_id: Option<Id>,
    /// Title.
    pub title: String,
    /// Description (markdown).
    pub description: Option<String>,
    /// Kind (default TASK).
    pub kind: Option<TaskKind>,
    /// Initial status (default TODO).
    pub status: Option<TaskStatus>,
    /// Priority (default MEDIUM).
    pub priority: Option<TaskPriority>,
    /// Assignee (Membership).
    pub assignee_id: Option<Id>,
    /// Start date.
    pub start_date: Option<NaiveDate>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Estimated hours.
    pub estimate_hours: Option<Decimal>,
    /// Labels.
    pub labels: Option<Vec<String>>,
    /// Shown to the project's client in the portal (default false).
    pub client_visible: Option<bool>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Creates a task with the project's next number (allocated atomically).
pub async fn create(db: &impl ConnectionTrait, session: &Session, input: CreateTaskInput) -> AppResult<task::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let key = ("createTask", input.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let t = insert(&w, &input).await?;
    w.created::<Task>("task.create", &t, key).await?;
    Ok(t)
}

/// Validates and inserts a new task, then follows and announces it.
async fn insert(w: &Write<'_, impl ConnectionTrait>, input: &CreateTaskInput) -> AppResult<task::Model> {
    let (db, session, org_id) = (w.db, w.session, w.org);
    let project = projects::get(db, org_id, Project::decode(&input.project_id, "projectId")?).await?;
    let title = validate::text("title", &input.title, 1, 500, false)?;
    let status = input.status.unwrap_or(TaskStatus::Todo).as_str().to_owned();
    if workflow::is_closed(&status) {
        return Err(AppError::bad_input("status", "a new task cannot start DONE or CANCELLED"));
    }
    let parent_id = match &input.parent_id {
        Some(g) => {
            let p = get(db, org_id, Task::decode(g, "parentId")?).await?;
            if p.project_id != project.id {
                return Err(AppError::bad_input("parentId", "a subtask belongs to its parent's project"));
            }
            Some(p.id)
        }
        None => None,
    };
    if let (Some(s), Some(d)) = (input.start_date, input.due_date)
        && d < s
    {
        return Err(AppError::bad_input("dueDate", "dueDate must not be before startDate"));
    }
    let assignee_id =
        opsgraph_org::service::members::resolve(db, org_id, input.assignee_id.as_deref(), "assigneeId").await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE projects SET next_task_number = next_task_number + 1 WHERE id = $1 AND org_id = $2 \
             RETURNING next_task_number - 1 AS n, \
               (SELECT coalesce(max(position), 0) + 1024 FROM tasks WHERE project_id = $1 AND status = $3) AS pos",
            [project.id.into(), org_id.into(), status.clone().into()],
        ))
        .await?
        .ok_or_else(|| AppError::not_found("project"))?;
    let number: i32 = row.try_get("", "n")?;
    let position: f64 = row.try_get("", "pos")?;
    let t = task::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        project_id: Set(project.id),
        parent_id: Set(parent_id),
        number: Set(number),
        title: Set(title),
        description: Set(validate::opt_text("description", input.description.as_deref(), 50_000, true)?),
        kind: Set(input.kind.unwrap_or(TaskKind::Task).as_str().to_owned()),
        status: Set(status),
        priority: Set(input.priority.unwrap_or(TaskPriority::Medium).as_str().to_owned()),
        assignee_id: Set(assignee_id),
        reporter_id: Set(session.membership_id),
        start_date: Set(input.start_date),
        due_date: Set(input.due_date),
        estimate_hours: Set(hours(input.estimate_hours)?),
        position: Set(position),
        labels: Set(labels(input.labels.clone())?),
        client_visible: Set(input.client_visible.unwrap_or(false)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for m in session.membership_id.into_iter().chain(t.assignee_id) {
        watchers::ensure(db, org_id, m, Subject::Task(t.id)).await?;
    }
    let data = serde_json::json!({ "identifier": format!("{}-{}", project.key, t.number), "title": t.title });
    emit(db, session, &t, "task.created", t.assignee_id.into_iter().collect(), data).await?;
    Ok(t)
}

/// Change a task; omitted fields stay, null clears. Status: transitionTask.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTaskInput {
    /// The task.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Title.
    pub title: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub description: Option<Option<String>>,
    /// Kind.
    pub kind: Option<TaskKind>,
    /// Priority.
    pub priority: Option<TaskPriority>,
    /// Assignee (null unassigns).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub assignee_id: Option<Option<Id>>,
    /// Start date.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub start_date: Option<Option<NaiveDate>>,
    /// Due date.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub due_date: Option<Option<NaiveDate>>,
    /// Estimated hours.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub estimate_hours: Option<Option<Decimal>>,
    /// Labels (replaces the set).
    pub labels: Option<Vec<String>>,
    /// Shown to the project's client in the portal.
    pub client_visible: Option<bool>,
}

/// Changes a task's fields.
pub async fn update(db: &impl ConnectionTrait, session: &Session, input: UpdateTaskInput) -> AppResult<task::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let org_id = w.org;
    let id = Task::decode(&input.id, "id")?;
    let current = get(db, org_id, id).await?;
    let mut am: task::ActiveModel = current.clone().into();
    if let Some(t) = &input.title {
        am.title = Set(validate::text("title", t, 1, 500, false)?);
    }
    if let Some(d) = &input.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 50_000, true)?);
    }
    if let Some(k) = &input.kind {
        am.kind = Set(k.as_str().to_owned());
    }
    if let Some(p) = &input.priority {
        am.priority = Set(p.as_str().to_owned());
    }
    if let Some(a) = &input.assignee_id {
        am.assignee_id = Set(opsgraph_org::service::members::resolve(db, org_id, a.as_deref(), "assigneeId").await?);
    }
    if let Some(v) = input.start_date {
        am.start_date = Set(v);
    }
    if let Some(v) = input.due_date {
        am.due_date = Set(v);
    }
    if let (Set(Some(s)) | ActiveValue::Unchanged(Some(s)), Set(Some(d)) | ActiveValue::Unchanged(Some(d))) =
        (&am.start_date, &am.due_date)
        && d < s
    {
        return Err(AppError::bad_input("dueDate", "dueDate must not be before startDate"));
    }
    if let Some(v) = input.estimate_hours {
        am.estimate_hours = Set(hours(v)?);
    }
    if input.labels.is_some() {
        am.labels = Set(labels(input.labels)?);
    }
    if let Some(v) = input.client_visible {
        am.client_visible = Set(v);
    }
    let Updated { after: updated, changes, .. } =
        w.update::<Task, _>("task.update", current.clone(), am, input.expected_version).await?;
    if changes.as_object().is_some_and(serde_json::Map::is_empty) {
        return Ok(updated);
    }
    match updated.assignee_id {
        Some(a) if current.assignee_id != Some(a) => {
            watchers::ensure(db, org_id, a, Subject::Task(id)).await?;
            let data = serde_json::json!({ "title": updated.title, "previousAssigneeId": current.assignee_id });
            emit(db, session, &updated, "task.assigned", vec![a], data).await?;
        }
        _ => emit(db, session, &updated, "task.updated", vec![], changes).await?,
    }
    Ok(updated)
}

async fn set_status(
    db: &impl ConnectionTrait,
    session: &Session,
    org_id: Uuid,
    current: task::Model,
    to: &str,
    expected: i32,
    action: &str,
) -> AppResult<task::Model> {
    if to == TaskStatus::Done {
        let open = task::Entity::find()
            .filter(task::Column::OrgId.eq(org_id))
            .filter(task::Column::ParentId.eq(current.id))
            .filter(task::Column::DeletedAt.is_null())
            .filter(task::Column::Status.is_not_in(["DONE", "CANCELLED"]))
            .count(db)
            .await?;
        if open > 0 {
            return Err(AppError::bad_input(
                "status",
                format!("the task has {open} open subtask(s); finish or cancel them first"),
            ));
        }
    }
    let mut am: task::ActiveModel = current.clone().into();
    am.status = Set(to.to_owned());
    am.completed_at =
        Set(if to == TaskStatus::Done { current.completed_at.or(Some(Utc::now().fixed_offset())) } else { None });
    let w = Write { db, session, org: org_id };
    let updated = w.update::<Task, _>(action, current.clone(), am, expected).await?.after;
    let data = serde_json::json!({ "title": updated.title, "from": current.status, "to": updated.status });
    emit(db, session, &updated, "task.status_changed", updated.assignee_id.into_iter().collect(), data).await?;
    Ok(updated)
}

/// Moves a task to another status under the workflow rules.
pub async fn transition(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    status: &str,
    expected: i32,
) -> AppResult<task::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get(db, org_id, Task::decode(gid, "id")?).await?;
    workflow::check_transition(&current.status, status).map_err(|m| AppError::bad_input("status", m))?;
    set_status(db, session, org_id, current, status, expected, "task.status_change").await
}

/// Reopens a DONE or CANCELLED task into TODO.
pub async fn reopen(db: &impl ConnectionTrait, session: &Session, gid: &str, expected: i32) -> AppResult<task::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get(db, org_id, Task::decode(gid, "id")?).await?;
    if !workflow::is_closed(&current.status) {
        return Err(AppError::bad_input("id", "only DONE or CANCELLED tasks can be reopened"));
    }
    set_status(db, session, org_id, current, "TODO", expected, "task.reopen").await
}

/// Soft-deletes a task and its subtasks (`deleted = true`) or restores them.
pub async fn set_deleted(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    deleted: bool,
) -> AppResult<task::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let id = Task::decode(gid, "id")?;
    let current = task::Entity::find_by_id(id)
        .filter(task::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .filter(|t| t.deleted_at.is_some() != deleted)
        .ok_or_else(|| AppError::not_found("task"))?;
    if !deleted && let Some(parent) = current.parent_id {
        get(db, org_id, parent).await.map_err(|_| WorkError::ParentDeleted)?;
    }
    let stamp = if deleted { Some(Utc::now().fixed_offset()) } else { None };
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH RECURSIVE tree(id) AS (SELECT $1::uuid UNION SELECT t.id FROM tasks t JOIN tree ON t.parent_id = tree.id) \
         UPDATE tasks SET deleted_at = $2, version = version + 1 WHERE org_id = $3 AND id IN (SELECT id FROM tree)",
        [id.into(), stamp.into(), org_id.into()],
    ))
    .await?;
    let t = task::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("task"))?;
    let w = Write { db, session, org: org_id };
    w.audit::<Task>(if deleted { "task.delete" } else { "task.restore" }, id, opsgraph_core::write::diff(&current, &t))
        .await?;
    let kind = if deleted { "task.deleted" } else { "task.restored" };
    emit(db, session, &t, kind, vec![], serde_json::json!({ "title": t.title })).await?;
    Ok(t)
}

/// Move a task on the board.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct MoveTaskInput {
    /// The task.
    pub id: Id,
    /// Target column (default: its current one).
    pub status: Option<TaskStatus>,
    /// Place it right after this task of the column (default: at the top).
    pub after_id: Option<Id>,
}

/// Moves a task within or across status columns. Moves in one project are serialised by a
/// row lock on the project, so concurrent moves never interleave and order stays stable;
/// when neighbours get too close the column is renumbered.
pub async fn move_task(db: &impl ConnectionTrait, session: &Session, input: MoveTaskInput) -> AppResult<task::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let id = Task::decode(&input.id, "id")?;
    let current = get(db, org_id, id).await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 FROM projects WHERE id = $1 FOR UPDATE",
        [current.project_id.into()],
    ))
    .await?;
    let current = get(db, org_id, id).await?;
    let status = input.status.map_or_else(|| current.status.clone(), |s| s.as_str().to_owned());
    workflow::check_transition(&current.status, &status).map_err(|m| AppError::bad_input("status", m))?;
    let after = input.after_id.as_deref().map(|g| Task::decode(g, "afterId")).transpose()?;
    let lane = Lane {
        table: "tasks",
        filter: "project_id = $1 AND status = $2 AND deleted_at IS NULL",
        values: vec![current.project_id.into(), status.clone().into()],
    };
    let position = lane.place(db, current.id, after, "afterId").await?;
    let status_changed = status != current.status;
    let moved = if status_changed {
        set_status(db, session, org_id, current.clone(), &status, current.version, "task.move").await?
    } else {
        current.clone()
    };
    let mut am: task::ActiveModel = moved.clone().into();
    am.position = Set(position);
    let w = Write { db, session, org: org_id };
    Ok(w.update::<Task, _>("task.move", moved.clone(), am, moved.version).await?.after)
}
