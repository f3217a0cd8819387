//! What can go wrong in the org domain, mapped once into [`AppError`].

use opsgraph_core::AppError;

/// Org-domain failures callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// Wrong email or password (never says which).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many failed sign-ins from this address (for this account, or in all); retry
    /// after the given number of seconds.
    #[error("too many failed sign-in attempts; try again in {0} s")]
    RateLimited(u64),
    /// The access token is missing, malformed or expired.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The email is already registered.
    #[error("email is already registered")]
    EmailTaken,
    /// The change would leave the organisation without an active owner.
    #[error("an organisation must keep at least one active owner")]
    LastOwner,
    /// The caller is not a member of that organisation.
    #[error("not a member of that organisation")]
    NotAMember,
}

impl From<OrgError> for AppError {
    fn from(e: OrgError) -> Self {
        let msg = e.to_string();
        match e {
            OrgError::InvalidCredentials | OrgError::InvalidToken(_) => AppError::Unauthenticated(msg),
            OrgError::RateLimited(secs) => AppError::RateLimited { message: msg, retry_after_secs: secs },
            OrgError::EmailTaken => AppError::Conflict(msg),
            OrgError::LastOwner => AppError::Conflict(msg),
            OrgError::NotAMember => AppError::NotFound("organisation".into()),
        }
    }
}
