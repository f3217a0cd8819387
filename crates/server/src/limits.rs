//! Document limits checked before execution (async-graphql checks depth, complexity,
//! directives and recursion itself; these cover what it does not).

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use opsgraph_core::AppError;

/// Both checks, as the client sees them (BAD_USER_INPUT).
pub fn check(query: &str, max_nesting: usize, max_aliases: usize) -> Result<(), AppError> {
    check_nesting(query, max_nesting).map_err(|message| AppError::BadUserInput { field: None, message })?;
    if let Ok(doc) = async_graphql::parser::parse_query(query) {
        let aliases = alias_count(&doc);
        if aliases > max_aliases {
            return Err(AppError::BadUserInput {
                field: None,
                message: format!("too many aliases ({aliases} > {max_aliases})"),
            });
        }
    }
    Ok(())
}

/// Rejects documents nested deeper than `max` brackets, without parsing (so a hostile
/// document cannot exhaust the parser's stack).
pub fn check_nesting(query: &str, max: usize) -> Result<(), String> {
    let (mut depth, mut in_string, mut escaped, mut comment) = (0usize, false, false, false);
    for ch in query.chars() {
        if comment {
            comment = ch != '\n';
            continue;
        }
        if in_string {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '#' => comment = true,
            '"' => in_string = true,
            '{' | '[' | '(' => {
                depth += 1;
                if depth > max {
                    return Err(format!("document is nested deeper than {max} levels"));
                }
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Counts aliased fields in the whole document.
pub fn alias_count(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet, n: &mut usize) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    if f.node.alias.is_some() {
                        *n += 1;
                    }
                    walk(&f.node.selection_set.node, n);
                }
                Selection::FragmentSpread(_) => {}
                Selection::InlineFragment(fr) => walk(&fr.node.selection_set.node, n),
            }
        }
    }
    let mut n = 0;
    for (_, op) in doc.operations.iter() {
        walk(&op.node.selection_set.node, &mut n);
    }
    for frag in doc.fragments.values() {
        walk(&frag.node.selection_set.node, &mut n);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert!(check_nesting("{ a(x: \"{{{{{{{{\") { b } } # {{{{{{", 3).is_ok());
        assert!(check_nesting(&"{a".repeat(10), 5).is_err());
    }

    #[test]
    fn counts_aliases() {
        let doc = async_graphql::parser::parse_query(
            "{ a: viewer { b: user { id } } ...F } fragment F on Query { c: viewer { role } }",
        );
        assert_eq!(doc.map(|d| alias_count(&d)).ok(), Some(3));
    }
}
