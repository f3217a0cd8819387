//! The mutation pipeline: every write of every domain goes through [`Write`], which does the
//! steps around the domain's own logic the same way everywhere: the permission check,
//! idempotency keys on creates, the optimistic version on updates, one audit row whose
//! `changes` are computed from the rows before and after (never written field by field),
//! and the domain event of the change. Services stay plain functions over
//! `&impl ConnectionTrait`: they load, validate and build the row; `Write` persists the
//! bookkeeping in the same transaction, so it exists exactly when the change does.

use sea_orm::{ActiveModelTrait, ActiveValue, ConnectionTrait, EntityTrait, IdenStatic, Iterable, ModelTrait};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{self, AuditEntry};
use crate::auth::{Permission, Session};
use crate::error::{AppError, AppResult};
use crate::events::{self, DomainEvent};
use crate::idempotency::{self, Claim};
use crate::node::{Model, NodeType};

/// Fields that change on every write and say nothing about it.
const NOISE: [&str; 3] = ["version", "updatedAt", "createdAt"];

/// A row changed by [`Write::update`]: before, after, and the computed diff
/// (`{"field": {"from": .., "to": ..}}`, camelCase names, unchanged fields omitted).
pub struct Updated<N: NodeType> {
    /// The row as it was.
    pub before: Model<N>,
    /// The row as it is now.
    pub after: Model<N>,
    /// What changed.
    pub changes: serde_json::Value,
}

/// One write on behalf of `session` in organisation `org` (see the module docs).
pub struct Write<'a, C> {
    /// The request transaction.
    pub db: &'a C,
    /// Who writes.
    pub session: &'a Session,
    /// The organisation written to.
    pub org: Uuid,
}

/// The JSON object of a row, for audit snapshots and diffs.
fn snapshot<T: Serialize>(row: &T) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(row) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// `{"field": {"from": a, "to": b}}` for every field of `before`/`after` that differs
/// (ignoring version and timestamps).
pub fn diff<T: Serialize>(before: &T, after: &T) -> serde_json::Value {
    let (a, b) = (snapshot(before), snapshot(after));
    let mut out = serde_json::Map::new();
    for (k, to) in b {
        let from = a.get(&k).cloned().unwrap_or(serde_json::Value::Null);
        if from != to && !NOISE.contains(&k.as_str()) {
            out.insert(k, serde_json::json!({ "from": from, "to": to }));
        }
    }
    serde_json::Value::Object(out)
}

/// A row's audit snapshot: its fields without the tenant, version and timestamps.
fn snapshot_of<T: Serialize>(row: &T) -> serde_json::Map<String, serde_json::Value> {
    let mut snap = snapshot(row);
    snap.retain(|k, _| !NOISE.contains(&k.as_str()) && k != "orgId");
    snap
}

fn column<E: EntityTrait>(name: &str) -> Option<E::Column> {
    E::Column::iter().find(|c| c.as_str() == name)
}

impl<'a, C: ConnectionTrait> Write<'a, C> {
    /// Starts a write that needs `perm` (FORBIDDEN / UNAUTHENTICATED otherwise).
    pub fn new(db: &'a C, session: &'a Session, perm: Permission) -> AppResult<Self> {
        Ok(Write { db, session, org: session.require(perm)? })
    }

    /// Records the audit row of `action` on `N` row `id`.
    pub async fn audit<N: NodeType>(&self, action: &str, id: Uuid, changes: serde_json::Value) -> AppResult<()> {
        let entry = AuditEntry { action, entity_type: N::NAME, entity_id: id, changes };
        audit::record(self.db, self.session, self.org, entry).await
    }

    /// For a create with idempotency `key` (of `operation`): the id of the row a previous
    /// request with the same key created (return that row instead of creating another), or
    /// `None` when this request must create it and then call [`Write::created`].
    pub async fn replay(&self, operation: &str, key: Option<&str>) -> AppResult<Option<Uuid>> {
        Ok(match idempotency::claim(self.db, self.org, &self.operation(operation), key).await? {
            Claim::Done(id) => Some(id),
            Claim::Fresh => None,
        })
    }

    /// Finishes a create: audits `action` with the new row as its snapshot and records the
    /// row against the idempotency key claimed by [`Write::replay`].
    pub async fn created<N>(
        &self,
        action: &str,
        row: &Model<N>,
        (operation, key): (&str, Option<&str>),
    ) -> AppResult<()>
    where
        N: NodeType,
        Model<N>: Serialize,
    {
        self.audit::<N>(action, N::id(row), serde_json::Value::Object(snapshot_of(row))).await?;
        idempotency::complete(self.db, self.org, &self.operation(operation), key, N::id(row)).await
    }

    /// The idempotency scope of `operation`: a CLIENT's keys are its own (`op@membership`,
    /// the only ones Row Level Security lets it read); staff share the organisation's.
    fn operation(&self, operation: &str) -> String {
        match (self.session.role, self.session.membership_id) {
            (Some(crate::auth::Role::Client), Some(m)) => format!("{operation}@{m}"),
            _ => operation.to_owned(),
        }
    }

