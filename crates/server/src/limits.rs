//! Document limits, checked on the document once before validation and execution.
//!
//! Fragments are expanded by size arithmetic, not by walking: each fragment's totals
//! (fields, aliases, directives, depth) are computed once and memoised, and a spread adds
//! the fragment's totals. A document that doubles one fragment twenty times therefore costs
//! twenty small additions, and is refused in microseconds; async-graphql's own validation
//! (which expands spreads) only ever sees documents whose expanded size is bounded.
//! `__typename` counts like any field.
//!
//! The same pass prices the document (`cost`, Shopify's rules): a leaf field costs 0, an
//! object 1 plus its children, a connection (a field selecting `nodes` or `edges`) 2 plus
//! its page size (`first` / `last`, literal or variable, default 20, at most 100) times
//! its children. [`actual_cost`] prices a response the same way by what it returned.

use std::collections::HashMap;

pub use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Value as ConstValue};
use async_graphql_value::Value;
use opsgraph_core::AppError;
use opsgraph_core::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The bounds a document must stay within (expanded sizes, summed over its operations).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest field nesting.
    pub depth: usize,
    /// Fields after fragment expansion (`__typename` included).
    pub fields: usize,
    /// Aliased fields after fragment expansion.
    pub aliases: usize,
    /// Directives after fragment expansion.
    pub directives: usize,
    /// Bracket nesting of the raw text (protects the parser's stack).
    pub nesting: usize,
    /// Highest cost of one document.
    pub cost: u64,
}

/// Expanded totals of a selection set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Fields.
    pub fields: u64,
    /// Aliased fields.
    pub aliases: u64,
    /// Directives.
    pub directives: u64,
    /// Depth of field nesting.
    pub depth: u64,
    /// Price (see the module's doc).
    pub cost: u64,
}

impl Totals {
    fn add(&mut self, o: Totals) {
        self.cost = self.cost.saturating_add(o.cost);
        self.fields = self.fields.saturating_add(o.fields);
        self.aliases = self.aliases.saturating_add(o.aliases);
        self.directives = self.directives.saturating_add(o.directives);
        self.depth = self.depth.max(o.depth);
    }
}

fn bad(message: String) -> AppError {
    AppError::BadUserInput { field: None, message }
}

/// Every limit, as the client sees it (BAD_USER_INPUT); the document's cost. Unparsable
/// documents pass here (cost 0) and get the parser's own error later.
pub fn check(query: &str, vars: &Variables, limits: &Limits) -> Result<u64, AppError> {
    checked(query, vars, limits).map(|(cost, _)| cost)
}

/// What [`check_request`] found: the document's cost, and whether the operation that
/// runs is a query (its response acknowledges no write).
#[derive(Debug, Clone, Copy)]
pub struct Checked {
    /// The document's cost.
    pub cost: u64,
    /// The operation to run is a `query` (not a mutation or subscription).
    pub query: bool,
}

