//! Identity flows: log-in (throttled, see [`super::throttle`]), refresh-token rotation
//! with reuse detection, log-out, organisation switch, and authenticating a request.
//! Sign-up and account creation are in [`super::signup`].

use chrono::{DateTime, FixedOffset, Utc};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::{Actor, AppError, AppResult, Role, Session, Tenant, TxDb, audit};
use opsgraph_derive::GqlInput;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Set, Statement,
};
use uuid::Uuid;

use crate::entity::{api_key, membership, refresh_token, user};
use crate::error::OrgError;
use crate::service::password;
use crate::service::tokens::{self, AuthConfig, Claims};

/// What a successful sign-in returns.
#[derive(Debug, Clone)]
pub struct AuthTokens {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// Opaque, single-use refresh token.
    pub refresh_token: String,
    /// The signed-in user.
    pub user: user::Model,
    /// The active organisation of the new tokens.
    pub org_id: Option<Uuid>,
}

pub(crate) fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

/// Sign in.
#[derive(Debug, Clone, serde::Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct LogInInput {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// Organisation to activate (default: your first).
    pub organization_id: Option<Id>,
}

/// Verifies credentials under the sign-in throttle (see [`throttle`]); signs in. Every
/// attempt is recorded as a durable write of the request, so a failed one persists
/// although the request fails, on the request's own connection.
pub async fn log_in(db: &TxDb, cfg: &AuthConfig, session: &Session, input: LogInInput) -> AppResult<AuthTokens> {
    let email = input.email.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 || email.contains('\0') || input.password.len() > 128 {
        return Err(OrgError::InvalidCredentials.into());
    }
    let ip = session.ip.clone().unwrap_or_else(|| "unknown".into());
    if let Some(wait) = super::throttle::wait(db, cfg, &email, &ip).await? {
        return Err(OrgError::RateLimited(wait).into());
    }
    let found = user::Entity::find()
        .filter(Expr::cust_with_values("lower(email) = $1", [email.clone()]))
        .filter(user::Column::DeletedAt.is_null())
        .one(db)
        .await?;
    let ok = match &found {
        Some(u) if u.is_active => match &u.password_hash {
            Some(h) => password::verify(&input.password, h),
            None => {
                password::dummy_verify(&input.password);
                false
            }
        },
        _ => {
            password::dummy_verify(&input.password);
            false
        }
    };
    db.durable(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO login_attempts (email, ip, succeeded) VALUES ($1, $2, $3)",
        [email.into(), ip.into(), ok.into()],
    ));
    let Some(user) = found.filter(|_| ok) else {
        return Err(OrgError::InvalidCredentials.into());
    };
    db.set_tenant(&Tenant { user_id: Some(user.id), ..Default::default() }).await?;
    let wanted = match &input.organization_id {
        Some(gid) => Some(crate::nodes::Organization::decode(gid, "organizationId")?),
        None => None,
    };
    let org_id = pick_org(db, user.id, wanted).await?;
    let mut active: user::ActiveModel = user.into();
    active.last_login_at = Set(Some(now()));
    let user = active.update(db).await?;
    audit_identity(db, session, user.id, org_id, "user.log_in").await?;
    issue(db, cfg, user, org_id, None).await
}

/// Records an identity event in the organisation it activates (none: nothing to record).
pub(crate) async fn audit_identity(
    db: &TxDb,
    session: &Session,
    user_id: Uuid,
    org_id: Option<Uuid>,
    action: &str,
) -> AppResult<()> {
    let Some(org) = org_id else { return Ok(()) };
    db.set_tenant(&Tenant {
        org_id: Some(org),
        user_id: Some(user_id),
        api_key_prefix: None,
        client_member: None,
        member: None,
    })
    .await?;
    let actor = Session { actor: Actor::User { user_id }, org_id: Some(org), membership_id: None, ..session.clone() };
    audit::record(
        db,
        &actor,
        org,
        audit::AuditEntry { action, entity_type: "User", entity_id: user_id, changes: serde_json::json!({}) },
    )
    .await
}

