//! The spans a request's work opens below its operation: one per loader batch and one per
//! statement. They are DEBUG spans, so they cost nothing unless traces are exported (the
//! server's telemetry turns them on for its OTLP layer only). Attributes never carry a
//! value from a client: statements are recorded with their literals masked.

use tracing::Span;

/// Longest statement text recorded on a span.
const MAX_SQL: usize = 2_000;

/// The span of one statement: `SELECT` (its first keyword) with the masked text.
pub fn statement(sql: &str) -> Span {
    let span = tracing::debug_span!(
        "db.query",
        otel.name = tracing::field::Empty,
        otel.kind = "client",
        db.system.name = "postgresql",
        db.operation.name = tracing::field::Empty,
        db.query.text = tracing::field::Empty
    );
    if !span.is_disabled() {
        let op = operation(sql);
        span.record("otel.name", op.as_str());
        span.record("db.operation.name", op.as_str());
        span.record("db.query.text", masked_sql(sql).as_str());
    }
    span
}

/// The span of one loader batch: the loader's type and how many keys it loads.
pub fn batch<L>(keys: usize) -> Span {
    let span = tracing::debug_span!(
        "loader.batch",
        otel.name = tracing::field::Empty,
        loader = tracing::field::Empty,
        loader.keys = keys
    );
    if !span.is_disabled() {
        let name = loader_name(std::any::type_name::<L>());
        span.record("otel.name", format!("load {name}").as_str());
        span.record("loader", name.as_str());
    }
    span
}

/// `opsgraph_core::loader::ById<opsgraph_work::entity::task::Entity>` -> `ById<task>`.
fn loader_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let parts = full.split(['<', '>', ',']).map(str::trim).filter(|p| !p.is_empty());
    for (i, part) in parts.enumerate() {
        let segs: Vec<&str> = part.split("::").filter(|s| !s.is_empty()).collect();
        let short = match segs.as_slice() {
            [.., module, "Entity" | "Model"] => *module,
            [.., last] => *last,
            [] => "",
        };
        if i > 0 {
            out.push(if i == 1 { '<' } else { ',' });
        }
        out.push_str(short);
    }
    if out.contains('<') {
        out.push('>');
    }
    out
}

/// The statement's first keyword, upper-cased (`SELECT`, `INSERT`, `WITH`, ...).
fn operation(sql: &str) -> String {
    sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default().to_ascii_uppercase()
}

/// `sql` with every literal replaced by `?`: quoted strings (`'…'`, `E'…'`, `$tag$…$tag$`)
/// and numbers that are not part of a name; placeholders (`$1`) and names stay.
/// Truncated to [`MAX_SQL`] characters.
pub fn masked_sql(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len().min(MAX_SQL));
    let mut i = 0;
    while i < b.len() && out.len() < MAX_SQL {
        let c = b[i];
        let prev_word = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'$');
        if c == b'\'' {
            i = skip_quoted(b, i + 1);
            out.push('?');
        } else if c == b'$'
            && let Some(end) = dollar_quoted(sql, i)
        {
            i = end;
            out.push('?');
        } else if c.is_ascii_digit() && !prev_word {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push('?');
        } else if c == b'"' {
            // A quoted name: kept as it is.
            let end = b[i + 1..].iter().position(|&x| x == b'"').map_or(b.len(), |p| i + 2 + p);
            out.push_str(&sql[i..end]);
            i = end;
        } else {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The index after the closing quote of a string starting at `i` (`''` is an escaped quote).
fn skip_quoted(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    i
}

/// For `$tag$…$tag$` starting at `start`, the index after its end; `None` for `$1`.
fn dollar_quoted(sql: &str, start: usize) -> Option<usize> {
    let rest = &sql[start + 1..];
    let tag_len = rest.find('$')?;
    let tag = &rest[..tag_len];
    if !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || tag.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let delim = &sql[start..start + tag_len + 2];
    let body = start + delim.len();
    Some(sql[body..].find(delim).map_or(sql.len(), |p| body + p + delim.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_masked_and_names_and_placeholders_kept() {
        assert_eq!(
            masked_sql(
                "SELECT \"t1\".\"title\" FROM task t1 WHERE title = 'it''s secret' AND n > 42 AND id = $1 LIMIT 51"
            ),
            "SELECT \"t1\".\"title\" FROM task t1 WHERE title = ? AND n > ? AND id = $1 LIMIT ?"
        );
        assert_eq!(masked_sql("SELECT $x$ top secret $x$, $$ also $$, E'\\n', 3.14"), "SELECT ?, ?, E?, ?");
        assert_eq!(masked_sql("select set_config('app.org_id', 'abc', true)"), "select set_config(?, ?, true)");
    }

    #[test]
    fn long_statements_are_cut_and_unterminated_literals_masked() {
        assert!(masked_sql(&"SELECT a ".repeat(1_000)).len() <= MAX_SQL + 4);
        assert_eq!(masked_sql("SELECT 'never closed"), "SELECT ?");
    }

    #[test]
    fn operation_and_loader_names_are_short() {
        assert_eq!(operation("  with x as (select 1) select"), "WITH");
        assert_eq!(loader_name("opsgraph_core::loader::ById<opsgraph_work::entity::task::Entity>"), "ById<task>");
        assert_eq!(loader_name("opsgraph_org::loaders::MemberUsers"), "MemberUsers");
    }
}
