//! `{{name}}` placeholders: found, and filled from a lookup (a missing value is an error
//! naming it, never an empty string in a prompt or a task title).

/// The placeholders of `template`, in order, once each.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else { break };
        let name = rest[start + 2..start + 2 + end].trim().to_owned();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
        rest = &rest[start + 2 + end + 2..];
    }
    out
}

/// `template` with each placeholder replaced by `lookup(name)`; the first name without a
/// value is the error.
pub fn fill(template: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else { break };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + 2 + end].trim();
        out.push_str(&lookup(name).ok_or_else(|| name.to_owned())?);
        rest = &rest[start + 2 + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value at a dotted `path` of `v` as text (strings unquoted).
pub fn at(v: &serde_json::Value, path: &str) -> Option<String> {
    let found = path.split('.').try_fold(v, |v, k| v.get(k))?;
    match found {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_and_names_what_is_missing() {
        assert_eq!(placeholders("Hi {{ name }}, {{org}} {{name}} {{"), vec!["name", "org"]);
        let v = json!({ "event": { "data": { "name": "Acme", "amount": 12 } } });
        let f = |t: &str| fill(t, |n| at(&v, n));
        assert_eq!(f("Kick-off: {{event.data.name}} ({{event.data.amount}})"), Ok("Kick-off: Acme (12)".into()));
        assert_eq!(f("{{event.data.owner}}"), Err("event.data.owner".into()));
        assert_eq!(f("no placeholders"), Ok("no placeholders".into()));
    }
}
