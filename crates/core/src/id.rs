//! Relay global IDs: opaque, type-prefixed, URL-safe (`base64url("User:<uuid>")`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Encodes the global ID of `type_name` row `id`.
pub fn encode(type_name: &str, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{}", id.as_simple()))
}

/// Decodes any global ID into its type name and UUID.
pub fn decode(global_id: &str) -> AppResult<(String, Uuid)> {
    let invalid =
        || AppError::BadUserInput { field: None, message: format!("`{}` is not a valid ID", truncate(global_id)) };
    if global_id.len() > 128 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(global_id).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (type_name, raw) = text.split_once(':').ok_or_else(invalid)?;
    let id = Uuid::parse_str(raw).map_err(|_| invalid())?;
    Ok((type_name.to_owned(), id))
}

/// Decodes a global ID that must be of `type_name`; `field` names the input for errors.
pub fn decode_as(global_id: &str, type_name: &str, field: &str) -> AppResult<Uuid> {
    let (actual, id) = decode(global_id)
        .map_err(|_| AppError::bad_input(field, format!("`{}` is not a valid {type_name} ID", truncate(global_id))))?;
    if actual != type_name {
        return Err(AppError::bad_input(field, format!("expected a {type_name} ID, got a {actual} ID")));
    }
    Ok(id)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).filter(|c| !c.is_control()).collect()
}

/// A new time-ordered primary key.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_type_check() {
        let id = new_id();
        let gid = encode("User", id);
        assert_eq!(decode(&gid).ok(), Some(("User".to_owned(), id)));
        assert_eq!(decode_as(&gid, "User", "id").ok(), Some(id));
        assert!(matches!(decode_as(&gid, "Team", "id"), Err(AppError::BadUserInput { .. })));
        assert!(decode("not-an-id").is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("User:nope")).is_err());
    }
}
