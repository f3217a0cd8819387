//! The audit writer: one row per mutation (actor, action, entity, changed fields), written
//! in the mutation's own transaction so it exists exactly when the change does.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::auth::{Actor, Session};
use crate::error::AppResult;
use crate::id::new_id;

/// What changed: an entity and its changed fields (`{"field": {"from": .., "to": ..}}` or a
/// plain snapshot for creations).
pub struct AuditEntry<'a> {
    /// Verb, e.g. `team.create`, `membership.role_change`.
    pub action: &'a str,
    /// The entity's GraphQL type name.
    pub entity_type: &'a str,
    /// The entity's id.
    pub entity_id: Uuid,
    /// Changed fields.
    pub changes: serde_json::Value,
}

/// Records `entry` for the session's organisation (or `org_id` when the session has none
/// yet, as in sign-up).
pub async fn record(
    db: &impl ConnectionTrait,
    session: &Session,
    org_id: Uuid,
    entry: AuditEntry<'_>,
) -> AppResult<()> {
    let (actor_type, user_id, key_id) = match session.actor {
        Actor::Anonymous => ("anonymous", None, None),
        Actor::User { user_id } => ("user", Some(user_id), None),
        Actor::ApiKey { key_id } => ("api_key", None, Some(key_id)),
        Actor::Agent { user_id, .. } => ("agent", Some(user_id), None),
    };
    let agent = match session.actor {
        Actor::Agent { agent_id, run_id, message_id, .. } => Some((agent_id, run_id, message_id)),
        _ => None,
    };
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO audit_log (id, org_id, actor_type, actor_user_id, actor_membership_id, api_key_id, action, \
         entity_type, entity_id, changes, ip, user_agent, request_id, agent_id, agent_run_id, agent_message_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        [
            new_id().into(),
            org_id.into(),
            actor_type.into(),
            user_id.into(),
            session.membership_id.into(),
            key_id.into(),
            entry.action.into(),
            entry.entity_type.into(),
            entry.entity_id.into(),
            entry.changes.into(),
            session.ip.clone().into(),
            session.user_agent.clone().into(),
            session.request_id.clone().into(),
            agent.map(|a| a.0).into(),
            agent.map(|a| a.1).into(),
            agent.map(|a| a.2).into(),
        ],
    ))
    .await?;
    Ok(())
}
