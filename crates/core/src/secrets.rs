//! Secrets at rest: AES-256-GCM under the server's key (`OPSGRAPH_SECRET_KEY`, 32 bytes
//! as 64 hex digits). A sealed value is a fresh 12-byte nonce followed by the ciphertext
//! and its tag, bound to the row it belongs to (associated data), so a value copied to
//! another row or organisation does not open. Plain secrets are never logged or returned.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{AppError, AppResult};

/// The key used when none is configured (refused in production like the JWT secret).
pub const DEV_KEY: &str = "6f707367726170682d646576656c6f706d656e742d6b65792d6e6f742d736166";

/// Seals and opens secrets with the server's key.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer for `hex_key` (64 hex digits).
    pub fn from_hex(hex_key: &str) -> Result<Sealer, String> {
        let hex_key = hex_key.trim();
        if hex_key.len() != 64 || !hex_key.is_ascii() {
            return Err("the secret key must be 64 hex digits (32 bytes)".into());
        }
        let bytes: Result<Vec<u8>, _> = (0..32).map(|i| u8::from_str_radix(&hex_key[2 * i..2 * i + 2], 16)).collect();
        let bytes = bytes.map_err(|_| "the secret key must be 64 hex digits (32 bytes)".to_owned())?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| "unusable secret key".to_owned())?;
        Ok(Sealer { key: LessSafeKey::new(key), rng: SystemRandom::new() })
    }

    /// `secret` sealed for the row named by `bound_to`.
    pub fn seal(&self, secret: &str, bound_to: &[u8]) -> AppResult<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| AppError::internal("no randomness for a nonce"))?;
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(bound_to), &mut data)
            .map_err(|_| AppError::internal("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend(data);
        Ok(out)
    }

    /// The secret in `sealed` (for the row `bound_to`); an error when it was sealed under
    /// another key, for another row, or altered.
    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> AppResult<String> {
        let refused = || AppError::internal("a stored secret does not open with the server's key");
        if sealed.len() < NONCE_LEN {
            return Err(refused());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut data = body.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(bound_to), &mut data).map_err(|_| refused())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refused())
    }
}

/// The last four characters of a secret, to recognise it by (`…a1b2`).
pub fn hint(secret: &str) -> String {
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_for_its_row() {
        let s = Sealer::from_hex(DEV_KEY).expect("key");
        let sealed = s.seal("sk-test-1234", b"row-a").expect("seal");
        assert!(!sealed.windows(4).any(|w| w == b"1234"), "the secret is not in the clear");
        assert_eq!(s.open(&sealed, b"row-a").expect("open"), "sk-test-1234");
        assert!(s.open(&sealed, b"row-b").is_err(), "bound to its row");
        let other = Sealer::from_hex(&"ab".repeat(32)).expect("key");
        assert!(other.open(&sealed, b"row-a").is_err(), "another key does not open it");
        assert_ne!(s.seal("x", b"r").expect("seal"), s.seal("x", b"r").expect("seal"), "fresh nonces");
        assert!(Sealer::from_hex("short").is_err());
        assert_eq!(hint("sk-test-1234"), "…1234");
    }
}
