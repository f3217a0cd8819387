//! Identity flows: sign-up, log-in (rate limited), refresh-token rotation with reuse
//! detection, log-out, organisation switch, and authenticating a request.

use chrono::{DateTime, FixedOffset, Utc};
use opsgraph_core::id::new_id;
use opsgraph_core::{Actor, AppError, AppResult, Role, Session, Tenant, TxDb, audit, validate};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set, Statement,
};
use uuid::Uuid;

use crate::entity::{api_key, membership, organization, refresh_token, user};
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

/// Sign-up input.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignUpInput {
    /// Login e-mail.
    pub email: String,
    /// Password (10..128 characters).
    pub password: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Name of the organisation to create, owned by the new user.
    pub organization_name: String,
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

/// What `signUp` answers, whatever the e-mail: it never tells whether an account exists.
pub const SIGN_UP_SENT: &str = "Check your e-mail: we sent a link to finish signing up.";

/// How long a sign-up verification link stays valid.
pub const SIGN_UP_TTL_HOURS: i64 = 24;

/// Starts a sign-up without telling whether the e-mail is registered: a new address gets
/// a verification e-mail (the account is created by [`verify_email`]); a registered one
/// gets a "you already have an account" e-mail. Same answer, same work (one password
/// hash) either way. E-mails go to the `outbound_emails` outbox.
pub async fn sign_up(db: &TxDb, session: &Session, input: SignUpInput) -> AppResult<&'static str> {
    let email = validate::email("email", &input.email)?;
    let pass = validate::password("password", &input.password)?;
    let first = validate::text("firstName", &input.first_name, 1, 100, false)?;
    let last = validate::text("lastName", &input.last_name, 0, 100, false)?;
    let org_name = validate::text("organizationName", &input.organization_name, 1, 200, false)?;
    let hash = password::hash(&pass)?;
    let taken =
        user::Entity::find().filter(Expr::cust_with_values("lower(email) = $1", [email.clone()])).count(db).await? > 0;
    if taken {
        queue_email(
            db,
            &email,
            "signup.existing",
            "You already have an opsgraph account",
            "Someone (maybe you) tried to sign up with this address. You already have an account: sign in, or reset your password.",
        )
        .await?;
        tracing::info!(request_id = %session.request_id, "sign-up for a registered address: notice queued");
        return Ok(SIGN_UP_SENT);
    }
    let token = tokens::random_token(32);
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO signup_requests (id, email, token_hash, password_hash, first_name, last_name, organization_name, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(hours => $8))",
        [
            new_id().into(),
            email.clone().into(),
            tokens::hash_secret(&token).into(),
            hash.into(),
            first.into(),
            last.into(),
            org_name.into(),
            (SIGN_UP_TTL_HOURS as i32).into(),
        ],
    ))
    .await?;
    let body = format!(
        "Finish signing up with the mutation verifyEmail(input: {{ token: \"{token}\" }}). The link expires in {SIGN_UP_TTL_HOURS} hours.\ntoken: {token}"
    );
    queue_email(db, &email, "signup.verify", "Confirm your e-mail address", &body).await?;
    Ok(SIGN_UP_SENT)
}

async fn queue_email(db: &TxDb, to: &str, kind: &str, subject: &str, body: &str) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO outbound_emails (id, to_address, kind, subject, body) VALUES ($1, $2, $3, $4, $5)",
        [new_id().into(), to.into(), kind.into(), subject.into(), body.into()],
    ))
    .await?;
    Ok(())
}

/// Finishes a sign-up: the token of the verification e-mail proves the address; creates
/// the account and organisation and signs in. A token works once, within its validity.
pub async fn verify_email(db: &TxDb, cfg: &AuthConfig, session: &Session, token: &str) -> AppResult<AuthTokens> {
    let invalid = || AppError::from(OrgError::InvalidToken("invalid or expired verification token"));
    if token.is_empty() || token.len() > 200 {
        return Err(invalid());
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE signup_requests SET used_at = now() \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() \
             RETURNING email, password_hash, first_name, last_name, organization_name",
            [tokens::hash_secret(token).into()],
        ))
        .await?
        .ok_or_else(invalid)?;
    let account = NewAccount {
        email: row.try_get("", "email")?,
        password_hash: row.try_get("", "password_hash")?,
        first_name: row.try_get("", "first_name")?,
        last_name: row.try_get("", "last_name")?,
        organization_name: row.try_get("", "organization_name")?,
    };
    if user::Entity::find()
        .filter(Expr::cust_with_values("lower(email) = $1", [account.email.clone()]))
        .count(db)
        .await?
        > 0
    {
        return Err(OrgError::EmailTaken.into());
    }
    create_account(db, cfg, session, account).await
}