/// [`check`] for a request: also says whether the operation it names (or its only one) is
/// a query. The parsed document goes into the request, so the executor does not parse it
/// again.
pub fn check_request(req: &mut async_graphql::Request, limits: &Limits) -> Result<Checked, AppError> {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let (cost, doc) = checked(&req.query, &req.variables, limits)?;
    let Some(doc) = doc else { return Ok(Checked { cost, query: false }) };
    let op = match (&doc.operations, req.operation_name.as_deref()) {
        (DocumentOperations::Single(op), None) => Some(op.node.ty),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        // One named operation is the one that runs, as the executor decides.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    req.set_parsed_query(doc);
    Ok(Checked { cost, query: op == Some(OperationType::Query) })
}

fn checked(query: &str, vars: &Variables, limits: &Limits) -> Result<(u64, Option<ExecutableDocument>), AppError> {
    check_nesting(query, limits.nesting).map_err(bad)?;
    let Ok(doc) = async_graphql::parser::parse_query(query) else { return Ok((0, None)) };
    let t = document_totals(&doc, vars).map_err(bad)?;
    let over = |what: &str, n: u64, max: usize| (n > max as u64).then(|| bad(format!("{what} ({n} > {max})")));
    if let Some(e) = over("query is nested too deeply", t.depth, limits.depth)
        .or_else(|| over("too many fields once fragments are expanded", t.fields, limits.fields))
        .or_else(|| over("too many aliases", t.aliases, limits.aliases))
        .or_else(|| over("too many directives", t.directives, limits.directives))
        .or_else(|| over("query costs too much", t.cost, usize::try_from(limits.cost).unwrap_or(usize::MAX)))
    {
        return Err(e);
    }
    Ok((t.cost, Some(doc)))
}

/// The cost of what a response returned: 1 per object, 1 more per connection (an object
/// holding `nodes` or `edges`); the root is free.
pub fn actual_cost(data: &ConstValue) -> u64 {
    fn walk(v: &ConstValue) -> u64 {
        match v {
            ConstValue::Object(o) => {
                let conn =
                    o.iter().any(|(k, v)| matches!(k.as_str(), "nodes" | "edges") && matches!(v, ConstValue::List(_)));
                o.values().fold(1 + u64::from(conn), |n, v| n.saturating_add(walk(v)))
            }
            ConstValue::List(items) => items.iter().fold(0, |n, v| n.saturating_add(walk(v))),
            _ => 0,
        }
    }
    walk(data).saturating_sub(1)
}

/// The page a connection field asks for (`first` or `last`, literal or variable).
fn page(args: &[(Positioned<Name>, Positioned<Value>)], vars: &Variables) -> u64 {
    let n = args.iter().find(|(n, _)| matches!(n.node.as_str(), "first" | "last")).and_then(|(_, v)| match &v.node {
        Value::Number(n) => n.as_u64(),
        Value::Variable(name) => match vars.get(name) {
            Some(ConstValue::Number(n)) => n.as_u64(),
            _ => None,
        },
        _ => None,
    });
    n.unwrap_or(DEFAULT_PAGE_SIZE).min(MAX_PAGE_SIZE)
}

/// Expanded totals of all operations of `doc` (depth: the deepest). A fragment cycle is an
/// error.
pub fn document_totals(doc: &ExecutableDocument, vars: &Variables) -> Result<Totals, String> {
    let mut sizer = Sizer { doc, vars, memo: HashMap::new(), visiting: Vec::new() };
    let mut total = Totals::default();
    for (_, op) in doc.operations.iter() {
        let mut t = sizer.set(&op.node.selection_set.node)?;
        t.directives = t.directives.saturating_add(op.node.directives.len() as u64);
        total.add(t);
    }
    Ok(total)
}

struct Sizer<'d> {
    doc: &'d ExecutableDocument,
    vars: &'d Variables,
    memo: HashMap<&'d Name, Totals>,
    visiting: Vec<&'d Name>,
}

