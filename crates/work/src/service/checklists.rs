//! Ordered checklists on tasks.

use crate::nodes::{ChecklistItem, Task};
use chrono::Utc;
use opsgraph_core::db::find_in_org;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::checklist_item;
use crate::service::tasks;

/// Append a checklist item.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddChecklistItemInput {
    /// The task.
    pub task_id: Id,
    /// What to check.
    pub body: String,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<checklist_item::Model> {
    find_in_org::<checklist_item::Entity>(db, checklist_item::Column::OrgId, org_id, id, "checklist item").await
}

/// Appends an item to a task's checklist (at most 200 per task).
pub async fn add(
    db: &impl ConnectionTrait,
    session: &Session,
    i: AddChecklistItemInput,
) -> AppResult<checklist_item::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.clone();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("addChecklistItem", idem.as_deref()).await? {
        return get(db, org_id, id).await;
    }
    let t = tasks::get(db, org_id, Task::decode(&i.task_id, "taskId")?).await?;
    let body = validate::text("body", &i.body, 1, 1000, false)?;
    // The task row lock serialises appends, so positions stay distinct.
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT (SELECT count(*) FROM checklist_items WHERE task_id = t.id) AS n, \
               (SELECT coalesce(max(position), 0) + 1024 FROM checklist_items WHERE task_id = t.id) AS pos \
             FROM tasks t WHERE t.id = $1 FOR UPDATE",
            [t.id.into()],
        ))
        .await?
        .ok_or_else(|| AppError::not_found("task"))?;
    let n: i64 = row.try_get("", "n")?;
    if n >= 200 {
        return Err(AppError::bad_input("taskId", "a checklist holds at most 200 items"));
    }
    let item = checklist_item::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        task_id: Set(t.id),
        body: Set(body),
        position: Set(row.try_get("", "pos")?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<ChecklistItem>("checklist_item.add", &item, ("addChecklistItem", idem.as_deref())).await?;
    w.changed::<ChecklistItem>("checklist_item.added", item.id, None).await?;
    Ok(item)
}

/// Edit, tick or reorder a checklist item.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateChecklistItemInput {
    /// The item.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// New text.
    pub body: Option<String>,
    /// Ticked or not.
    pub is_done: Option<bool>,
    /// Move right after this item (null: to the top; omit: stay).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub after_id: Option<Option<Id>>,
}

/// Edits, ticks or reorders an item.
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateChecklistItemInput,
) -> AppResult<checklist_item::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get(db, org_id, ChecklistItem::decode(&i.id, "id")?).await?;
    let mut am = checklist_item::ActiveModel { ..Default::default() };
    if let Some(b) = &i.body {
        am.body = Set(validate::text("body", b, 1, 1000, false)?);
    }
    if let Some(d) = i.is_done
        && d != current.is_done
    {
        am.is_done = Set(d);
        am.done_at = Set(d.then(|| Utc::now().fixed_offset()));
        am.done_by = Set(if d { session.membership_id } else { None });
    }
    if let Some(after) = &i.after_id {
        let lo = match after {
            Some(g) => {
                let a = get(db, org_id, ChecklistItem::decode(g, "afterId")?).await?;
                if a.task_id != current.task_id || a.id == current.id {
                    return Err(AppError::bad_input("afterId", "afterId must be another item of the same checklist"));
                }
                a.position
            }
            None => 0.0,
        };
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT min(position) AS hi FROM checklist_items WHERE task_id = $1 AND id <> $2 AND position > $3",
                [current.task_id.into(), current.id.into(), lo.into()],
            ))
            .await?;
        let hi: Option<f64> = row.map(|r| r.try_get("", "hi")).transpose()?.flatten();
        am.position = Set(match hi {
            Some(hi) => (lo + hi) / 2.0,
            None => lo + 1024.0,
        });
    }
    let w = Write { db, session, org: org_id };
    let Updated { after: updated, changes, .. } =
        w.update::<ChecklistItem, _>("checklist_item.update", current.clone(), am, i.expected_version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<ChecklistItem>("checklist_item.updated", updated.id, None).await?;
    }
    Ok(updated)
}

/// Removes an item.
pub async fn remove(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<checklist_item::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get(db, org_id, ChecklistItem::decode(gid, "id")?).await?;
    let w = Write { db, session, org: org_id };
    let removed = w.delete::<ChecklistItem>("checklist_item.remove", current).await?;
    w.changed::<ChecklistItem>("checklist_item.removed", removed.id, None).await?;
    Ok(removed)
}