/// A verified account to create (password already hashed).
pub struct NewAccount {
    /// Login e-mail (validated, lower case).
    pub email: String,
    /// Argon2 hash of the password.
    pub password_hash: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Name of the organisation the user will own.
    pub organization_name: String,
}

impl NewAccount {
    /// Validates `input` and hashes its password (for trusted callers such as the demo seed).
    pub fn from_input(input: SignUpInput) -> AppResult<Self> {
        Ok(NewAccount {
            email: validate::email("email", &input.email)?,
            password_hash: password::hash(&validate::password("password", &input.password)?)?,
            first_name: validate::text("firstName", &input.first_name, 1, 100, false)?,
            last_name: validate::text("lastName", &input.last_name, 0, 100, false)?,
            organization_name: validate::text("organizationName", &input.organization_name, 1, 200, false)?,
        })
    }
}

/// Creates a user, an organisation and the owner membership; signs in.
pub async fn create_account(db: &TxDb, cfg: &AuthConfig, session: &Session, a: NewAccount) -> AppResult<AuthTokens> {
    let NewAccount { email, password_hash: hash, first_name: first, last_name: last, organization_name: org_name } = a;
    let user_id = new_id();
    let org_id = new_id();
    db.set_tenant(&Tenant { org_id: Some(org_id), user_id: Some(user_id), api_key_prefix: None, client_member: None })
        .await?;
    let user = user::ActiveModel {
        id: Set(user_id),
        email: Set(email),
        first_name: Set(first),
        last_name: Set(last),
        password_hash: Set(Some(hash)),
        last_login_at: Set(Some(now())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let slug = unique_slug(db, &validate::slugify(&org_name)).await?;
    organization::ActiveModel { id: Set(org_id), name: Set(org_name.clone()), slug: Set(slug), ..Default::default() }
        .insert(db)
        .await?;
    let membership_id = new_id();
    membership::ActiveModel {
        id: Set(membership_id),
        org_id: Set(org_id),
        user_id: Set(user_id),
        role: Set(Role::Owner.as_str().into()),
        joined_at: Set(Some(now())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let actor = Session {
        actor: Actor::User { user_id },
        org_id: Some(org_id),
        membership_id: Some(membership_id),
        ..session.clone()
    };
    audit::record(
        db,
        &actor,
        org_id,
        audit::AuditEntry {
            action: "organization.create",
            entity_type: "Organization",
            entity_id: org_id,
            changes: serde_json::json!({ "name": org_name }),
        },
    )
    .await?;
    issue(db, cfg, user, Some(org_id), None).await
}

async fn unique_slug(db: &impl ConnectionTrait, base: &str) -> AppResult<String> {
    // Slugs are globally unique; the lookup ignores RLS only in the sense that a clash
    // surfaces as a unique violation, which we avoid by suffixing.
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT EXISTS (SELECT 1 FROM organizations WHERE slug = $1) AS taken",
            [base.into()],
        ))
        .await?;
    let taken = row.map(|r| r.try_get::<bool>("", "taken")).transpose()?.unwrap_or(false);
    Ok(if taken { format!("{base}-{}", tokens::random_alnum(6)) } else { base.to_owned() })
}

/// Log-in input.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogInInput {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// Organisation to activate (global ID); default: the first active membership.
    pub organization_id: Option<String>,
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
    if let Some(wait) = throttle(db, cfg, &email, &ip).await? {
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
        Some(gid) => Some(opsgraph_core::id::decode_as(gid, "Organization", "organizationId")?),
        None => None,
    };
    let org_id = pick_org(db, user.id, wanted).await?;
    let mut active: user::ActiveModel = user.into();
    active.last_login_at = Set(Some(now()));
    let user = active.update(db).await?;
    audit_identity(db, session, user.id, org_id, "user.log_in").await?;
    issue(db, cfg, user, org_id, None).await
}

/// Seconds to wait before the next sign-in attempt from `ip` for `email`, if any.
///
/// Throttled per account **and address pair**, so nobody can lock a real owner out from
/// elsewhere: the first `max_failures_per_account` failures of a pair since its last
/// success are free, each further one doubles the wait after the latest failure (1 s, 2 s,
/// 4 s, … capped at the window). One address failing on many accounts is capped at
/// `max_failures_per_ip` per window.
pub async fn throttle(db: &TxDb, cfg: &AuthConfig, email: &str, ip: &str) -> AppResult<Option<u64>> {
    let window = cfg.failure_window.as_secs();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH recent AS (SELECT lower(email) AS email, succeeded, at FROM login_attempts \
                             WHERE ip = $2 AND at > now() - make_interval(secs => $3)), \
                  since AS (SELECT coalesce(max(at), '-infinity') AS ok_at FROM recent WHERE email = $1 AND succeeded) \
             SELECT count(*) FILTER (WHERE r.email = $1 AND r.at > s.ok_at) AS pair_failures, \
                    coalesce(extract(epoch FROM now() - max(r.at) FILTER (WHERE r.email = $1))::float8, 0) AS pair_since, \
                    count(*) AS ip_failures, \
                    coalesce(extract(epoch FROM min(r.at) + make_interval(secs => $3) - now())::float8, 0) AS ip_reset \
             FROM recent r, since s WHERE NOT r.succeeded",
            [email.into(), ip.into(), (window as f64).into()],
        ))
        .await?;
    let Some(r) = row else { return Ok(None) };
    let pair: i64 = r.try_get("", "pair_failures")?;
    let since: f64 = r.try_get("", "pair_since")?;
    let by_ip: i64 = r.try_get("", "ip_failures")?;
    let ip_reset: f64 = r.try_get("", "ip_reset")?;
    if by_ip >= cfg.max_failures_per_ip {
        return Ok(Some(ip_reset.ceil().max(1.0) as u64));
    }
    let wait = backoff_secs(pair, cfg.max_failures_per_account, window);
    if wait == 0 {
        return Ok(None);
    }
    // `since` is negative when a concurrent attempt committed after this transaction began.
    let left = wait as f64 - since.max(0.0);
    Ok((left > 0.0).then(|| left.ceil() as u64))
}

