//! Merging duplicates: everything of the source (an account's contacts, deals,
//! interactions and projects; a contact's deals and interactions) moves to the target, the
//! target's empty fields take the source's values, and the source is kept as merged into
//! the target (hidden, not restorable). A dry run reports the same without writing.

use crate::entity::{account, contact};
use crate::nodes::{Account, Contact};
use crate::service::{accounts, contacts};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session};
use opsgraph_derive::GqlInput;
use sea_orm::{ConnectionTrait, DbBackend, Set, Statement, Value};
use serde::Deserialize;
use uuid::Uuid;

/// Merge one duplicate into another.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct MergeInput {
    /// What stays.
    pub target_id: Id,
    /// The duplicate, merged into the target.
    pub source_id: Id,
    /// Report what would move without changing anything.
    pub dry_run: Option<bool>,
}

/// What a merge moved (or would move).
#[derive(Debug, Clone, Default)]
pub struct MergeReport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The target's id.
    pub target: Uuid,
    /// Moved contacts.
    pub contacts: u64,
    /// Moved deals.
    pub deals: u64,
    /// Moved interactions.
    pub interactions: u64,
    /// Moved projects.
    pub projects: u64,
    /// Target fields filled from the source (camelCase names).
    pub filled: Vec<String>,
}

async fn count(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> AppResult<u64> {
    let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    let n: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    Ok(())
}

fn fill<T>(
    name: &str,
    target: &Option<T>,
    source: &Option<T>,
    slot: &mut sea_orm::ActiveValue<Option<T>>,
    filled: &mut Vec<String>,
) where
    T: Clone + Into<Value> + sea_orm::sea_query::Nullable,
{
    if target.is_none() && source.is_some() {
        *slot = Set(source.clone());
        filled.push(name.to_owned());
    }
}

/// Merges account `source` into `target` (or reports what that would do).
pub async fn accounts(db: &impl ConnectionTrait, session: &Session, i: MergeInput) -> AppResult<MergeReport> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let target = accounts::get(db, w.org, Account::decode(&i.target_id, "targetId")?).await?;
    let source = accounts::get(db, w.org, Account::decode(&i.source_id, "sourceId")?).await?;
    if target.id == source.id {
        return Err(AppError::bad_input("sourceId", "an account cannot be merged into itself"));
    }
    let ids = || vec![Value::from(source.id)];
    let mut r = MergeReport {
        dry_run: i.dry_run.unwrap_or(false),
        target: target.id,
        contacts: count(db, "SELECT count(*) AS n FROM contacts WHERE account_id = $1 AND deleted_at IS NULL", ids())
            .await?,
        deals: count(db, "SELECT count(*) AS n FROM deals WHERE account_id = $1 AND deleted_at IS NULL", ids()).await?,
        interactions: count(db, "SELECT count(*) AS n FROM interactions WHERE account_id = $1", ids()).await?,
        projects: opsgraph_work::service::projects::count_for_client(db, w.org, source.id).await?,
        filled: vec![],
    };
    let mut am: account::ActiveModel = target.clone().into();
    fill("industryId", &target.industry_id, &source.industry_id, &mut am.industry_id, &mut r.filled);
    fill("size", &target.size, &source.size, &mut am.size, &mut r.filled);
    fill("website", &target.website, &source.website, &mut am.website, &mut r.filled);
    fill("address", &target.address, &source.address, &mut am.address, &mut r.filled);
    fill("city", &target.city, &source.city, &mut am.city, &mut r.filled);
    fill("country", &target.country, &source.country, &mut am.country, &mut r.filled);
    fill("ownerId", &target.owner_id, &source.owner_id, &mut am.owner_id, &mut r.filled);
    if r.dry_run {
        return Ok(r);
    }
    let moves = vec![Value::from(source.id), Value::from(target.id)];
    exec(db, "UPDATE contacts SET account_id = $2, version = version + 1 WHERE account_id = $1", moves.clone()).await?;
    exec(db, "UPDATE deals SET account_id = $2, version = version + 1 WHERE account_id = $1", moves.clone()).await?;
    exec(db, "UPDATE interactions SET account_id = $2 WHERE account_id = $1", moves).await?;
    if r.projects > 0 {
        opsgraph_work::service::projects::move_client(db, session, source.id, target.id, &target.name).await?;
    }
    w.update::<Account, _>("account.merge_into", target.clone(), am, target.version).await?;
    let mut gone: account::ActiveModel = source.clone().into();
    gone.merged_into_id = Set(Some(target.id));
    gone.deleted_at = Set(Some(chrono::Utc::now().fixed_offset()));
    w.update::<Account, _>("account.merged", source.clone(), gone, source.version).await?;
    let data = serde_json::json!({ "into": Account::gid(target.id), "contacts": r.contacts, "deals": r.deals, "projects": r.projects });
    w.emit::<Account>("account.merged", source.id, opsgraph_core::events::DomainEvent { data, ..Default::default() })
        .await?;
    w.changed::<Account>("account.updated", target.id, None).await?;
    Ok(r)
}

