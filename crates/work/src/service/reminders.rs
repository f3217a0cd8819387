//! Scheduled reminders: tasks due tomorrow or overdue (to their assignee) and milestones due
//! tomorrow (to the project's audience) become domain events. Each reminder is recorded in
//! `reminders_sent` in the same transaction as its event, so it happens once per subject and
//! due date however many instances run the job at the same time (a concurrent duplicate
//! waits on the first insert and then inserts nothing).

use chrono::NaiveDate;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::{AppResult, Session, Tenant, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use crate::service::notify;

/// Emits the reminders due on `today` in every organisation; returns how many were emitted.
pub async fn run(pool: &DatabaseConnection, today: NaiveDate) -> AppResult<usize> {
    let mut n = 0;
    for org in opsgraph_org::service::organization::scheduled_ids(pool).await? {
        let db = TxDb::begin(pool, &Tenant { org_id: Some(org), ..Default::default() }).await?;
        n += run_org(&db, org, today).await?;
        db.commit().await?;
    }
    Ok(n)
}

async fn run_org(db: &TxDb, org: Uuid, today: NaiveDate) -> AppResult<usize> {
    let session = Session::anonymous("reminders");
    let tasks = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH due AS (SELECT id, project_id, assignee_id, title, due_date, \
                 CASE WHEN due_date < $2 THEN 'task.overdue' ELSE 'task.due' END AS kind \
               FROM tasks WHERE org_id = $1 AND deleted_at IS NULL AND assignee_id IS NOT NULL \
                 AND status NOT IN ('DONE','CANCELLED') AND (due_date = $2 + 1 OR due_date < $2)), \
             sent AS (INSERT INTO reminders_sent (org_id, subject_id, kind, due_date) \
               SELECT $1, id, kind, due_date FROM due ON CONFLICT DO NOTHING RETURNING subject_id, kind) \
             SELECT d.id, d.project_id, d.assignee_id, d.title, d.due_date, d.kind FROM due d \
               JOIN sent s ON s.subject_id = d.id AND s.kind = d.kind ORDER BY d.due_date, d.id",
            [org.into(), today.into()],
        ))
        .await?;
    let mut n = 0;
    for r in &tasks {
        let kind: String = r.try_get("", "kind")?;
        let id: Uuid = r.try_get("", "id")?;
        let due: NaiveDate = r.try_get("", "due_date")?;
        let event = DomainEvent {
            kind: if kind == "task.overdue" { "task.overdue" } else { "task.due" },
            subject_type: "Task",
            subject_id: id,
            project_id: Some(r.try_get("", "project_id")?),
            recipients: vec![r.try_get("", "assignee_id")?],
            audience: vec![],
            data: serde_json::json!({ "title": r.try_get::<String>("", "title")?, "dueDate": due }),
        };
        // Reminders address the assignee only, not every watcher.
        opsgraph_core::events::emit(db, &session, org, event).await?;
        n += 1;
    }
    let milestones = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH due AS (SELECT id, project_id, name, due_date FROM milestones WHERE org_id = $1 \
                 AND status IN ('PLANNED','IN_PROGRESS') AND due_date = $2 + 1 \
                 AND project_id IN (SELECT id FROM projects WHERE org_id = $1 AND deleted_at IS NULL)), \
             sent AS (INSERT INTO reminders_sent (org_id, subject_id, kind, due_date) \
               SELECT $1, id, 'milestone.due', due_date FROM due ON CONFLICT DO NOTHING RETURNING subject_id) \
             SELECT d.id, d.project_id, d.name, d.due_date FROM due d JOIN sent s ON s.subject_id = d.id",
            [org.into(), today.into()],
        ))
        .await?;
    for r in &milestones {
        let due: NaiveDate = r.try_get("", "due_date")?;
        let event = DomainEvent {
            kind: "milestone.due",
            subject_type: "Milestone",
            subject_id: r.try_get("", "id")?,
            project_id: Some(r.try_get("", "project_id")?),
            recipients: vec![],
            audience: vec![],
            data: serde_json::json!({ "name": r.try_get::<String>("", "name")?, "dueDate": due }),
        };
        notify::emit(db, &session, org, event, None).await?;
        n += 1;
    }
    Ok(n)
}