/// The back-off after `failures` consecutive failures of which `free` cost nothing:
/// nothing up to `free` failures, then 1, 2, 4, … seconds, capped at `cap`.
pub fn backoff_secs(failures: i64, free: i64, cap: u64) -> u64 {
    let over = failures.saturating_sub(free);
    if over <= 0 {
        return 0;
    }
    1u64.checked_shl((over - 1).min(62) as u32).unwrap_or(u64::MAX).min(cap.max(1))
}

#[cfg(test)]
mod tests {
    use super::backoff_secs;

    #[test]
    fn back_off_doubles_after_the_free_attempts_and_is_capped() {
        let waits: Vec<u64> = (0..=8).map(|n| backoff_secs(n, 5, 900)).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 0, 1, 2, 4]);
        assert_eq!(backoff_secs(100, 5, 900), 900);
        assert_eq!(backoff_secs(i64::MAX, i64::MIN, 900), 900, "no overflow");
    }
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
    db.set_tenant(&Tenant { org_id: Some(org), user_id: Some(user_id), api_key_prefix: None, client_member: None })
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
async fn issue(
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
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::current_timestamp())
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
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
    let org = opsgraph_core::id::decode_as(org_gid, "Organization", "organizationId")?;
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
        Credentials::Bearer(token) => {
            let claims = tokens::verify(&cfg.jwt_secret, token, Utc::now().timestamp())?;
            let org = match org_override {
                Some(h) => Some(opsgraph_core::id::decode_as(h, "Organization", "X-Organization-Id")?),
                None => claims.org,
            };
            db.set_tenant(&Tenant {
                org_id: org,
                user_id: Some(claims.sub),
                api_key_prefix: None,
                client_member: None,
            })
            .await?;
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT u.is_active AND u.deleted_at IS NULL AS user_ok, m.id AS membership_id, m.role, m.is_active AS member_ok \
                     FROM users u LEFT JOIN memberships m ON m.user_id = u.id AND m.org_id = $2 WHERE u.id = $1",
                    [claims.sub.into(), org.into()],
                ))
                .await?;
            let Some(row) = row else {
                return Err(OrgError::InvalidToken("invalid access token").into());
            };
            if !row.try_get::<bool>("", "user_ok")? {
                return Err(OrgError::InvalidToken("account is deactivated").into());
            }
            let membership: Option<Uuid> = row.try_get("", "membership_id")?;
            let role: Option<String> = row.try_get("", "role")?;
            let member_ok: Option<bool> = row.try_get("", "member_ok")?;
            let mut session =
                Session { actor: Actor::User { user_id: claims.sub }, expires_at: Some(claims.exp), ..base };
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
        Credentials::ApiKey(raw) => {
            let invalid = || AppError::from(OrgError::InvalidToken("invalid API key"));
            let rest = raw.strip_prefix("ogk_").ok_or_else(invalid)?;
            let (prefix, secret) = rest.split_once('_').ok_or_else(invalid)?;
            if prefix.len() != 8 || secret.is_empty() || secret.len() > 100 {
                return Err(invalid());
            }
            db.set_tenant(&Tenant { api_key_prefix: Some(prefix.to_owned()), ..Default::default() }).await?;
            let key = api_key::Entity::find()
                .filter(api_key::Column::Prefix.eq(prefix))
                .one(db)
                .await?
                .ok_or_else(invalid)?;
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
                let wanted = opsgraph_core::id::decode_as(h, "Organization", "X-Organization-Id")?;
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
    }
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
