//! External references: any node can carry `(system, externalId)` pairs naming it in an
//! outside system (a CRM's project id, an HR system's employee number). One table holds
//! them for every node type of every domain; `externalRefs` appears on every node type
//! registered with [`crate::gql::SchemaParts::node`].
//!
//! A reference is unique per organisation, system, node type and external id (an outside
//! system may number its projects and its tasks independently), and a node has at most one
//! id per system; another organisation may use the same reference for its own node.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::batch::Loader;
use crate::db::TxDb;
use crate::error::{AppError, AppResult};
use crate::loader::{LoadError, db_error};

/// An input naming a node in an outside system.
#[derive(Debug, Clone, Deserialize, opsgraph_derive::GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRefInput {
    /// The outside system, lower case (`hubspot`, `perfex`, `bamboohr`): letters, digits,
    /// `_`, `.`, `-`, at most 50.
    pub system: String,
    /// The node's id in that system (1-200 characters).
    pub external_id: String,
}

/// A stored reference of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRef {
    /// The outside system.
    pub system: String,
    /// The id there.
    pub external_id: String,
}

/// A validated reference of a node type: what the store is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefKey {
    /// The GraphQL node type.
    pub node_type: String,
    /// The outside system.
    pub system: String,
    /// The id there.
    pub external_id: String,
}

impl RefKey {
    /// Validates `r` for node type `node_type`; errors name `<field>.system` or
    /// `<field>.externalId` (just `system` / `externalId` when `field` is empty).
    pub fn new(node_type: &str, r: &ExternalRefInput, field: &str) -> AppResult<Self> {
        let at = |name: &str| if field.is_empty() { name.to_owned() } else { format!("{field}.{name}") };
        let system = r.system.trim().to_ascii_lowercase();
        let ok_system = !system.is_empty()
            && system.len() <= 50
            && system.starts_with(|c: char| c.is_ascii_alphanumeric())
            && system.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok_system {
            return Err(AppError::bad_input(
                at("system"),
                "system must be 1-50 letters, digits, `_`, `.` or `-`, starting with a letter or digit",
            ));
        }
        let external_id = r.external_id.trim().to_owned();
        if external_id.is_empty() || external_id.chars().count() > 200 || external_id.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                at("externalId"),
                "externalId must be 1-200 characters without control characters",
            ));
        }
        Ok(RefKey { node_type: node_type.to_owned(), system, external_id })
    }

    fn lock_text(&self, org: Uuid) -> String {
        format!("{org}/{}/{}/{}", self.node_type, self.system, self.external_id)
    }
}

