//! Filter inputs (`and` / `or` / `not` plus typed operators per field), declared once per
//! node type as a [`FilterField`] list and compiled into a SeaORM [`Condition`].

use async_graphql::Value;
use async_graphql::dynamic::{InputObject, InputValue, TypeRef};
use sea_orm::sea_query::extension::postgres::PgExpr;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, Condition};

use crate::error::{AppError, AppResult};
use crate::id;

/// How deep `and` / `or` / `not` may nest, and how many operands a list may hold.
const MAX_FILTER_DEPTH: usize = 6;
const MAX_LIST: usize = 100;

/// The kind of a filterable field; decides its operator input type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text: eq, ne, in, notIn, contains, startsWith, ilike, isNull.
    Text,
    /// A reference by global ID of the named node type: eq, in, isNull.
    Id(&'static str),
    /// Timestamp: eq, lt, lte, gt, gte, isNull.
    DateTime,
    /// Calendar date: eq, lt, lte, gt, gte, isNull.
    Date,
    /// Integer: eq, in, lt, lte, gt, gte, isNull.
    Int,
    /// Boolean: eq, isNull.
    Boolean,
    /// A GraphQL enum stored as its name: eq, ne, in, notIn.
    Enum(&'static str),
    /// Full-text search over the named `tsvector` column (the field's own column is unused):
    /// `matches` takes web-search syntax (`"exact phrase" -not or`).
    FullText(&'static str),
    /// A `text[]` column: containsAll, containsAny.
    Tags,
    /// Typo-tolerant search (pg_trgm) over the given lower-cased SQL expressions (the
    /// field's own column is unused): `like` matches when any expression is similar to the
    /// text ("Jon Smyth" finds "John Smith") or contains it. Give each expression a
    /// trigram index.
    Similar(&'static [&'static str]),
    /// A to-many relation: `some` / `every` / `none` of the related rows match a
    /// `<Node>Filter` (the field's column is the parent's key the related rows point at).
    Many(&'static Relation),
    /// A to-one relation: the related row matches a `<Node>Filter` (the field's column is
    /// the parent's reference to it).
    One(&'static Relation),
}

/// A relation a list filters across, compiled to `EXISTS` subqueries: Row Level Security
/// applies inside them as anywhere.
#[derive(Debug)]
pub struct Relation {
    /// The related node type (its `<Node>Filter` is the condition's input).
    pub node: &'static str,
    /// Its table.
    pub table: &'static str,
    /// Its column that matches the parent's: the reference to the parent (to-many), or
    /// its id (to-one).
    pub column: &'static str,
    /// Compiles a `<Node>Filter` of the related type.
    pub compile: fn(&Value) -> AppResult<Condition>,
}

impl PartialEq for Relation {
    fn eq(&self, other: &Self) -> bool {
        (self.node, self.table, self.column) == (other.node, other.table, other.column)
    }
}

impl Eq for Relation {}

/// The `<Node>RelationFilter` input of to-many relations to `node`.
pub fn relation_input(node: &str) -> InputObject {
    let filter = format!("{node}Filter");
    InputObject::new(format!("{node}RelationFilter"))
        .description(format!("Conditions on related {node} objects; all given ones must hold."))
        .field(InputValue::new("some", TypeRef::named(&filter)).description("At least one matches."))
        .field(InputValue::new("every", TypeRef::named(&filter)).description("All match (true when there are none)."))
        .field(InputValue::new("none", TypeRef::named(&filter)).description("None matches."))
}

/// `EXISTS (SELECT 1 FROM <related> WHERE <related>.<column> = <parent>.<parent_column> AND cond)`.
fn exists(r: &Relation, parent: (&str, &str), cond: Condition) -> SimpleExpr {
    let link = format!("\"{}\".\"{}\" = \"{}\".\"{}\"", r.table, r.column, parent.0, parent.1);
    let sub = sea_orm::sea_query::Query::select()
        .expr(Expr::cust("1"))
        .from(sea_orm::sea_query::Alias::new(r.table))
        .and_where(Expr::cust(link))
        .cond_where(cond)
        .to_owned();
    Expr::exists(sub)
}

fn relation_condition<C: ColumnTrait>(field: &FilterField<C>, v: &Value, path: &str) -> AppResult<Condition> {
    let table = field.column.entity_name().to_string();
    let parent = (table.as_str(), field.column.as_str());
    match field.kind {
        FieldKind::One(r) => Ok(Condition::all().add(exists(r, parent, (r.compile)(v)?))),
        FieldKind::Many(r) => {
            let Value::Object(ops) = v else { return Err(bad(path, "expected some, every or none")) };
            let mut cond = Condition::all();
            for (op, arg) in ops.iter().filter(|(_, a)| !matches!(a, Value::Null)) {
                let inner = (r.compile)(arg)?;
                cond = cond.add(match op.as_str() {
                    "some" => exists(r, parent, inner),
                    "none" => exists(r, parent, inner).not(),
                    "every" => exists(r, parent, inner.not()).not(),
                    _ => return Err(bad(&format!("{path}.{op}"), "unknown operator")),
                });
            }
            Ok(cond)
        }
        _ => Err(bad(path, "not a relation")),
    }
}

impl FieldKind {
    /// The operator input type's name.
    pub fn input_type(self) -> String {
        match self {
            FieldKind::Text => "StringFilter".into(),
            FieldKind::Id(_) => "IDFilter".into(),
            FieldKind::DateTime => "DateTimeFilter".into(),
            FieldKind::Date => "DateFilter".into(),
            FieldKind::Int => "IntFilter".into(),
            FieldKind::Boolean => "BooleanFilter".into(),
            FieldKind::Enum(name) => format!("{name}Filter"),
            FieldKind::FullText(_) => "FullTextFilter".into(),
            FieldKind::Tags => "TagsFilter".into(),
            FieldKind::Similar(_) => "SimilarFilter".into(),
            FieldKind::Many(r) => format!("{}RelationFilter", r.node),
            FieldKind::One(r) => format!("{}Filter", r.node),
        }
    }
}

/// One filterable field of a node type.
pub struct FilterField<C> {
    /// GraphQL name (camelCase).
    pub name: &'static str,
    /// The column it filters.
    pub column: C,
    /// Its kind.
    pub kind: FieldKind,
}

/// Shorthand constructor.
pub fn ff<C>(name: &'static str, column: C, kind: FieldKind) -> FilterField<C> {
    FilterField { name, column, kind }
}

/// The shared operator input types (`StringFilter`, `IDFilter`, ...).
pub fn operator_inputs() -> Vec<InputObject> {
    let op = |name: &str, ty: TypeRef, desc: &str| InputValue::new(name, ty).description(desc);
    let list = |t: &str| TypeRef::named_nn_list(t);
    let is_null = || op("isNull", TypeRef::named(TypeRef::BOOLEAN), "True: the value is absent; false: present.");
    let ordered = |name: &str, scalar: &str, what: &str| {
        InputObject::new(name)
            .description(format!("Conditions on a {what}; all given operators must hold."))
            .field(op("eq", TypeRef::named(scalar), "Equal to."))
            .field(op("lt", TypeRef::named(scalar), "Strictly before / less than."))
            .field(op("lte", TypeRef::named(scalar), "Before or equal / at most."))
            .field(op("gt", TypeRef::named(scalar), "Strictly after / greater than."))
            .field(op("gte", TypeRef::named(scalar), "After or equal / at least."))
            .field(is_null())
    };
    vec![
        InputObject::new("StringFilter")
            .description("Conditions on a text field; all given operators must hold.")
            .field(op("eq", TypeRef::named(TypeRef::STRING), "Exactly equal."))
            .field(op("ne", TypeRef::named(TypeRef::STRING), "Not equal."))
            .field(op("in", list(TypeRef::STRING), "Equal to one of these."))
            .field(op("notIn", list(TypeRef::STRING), "Equal to none of these."))
            .field(op("contains", TypeRef::named(TypeRef::STRING), "Contains this text, ignoring case."))
            .field(op("startsWith", TypeRef::named(TypeRef::STRING), "Starts with this text, ignoring case."))
            .field(op("ilike", TypeRef::named(TypeRef::STRING), "SQL ILIKE pattern (`%` and `_` wildcards)."))
            .field(is_null()),
        InputObject::new("IDFilter")
            .description("Conditions on a reference; all given operators must hold.")
            .field(op("eq", TypeRef::named(TypeRef::ID), "Refers to this object."))
            .field(op("in", list(TypeRef::ID), "Refers to one of these objects."))
            .field(is_null()),
        ordered("DateTimeFilter", "DateTime", "timestamp"),
        ordered("DateFilter", "Date", "calendar date"),
        ordered("IntFilter", TypeRef::INT, "whole number").field(op(
            "in",
            list(TypeRef::INT),
            "Equal to one of these.",
        )),
        InputObject::new("FullTextFilter").description("Full-text search (PostgreSQL, language-neutral).").field(op(
            "matches",
            TypeRef::named(TypeRef::STRING),
            "Web-search syntax: words, \"phrases\", -excluded, or.",
        )),
        InputObject::new("SimilarFilter").description("Typo-tolerant search (trigram similarity).").field(op(
            "like",
            TypeRef::named(TypeRef::STRING),
            "Text to look for: similar words or a part, ignoring case (`jon smyth` finds John Smith).",
        )),
        InputObject::new("TagsFilter")
            .description("Conditions on a set of tags; all given operators must hold.")
            .field(op("containsAll", list(TypeRef::STRING), "Has every one of these."))
            .field(op("containsAny", list(TypeRef::STRING), "Has at least one of these.")),
        InputObject::new("BooleanFilter")
            .description("Conditions on a true/false field.")
            .field(op("eq", TypeRef::named(TypeRef::BOOLEAN), "Equal to."))
            .field(is_null()),
    ]
}

/// The `<Enum>Filter` input for a GraphQL enum.
pub fn enum_filter_input(enum_name: &str) -> InputObject {
    InputObject::new(format!("{enum_name}Filter"))
        .description(format!("Conditions on a {enum_name} value; all given operators must hold."))
        .field(InputValue::new("eq", TypeRef::named(enum_name)).description("Equal to."))
        .field(InputValue::new("ne", TypeRef::named(enum_name)).description("Not equal."))
        .field(InputValue::new("in", TypeRef::named_nn_list(enum_name)).description("One of these."))
        .field(InputValue::new("notIn", TypeRef::named_nn_list(enum_name)).description("None of these."))
}

/// The `<Node>Filter` input type for `fields`.
pub fn filter_input<C>(node: &str, fields: &[FilterField<C>]) -> InputObject {
    let name = format!("{node}Filter");
    let mut obj = InputObject::new(&name)
        .description(format!("Conditions on {node} objects. Fields combine with AND."))
        .field(InputValue::new("and", TypeRef::named_nn_list(&name)).description("All of these hold."))
        .field(InputValue::new("or", TypeRef::named_nn_list(&name)).description("At least one of these holds."))
        .field(InputValue::new("not", TypeRef::named(&name)).description("This does not hold."));
    for f in fields {
        obj = obj.field(
            InputValue::new(f.name, TypeRef::named(f.kind.input_type()))
                .description(format!("Conditions on `{}`.", f.name)),
        );
    }
    obj
}

/// Compiles a `<Node>Filter` value into a condition.
pub fn compile<C: ColumnTrait>(fields: &[FilterField<C>], value: &Value) -> AppResult<Condition> {
    compile_at(fields, value, 0, "filter")
}

fn bad(path: &str, msg: impl Into<String>) -> AppError {
    AppError::bad_input(path, msg)
}

fn compile_at<C: ColumnTrait>(
    fields: &[FilterField<C>],
    value: &Value,
    depth: usize,
    path: &str,
) -> AppResult<Condition> {
    if depth > MAX_FILTER_DEPTH {
        return Err(bad(path, format!("filters may nest at most {MAX_FILTER_DEPTH} levels")));
    }
    let Value::Object(map) = value else {
        return Err(bad(path, "expected an object"));
    };
    let mut cond = Condition::all();
    for (key, v) in map {
        if matches!(v, Value::Null) {
            continue;
        }
        let here = format!("{path}.{key}");
        match key.as_str() {
            "and" | "or" => {
                let items = as_list(v, &here)?;
                let mut group = if key.as_str() == "and" { Condition::all() } else { Condition::any() };
                for (i, item) in items.iter().enumerate() {
                    group = group.add(compile_at(fields, item, depth + 1, &format!("{here}[{i}]"))?);
                }
                cond = cond.add(group);
            }
            "not" => cond = cond.add(compile_at(fields, v, depth + 1, &here)?.not()),
            name => {
                let field = fields.iter().find(|f| f.name == name).ok_or_else(|| bad(&here, "unknown filter field"))?;
                cond = cond.add(match field.kind {
                    FieldKind::Many(_) | FieldKind::One(_) => relation_condition(field, v, &here)?,
                    _ => field_condition(field, v, &here)?,
                });
            }
        }
    }
    Ok(cond)
}

fn as_list<'v>(v: &'v Value, path: &str) -> AppResult<&'v [Value]> {
    match v {
        Value::List(items) if items.len() <= MAX_LIST => Ok(items),
        Value::List(_) => Err(bad(path, format!("at most {MAX_LIST} items"))),
        _ => Err(bad(path, "expected a list")),
    }
}

/// A scalar operand, converted to a SQL value for `kind`.
fn operand(kind: FieldKind, v: &Value, path: &str) -> AppResult<sea_orm::Value> {
    Ok(match (kind, v) {
        (FieldKind::Text, Value::String(s)) => {
            if str::contains(s, '\0') {
                return Err(bad(path, "text must not contain NUL characters"));
            }
            s.clone().into()
        }
        (FieldKind::Enum(_), Value::Enum(n)) => n.as_str().to_owned().into(),
        (FieldKind::Enum(_), Value::String(s)) => s.clone().into(),
        (FieldKind::Id(ty), Value::String(s)) => id::decode_as(s, ty, path)?.into(),
        (FieldKind::DateTime, Value::String(s)) => {
            crate::validate::iso_datetime(s).ok_or_else(|| bad(path, "expected an RFC 3339 timestamp"))?.into()
        }
        (FieldKind::Date, Value::String(s)) => {
            crate::validate::iso_date(s).ok_or_else(|| bad(path, "expected a date YYYY-MM-DD"))?.into()
        }
        (FieldKind::Int, Value::Number(n)) => n.as_i64().ok_or_else(|| bad(path, "expected an integer"))?.into(),
        (FieldKind::Boolean, Value::Boolean(b)) => (*b).into(),
        _ => return Err(bad(path, "value has the wrong type")),
    })
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn field_condition<C: ColumnTrait>(field: &FilterField<C>, v: &Value, path: &str) -> AppResult<Condition> {
    let Value::Object(ops) = v else {
        return Err(bad(path, "expected an operator object"));
    };
    let col = || Expr::col(field.column.as_column_ref());
    let mut cond = Condition::all();
    for (op, arg) in ops {
        if matches!(arg, Value::Null) {
            continue;
        }
        let here = format!("{path}.{op}");
        let one = || operand(field.kind, arg, &here);
        let many = || -> AppResult<Vec<sea_orm::Value>> {
            as_list(arg, &here)?.iter().map(|x| operand(field.kind, x, &here)).collect()
        };
        let text = || match arg {
            Value::String(s) if !str::contains(s, '\0') => Ok(s.clone()),
            _ => Err(bad(&here, "expected text without NUL characters")),
        };
        let strings = || -> AppResult<Vec<String>> {
            as_list(arg, &here)?
                .iter()
                .map(|x| match x {
                    Value::String(s) if !str::contains(s, '\0') => Ok(s.clone()),
                    _ => Err(bad(&here, "expected text without NUL characters")),
                })
                .collect()
        };
        let column = field.column.as_str().to_owned();
        let e: SimpleExpr = match (field.kind, op.as_str()) {
            (FieldKind::FullText(tsv), "matches") => {
                let q = text()?;
                if q.chars().count() > 500 {
                    return Err(bad(&here, "at most 500 characters"));
                }
                Expr::cust_with_values(format!("\"{tsv}\" @@ websearch_to_tsquery('simple', $1)"), [q])
            }
            (FieldKind::Similar(exprs), "like") => {
                let q = text()?.to_lowercase();
                if q.chars().count() > 200 {
                    return Err(bad(&here, "at most 200 characters"));
                }
                let pattern = format!("%{}%", escape_like(&q));
                let any = exprs.iter().map(|e| format!("({e} % $1 OR {e} LIKE $2)")).collect::<Vec<_>>().join(" OR ");
                Expr::cust_with_values(format!("({any})"), [q, pattern])
            }
            (FieldKind::Tags, "containsAll") => Expr::cust_with_values(format!("\"{column}\" @> $1"), [strings()?]),
            (FieldKind::Tags, "containsAny") => Expr::cust_with_values(format!("\"{column}\" && $1"), [strings()?]),
            (
                FieldKind::FullText(_)
                | FieldKind::Tags
                | FieldKind::Similar(_)
                | FieldKind::Many(_)
                | FieldKind::One(_),
                _,
            ) => {
                return Err(bad(&here, "unknown operator"));
            }
            _ => match op.as_str() {
                "eq" => col().eq(one()?),
                "ne" => col().ne(one()?),
                "lt" => col().lt(one()?),
                "lte" => col().lte(one()?),
                "gt" => col().gt(one()?),
                "gte" => col().gte(one()?),
                "in" => col().is_in(many()?),
                "notIn" => col().is_not_in(many()?),
                "contains" => col().ilike(format!("%{}%", escape_like(&text()?))),
                "startsWith" => col().ilike(format!("{}%", escape_like(&text()?))),
                "ilike" => col().ilike(text()?),
                "isNull" => match arg {
                    Value::Boolean(true) => col().is_null(),
                    Value::Boolean(false) => col().is_not_null(),
                    _ => return Err(bad(&here, "expected true or false")),
                },
                _ => return Err(bad(&here, "unknown operator")),
            },
        };
        cond = cond.add(e);
    }
    Ok(cond)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\"), "50\\%\\_a\\\\");
    }
}
