//! Idempotency keys for creates: the first request with a key claims it inside its own
//! transaction; a retry (or a concurrent duplicate, which waits on the claim) gets the id of
//! the entity the first one created. A failed first attempt rolls its claim back with it.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// What a create should do with its key.
pub enum Claim {
    /// First use: create, then [`complete`] with the new id.
    Fresh,
    /// Seen before: return this entity instead of creating another.
    Done(Uuid),
}

/// Claims `key` for `operation` in organisation `org_id` (no key: always fresh).
pub async fn claim(db: &impl ConnectionTrait, org_id: Uuid, operation: &str, key: Option<&str>) -> AppResult<Claim> {
    let Some(key) = key else { return Ok(Claim::Fresh) };
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(AppError::bad_input("idempotencyKey", "idempotencyKey must be 1-200 printable characters"));
    }
    let inserted = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO idempotency_keys (org_id, operation, key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS x",
            [org_id.into(), operation.into(), key.into()],
        ))
        .await?;
    if inserted.is_some() {
        return Ok(Claim::Fresh);
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT entity_id FROM idempotency_keys WHERE org_id = $1 AND operation = $2 AND key = $3",
            [org_id.into(), operation.into(), key.into()],
        ))
        .await?;
    match row.map(|r| r.try_get::<Option<Uuid>>("", "entity_id")).transpose()?.flatten() {
        Some(id) => Ok(Claim::Done(id)),
        None => Err(AppError::Conflict("a request with this idempotencyKey is still in progress".into())),
    }
}

/// Records the entity a fresh claim created.
pub async fn complete(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    operation: &str,
    key: Option<&str>,
    entity_id: Uuid,
) -> AppResult<()> {
    let Some(key) = key else { return Ok(()) };
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE idempotency_keys SET entity_id = $4 WHERE org_id = $1 AND operation = $2 AND key = $3",
        [org_id.into(), operation.into(), key.into(), entity_id.into()],
    ))
    .await?;
    Ok(())
}
