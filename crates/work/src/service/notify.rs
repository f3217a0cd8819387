//! The work domain's door to the event bus: every work event is emitted here, with its
//! audience resolved at the moment it happens (watchers of the task and of its project,
//! and the project manager), so delivery never has to read work tables.

use opsgraph_core::events::{self, DomainEvent};
use opsgraph_core::{AppResult, Session};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// Emits `event` (about `task_id`, if a task is concerned) with its audience.
pub async fn emit(
    db: &impl ConnectionTrait,
    session: &Session,
    org_id: Uuid,
    mut event: DomainEvent,
    task_id: Option<Uuid>,
) -> AppResult<i64> {
    if event.project_id.is_some() || task_id.is_some() {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT membership_id AS m FROM watchers WHERE project_id = $1 OR task_id = $2 \
                 UNION SELECT manager_id FROM projects WHERE id = $1 AND manager_id IS NOT NULL",
                [event.project_id.into(), task_id.into()],
            ))
            .await?;
        let mut audience = Vec::with_capacity(rows.len());
        for r in rows {
            let m: Uuid = r.try_get("", "m")?;
            if !event.recipients.contains(&m) {
                audience.push(m);
            }
        }
        audience.sort();
        event.audience = audience;
    }
    events::emit(db, session, org_id, event).await
}
