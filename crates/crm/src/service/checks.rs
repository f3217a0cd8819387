//! Field rules shared by crm inputs: phone numbers, websites, countries, tags and custom
//! fields.

use opsgraph_core::{AppError, AppResult, validate};

/// An E.164 phone number (`+` and 7-15 digits); spaces, dots, dashes and brackets are
/// dropped first (`+44 20 7946-0958` is `+442079460958`).
pub fn phone(field: &str, raw: &str) -> AppResult<String> {
    let cleaned: String = raw.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    let digits = cleaned.strip_prefix('+').unwrap_or("");
    let ok = (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
    if ok {
        Ok(cleaned)
    } else {
        Err(AppError::bad_input(field, "phone must be in international E.164 form, e.g. +442079460958"))
    }
}

/// An http(s) URL of at most 500 characters.
pub fn website(field: &str, raw: &str) -> AppResult<String> {
    let v = validate::text(field, raw, 1, 500, false)?;
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(host) if host.split('/').next().is_some_and(|h| h.contains('.') && !h.contains(' ')) => Ok(v),
        _ => Err(AppError::bad_input(field, "website must be an http(s) URL")),
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-cased.
pub fn country(field: &str, raw: &str) -> AppResult<String> {
    let v = raw.trim().to_ascii_uppercase();
    if v.len() == 2 && v.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(v)
    } else {
        Err(AppError::bad_input(field, "country must be a two-letter ISO 3166 code"))
    }
}

/// At most 20 tags of 1-50 characters, without duplicates.
pub fn tags(field: &str, v: Option<Vec<String>>) -> AppResult<Vec<String>> {
    let v = v.unwrap_or_default();
    if v.len() > 20 {
        return Err(AppError::bad_input(field, "at most 20 tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for t in &v {
        let t = validate::text(field, t, 1, 50, false)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// A JSON object of at most 16 KiB.
pub fn custom_fields(field: &str, v: Option<serde_json::Value>) -> AppResult<serde_json::Value> {
    let v = v.unwrap_or_else(|| serde_json::json!({}));
    if !v.is_object() {
        return Err(AppError::bad_input(field, "customFields must be a JSON object"));
    }
    if v.to_string().len() > 16 * 1024 {
        return Err(AppError::bad_input(field, "customFields must be at most 16 KiB"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(phone("phone", "+44 20 7946-0958").ok().as_deref(), Some("+442079460958"));
        assert_eq!(phone("phone", "+1 (415) 555.0100").ok().as_deref(), Some("+14155550100"));
        for bad in ["020 7946 0958", "+0123456789", "+12", "+1234567890123456", "+44 20 79x6"] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn websites_countries_tags() {
        assert!(website("website", "https://acme.example/about").is_ok());
        assert!(website("website", "acme.example").is_err());
        assert!(website("website", "https://localhost").is_err());
        assert_eq!(country("country", " de ").ok().as_deref(), Some("DE"));
        assert!(country("country", "DEU").is_err());
        assert_eq!(
            tags("tags", Some(vec!["a".into(), "a".into(), "b".into()])).ok(),
            Some(vec!["a".into(), "b".into()])
        );
        assert!(tags("tags", Some(vec![String::new()])).is_err());
        assert!(custom_fields("customFields", Some(serde_json::json!([1]))).is_err());
    }
}