/// The organisation to activate: `wanted` if the user is an active member, else the
/// oldest active membership.
async fn pick_org(db: &impl ConnectionTrait, user_id: Uuid, wanted: Option<Uuid>) -> AppResult<Option<Uuid>> {
    let mut q = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::IsActive.eq(true))
        .order_by_asc(membership::Column::CreatedAt);
    if let Some(org) = wanted {
        q = q.filter(membership::Column::OrgId.eq(org));
    }
    match q.one(db).await? {
        Some(m) => Ok(Some(m.org_id)),
        None if wanted.is_some() => Err(OrgError::NotAMember.into()),
        None => Ok(None),
    }
}

/// Issues an access token and a refresh token (new family unless `family` is given).
pub(crate) async fn issue(
    db: &impl ConnectionTrait,
    cfg: &AuthConfig,
    user: user::Model,
    org_id: Option<Uuid>,
    family: Option<Uuid>,
) -> AppResult<AuthTokens> {
    let issued = Utc::now();
    let exp = issued + cfg.access_ttl;
    let claims = Claims { sub: user.id, org: org_id, iat: issued.timestamp(), exp: exp.timestamp() };
    let access_token = tokens::sign(&cfg.jwt_secret, &claims);
    let refresh = tokens::random_token(32);
    refresh_token::ActiveModel {
        id: Set(new_id()),
        user_id: Set(user.id),
        family_id: Set(family.unwrap_or_else(new_id)),
        token_hash: Set(tokens::hash_secret(&refresh)),
        org_id: Set(org_id),
        expires_at: Set((issued + cfg.refresh_ttl).fixed_offset()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(AuthTokens { access_token, access_expires_at: exp, refresh_token: refresh, user, org_id })
}

/// Issues a fresh token pair (new session family) for `user` with `org_id` active.
pub async fn issue_for(
    db: &impl ConnectionTrait,
    cfg: &AuthConfig,
    user: user::Model,
    org_id: Option<Uuid>,
) -> AppResult<AuthTokens> {
    issue(db, cfg, user, org_id, None).await
}

/// Exchanges a refresh token for a new pair. Exactly one exchange of a token can win: it
/// is spent with a conditional update (`… WHERE revoked_at IS NULL`), which concurrent
/// exchanges wait on and then find spent. A token used twice revokes its whole family,
/// the winner's new token included (a stolen token is then useless to both parties); the
/// revocation is a durable write, so it persists although the request fails.
pub async fn refresh(db: &TxDb, cfg: &AuthConfig, token: &str) -> AppResult<AuthTokens> {
    let hash = tokens::hash_secret(token);
    let Some(old) = refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(db).await?
    else {
        return Err(OrgError::InvalidToken("invalid refresh token").into());
    };
    if old.expires_at <= now() {
        return Err(OrgError::InvalidToken("refresh token expired").into());
    }
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::current_timestamp())
        .filter(refresh_token::Column::Id.eq(old.id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if spent.rows_affected != 1 {
        db.durable(revoke_family_statement(old.family_id));
        return Err(OrgError::InvalidToken("refresh token was already used; all sessions of it are revoked").into());
    }
    let Some(user) =
        user::Entity::find_by_id(old.user_id).one(db).await?.filter(|u| u.is_active && u.deleted_at.is_none())
    else {
        return Err(OrgError::InvalidToken("invalid refresh token").into());
    };
    db.set_tenant(&Tenant { user_id: Some(user.id), ..Default::default() }).await?;
    let org_id = match old.org_id {
        Some(org) => pick_org(db, user.id, Some(org)).await.ok().flatten(),
        None => None,
    };
    let org_id = match org_id {
        Some(o) => Some(o),
        None => pick_org(db, user.id, None).await?,
    };
    issue(db, cfg, user, org_id, Some(old.family_id)).await
}

fn revoke_family_statement(family: Uuid) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
        [family.into()],
    )
}

async fn revoke_family(db: &impl ConnectionTrait, family: Uuid) -> AppResult<()> {
    db.execute_raw(revoke_family_statement(family)).await?;
    Ok(())
}

/// Revokes the refresh token's family. Unknown tokens are ignored (idempotent).
pub async fn log_out(db: &TxDb, session: &Session, token: &str) -> AppResult<bool> {
    let hash = tokens::hash_secret(token);
    match refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash)).one(db).await? {
        Some(t) => {
            revoke_family(db, t.family_id).await?;
            audit_identity(db, session, t.user_id, t.org_id, "user.log_out").await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// New tokens with another active organisation among the viewer's memberships.
pub async fn switch_organization(
    db: &TxDb,
    cfg: &AuthConfig,
    session: &Session,
    org_gid: &str,
) -> AppResult<AuthTokens> {
    let user_id = session.user_id()?;
    let org = crate::nodes::Organization::decode(org_gid, "organizationId")?;
    let org_id = pick_org(db, user_id, Some(org)).await?;
    let user = user::Entity::find_by_id(user_id).one(db).await?.ok_or_else(|| AppError::not_found("user"))?;
    audit_identity(db, session, user_id, org_id, "user.switch_organization").await?;
    issue(db, cfg, user, org_id, None).await
}

/// Credentials presented with a request.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Nothing presented.
    None,
    /// `Authorization: Bearer <jwt>`.
    Bearer(String),
    /// An API key (`Authorization: Bearer ogk_...` or `X-Api-Key`).
    ApiKey(String),
}

impl Credentials {
    /// Reads `Authorization` / `X-Api-Key` header values.
    pub fn from_headers(authorization: Option<&str>, api_key: Option<&str>) -> Self {
        if let Some(k) = api_key {
            return Credentials::ApiKey(k.trim().to_owned());
        }
        match authorization.and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer "))) {
            Some(t) if t.trim().starts_with("ogk_") => Credentials::ApiKey(t.trim().to_owned()),
            Some(t) => Credentials::Bearer(t.trim().to_owned()),
            None => Credentials::None,
        }
    }
}

