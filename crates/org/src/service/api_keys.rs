//! Organisation API keys: shown once, stored as SHA-256, scoped, expiring, revocable.

use crate::enums::ApiKeyScope;
use crate::nodes::ApiKey;
use chrono::{DateTime, FixedOffset, Utc};
use opsgraph_core::id::new_id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{Actor, AppError, AppResult, Permission, Session, validate};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entity::api_key;
use crate::service::tokens;

/// Creates a key; returns it with the full secret, which is never shown again.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    name: &str,
    scope: ApiKeyScope,
    expires_at: Option<DateTime<FixedOffset>>,
) -> AppResult<(api_key::Model, String)> {
    let org_id = session.require(Permission::ApiKeysManage)?;
    // A leaked key must not be able to mint more keys (which would outlive its revocation).
    if matches!(session.actor, Actor::ApiKey { .. }) {
        return Err(AppError::Forbidden("API keys cannot create API keys; a person must create them".into()));
    }
    let name = validate::text("name", name, 1, 100, false)?;
    let scope = scope.as_str();
    if expires_at.is_some_and(|e| e <= Utc::now()) {
        return Err(AppError::bad_input("expiresAt", "expiresAt must be in the future"));
    }
    let prefix = tokens::random_alnum(8);
    let secret = tokens::random_token(32);
    let key = api_key::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(name),
        prefix: Set(prefix.clone()),
        secret_hash: Set(tokens::hash_secret(&secret)),
        scope: Set(scope.to_owned()),
        created_by: Set(session.membership_id),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Write { db, session, org: org_id }
        .audit::<ApiKey>("api_key.create", key.id, serde_json::json!({ "name": key.name, "scope": key.scope }))
        .await?;
    Ok((key, format!("ogk_{prefix}_{secret}")))
}

/// Revokes a key (idempotent).
pub async fn revoke(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<api_key::Model> {
    let org_id = session.require(Permission::ApiKeysManage)?;
    let id = ApiKey::decode(gid, "id")?;
    let key = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("API key"))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut am: api_key::ActiveModel = key.into();
    am.revoked_at = Set(Some(Utc::now().fixed_offset()));
    let key = am.update(db).await?;
    Write { db, session, org: org_id }.audit::<ApiKey>("api_key.revoke", id, serde_json::json!({})).await?;
    Ok(key)
}