/// Merges contact `source` into `target` (or reports what that would do).
pub async fn contacts(db: &impl ConnectionTrait, session: &Session, i: MergeInput) -> AppResult<MergeReport> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let target = contacts::get(db, w.org, Contact::decode(&i.target_id, "targetId")?).await?;
    let source = contacts::get(db, w.org, Contact::decode(&i.source_id, "sourceId")?).await?;
    if target.id == source.id {
        return Err(AppError::bad_input("sourceId", "a contact cannot be merged into itself"));
    }
    let ids = || vec![Value::from(source.id)];
    let mut r = MergeReport {
        dry_run: i.dry_run.unwrap_or(false),
        target: target.id,
        deals: count(db, "SELECT count(*) AS n FROM deals WHERE contact_id = $1 AND deleted_at IS NULL", ids()).await?,
        interactions: count(db, "SELECT count(*) AS n FROM interaction_participants WHERE contact_id = $1", ids())
            .await?,
        ..MergeReport::default()
    };
    let mut am: contact::ActiveModel = target.clone().into();
    fill("accountId", &target.account_id, &source.account_id, &mut am.account_id, &mut r.filled);
    fill("email", &target.email, &source.email, &mut am.email, &mut r.filled);
    fill("phone", &target.phone, &source.phone, &mut am.phone, &mut r.filled);
    fill("title", &target.title, &source.title, &mut am.title, &mut r.filled);
    fill("company", &target.company, &source.company, &mut am.company, &mut r.filled);
    fill("ownerId", &target.owner_id, &source.owner_id, &mut am.owner_id, &mut r.filled);
    fill("portalMemberId", &target.membership_id, &source.membership_id, &mut am.membership_id, &mut r.filled);
    if source.last_contacted_at > target.last_contacted_at {
        am.last_contacted_at = Set(source.last_contacted_at);
    }
    if r.dry_run {
        return Ok(r);
    }
    let moves = vec![Value::from(source.id), Value::from(target.id)];
    exec(db, "UPDATE deals SET contact_id = $2, version = version + 1 WHERE contact_id = $1", moves.clone()).await?;
    exec(db, "UPDATE conversations SET contact_id = $2, version = version + 1 WHERE contact_id = $1", moves.clone())
        .await?;
    exec(
        db,
        "INSERT INTO interaction_participants (org_id, interaction_id, contact_id, occurred_at) \
         SELECT org_id, interaction_id, $2, occurred_at FROM interaction_participants WHERE contact_id = $1 \
         ON CONFLICT DO NOTHING",
        moves.clone(),
    )
    .await?;
    exec(db, "DELETE FROM interaction_participants WHERE contact_id = $1", ids()).await?;
    // The source leaves first, so its e-mail and portal login are free for the target.
    let mut gone: contact::ActiveModel = source.clone().into();
    gone.merged_into_id = Set(Some(target.id));
    gone.membership_id = Set(None);
    gone.deleted_at = Set(Some(chrono::Utc::now().fixed_offset()));
    w.update::<Contact, _>("contact.merged", source.clone(), gone, source.version).await?;
    w.update::<Contact, _>("contact.merge_into", target.clone(), am, target.version).await?;
    let data = serde_json::json!({ "into": Contact::gid(target.id), "deals": r.deals, "interactions": r.interactions });
    w.emit::<Contact>("contact.merged", source.id, opsgraph_core::events::DomainEvent { data, ..Default::default() })
        .await?;
    w.changed::<Contact>("contact.updated", target.id, None).await?;
    Ok(r)
}