/// Resolves credentials into the session and points `db` at its tenant. `org_override`
/// (a header) selects another organisation among the user's memberships.
pub async fn authenticate(
    db: &TxDb,
    cfg: &AuthConfig,
    creds: &Credentials,
    org_override: Option<&str>,
    base: Session,
) -> AppResult<Session> {
    match creds {
        Credentials::None => Ok(base),
        Credentials::Bearer(token) => bearer(db, cfg, token, org_override, base).await,
        Credentials::ApiKey(raw) => api_key(db, raw, org_override, base).await,
    }
}

/// [`authenticate`] for the live path, where thousands of sockets (re)connect at once: the
/// bearer token of an active member is checked in `scope(org)`'s batch (one statement for
/// every socket of the organisation starting meanwhile) instead of a transaction each.
/// `None` when the batch cannot decide (API keys, no organisation, not an active
/// member): authenticate in full then, which also gives the precise error.
pub async fn authenticate_batched(
    scope: impl Fn(Uuid) -> std::sync::Arc<opsgraph_core::live::Scope>,
    cfg: &AuthConfig,
    creds: &Credentials,
    org_override: Option<&str>,
    base: Session,
) -> AppResult<Option<Session>> {
    let Credentials::Bearer(token) = creds else {
        return Ok(None);
    };
    let claims = tokens::verify(&cfg.jwt_secret, token, Utc::now().timestamp())?;
    let org = match org_override {
        Some(h) => crate::nodes::Organization::decode(h, "X-Organization-Id")?,
        None => match claims.org {
            Some(org) => org,
            None => return Ok(None),
        },
    };
    let member = scope(org)
        .loader(crate::live::ActiveMembers::new)
        .load_one(claims.sub)
        .await
        .map_err(|e| opsgraph_core::loader::failed(&e))?;
    Ok(member.map(|(membership, role)| Session {
        actor: Actor::User { user_id: claims.sub },
        expires_at: Some(claims.exp),
        org_id: Some(org),
        membership_id: Some(membership),
        role: Some(role),
        ..base
    }))
}

