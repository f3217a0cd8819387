//! The event outbox as a live [`Source`](super::Source), and the resume check shared by
//! every stream whose positions are event sequence numbers.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::db::TxDb;
use crate::error::{AppError, AppResult};
use crate::events::CHANNEL;

/// A committed domain event, as subscribers see it.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// Its organisation.
    pub org_id: Uuid,
    /// Position in the organisation's gapless sequence.
    pub seq: i64,
    /// `<entity>.<verb>`.
    pub kind: String,
    /// GraphQL type of the subject.
    pub subject_type: String,
    /// The subject's id.
    pub subject_id: Uuid,
    /// The project it happened in.
    pub project_id: Option<Uuid>,
    /// The member who acted, if a member did.
    pub actor_membership_id: Option<Uuid>,
    /// Event details.
    pub data: serde_json::Value,
    /// When it was committed.
    pub occurred_at: DateTime<Utc>,
}

/// The `domain_events` outbox.
pub struct Outbox;

impl super::Source for Outbox {
    type Item = LiveEvent;
    const CHANNEL: &'static str = CHANNEL;
    const GAPLESS: bool = true;

    fn seq(item: &LiveEvent) -> i64 {
        item.seq
    }

    async fn fetch(&self, db: &TxDb, org: Uuid, after: i64, limit: i64) -> AppResult<Vec<LiveEvent>> {
        read(db, org, after, None, limit).await
    }

    async fn head(&self, db: &TxDb, org: Uuid) -> AppResult<i64> {
        crate::events::latest(db, org).await
    }
}

/// `org`'s events after `after`, oldest first, at most `limit`; only those of `kinds` when
/// given (for consumers with a cursor of their own, such as workflows).
pub async fn read(
    db: &impl ConnectionTrait,
    org: Uuid,
    after: i64,
    kinds: Option<Vec<String>>,
    limit: i64,
) -> AppResult<Vec<LiveEvent>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT seq, kind, subject_type, subject_id, project_id, actor_membership_id, data, created_at \
             FROM domain_events WHERE org_id = $1 AND seq > $2 AND ($4::text[] IS NULL OR kind = ANY($4)) \
             ORDER BY seq LIMIT $3",
            [org.into(), after.into(), limit.into(), kinds.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(LiveEvent {
                org_id: org,
                seq: r.try_get("", "seq")?,
                kind: r.try_get("", "kind")?,
                subject_type: r.try_get("", "subject_type")?,
                subject_id: r.try_get("", "subject_id")?,
                project_id: r.try_get("", "project_id")?,
                actor_membership_id: r.try_get("", "actor_membership_id")?,
                data: r.try_get("", "data")?,
                occurred_at: r.try_get("", "created_at")?,
            })
        })
        .collect()
}

/// Checks that resuming `org`'s streams after event `after` (the argument `field`) loses
/// nothing: it must not be newer than the newest event, and every event after it must
/// still be retained.
pub async fn check_resume(db: &impl ConnectionTrait, org: Uuid, after: i64, field: &str) -> AppResult<()> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT coalesce((SELECT last_seq FROM event_counters WHERE org_id = $1), 0) AS head, \
             (SELECT min(seq) FROM domain_events WHERE org_id = $1) AS oldest",
            [org.into()],
        ))
        .await?
        .ok_or_else(|| AppError::internal("resume query returned no row"))?;
    let head: i64 = row.try_get("", "head")?;
    let oldest: Option<i64> = row.try_get("", "oldest")?;
    if after < 0 || after > head {
        return Err(AppError::bad_input(field, format!("no event {after} yet (the newest is {head})")));
    }
    let retained = after == head || oldest.is_some_and(|o| o <= after + 1);
    if !retained {
        return Err(AppError::bad_input(
            field,
            format!(
                "events after {after} are past the retention window (the oldest kept is {}); \
                 reload, then start again without `{field}`",
                oldest.map_or_else(|| "none".to_owned(), |o| o.to_string())
            ),
        ));
    }
    Ok(())
}
