//! The domain event bus: every domain emits events through [`emit`], which writes them to
//! the `domain_events` outbox inside the caller's (request) transaction, so an event exists
//! if and only if its change committed. Events are numbered per organisation without gaps
//! (the counter row is locked until commit, so sequence order is commit order) and
//! announced with `NOTIFY opsgraph_events, '<org>:<seq>'` on commit: a wake-up signal only,
//! the outbox stays the source of truth for dispatchers and subscribers.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::auth::Session;
use crate::error::{AppError, AppResult};
use crate::id::new_id;

/// The NOTIFY channel announcing committed events.
pub const CHANNEL: &str = "opsgraph_events";

/// One domain event.
#[derive(Debug, Clone, Default)]
pub struct DomainEvent {
    /// `<entity>.<verb>`, e.g. `task.assigned` (owned by the emitting domain).
    pub kind: &'static str,
    /// The GraphQL type of the subject, e.g. `Task`.
    pub subject_type: &'static str,
    /// The subject's id.
    pub subject_id: Uuid,
    /// The project it happened in, if any (for project-scoped streams and watchers).
    pub project_id: Option<Uuid>,
    /// Members addressed directly (assignee, mentioned members).
    pub recipients: Vec<Uuid>,
    /// Members following along (watchers, the project manager), resolved by the emitting
    /// domain when the event happens.
    pub audience: Vec<Uuid>,
    /// Event details for notification texts.
    pub data: serde_json::Value,
}

/// Appends `event` to the organisation's outbox; returns its sequence number.
pub async fn emit(db: &impl ConnectionTrait, session: &Session, org_id: Uuid, event: DomainEvent) -> AppResult<i64> {
    let user_id = session.acting_user();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH c AS (INSERT INTO event_counters (org_id, last_seq) VALUES ($1, 1) \
               ON CONFLICT (org_id) DO UPDATE SET last_seq = event_counters.last_seq + 1 RETURNING last_seq), \
             e AS (INSERT INTO domain_events (org_id, seq, id, kind, subject_type, subject_id, project_id, \
               actor_user_id, actor_membership_id, recipients, audience, data) \
               SELECT $1, c.last_seq, $2, $3, $4, $5, $6, $7, $8, $9, $12, $10 FROM c RETURNING seq) \
             SELECT seq, pg_notify($11, $1::text || ':' || seq) AS n FROM e",
            [
                org_id.into(),
                new_id().into(),
                event.kind.into(),
                event.subject_type.into(),
                event.subject_id.into(),
                event.project_id.into(),
                user_id.into(),
                session.membership_id.into(),
                event.recipients.into(),
                event.data.into(),
                CHANNEL.into(),
                event.audience.into(),
            ],
        ))
        .await?
        .ok_or_else(|| AppError::internal("event insert returned no row"))?;
    Ok(row.try_get("", "seq")?)
}

/// Deletes dispatched events older than `retention` in every organisation (in batches);
/// returns how many. Subscriptions can resume only from within the window that remains.
pub async fn prune(pool: &sea_orm::DatabaseConnection, retention: std::time::Duration) -> AppResult<u64> {
    let hours = i64::try_from(retention.as_secs() / 3600).unwrap_or(i64::MAX);
    let mut total = 0;
    loop {
        let db = crate::db::TxDb::begin_system(pool, None, "pruner").await?;
        let n = db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM domain_events WHERE ctid = ANY(ARRAY(SELECT ctid FROM domain_events \
                   WHERE created_at < now() - make_interval(hours => $1::int) AND dispatched_at IS NOT NULL \
                   LIMIT 5000))",
                [i32::try_from(hours).unwrap_or(i32::MAX).into()],
            ))
            .await?
            .rows_affected();
        db.commit().await?;
        total += n;
        if n < 5000 {
            return Ok(total);
        }
    }
}

/// The organisation's latest event position (0 before any).
pub async fn latest(db: &impl ConnectionTrait, org_id: Uuid) -> AppResult<i64> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT coalesce((SELECT last_seq FROM event_counters WHERE org_id = $1), 0) AS n",
            [org_id.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}
