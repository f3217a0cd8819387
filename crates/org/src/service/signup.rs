//! Sign-up that never tells whether an address is registered: `signUp` e-mails a
//! verification link (or, for a registered address, a notice), `verifyEmail` creates the
//! account and organisation and signs in.

use opsgraph_core::id::new_id;
use opsgraph_core::{Actor, AppError, AppResult, Role, Session, Tenant, TxDb, audit, validate};
use opsgraph_derive::GqlInput;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Set, Statement};

use crate::entity::{membership, organization, user};
use crate::error::OrgError;
use crate::service::auth::{AuthTokens, issue, now};
use crate::service::password;
use crate::service::tokens::{self, AuthConfig};

/// Create an account and an organisation you own.
#[derive(Debug, Clone, serde::Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SignUpInput {
    /// Login e-mail.
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Name of the new organisation.
    pub organization_name: String,
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

/// Queues an e-mail in the `outbound_emails` outbox (a mailer sends it).
pub(crate) async fn queue_email(
    db: &impl ConnectionTrait,
    to: &str,
    kind: &str,
    subject: &str,
    body: &str,
) -> AppResult<()> {
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
    db.set_tenant(&Tenant {
        org_id: Some(org_id),
        user_id: Some(user_id),
        api_key_prefix: None,
        client_member: None,
        member: None,
    })
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
    let w = opsgraph_core::write::Write { db, session: &actor, org: org_id };
    w.changed::<crate::nodes::Organization>("organization.created", org_id, None).await?;
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
