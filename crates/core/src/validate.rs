//! Input validation shared by every domain ("parse, don't validate"): each function returns
//! the cleaned value or BAD_USER_INPUT naming the field.

use crate::error::{AppError, AppResult};

/// Trimmed text of `min..=max` characters without NUL or other control characters
/// (newlines and tabs allowed when `multiline`).
pub fn text(field: &str, value: &str, min: usize, max: usize, multiline: bool) -> AppResult<String> {
    let v = value.trim();
    if v.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
        return Err(AppError::bad_input(field, format!("{field} must not contain control characters")));
    }
    let n = v.chars().count();
    if n < min {
        return Err(AppError::bad_input(
            field,
            if min == 1 {
                format!("{field} must not be empty")
            } else {
                format!("{field} must be at least {min} characters")
            },
        ));
    }
    if n > max {
        return Err(AppError::bad_input(field, format!("{field} must be at most {max} characters")));
    }
    Ok(v.to_owned())
}

/// Like [`text`] for an optional value; blank becomes `None`.
pub fn opt_text(field: &str, value: Option<&str>, max: usize, multiline: bool) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, 1, max, multiline).map(Some),
    }
}

/// A syntactically valid e-mail address, lower-cased.
pub fn email(field: &str, value: &str) -> AppResult<String> {
    let v = text(field, value, 3, 254, false)?.to_lowercase();
    let bad = || AppError::bad_input(field, format!("{field} is not a valid e-mail address"));
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    let ok_local = !local.is_empty() && local.len() <= 64 && !local.contains(char::is_whitespace);
    let ok_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !ok_local || !ok_domain || domain.contains('@') {
        return Err(bad());
    }
    Ok(v)
}

/// A password of 10..=128 characters.
pub fn password(field: &str, value: &str) -> AppResult<String> {
    let n = value.chars().count();
    if n < 10 {
        return Err(AppError::bad_input(field, "password must be at least 10 characters"));
    }
    if n > 128 || value.contains('\0') {
        return Err(AppError::bad_input(field, "password must be at most 128 characters without NUL"));
    }
    Ok(value.to_owned())
}

/// An ISO-4217-shaped currency code (three upper-case letters).
pub fn currency(field: &str, value: &str) -> AppResult<String> {
    let v = value.trim().to_uppercase();
    if v.len() == 3 && v.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(v)
    } else {
        Err(AppError::bad_input(field, "currency must be a three-letter ISO 4217 code"))
    }
}

/// `value` if it is one of the closed set `allowed`, else BAD_USER_INPUT on `field`.
pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> AppResult<String> {
    if allowed.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(AppError::bad_input(field, format!("unknown {field}")))
    }
}

/// A URL-safe slug derived from `name` (lower-case ASCII letters, digits and dashes).
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut s = out.trim_matches('-').to_owned();
    s.truncate(40);
    if s.len() < 2 {
        s = format!("org-{s}");
    }
    s
}

/// Earliest and latest years a date or instant may have (anything outside is a typo or
/// an attack on date arithmetic, not a plan).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// A strict ISO 8601 calendar date `YYYY-MM-DD` (zero-padded) within [`YEARS`].
pub fn iso_date(s: &str) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    // The shape is checked: read the digits directly (a format parse costs more, and
    // every `Date` in a response is checked here too).
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0'));
    let year = i32::try_from(num(0..4)).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, num(5..7), num(8..10)).filter(|d| YEARS.contains(&d.year()))
}

/// A strict RFC 3339 instant within [`YEARS`].
pub fn iso_datetime(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    use chrono::Datelike;
    let d = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    (s.len() >= 20 && YEARS.contains(&d.year())).then_some(d)
}

/// [`iso_date`] as BAD_USER_INPUT naming `field`.
pub fn date(field: &str, s: &str) -> AppResult<chrono::NaiveDate> {
    iso_date(s).ok_or_else(|| {
        AppError::bad_input(
            field,
            format!("{field} must be a date YYYY-MM-DD between {} and {}", YEARS.start(), YEARS.end()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(text("name", "  Ada ", 1, 10, false).ok().as_deref(), Some("Ada"));
        assert!(text("name", "   ", 1, 10, false).is_err());
        assert!(text("name", "a\0b", 1, 10, false).is_err());
        assert!(text("name", "abcdefghijk", 1, 10, false).is_err());
        assert!(text("body", "line\nline", 1, 20, true).is_ok());
    }

    #[test]
    fn email_rules() {
        assert_eq!(email("email", " Ada@Example.COM ").ok().as_deref(), Some("ada@example.com"));
        for bad in ["ada", "ada@", "@x.io", "a b@x.io", "a@x", "a@x..io", "a@@x.io"] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Acme Studios, Ltd."), "acme-studios-ltd");
        assert_eq!(slugify("!"), "org-");
    }

    #[test]
    fn dates_are_strict_and_sane() {
        assert_eq!(iso_date("2026-01-31"), chrono::NaiveDate::from_ymd_opt(2026, 1, 31));
        assert!(iso_date("2024-02-29").is_some(), "a leap day");
        for bad in [
            "2026-1-1",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2025-02-29",
            "0000-01-01",
            "0001-01-01",
            "2026-02-30",
            "3000-01-01",
            "2026-01-01T00:00:00Z",
            "+2026-01-01",
            " 2026-01-01",
        ] {
            assert!(iso_date(bad).is_none(), "{bad}");
        }
        assert!(iso_datetime("2026-05-01T09:30:00Z").is_some());
        assert!(iso_datetime("2026-05-01T09:30:00+02:00").is_some());
        assert!(iso_datetime("0001-05-01T09:30:00Z").is_none());
        assert!(iso_datetime("2026-05-01").is_none());
    }
}
