//! The one error type every resolver returns, and its mapping to GraphQL.
//!
//! Domain crates keep their own `thiserror` enums and convert them into [`AppError`];
//! this module is the only place where an error becomes a GraphQL error with a stable
//! `extensions.code`. Internal details are logged, never sent to the client.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// Stable error codes of the API (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid credentials were presented.
    Unauthenticated,
    /// The caller is known but lacks the permission.
    Forbidden,
    /// The object does not exist for this caller (also used for other tenants' objects).
    NotFound,
    /// The input is invalid; `extensions.field` names the offending field when known.
    BadUserInput,
    /// The change conflicts with the current state (stale version, duplicate, last owner...).
    Conflict,
    /// Too many attempts; `extensions.retryAfter` says after how many seconds to retry.
    RateLimited,
    /// A spending limit is reached (e.g. the organisation's monthly AI budget).
    QuotaExceeded,
    /// An automatic persisted query's hash is unknown: send the document with it once.
    PersistedQueryNotFound,
    /// A dependency (the database) is unreachable right now; retry after
    /// `extensions.retryAfter` seconds (HTTP 503 with `Retry-After`).
    ServiceUnavailable,
    /// Something failed on our side; details are in the server log only.
    Internal,
}

impl ErrorCode {
    /// The wire form of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

/// An error a client may see, plus the internal cause for the log.
/// Deliberately not `Display`: async-graphql converts any `Display` type into an error
/// without `extensions.code`, so conversion must go through [`AppError::into_graphql`].
#[derive(Debug)]
pub enum AppError {
    /// Missing, expired or invalid credentials.
    Unauthenticated(String),
    /// Authenticated, but not allowed.
    Forbidden(String),
    /// Not found (or not visible to this caller).
    NotFound(String),
    /// Invalid input, optionally naming the offending input field.
    BadUserInput {
        /// The input field (camelCase path) at fault, if known.
        field: Option<String>,
        /// A human-readable explanation.
        message: String,
    },
    /// Conflicts with the current state.
    Conflict(String),
    /// Throttled: retry after the given number of seconds.
    RateLimited {
        /// Why.
        message: String,
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// A spending limit is reached.
    QuotaExceeded(String),
    /// A persisted query's hash is unknown (Apollo clients then send the document).
    PersistedQueryNotFound,
    /// The database cannot be reached now (the cause is logged).
    Unavailable(String),
    /// An internal failure; the message is logged, never shown.
    Internal(String),
}

/// Shorthand result type.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// Invalid value for `field`.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput { field: Some(field.into()), message: message.into() }
    }

    /// Not found, naming what was looked for.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    /// Wraps any internal failure.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    /// The client-facing message (internal details excluded).
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m) | Self::Forbidden(m) | Self::Conflict(m) | Self::QuotaExceeded(m) => m.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            // The exact text Apollo's clients look for.
            Self::PersistedQueryNotFound => "PersistedQueryNotFound".to_owned(),
            Self::BadUserInput { message, .. } | Self::RateLimited { message, .. } => message.clone(),
            Self::Unavailable(_) => "the service is temporarily unavailable; retry shortly".to_owned(),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            Self::PersistedQueryNotFound => ErrorCode::PersistedQueryNotFound,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Converts into the GraphQL error sent to the client.
    pub fn into_graphql(self) -> async_graphql::Error {
        let code = self.code();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "internal error".to_owned()
            }
            Self::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable");
                self.message()
            }
            other => other.message(),
        };
        let field = match &self {
            Self::BadUserInput { field, .. } => field.clone(),
            _ => None,
        };
        let retry_after = match &self {
            Self::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            Self::Unavailable(_) => Some(RETRY_AFTER_UNAVAILABLE_SECS),
            _ => None,
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.into_graphql()
    }
}