fn stmt(sql: &str, values: impl IntoIterator<Item = sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Serialises writers of the same references until the transaction ends (advisory locks
/// taken in one sorted order, so two bulk calls cannot deadlock on each other): the
/// second of two concurrent upserts of one reference sees the first one's row.
pub async fn lock(db: &impl ConnectionTrait, org: Uuid, keys: &[RefKey]) -> AppResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = keys.iter().map(|k| k.lock_text(org)).collect();
    db.query_one_raw(stmt(
        "SELECT count(pg_advisory_xact_lock(k)) AS n FROM \
           (SELECT DISTINCT hashtextextended(t, 0) AS k FROM unnest($1::text[]) t ORDER BY 1) s",
        [texts.into()],
    ))
    .await?;
    Ok(())
}

/// The nodes `keys` (all of one node type and system) name, by external id.
pub async fn find(
    db: &impl ConnectionTrait,
    org: Uuid,
    node_type: &str,
    system: &str,
    external_ids: Vec<String>,
) -> AppResult<HashMap<String, Uuid>> {
    let rows = db
        .query_all_raw(stmt(
            "SELECT external_id, node_id FROM external_refs \
             WHERE org_id = $1 AND node_type = $2 AND system = $3 AND external_id = ANY($4)",
            [org.into(), node_type.into(), system.into(), external_ids.into()],
        ))
        .await?;
    rows.into_iter().map(|r| Ok((r.try_get("", "external_id")?, r.try_get("", "node_id")?))).collect()
}

/// Makes `key` name `node_id` (replacing the node's previous id in that system); CONFLICT
/// when the reference already names another node.
pub async fn set(db: &impl ConnectionTrait, org: Uuid, key: &RefKey, node_id: Uuid, field: &str) -> AppResult<()> {
    let clash = db
        .query_one_raw(stmt(
            "SELECT node_id FROM external_refs \
             WHERE org_id = $1 AND node_type = $2 AND system = $3 AND external_id = $4 AND node_id <> $5",
            [
                org.into(),
                key.node_type.clone().into(),
                key.system.clone().into(),
                key.external_id.clone().into(),
                node_id.into(),
            ],
        ))
        .await?;
    if clash.is_some() {
        return Err(AppError::Conflict(format!(
            "{field}: {}:{} already names another {}",
            key.system, key.external_id, key.node_type
        )));
    }
    insert(
        db,
        org,
        key,
        node_id,
        "ON CONFLICT (org_id, node_id, system) DO UPDATE SET external_id = EXCLUDED.external_id",
    )
    .await
}

/// Gives a node created by an upsert holding `key`'s lock (so no node has it) its reference.
pub async fn insert_new(db: &impl ConnectionTrait, org: Uuid, key: &RefKey, node_id: Uuid) -> AppResult<()> {
    insert(db, org, key, node_id, "").await
}

async fn insert(db: &impl ConnectionTrait, org: Uuid, key: &RefKey, node_id: Uuid, on_conflict: &str) -> AppResult<()> {
    let sql = format!(
        "INSERT INTO external_refs (id, org_id, system, external_id, node_type, node_id) \
         VALUES ($1, $2, $3, $4, $5, $6) {on_conflict}"
    );
    let values: [sea_orm::Value; 6] = [
        crate::id::new_id().into(),
        org.into(),
        key.system.clone().into(),
        key.external_id.clone().into(),
        key.node_type.clone().into(),
        node_id.into(),
    ];
    db.execute_raw(stmt(&sql, values)).await?;
    Ok(())
}

/// Removes `node_id`'s reference in `system`; whether there was one.
pub async fn remove(db: &impl ConnectionTrait, org: Uuid, node_id: Uuid, system: &str) -> AppResult<bool> {
    let done = db
        .execute_raw(stmt(
            "DELETE FROM external_refs WHERE org_id = $1 AND node_id = $2 AND system = $3",
            [org.into(), node_id.into(), system.into()],
        ))
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes every reference of `node_id` (its node is gone for good).
pub async fn forget(db: &impl ConnectionTrait, org: Uuid, node_id: Uuid) -> AppResult<()> {
    db.execute_raw(stmt("DELETE FROM external_refs WHERE org_id = $1 AND node_id = $2", [org.into(), node_id.into()]))
        .await?;
    Ok(())
}

/// The references of nodes by node id (one statement per level of a query).
pub struct RefsOf(Arc<TxDb>);

impl RefsOf {
    /// For the request's transaction.
    pub fn new(db: Arc<TxDb>) -> Self {
        RefsOf(db)
    }
}

impl Loader<Uuid> for RefsOf {
    type Value = Arc<Vec<ExternalRef>>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, LoadError> {
        let rows = self
            .0
            .query_all_raw(stmt(
                "SELECT node_id, system, external_id FROM external_refs WHERE node_id = ANY($1) \
                 ORDER BY node_id, system",
                [keys.to_vec().into()],
            ))
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Vec<ExternalRef>> = HashMap::new();
        for r in rows {
            let node: Uuid = r.try_get("", "node_id").map_err(db_error)?;
            let system = r.try_get("", "system").map_err(db_error)?;
            let external_id = r.try_get("", "external_id").map_err(db_error)?;
            out.entry(node).or_default().push(ExternalRef { system, external_id });
        }
        Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(system: &str, id: &str) -> ExternalRefInput {
        ExternalRefInput { system: system.into(), external_id: id.into() }
    }

    #[test]
    fn systems_are_normalised_and_checked() {
        let k = RefKey::new("Task", &input(" HubSpot ", " 42 "), "externalRef").ok();
        assert_eq!(k.map(|k| (k.system, k.external_id)), Some(("hubspot".to_owned(), "42".to_owned())));
        for bad in ["", "-x", "a b", "x/y", &"s".repeat(51)] {
            assert!(RefKey::new("Task", &input(bad, "1"), "externalRef").is_err(), "{bad:?}");
        }
        for bad in ["", "  ", "a\nb", &"x".repeat(201)] {
            assert!(RefKey::new("Task", &input("crm", bad), "externalRef").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lock_texts_differ_per_tenant_type_system_and_id() {
        let org = Uuid::nil();
        let a = RefKey::new("Task", &input("crm", "1"), "r").map(|k| k.lock_text(org)).ok();
        let b = RefKey::new("Project", &input("crm", "1"), "r").map(|k| k.lock_text(org)).ok();
        assert_ne!(a, b);
    }
}
