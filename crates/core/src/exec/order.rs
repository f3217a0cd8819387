//! Response keys in the order the client selected them. async-graphql 7 inserts a
//! field's value when its future completes, so parallel fields (a loader-backed one next
//! to a plain one) come back in completion order; this puts every object's keys back in
//! selection order (fragments expanded in place, first occurrence wins).

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Name, Value};

/// The operation `name` selects in `doc` (the first one when `name` is `None`).
pub fn selected<'d>(doc: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d OperationDefinition> {
    doc.operations.iter().find(|(n, _)| name.is_none() || n.map(|n| n.as_str()) == name).map(|(_, op)| &op.node)
}

/// Reorders `data` to the selection order of operation `name` of `doc`.
pub fn reorder(doc: &ExecutableDocument, name: Option<&str>, data: &mut Value) {
    if let Some(op) = selected(doc, name) {
        apply(doc, &[&op.selection_set.node], data, 0);
    }
}

/// Response keys of `sets` in order, each with the sub-selections that share it.
fn keys<'d>(doc: &'d ExecutableDocument, sets: &[&'d SelectionSet]) -> Vec<(&'d Name, Vec<&'d SelectionSet>)> {
    fn walk<'d>(
        doc: &'d ExecutableDocument,
        set: &'d SelectionSet,
        out: &mut Vec<(&'d Name, Vec<&'d SelectionSet>)>,
        depth: usize,
    ) {
        if depth > 64 {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let key = &f.node.response_key().node;
                    let sub = &f.node.selection_set.node;
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => out.push((key, vec![sub])),
                    }
                }
                Selection::InlineFragment(fr) => walk(doc, &fr.node.selection_set.node, out, depth + 1),
                Selection::FragmentSpread(sp) => {
                    if let Some(fr) = doc.fragments.get(&sp.node.fragment_name.node) {
                        walk(doc, &fr.node.selection_set.node, out, depth + 1);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for set in sets {
        walk(doc, set, &mut out, 0);
    }
    out
}

fn apply(doc: &ExecutableDocument, sets: &[&SelectionSet], value: &mut Value, depth: usize) {
    if depth <= 64 && matches!(value, Value::List(_) | Value::Object(_)) {
        // One key order for the whole list: every item has the same selection.
        apply_keys(doc, &keys(doc, sets), value, depth);
    }
}

fn apply_keys(doc: &ExecutableDocument, order: &[(&Name, Vec<&SelectionSet>)], value: &mut Value, depth: usize) {
    match value {
        Value::List(items) => {
            for item in items {
                apply_keys(doc, order, item, depth + 1);
            }
        }
        Value::Object(map) => {
            let mut old = std::mem::take(map);
            let mut sorted = IndexMap::with_capacity(old.len());
            for (key, subs) in order {
                if let Some(mut v) = old.shift_remove(*key) {
                    if !subs.iter().all(|s| s.items.is_empty()) {
                        apply(doc, subs, &mut v, depth + 1);
                    }
                    sorted.insert((*key).clone(), v);
                }
            }
            sorted.extend(old);
            *map = sorted;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restores_selection_order_through_fragments_and_lists() {
        let doc =
            async_graphql::parser::parse_query("query Q { b a: x { z ...F } c } fragment F on X { y nested { q p } }")
                .ok();
        let mut data = async_graphql::value!({
            "c": 1,
            "a": [{ "nested": { "p": 1, "q": 2 }, "y": 2, "z": 3 }],
            "b": 2,
        });
        if let Some(doc) = &doc {
            reorder(doc, Some("Q"), &mut data);
        }
        let text = data.to_string();
        assert!(text.find("b:").or(text.find("\"b\"")) < text.find("\"a\"").or(text.find("a:")), "{text}");
        let json = serde_json::to_string(&data).unwrap_or_default();
        assert_eq!(json, r#"{"b":2,"a":[{"z":3,"y":2,"nested":{"q":2,"p":1}}],"c":1}"#);
    }
}