/// Seconds a client waits before retrying when the database is unreachable.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 2;

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            return Self::Unavailable(err.to_string());
        }
        map_db_error(&err).unwrap_or_else(|| Self::Internal(err.to_string()))
    }
}

/// Whether `err` means the database cannot be reached (no connection within the acquire
/// timeout, connection refused or lost, server shutting down) rather than a failed
/// statement.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    use sea_orm::SqlxError as E;
    match runtime {
        RuntimeErr::SqlxError(e) => match e.as_ref() {
            E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::Tls(_) | E::Protocol(_) | E::WorkerCrashed => true,
            other => other.as_database_error().and_then(|d| d.code()).is_some_and(|c| {
                // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
                matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
            }),
        },
        _ => false,
    }
}

/// Maps a constraint violation to a client error: unique -> CONFLICT, check / foreign key /
/// not-null / too long -> BAD_USER_INPUT, naming the field derived from the constraint name
/// (PostgreSQL's default names `<table>_<cols>_key|check|fkey`). Anything else is `None`.
pub fn map_db_error(err: &DbErr) -> Option<AppError> {
    let runtime = match err {
        DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return None,
    };
    let sea_orm::RuntimeErr::SqlxError(sqlx_err) = runtime else {
        return None;
    };
    let db_err = sqlx_err.as_database_error()?;
    let code = db_err.code()?;
    let table = db_err.table().unwrap_or_default();
    let constraint = db_err.constraint().unwrap_or_default();
    let field = field_of_constraint(table, constraint);
    let mapped = match code.as_ref() {
        "23505" => {
            AppError::Conflict(format!("{} already exists", field.as_deref().unwrap_or("a record with these values")))
        }
        "23514" | "23P01" => AppError::BadUserInput {
            message: format!("{} is out of the allowed range", field.as_deref().unwrap_or("a value")),
            field,
        },
        "23503" => AppError::BadUserInput {
            message: format!(
                "{} refers to something that does not exist or is still referenced",
                field.as_deref().unwrap_or("a reference")
            ),
            field,
        },
        "23502" => AppError::BadUserInput { field: None, message: "a required value is missing".into() },
        "22001" => AppError::BadUserInput { field: None, message: "a value is too long".into() },
        "22P02" | "22021" => AppError::BadUserInput { field: None, message: "a value has an invalid format".into() },
        _ => return None,
    };
    Some(mapped)
}

/// `users_email_key` on `users` -> `email`; `teams_org_id_name_key` -> `name`;
/// `member_skills_proficiency_check` -> `proficiency`. Returns camelCase.
pub fn field_of_constraint(table: &str, constraint: &str) -> Option<String> {
    let rest = constraint.strip_prefix(table).map(|r| r.trim_start_matches('_')).unwrap_or(constraint);
    let rest = ["_key", "_check", "_fkey", "_excl", "_uniq"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))
        .unwrap_or(rest);
    let rest = rest.strip_prefix("org_id_").unwrap_or(rest);
    if rest.is_empty() || rest == "org_id" {
        return None;
    }
    Some(camel_case(rest))
}

/// snake_case -> camelCase.
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for ch in s.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_map_to_fields() {
        assert_eq!(field_of_constraint("users", "users_email_key").as_deref(), Some("email"));
        assert_eq!(field_of_constraint("teams", "teams_org_id_name_key").as_deref(), Some("name"));
        assert_eq!(
            field_of_constraint("member_skills", "member_skills_proficiency_check").as_deref(),
            Some("proficiency")
        );
        assert_eq!(
            field_of_constraint("memberships", "memberships_org_id_manager_id_fkey").as_deref(),
            Some("managerId")
        );
        assert_eq!(field_of_constraint("x", "x_org_id_fkey"), None);
    }

    #[test]
    fn internal_errors_hide_details() {
        let err = AppError::internal("password=secret in connection string").into_graphql();
        assert_eq!(err.message, "internal error");
        let code = err.extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("INTERNAL")));
    }
}