/// The role an API key of `scope` acts with.
pub fn key_role(scope: &str) -> Role {
    match scope {
        "ADMIN" => Role::Admin,
        "WRITE" => Role::Member,
        _ => Role::Viewer,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A user's access token: the user must be active; the organisation (the token's, or the
/// override) applies only where they are an active member.
async fn bearer(
    db: &TxDb,
    cfg: &AuthConfig,
    token: &str,
    org_override: Option<&str>,
    base: Session,
) -> AppResult<Session> {
    let claims = tokens::verify(&cfg.jwt_secret, token, Utc::now().timestamp())?;
    let org = match org_override {
        Some(h) => Some(crate::nodes::Organization::decode(h, "X-Organization-Id")?),
        None => claims.org,
    };
    db.set_tenant(&Tenant {
        org_id: org,
        user_id: Some(claims.sub),
        api_key_prefix: None,
        client_member: None,
        member: None,
    })
    .await?;
    // Sent with the transaction's `BEGIN` (one round trip). It also tells Row Level
    // Security who reads (`app.member_id`, `app.role`); a non-member is reset below.
    let check = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT * FROM app_bearer_check($1, $2)",
        [org.into(), claims.sub.into()],
    );
    let row = db.query_one_first(check).await?;
    let Some(row) = row else {
        return Err(OrgError::InvalidToken("invalid access token").into());
    };
    if !row.try_get::<bool>("", "user_ok")? {
        return Err(OrgError::InvalidToken("account is deactivated").into());
    }
    let membership: Option<Uuid> = row.try_get("", "membership_id")?;
    let role: Option<String> = row.try_get("", "role")?;
    let member_ok: Option<bool> = row.try_get("", "member_ok")?;
    let mut session = Session { actor: Actor::User { user_id: claims.sub }, expires_at: Some(claims.exp), ..base };
    if let (Some(m), Some(role), Some(true)) = (membership, role.as_deref().and_then(Role::parse), member_ok) {
        session.org_id = org;
        session.membership_id = Some(m);
        session.role = Some(role);
        if role == Role::Client {
            db.set_tenant(&session.tenant()).await?;
        }
    } else {
        if org_override.is_some() {
            return Err(OrgError::NotAMember.into());
        }
        db.set_tenant(&Tenant { user_id: Some(claims.sub), ..Default::default() }).await?;
    }
    Ok(session)
}

/// An API key `ogk_<prefix>_<secret>`: it must match, be unrevoked and unexpired, and acts
/// for its own organisation only.
async fn api_key(db: &TxDb, raw: &str, org_override: Option<&str>, base: Session) -> AppResult<Session> {
    let invalid = || AppError::from(OrgError::InvalidToken("invalid API key"));
    let rest = raw.strip_prefix("ogk_").ok_or_else(invalid)?;
    let (prefix, secret) = rest.split_once('_').ok_or_else(invalid)?;
    if prefix.len() != 8 || secret.is_empty() || secret.len() > 100 {
        return Err(invalid());
    }
    db.set_tenant(&Tenant { api_key_prefix: Some(prefix.to_owned()), ..Default::default() }).await?;
    let key = api_key::Entity::find().filter(api_key::Column::Prefix.eq(prefix)).one(db).await?.ok_or_else(invalid)?;
    let presented = tokens::hash_secret(secret);
    if !constant_time_eq(&presented, &key.secret_hash) {
        return Err(invalid());
    }
    if key.revoked_at.is_some() {
        return Err(OrgError::InvalidToken("API key revoked").into());
    }
    if key.expires_at.is_some_and(|e| e <= now()) {
        return Err(OrgError::InvalidToken("API key expired").into());
    }
    // A key acts for its own organisation only: naming another one is NOT_FOUND,
    // exactly as for a user who is not a member there.
    if let Some(h) = org_override {
        let wanted = crate::nodes::Organization::decode(h, "X-Organization-Id")?;
        if wanted != key.org_id {
            return Err(OrgError::NotAMember.into());
        }
    }
    db.set_tenant(&Tenant { org_id: Some(key.org_id), ..Default::default() }).await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        [key.id.into()],
    ))
    .await?;
    let role = key_role(&key.scope);
    Ok(Session {
        actor: Actor::ApiKey { key_id: key.id },
        org_id: Some(key.org_id),
        membership_id: None,
        role: Some(role),
        expires_at: key.expires_at.map(|e| e.timestamp()),
        ..base
    })
}
