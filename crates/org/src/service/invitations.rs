//! Invitations: adding a person yields a one-time token (7 days) with which they set a
//! password and sign in. Only the SHA-256 of the token is stored.

use chrono::{Duration, Utc};
use opsgraph_core::id::new_id;
use opsgraph_core::{AppError, AppResult, Session, Tenant, TxDb, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{invitation, membership, user};
use crate::error::OrgError;
use crate::service::auth::AuthTokens;
use crate::service::tokens::{self, AuthConfig};
use crate::service::{auth, password};

/// How long an invitation stays valid.
pub const VALIDITY_DAYS: i64 = 7;

/// Creates an invitation for `membership_id`; returns the token (shown once).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    org_id: Uuid,
    membership_id: Uuid,
) -> AppResult<String> {
    let token = tokens::random_token(32);
    invitation::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        membership_id: Set(membership_id),
        token_hash: Set(tokens::hash_secret(&token)),
        invited_by: Set(session.user_id().ok()),
        expires_at: Set((Utc::now() + Duration::days(VALIDITY_DAYS)).fixed_offset()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Invites member `membership_id` by e-mail to `email`: the token goes only into the
/// e-mail (for members added by an integration or given portal access).
pub async fn send(
    db: &impl ConnectionTrait,
    session: &Session,
    org_id: Uuid,
    membership_id: Uuid,
    email: &str,
) -> AppResult<()> {
    let token = create(db, session, org_id, membership_id).await?;
    let body = format!(
        "You were added to an organisation on opsgraph. Set your password with the mutation \
         acceptInvitation(input: {{ token: \"{token}\", password: \"...\" }}) within {VALIDITY_DAYS} days.\ntoken: {token}"
    );
    crate::service::signup::queue_email(db, email.trim(), "member.invite", "You are invited to opsgraph", &body).await
}

/// Redeem an invitation.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AcceptInvitationInput {
    /// The invitation token from `addMember`.
    pub token: String,
    /// Your password (an existing account must give its own).
    pub password: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// Redeems an invitation: sets the password (if the account has none), activates the
/// membership's organisation in the returned tokens. Single use.
pub async fn accept(
    db: &TxDb,
    cfg: &AuthConfig,
    session: &Session,
    input: AcceptInvitationInput,
) -> AppResult<AuthTokens> {
    let invalid = || AppError::from(OrgError::InvalidToken("invalid or expired invitation"));
    if input.token.is_empty() || input.token.len() > 100 {
        return Err(invalid());
    }
    let pass = validate::password("password", &input.password)?;
    let hash = tokens::hash_secret(&input.token);
    db.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.invite_token_hash', $1, true)",
        [hex(&hash).into()],
    ))
    .await?;
    let inv =
        invitation::Entity::find().filter(invitation::Column::TokenHash.eq(hash)).one(db).await?.ok_or_else(invalid)?;
    if inv.accepted_at.is_some() || inv.expires_at <= Utc::now() {
        return Err(invalid());
    }
    db.set_tenant(&Tenant { org_id: Some(inv.org_id), ..Default::default() }).await?;
    let m =
        membership::Entity::find_by_id(inv.membership_id).one(db).await?.filter(|m| m.is_active).ok_or_else(invalid)?;
    let u = user::Entity::find_by_id(m.user_id).one(db).await?.ok_or_else(invalid)?;
    let mut am: user::ActiveModel = u.clone().into();
    if u.password_hash.is_none() {
        am.password_hash = Set(Some(password::hash(&pass)?));
    } else if !password::verify(&pass, u.password_hash.as_deref().unwrap_or_default()) {
        // An existing account joins with its own password, never a new one.
        return Err(OrgError::InvalidCredentials.into());
    }
    if let Some(f) = &input.first_name {
        am.first_name = Set(validate::text("firstName", f, 1, 100, false)?);
    }
    if let Some(l) = &input.last_name {
        am.last_name = Set(validate::text("lastName", l, 0, 100, false)?);
    }
    am.last_login_at = Set(Some(Utc::now().fixed_offset()));
    let u = am.update(db).await?;
    let mut accepted: invitation::ActiveModel = inv.into();
    accepted.accepted_at = Set(Some(Utc::now().fixed_offset()));
    accepted.update(db).await?;
    auth::audit_identity(db, session, u.id, Some(m.org_id), "user.accept_invitation").await?;
    auth::issue_for(db, cfg, u, Some(m.org_id)).await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
