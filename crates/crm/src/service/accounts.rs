//! Accounts: client companies with an industry, size, address, status, owner, tags and
//! custom fields; soft delete and restore.

use crate::entity::account;
use crate::enums::{AccountSize, AccountStatus};
use crate::nodes::Account;
use crate::service::{checks, industries};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

/// Add a client company.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateAccountInput {
    /// Company name.
    pub name: String,
    /// Industry (from the organisation's catalog).
    pub industry_id: Option<Id>,
    /// Size band.
    pub size: Option<AccountSize>,
    /// Website (http or https).
    pub website: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// Status (default LEAD).
    pub status: Option<AccountStatus>,
    /// Owner (Membership; default you).
    pub owner_id: Option<Id>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Custom fields (a JSON object).
    pub custom_fields: Option<serde_json::Value>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn opt_with(field: &str, v: Option<&str>, check: fn(&str, &str) -> AppResult<String>) -> AppResult<Option<String>> {
    v.map(|s| check(field, s)).transpose()
}

/// Creates an account.
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateAccountInput) -> AppResult<account::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key = ("createAccount", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let owner = match &i.owner_id {
        Some(_) => opsgraph_org::service::members::resolve(db, w.org, i.owner_id.as_deref(), "ownerId").await?,
        None => session.membership_id,
    };
    let row = account::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        industry_id: Set(industries::resolve(db, w.org, i.industry_id.as_ref(), "industryId").await?),
        size: Set(i.size.map(|s| s.as_str().to_owned())),
        website: Set(opt_with("website", i.website.as_deref(), checks::website)?),
        address: Set(validate::opt_text("address", i.address.as_deref(), 500, true)?),
        city: Set(validate::opt_text("city", i.city.as_deref(), 100, false)?),
        country: Set(opt_with("country", i.country.as_deref(), checks::country)?),
        status: Set(i.status.unwrap_or(AccountStatus::Lead).as_str().to_owned()),
        owner_id: Set(owner),
        tags: Set(checks::tags("tags", i.tags)?),
        custom_fields: Set(checks::custom_fields("customFields", i.custom_fields)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Account>("account.create", &row, key).await?;
    emit(&w, &row, "account.created", serde_json::json!({ "name": row.name })).await?;
    Ok(row)
}

/// Emits `kind` about account `a`, addressed to its owner.
async fn emit(
    w: &Write<'_, impl ConnectionTrait>,
    a: &account::Model,
    kind: &'static str,
    data: serde_json::Value,
) -> AppResult<()> {
    let recipients = w.others(a.owner_id);
    let mut data = data;
    if matches!(kind, "account.created" | "account.assigned") && data.is_object() {
        data["notify"] =
            serde_json::json!({ "kind": "ASSIGNMENT", "title": format!("Account assigned to you: {}", a.name) });
    }
    w.emit::<Account>(kind, a.id, DomainEvent { recipients, data, ..DomainEvent::default() }).await?;
    Ok(())
}

/// A live account of organisation `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<account::Model> {
    account::Entity::find_by_id(id)
        .filter(account::Column::OrgId.eq(org))
        .filter(account::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("account"))
}

/// The live account `gid` names (for references from contacts and deals).
pub async fn resolve(db: &impl ConnectionTrait, org: Uuid, gid: Option<&Id>, field: &str) -> AppResult<Option<Uuid>> {
    match gid {
        Some(g) => Ok(Some(
            get(db, org, Account::decode(g, field)?)
                .await
                .map_err(|_| AppError::bad_input(field, "no such account"))?
                .id,
        )),
        None => Ok(None),
    }
}

/// Change an account; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAccountInput {
    /// The account.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Company name.
    pub name: Option<String>,
    /// Industry.
    #[serde(default, deserialize_with = "patch")]
    pub industry_id: Option<Option<Id>>,
    /// Size band.
    #[serde(default, deserialize_with = "patch")]
    pub size: Option<Option<AccountSize>>,
    /// Website.
    #[serde(default, deserialize_with = "patch")]
    pub website: Option<Option<String>>,
    /// Street address.
    #[serde(default, deserialize_with = "patch")]
    pub address: Option<Option<String>>,
    /// City.
    #[serde(default, deserialize_with = "patch")]
    pub city: Option<Option<String>>,
    /// Country.
    #[serde(default, deserialize_with = "patch")]
    pub country: Option<Option<String>>,
    /// Status.
    pub status: Option<AccountStatus>,
    /// Owner (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub owner_id: Option<Option<Id>>,
    /// Tags (replaces the set).
    pub tags: Option<Vec<String>>,
    /// Custom fields (replaces the object).
    pub custom_fields: Option<serde_json::Value>,
}

/// Changes an account (optimistic concurrency, audit, `account.updated` / `account.assigned`).
pub async fn update(db: &impl ConnectionTrait, session: &Session, i: UpdateAccountInput) -> AppResult<account::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Account::decode(&i.id, "id")?).await?;
    let mut am: account::ActiveModel = current.clone().into();
    if let Some(v) = &i.name {
        am.name = Set(validate::text("name", v, 1, 200, false)?);
    }
    if let Some(v) = &i.industry_id {
        am.industry_id = Set(industries::resolve(db, w.org, v.as_ref(), "industryId").await?);
    }
    if let Some(v) = i.size {
        am.size = Set(v.map(|s| s.as_str().to_owned()));
    }
    if let Some(v) = &i.website {
        am.website = Set(opt_with("website", v.as_deref(), checks::website)?);
    }
    if let Some(v) = &i.address {
        am.address = Set(validate::opt_text("address", v.as_deref(), 500, true)?);
    }
    if let Some(v) = &i.city {
        am.city = Set(validate::opt_text("city", v.as_deref(), 100, false)?);
    }
    if let Some(v) = &i.country {
        am.country = Set(opt_with("country", v.as_deref(), checks::country)?);
    }
    if let Some(v) = i.status {
        am.status = Set(v.as_str().to_owned());
    }
    if let Some(v) = &i.owner_id {
        am.owner_id = Set(opsgraph_org::service::members::resolve(db, w.org, v.as_deref(), "ownerId").await?);
    }
    if i.tags.is_some() {
        am.tags = Set(checks::tags("tags", i.tags)?);
    }
    if i.custom_fields.is_some() {
        am.custom_fields = Set(checks::custom_fields("customFields", i.custom_fields)?);
    }
    let Updated { after, changes, .. } =
        w.update::<Account, _>("account.update", current.clone(), am, i.expected_version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        let kind = if after.owner_id != current.owner_id { "account.assigned" } else { "account.updated" };
        emit(&w, &after, kind, changes).await?;
    }
    Ok(after)
}

/// Soft-deletes (`deleted`) or restores an account.
pub async fn set_deleted(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    deleted: bool,
) -> AppResult<account::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let id = Account::decode(gid, "id")?;
    let current = account::Entity::find_by_id(id)
        .filter(account::Column::OrgId.eq(w.org))
        .one(db)
        .await?
        .filter(|a| a.deleted_at.is_some() != deleted && a.merged_into_id.is_none())
        .ok_or_else(|| AppError::not_found("account"))?;
    let mut am: account::ActiveModel = current.clone().into();
    am.deleted_at = Set(deleted.then(|| chrono::Utc::now().fixed_offset()));
    let (action, kind) =
        if deleted { ("account.delete", "account.deleted") } else { ("account.restore", "account.restored") };
    let after = w.update::<Account, _>(action, current.clone(), am, current.version).await?.after;
    emit(&w, &after, kind, serde_json::json!({ "name": after.name })).await?;
    Ok(after)
}
