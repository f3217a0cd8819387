//! Task dependencies without cycles: adding one that would close a cycle is BAD_USER_INPUT
//! naming the cycle (`ACME-1 → ACME-2 → ACME-3 → ACME-1`).

use crate::enums::DependencyKind;
use crate::error::WorkError;
use crate::nodes::Task;
use opsgraph_core::id::new_id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use uuid::Uuid;

use crate::entity::task_dependency;
use crate::service::tasks;

/// Makes `task` depend on `depends_on`. Dependency edits of one organisation are serialised
/// (transaction advisory lock) so two concurrent additions cannot close a cycle together.
pub async fn add(
    db: &impl ConnectionTrait,
    session: &Session,
    task_gid: &str,
    on_gid: &str,
    kind: Option<&str>,
) -> AppResult<task_dependency::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let task = tasks::get(db, org_id, Task::decode(task_gid, "taskId")?).await?;
    let on = tasks::get(db, org_id, Task::decode(on_gid, "dependsOnId")?).await?;
    let kind = kind.unwrap_or("FINISH_TO_START");
    if !DependencyKind::VALUES.contains(&kind) {
        return Err(AppError::bad_input("kind", "unknown dependency kind"));
    }
    if task.id == on.id {
        return Err(AppError::bad_input("dependsOnId", "a task cannot depend on itself"));
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtextextended('task_dependencies:' || $1::text, 0))",
        [org_id.into()],
    ))
    .await?;
    if let Some(path) = cycle_path(db, org_id, task.id, on.id).await? {
        return Err(WorkError::Cycle(path).into());
    }
    let dep = task_dependency::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        task_id: Set(task.id),
        depends_on_id: Set(on.id),
        kind: Set(kind.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let w = Write { db, session, org: org_id };
    w.audit::<Task>("task.dependency_add", task.id, serde_json::json!({ "dependsOn": on.id, "kind": kind })).await?;
    w.changed::<Task>("task.dependency_added", task.id, None).await?;
    Ok(dep)
}

/// If `on` already (transitively) depends on `task`, the identifiers along that path,
/// rendered as a cycle starting and ending at `task`.
async fn cycle_path(db: &impl ConnectionTrait, org_id: Uuid, task: Uuid, on: Uuid) -> AppResult<Option<String>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH RECURSIVE walk(id, path) AS ( \
               SELECT $2::uuid, ARRAY[$2::uuid] \
               UNION ALL \
               SELECT d.depends_on_id, w.path || d.depends_on_id FROM task_dependencies d JOIN walk w ON d.task_id = w.id \
               WHERE d.org_id = $3 AND NOT d.depends_on_id = ANY(w.path) AND array_length(w.path, 1) < 1000) \
             SELECT (SELECT string_agg(p.key || '-' || t.number, ' → ' ORDER BY o.ord) \
                     FROM unnest(ARRAY[$1::uuid] || walk.path) WITH ORDINALITY o(id, ord) \
                     JOIN tasks t ON t.id = o.id JOIN projects p ON p.id = t.project_id) AS cycle \
             FROM walk WHERE walk.id = $1 LIMIT 1",
            [task.into(), on.into(), org_id.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<Option<String>>("", "cycle")).transpose()?.flatten())
}

/// Removes a dependency; NOT_FOUND when there is none.
pub async fn remove(db: &impl ConnectionTrait, session: &Session, task_gid: &str, on_gid: &str) -> AppResult<Uuid> {
    let org_id = session.require(Permission::WorkWrite)?;
    let task = Task::decode(task_gid, "taskId")?;
    let on = Task::decode(on_gid, "dependsOnId")?;
    let res = task_dependency::Entity::delete_many()
        .filter(task_dependency::Column::OrgId.eq(org_id))
        .filter(task_dependency::Column::TaskId.eq(task))
        .filter(task_dependency::Column::DependsOnId.eq(on))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("dependency"));
    }
    let w = Write { db, session, org: org_id };
    w.audit::<Task>("task.dependency_remove", task, serde_json::json!({ "dependsOn": on })).await?;
    w.changed::<Task>("task.dependency_removed", task, None).await?;
    Ok(task)
}