impl<'d> Sizer<'d> {
    fn set(&mut self, set: &'d SelectionSet) -> Result<Totals, String> {
        let mut t = Totals::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let sub = self.set(&f.node.selection_set.node)?;
                    let children = &f.node.selection_set.node.items;
                    let connection = children.iter().any(|c| {
                        matches!(&c.node, Selection::Field(c) if matches!(c.node.name.node.as_str(), "nodes" | "edges"))
                    });
                    let cost = if children.is_empty() {
                        0
                    } else if connection {
                        page(&f.node.arguments, self.vars).saturating_mul(sub.cost).saturating_add(2)
                    } else {
                        sub.cost.saturating_add(1)
                    };
                    t.add(Totals {
                        cost,
                        fields: sub.fields.saturating_add(1),
                        aliases: sub.aliases.saturating_add(u64::from(f.node.alias.is_some())),
                        directives: sub.directives.saturating_add(f.node.directives.len() as u64),
                        depth: sub.depth.saturating_add(1),
                    });
                }
                Selection::InlineFragment(fr) => {
                    let mut sub = self.set(&fr.node.selection_set.node)?;
                    sub.directives = sub.directives.saturating_add(fr.node.directives.len() as u64);
                    t.add(sub);
                }
                Selection::FragmentSpread(sp) => {
                    let mut sub = self.fragment(&sp.node.fragment_name)?;
                    sub.directives = sub.directives.saturating_add(sp.node.directives.len() as u64);
                    t.add(sub);
                }
            }
        }
        Ok(t)
    }

    fn fragment(&mut self, name: &'d Positioned<Name>) -> Result<Totals, String> {
        let name = &name.node;
        if let Some(t) = self.memo.get(name) {
            return Ok(*t);
        }
        let Some(frag) = self.doc.fragments.get(name) else {
            // Unknown fragments are reported by validation.
            return Ok(Totals::default());
        };
        if self.visiting.contains(&name) {
            return Err(format!("fragment {name} spreads itself"));
        }
        self.visiting.push(name);
        let mut t = self.set(&frag.node.selection_set.node)?;
        t.directives = t.directives.saturating_add(frag.node.directives.len() as u64);
        self.visiting.pop();
        self.memo.insert(name, t);
        Ok(t)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_that_runs_says_whether_it_is_a_query() {
        let limits = Limits { depth: 10, fields: 100, aliases: 10, directives: 10, nesting: 50, cost: 1000 };
        let is_query = |q: &str, op: Option<&str>| {
            let mut req = async_graphql::Request::new(q);
            req.operation_name = op.map(str::to_owned);
            check_request(&mut req, &limits).map(|c| c.query).unwrap_or_default()
        };
        assert!(is_query("{ viewer { id } }", None));
        assert!(is_query("query Named { viewer { id } }", None), "one named operation runs without a name");
        assert!(is_query("query A { a } mutation B { b }", Some("A")));
        assert!(!is_query("query A { a } mutation B { b }", Some("B")));
        assert!(!is_query("query A { a } query B { b }", None), "which one is ambiguous");
        assert!(!is_query("mutation M { m }", None));
    }

    #[test]
    fn nesting_ignores_strings_and_comments() {
        assert!(check_nesting("{ a(x: \"{{{{{{{{\") { b } } # {{{{{{", 3).is_ok());
        assert!(check_nesting(&"{a".repeat(10), 5).is_err());
    }

    fn totals(q: &str) -> Totals {
        let doc = async_graphql::parser::parse_query(q).ok();
        doc.and_then(|d| document_totals(&d, &Variables::default()).ok()).unwrap_or_default()
    }

    #[test]
    fn connections_cost_their_page_times_their_children() {
        // organization 1 + projects (2 + 5 x (node 1 + tasks (2 + 20 x node 1))) = 1 + 2 + 5 x 23
        let q = "{ organization { projects(first: 5) { totalCount nodes { tasks { nodes { id } } } } } }";
        assert_eq!(totals(q).cost, 118);
        let with_var = "query($n: Int) { organization { projects(first: $n) { nodes { id } } } }";
        let doc = async_graphql::parser::parse_query(with_var).expect("doc");
        let vars = Variables::from_json(serde_json::json!({ "n": 50 }));
        assert_eq!(document_totals(&doc, &vars).map(|t| t.cost), Ok(1 + 2 + 50));
        assert_eq!(
            totals("{ organization { projects(first: 1000) { nodes { id } } } }").cost,
            1 + 2 + 100,
            "at most 100"
        );
        assert_eq!(totals("{ viewer { id } }").cost, 1);
        let data = ConstValue::from_json(
            serde_json::json!({ "organization": { "projects": { "nodes": [{ "id": 1 }, { "id": 2 }] } } }),
        )
        .expect("value");
        assert_eq!(actual_cost(&data), 1 + 2 + 2);
    }

    #[test]
    fn counts_expanded_fields_aliases_and_depth() {
        let t = totals("{ a: viewer { b: user { id } } ...F } fragment F on Query { c: viewer { role __typename } }");
        assert_eq!(t, Totals { fields: 6, aliases: 3, directives: 0, depth: 3, cost: 3 });
        let twice = totals("{ ...F ...F } fragment F on Query { x: __typename @skip(if: false) }");
        assert_eq!(twice, Totals { fields: 2, aliases: 2, directives: 2, depth: 1, cost: 0 });
    }

    /// `F0 { __typename }`, each `Fi` spreading `F(i-1)` `width` times; the query spreads
    /// the last one.
    pub(crate) fn fan_out(levels: usize, width: usize) -> String {
        let mut q = format!("{{ ...F{levels} }} fragment F0 on Query {{ __typename }}");
        for i in 1..=levels {
            let spreads = format!("...F{} ", i - 1).repeat(width);
            q.push_str(&format!(" fragment F{i} on Query {{ {spreads}}}"));
        }
        q
    }

    #[test]
    fn fragment_fan_out_is_sized_not_walked() {
        assert_eq!(totals(&fan_out(22, 2)).fields, 1 << 22);
        assert_eq!(totals(&fan_out(7, 10)).fields, 10_000_000);
        assert_eq!(totals(&fan_out(60, 10)).fields, u64::MAX, "saturates instead of overflowing");
        let limits = Limits { depth: 16, fields: 5000, aliases: 30, directives: 50, nesting: 32, cost: 1000 };
        assert!(check(&fan_out(22, 2), &Variables::default(), &limits).is_err());
        assert!(check(&fan_out(3, 2), &Variables::default(), &limits).is_ok());
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let doc =
            async_graphql::parser::parse_query("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }");
        assert!(doc.map(|d| document_totals(&d, &Variables::default()).is_err()).unwrap_or(false));
    }
}
