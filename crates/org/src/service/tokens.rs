//! Access tokens (JWT, HS256, short-lived) and opaque secrets (refresh tokens, API keys).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::OrgError;

/// Authentication settings, provided by the server's configuration.
#[derive(Clone)]
pub struct AuthConfig {
    /// HMAC key of access tokens (at least 32 bytes).
    pub jwt_secret: Vec<u8>,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
    /// Failed sign-ins allowed per account within `failure_window`.
    pub max_failures_per_account: i64,
    /// Failed sign-ins allowed per client address within `failure_window`.
    pub max_failures_per_ip: i64,
    /// The window of the sign-in rate limit.
    pub failure_window: Duration,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("jwt_secret", &"<redacted>")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The active organisation.
    pub org: Option<Uuid>,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// Signs `claims` into a compact JWT.
pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut m = mac(secret);
    m.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// Verifies signature (constant time), algorithm and expiry at `now` (seconds).
pub fn verify(secret: &[u8], token: &str, now: i64) -> Result<Claims, OrgError> {
    let invalid = OrgError::InvalidToken("invalid access token");
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(invalid);
    };
    let header = URL_SAFE_NO_PAD.decode(h).map_err(|_| OrgError::InvalidToken("invalid access token"))?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|_| OrgError::InvalidToken("invalid access token"))?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(OrgError::InvalidToken("invalid access token"));
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| OrgError::InvalidToken("invalid access token"))?;
    let mut m = mac(secret);
    m.update(format!("{h}.{p}").as_bytes());
    m.verify_slice(&sig).map_err(|_| OrgError::InvalidToken("invalid access token"))?;
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| OrgError::InvalidToken("invalid access token"))?;
    let claims: Claims =
        serde_json::from_slice(&payload).map_err(|_| OrgError::InvalidToken("invalid access token"))?;
    if claims.exp <= now {
        return Err(OrgError::InvalidToken("access token expired"));
    }
    Ok(claims)
}

/// `n` random bytes, URL-safe base64.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Random lower-case alphanumeric text of length `n` (API key prefixes).
pub fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect()
}

/// SHA-256 of a high-entropy secret (refresh tokens, API key secrets).
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_expire_tamper() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let c = Claims { sub: Uuid::now_v7(), org: None, iat: 100, exp: 200 };
        let t = sign(secret, &c);
        assert_eq!(verify(secret, &t, 150).ok(), Some(c.clone()));
        assert!(matches!(verify(secret, &t, 200), Err(OrgError::InvalidToken("access token expired"))));
        assert!(verify(b"another-secret-another-secret-xx", &t, 150).is_err());
        let mut forged = t.clone();
        forged.push('x');
        assert!(verify(secret, &forged, 150).is_err());
        let none_alg =
            format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), t.split('.').nth(1).unwrap_or(""));
        assert!(verify(secret, &none_alg, 150).is_err());
    }
}