    /// Saves `am` over `before` if its version is still `expected` (CONFLICT otherwise; a
    /// node without a `version` column is saved as is), then audits `action` with the
    /// computed diff. When `am` sets no new value nothing is written (`changes` is empty and
    /// `after` is `before`); nothing is audited when nothing changed.
    pub async fn update<N, A>(&self, action: &str, before: Model<N>, mut am: A, expected: i32) -> AppResult<Updated<N>>
    where
        N: NodeType,
        Model<N>: Serialize + Clone,
        A: ActiveModelTrait<Entity = N::Entity> + Send,
    {
        let id = N::id(&before);
        let id_col = column::<N::Entity>("id").ok_or_else(|| AppError::internal("node without an id column"))?;
        let what = N::NAME.to_lowercase();
        if sets_nothing_new(&before, &am) {
            // Nothing to write: no version bump, no audit row (an upsert retried, an
            // edit that restates the values), but a stale version is still a conflict.
            if let Some(version) = column::<N::Entity>("version")
                && before.get(version) != sea_orm::Value::Int(Some(expected))
            {
                return Err(AppError::Conflict(format!("{what} was changed by someone else; reload and retry")));
            }
            return Ok(Updated { after: before.clone(), before, changes: serde_json::json!({}) });
        }
        let after = match column::<N::Entity>("version") {
            Some(version) => crate::db::update_versioned(self.db, id_col, version, id, am, expected, &what).await?,
            None => {
                am.not_set(id_col);
                save_unversioned::<N, A, C>(self.db, id_col, id, am).await?
            }
        };
        let changes = diff(&before, &after);
        if changes.as_object().is_some_and(|m| !m.is_empty()) {
            self.audit::<N>(action, id, changes.clone()).await?;
        }
        Ok(Updated { before, after, changes })
    }

    /// Deletes `row` for good and audits `action` with its last state.
    pub async fn delete<N>(&self, action: &str, row: Model<N>) -> AppResult<Model<N>>
    where
        N: NodeType,
        Model<N>: Serialize,
    {
        use sea_orm::{ColumnTrait, QueryFilter};
        let id_col = column::<N::Entity>("id").ok_or_else(|| AppError::internal("node without an id column"))?;
        N::Entity::delete_many().filter(id_col.eq(N::id(&row))).exec(self.db).await?;
        self.audit::<N>(action, N::id(&row), serde_json::Value::Object(snapshot_of(&row))).await?;
        Ok(row)
    }

    /// Emits `kind` about `N` row `id` addressed to nobody: a change that the change feed
    /// and project streams see and that notifies no one.
    pub async fn changed<N: NodeType>(&self, kind: &'static str, id: Uuid, project_id: Option<Uuid>) -> AppResult<i64> {
        self.emit::<N>(kind, id, DomainEvent { project_id, ..DomainEvent::default() }).await
    }

    /// `to` without the writer: nobody is addressed about what they did themselves.
    pub fn others(&self, to: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
        let mut out: Vec<Uuid> = vec![];
        for m in to {
            if Some(m) != self.session.membership_id && !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// Emits `kind` about `N` row `id` addressed to `to` (see [`Write::others`]) with the
    /// notification `(kind, title)` the dispatcher shows them (`data.notify`, for domains
    /// above org); `event` carries the project and the other details.
    pub async fn notify<N: NodeType>(
        &self,
        kind: &'static str,
        id: Uuid,
        to: impl IntoIterator<Item = Uuid>,
        (note, title): (&str, String),
        event: DomainEvent,
    ) -> AppResult<i64> {
        let mut data = match event.data {
            serde_json::Value::Object(m) => m,
            serde_json::Value::Null => serde_json::Map::new(),
            other => serde_json::Map::from_iter([("details".to_owned(), other)]),
        };
        data.insert("notify".into(), serde_json::json!({ "kind": note, "title": title }));
        let recipients = self.others(to);
        self.emit::<N>(kind, id, DomainEvent { recipients, data: serde_json::Value::Object(data), ..event }).await
    }

    /// Emits the domain event `kind` about `N` row `id` (see [`crate::events`]).
    pub async fn emit<N: NodeType>(&self, kind: &'static str, id: Uuid, event: DomainEvent) -> AppResult<i64> {
        let event = DomainEvent { kind, subject_type: N::NAME, subject_id: id, ..event };
        events::emit(self.db, self.session, self.org, event).await
    }
}

/// Whether every value `am` sets equals `before`'s.
fn sets_nothing_new<M, A>(before: &M, am: &A) -> bool
where
    M: ModelTrait,
    A: ActiveModelTrait<Entity = M::Entity>,
{
    <M::Entity as EntityTrait>::Column::iter().all(|c| match am.get(c) {
        ActiveValue::Set(v) => before.get(c) == v,
        _ => true,
    })
}

async fn save_unversioned<N, A, C>(
    db: &C,
    id_col: <N::Entity as EntityTrait>::Column,
    id: Uuid,
    am: A,
) -> AppResult<Model<N>>
where
    N: NodeType,
    A: ActiveModelTrait<Entity = N::Entity> + Send,
    C: ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    N::Entity::update_many()
        .set(am)
        .filter(id_col.eq(id))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found(N::NAME.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        title: String,
        due_date: Option<String>,
        version: i32,
    }

    #[test]
    fn diff_lists_changed_fields_only_in_camel_case() {
        let a = Row { title: "A".into(), due_date: None, version: 1 };
        let b = Row { title: "B".into(), due_date: None, version: 2 };
        assert_eq!(diff(&a, &b), serde_json::json!({ "title": { "from": "A", "to": "B" } }));
        let c = Row { title: "A".into(), due_date: Some("2026-01-02".into()), version: 3 };
        assert_eq!(diff(&a, &c), serde_json::json!({ "dueDate": { "from": null, "to": "2026-01-02" } }));
        assert_eq!(diff(&a, &a), serde_json::json!({}));
    }
}
