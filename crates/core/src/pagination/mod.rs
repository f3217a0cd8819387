//! Relay cursor connections with keyset pagination on a stable order (never OFFSET),
//! declared once per node type as a [`ListSpec`]. Nested connections under a list of
//! parents load in ONE statement per level ([`page_per_parent`]).

use std::any::Any;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Enum, EnumItem, Field, InputObject, InputValue, ResolverContext, TypeRef};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::sea_query::{Expr, ExprTrait, Order, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::filter::{self, FilterField};

mod per_parent;
pub use per_parent::page_per_parent;

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// How a sort key's values are written into cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    /// Text (also enums stored as text).
    Text,
    /// UUID.
    Uuid,
    /// Timestamp with time zone.
    DateTime,
    /// Calendar date.
    Date,
    /// Integer.
    Int,
    /// Floating point (manual board positions).
    Float,
    /// An enum stored as text whose values have an order (priority, status, severity,
    /// stage): sorts by the value's position in the list, lowest first.
    Ranked(&'static [&'static str]),
    /// A nullable calendar date; rows without one sort after every date.
    DateOrLast,
}

/// The date that stands for "none" in [`SortKind::DateOrLast`].
const NO_DATE: &str = "9999-12-31";

impl SortKind {
    /// The SQL expression sorted and compared for `col`.
    fn expr(self, col: SimpleExpr) -> SimpleExpr {
        match self {
            SortKind::Ranked(values) => {
                // A CASE (not array_position, which unpacks the array for every row).
                let arms: String = values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!(" WHEN '{}' THEN {}", v.replace('\'', "''"), i + 1))
                    .collect();
                Expr::cust_with_expr(format!("(CASE $1::text{arms} END)"), col)
            }
            SortKind::DateOrLast => Expr::cust_with_expr(format!("COALESCE($1, DATE '{NO_DATE}')"), col),
            _ => col,
        }
    }

    /// The value compared against [`SortKind::expr`] for a cursor's stored value.
    fn key(self, v: sea_orm::Value) -> SimpleExpr {
        match (self, &v) {
            (SortKind::Ranked(values), sea_orm::Value::String(Some(s))) => {
                let rank = values.iter().position(|x| x == s).map(|i| i as i32 + 1);
                SimpleExpr::from(rank)
            }
            _ => SimpleExpr::from(v),
        }
    }
}

/// One orderable field (a NOT NULL column, so keyset comparisons are total).
pub struct SortKey<C> {
    /// Enum value name in `<Node>OrderField` (SCREAMING_SNAKE_CASE).
    pub name: &'static str,
    /// The column.
    pub column: C,
    /// Its value kind.
    pub kind: SortKind,
}

/// Shorthand constructor.
pub fn sk<C>(name: &'static str, column: C, kind: SortKind) -> SortKey<C> {
    SortKey { name, column, kind }
}

/// Everything a list of one node type offers: filters, orders, the id tiebreaker.
pub struct ListSpec<E: EntityTrait> {
    /// The node type name (e.g. `Membership`).
    pub node: &'static str,
    /// The primary key column (last tiebreaker of every order).
    pub id: E::Column,
    /// Filterable fields.
    pub filters: Vec<FilterField<E::Column>>,
    /// Orderable fields.
    pub sorts: Vec<SortKey<E::Column>>,
    /// The order used when `orderBy` is absent (name of a sort key, ascending).
    pub default_sort: &'static str,
    /// Numeric measures reported by `aggregate` and `groupBy` (besides the count).
    pub aggregates: Vec<crate::aggregate::AggField<E::Column>>,
    /// Fields `groupBy` accepts.
    pub groups: Vec<crate::aggregate::GroupField<E::Column>>,
    /// The columns each plain field of the node reads (`("title", vec![Column::Title])`):
    /// a page whose selected fields are all declared here reads only their columns (see
    /// [`crate::projection`]). Empty: pages read whole rows.
    pub lean: Vec<(&'static str, Vec<E::Column>)>,
}

/// Parsed connection arguments; hashable so nested loaders can batch equal queries.
#[derive(Debug, Clone)]
pub struct ListQuery {
    first: Option<u64>,
    after: Option<String>,
    last: Option<u64>,
    before: Option<String>,
    filter: Option<Value>,
    order: Vec<(usize, bool)>,
    /// Whether `totalCount` was selected.
    pub want_total: bool,
    /// Whether a cursor (`edges.cursor`, `pageInfo.startCursor/endCursor`) was selected;
    /// cursors are encoded only then.
    pub want_cursors: bool,
    /// The columns the selection reads (see [`crate::projection`]); `None`: whole rows.
    columns: Option<u64>,
}

impl PartialEq for ListQuery {
    fn eq(&self, o: &Self) -> bool {
        self.first == o.first
            && self.after == o.after
            && self.last == o.last
            && self.before == o.before
            && self.filter.as_ref().map(Value::to_string) == o.filter.as_ref().map(Value::to_string)
            && self.order == o.order
            && self.want_total == o.want_total
            && self.want_cursors == o.want_cursors
            && self.columns == o.columns
    }
}
impl Eq for ListQuery {}
impl Hash for ListQuery {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (self.first, &self.after, self.last, &self.before, &self.order, self.want_total, self.want_cursors).hash(h);
        self.columns.hash(h);
        self.filter.as_ref().map(Value::to_string).hash(h);
    }
}

/// One page of a connection, ready for the `<Node>Connection` type.
#[derive(Clone)]
pub struct Connection {
    /// Where `aggregate` and `groupBy` read from (the list's query without paging).
    pub agg: Option<Arc<dyn crate::aggregate::AggregateSource>>,
    /// The edges, in order.
    pub edges: Vec<Edge>,
    /// Relay page info.
    pub page_info: PageInfo,
    /// Total matching rows, when `totalCount` was selected.
    pub total: Option<i64>,
}

/// One edge: its cursor and node.
#[derive(Clone)]
pub struct Edge {
    /// Opaque cursor of this position.
    pub cursor: String,
    /// The node (a SeaORM model of the node type).
    pub node: Arc<dyn Any + Send + Sync>,
}

/// Relay `PageInfo`.
#[derive(Debug, Clone, Default)]
pub struct PageInfo {
    /// More rows after this page.
    pub has_next_page: bool,
    /// More rows before this page.
    pub has_previous_page: bool,
    /// Cursor of the first edge.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge.
    pub end_cursor: Option<String>,
}

impl Connection {
    /// An empty connection (no parent rows, or nothing visible).
    pub fn empty(want_total: bool) -> Self {
        Connection { agg: None, edges: vec![], page_info: PageInfo::default(), total: want_total.then_some(0) }
    }
}

fn bad(field: &str, msg: impl Into<String>) -> AppError {
    AppError::bad_input(field, msg)
}

impl ListQuery {
    /// Reads `first/after/last/before/filter/orderBy` of the current field and whether
    /// `totalCount` is selected.
    pub fn from_ctx<E: EntityTrait>(ctx: &ResolverContext<'_>, spec: &ListSpec<E>) -> AppResult<Self> {
        let size = |name: &str| -> AppResult<Option<u64>> {
            match ctx.args.get(name) {
                None => Ok(None),
                Some(v) if v.is_null() => Ok(None),
                Some(v) => {
                    let n = v.i64().map_err(|_| bad(name, "expected an integer"))?;
                    if !(0..=MAX_PAGE_SIZE as i64).contains(&n) {
                        return Err(bad(name, format!("must be between 0 and {MAX_PAGE_SIZE}")));
                    }
                    Ok(Some(n as u64))
                }
            }
        };
        let text = |name: &str| -> AppResult<Option<String>> {
            match ctx.args.get(name) {
                None => Ok(None),
                Some(v) if v.is_null() => Ok(None),
                Some(v) => Ok(Some(v.string().map_err(|_| bad(name, "expected a cursor"))?.to_owned())),
            }
        };
        let (first, last) = (size("first")?, size("last")?);
        if first.is_some() && last.is_some() {
            return Err(bad("last", "use either `first` or `last`, not both"));
        }
        let filter = ctx.args.get("filter").filter(|v| !v.is_null()).map(|v| v.as_value().clone());
        if let Some(f) = &filter {
            filter::compile(&spec.filters, f)?; // validate early: bad input fails the field
        }
        let mut order = Vec::new();
        if let Some(list) = ctx.args.get("orderBy").filter(|v| !v.is_null()) {
            let list = list.list().map_err(|_| bad("orderBy", "expected a list"))?;
            if list.len() > 3 {
                return Err(bad("orderBy", "at most 3 sort fields"));
            }
            for item in list.iter() {
                let obj = item.object().map_err(|_| bad("orderBy", "expected an object"))?;
                let field_value = obj.try_get("field").map_err(|_| bad("orderBy.field", "required"))?;
                let field = field_value.enum_name().map_err(|_| bad("orderBy.field", "expected an enum value"))?;
                let idx = spec
                    .sorts
                    .iter()
                    .position(|s| s.name == field)
                    .ok_or_else(|| bad("orderBy.field", "unknown field"))?;
                let desc = obj.get("direction").is_some_and(|d| d.enum_name().is_ok_and(|n| n == "DESC"));
                order.push((idx, desc));
            }
        }
        if order.is_empty() {
            let idx = spec.sorts.iter().position(|s| s.name == spec.default_sort).unwrap_or(0);
            order.push((idx, false));
        }
        let ahead = ctx.look_ahead();
        let want_total = ahead.field("totalCount").exists();
        let info = ahead.field("pageInfo");
        let want_cursors = ahead.field("edges").field("cursor").exists()
            || info.field("startCursor").exists()
            || info.field("endCursor").exists();
        let columns = crate::projection::lean_columns(&ahead, spec, &order);
        let q = ListQuery {
            first,
            after: text("after")?,
            last,
            before: text("before")?,
            filter,
            order,
            want_total,
            want_cursors,
            columns,
        };
        // Validate cursors now so a bad cursor is BAD_USER_INPUT before any query runs.
        if let Some(c) = &q.after {
            decode_cursor(spec, &q, c, "after")?;
        }
        if let Some(c) = &q.before {
            decode_cursor(spec, &q, c, "before")?;
        }
        Ok(q)
    }

    /// Every item of a list, in its default order, first page (for server-side uses of a
    /// list such as board statistics).
    pub fn all<E: EntityTrait>(spec: &ListSpec<E>) -> Self {
        let idx = spec.sorts.iter().position(|s| s.name == spec.default_sort).unwrap_or(0);
        ListQuery {
            first: None,
            after: None,
            last: None,
            before: None,
            filter: None,
            order: vec![(idx, false)],
            want_total: false,
            want_cursors: false,
            columns: None,
        }
    }

    /// `base` narrowed by this query's filter (no cursors, no paging): what aggregates read.
    pub fn filtered<E: EntityTrait>(&self, spec: &ListSpec<E>, base: Select<E>) -> AppResult<Select<E>> {
        Ok(match &self.filter {
            Some(f) => base.filter(filter::compile(&spec.filters, f)?),
            None => base,
        })
    }

    fn backward(&self) -> bool {
        self.last.is_some()
    }

    fn limit(&self) -> u64 {
        self.first.or(self.last).unwrap_or(DEFAULT_PAGE_SIZE)
    }
}

/// The effective order: the chosen keys plus the id tiebreaker, as (column, kind, desc).
fn effective_order<E: EntityTrait>(spec: &ListSpec<E>, q: &ListQuery) -> Vec<(E::Column, SortKind, bool)> {
    let mut keys: Vec<_> = q.order.iter().map(|&(i, desc)| (spec.sorts[i].column, spec.sorts[i].kind, desc)).collect();
    let last_desc = keys.last().is_some_and(|k| k.2);
    keys.push((spec.id, SortKind::Uuid, last_desc));
    keys
}

fn signature<E: EntityTrait>(spec: &ListSpec<E>, q: &ListQuery) -> String {
    q.order
        .iter()
        .map(|&(i, d)| format!("{}{}", spec.sorts[i].name, if d { "-" } else { "+" }))
        .collect::<Vec<_>>()
        .join(",")
}

fn to_json(v: sea_orm::Value) -> AppResult<serde_json::Value> {
    use sea_orm::Value as V;
    Ok(match v {
        V::String(Some(s)) => serde_json::Value::String(s),
        V::Uuid(Some(u)) => serde_json::Value::String(u.to_string()),
        V::ChronoDateTimeWithTimeZone(Some(t)) => {
            serde_json::Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        }
        V::ChronoDate(Some(d)) => serde_json::Value::String(d.to_string()),
        V::ChronoDate(None) => serde_json::Value::String(NO_DATE.to_owned()),
        V::Int(Some(i)) => i.into(),
        V::BigInt(Some(i)) => i.into(),
        V::SmallInt(Some(i)) => i.into(),
        V::Double(Some(f)) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| AppError::internal("non-finite position"))?,
        other => {
            return Err(AppError::internal(format!("unsupported sort value {other:?}")));
        }
    })
}

fn from_json(kind: SortKind, v: &serde_json::Value) -> Option<sea_orm::Value> {
    Some(match kind {
        SortKind::Text => v.as_str()?.to_owned().into(),
        SortKind::Uuid => Uuid::parse_str(v.as_str()?).ok()?.into(),
        SortKind::DateTime => chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok()?.into(),
        SortKind::Date => crate::validate::iso_date(v.as_str()?)?.into(),
        SortKind::Int => v.as_i64()?.into(),
        SortKind::Float => v.as_f64()?.into(),
        SortKind::Ranked(values) => values.iter().find(|x| Some(**x) == v.as_str())?.to_string().into(),
        SortKind::DateOrLast => {
            let s = v.as_str()?;
            let none = || (s == NO_DATE).then(|| chrono::NaiveDate::from_ymd_opt(9999, 12, 31)).flatten();
            crate::validate::iso_date(s).or_else(none)?.into()
        }
    })
}

fn encode_cursor<E: EntityTrait>(spec: &ListSpec<E>, q: &ListQuery, model: &E::Model) -> AppResult<String> {
    let mut parts = vec![serde_json::Value::String(signature(spec, q))];
    for (col, _, _) in effective_order(spec, q) {
        parts.push(to_json(model.get(col))?);
    }
    Ok(URL_SAFE_NO_PAD.encode(serde_json::Value::Array(parts).to_string()))
}

fn decode_cursor<E: EntityTrait>(
    spec: &ListSpec<E>,
    q: &ListQuery,
    cursor: &str,
    arg: &str,
) -> AppResult<Vec<sea_orm::Value>> {
    let invalid = || bad(arg, "invalid cursor (cursors are only valid with the same orderBy)");
    if cursor.len() > 1024 {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let parts: Vec<serde_json::Value> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let order = effective_order(spec, q);
    if parts.len() != order.len() + 1 || parts[0].as_str() != Some(signature(spec, q).as_str()) {
        return Err(invalid());
    }
    order.iter().zip(&parts[1..]).map(|((_, kind, _), v)| from_json(*kind, v).ok_or_else(invalid)).collect()
}

/// Rows strictly after (`after = true`) or before the cursor position in `order`.
fn keyset<C: ColumnTrait>(order: &[(C, SortKind, bool)], values: Vec<sea_orm::Value>, after: bool) -> Condition {
    let mut any = Condition::any();
    for k in 0..order.len() {
        let mut all = Condition::all();
        for (i, (col, kind, _)) in order.iter().enumerate().take(k) {
            all = all.add(kind.expr(Expr::col(col.as_column_ref())).eq(kind.key(values[i].clone())));
        }
        let (col, kind, desc) = &order[k];
        let greater = after != *desc;
        let c = kind.expr(Expr::col(col.as_column_ref()));
        let v = kind.key(values[k].clone());
        all = all.add(if greater { c.gt(v) } else { c.lt(v) });
        any = any.add(all);
    }
    any
}

/// One page of `filtered` (the base already narrowed by [`ListQuery::filtered`]): after
/// its cursors, in its order, one row over the limit (to tell whether there are more),
/// reading the selection's columns with `extra`.
fn page_select<E: EntityTrait>(
    spec: &ListSpec<E>,
    q: &ListQuery,
    filtered: Select<E>,
    extra: Option<E::Column>,
) -> AppResult<Select<E>> {
    let order = effective_order(spec, q);
    let mut sel = filtered;
    if let Some(c) = &q.after {
        sel = sel.filter(keyset(&order, decode_cursor(spec, q, c, "after")?, true));
    }
    if let Some(c) = &q.before {
        sel = sel.filter(keyset(&order, decode_cursor(spec, q, c, "before")?, false));
    }
    let flip = q.backward();
    for (c, kind, desc) in &order {
        let direction = if *desc != flip { Order::Desc } else { Order::Asc };
        sel = sel.order_by(kind.expr(Expr::col(c.as_column_ref())), direction);
    }
    Ok(crate::projection::projected(sel, q.columns, extra).limit(q.limit() + 1))
}

fn finish<E: EntityTrait>(
    spec: &ListSpec<E>,
    q: &ListQuery,
    mut rows: Vec<E::Model>,
    total: Option<i64>,
) -> AppResult<Connection>
where
    E::Model: Send + Sync + 'static,
{
    let limit = q.limit() as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    if q.backward() {
        rows.reverse();
    }
    let edges = rows
        .into_iter()
        .map(|m| {
            let cursor = if q.want_cursors { encode_cursor(spec, q, &m)? } else { String::new() };
            Ok(Edge { cursor, node: Arc::new(m) as Arc<dyn Any + Send + Sync> })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let page_info = PageInfo {
        has_next_page: if q.backward() { q.before.is_some() } else { more },
        has_previous_page: if q.backward() { more } else { q.after.is_some() },
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Ok(Connection { agg: None, edges, page_info, total })
}

/// One page of `base` (already scoped by the caller) per the client's arguments; its
/// `aggregate` / `groupBy` read `base` under the same filter.
pub async fn page<E, C>(db: &C, spec: &'static ListSpec<E>, q: &ListQuery, base: Select<E>) -> AppResult<Connection>
where
    E: EntityTrait + Send + Sync,
    E::Model: Send + Sync + 'static,
    Select<E>: Send + Sync,
    C: ConnectionTrait,
{
    let filtered = q.filtered(spec, base)?;
    let total = if q.want_total { Some(filtered.clone().count(db).await? as i64) } else { None };
    let sel = page_select(spec, q, filtered.clone(), None)?;
    let rows = db.query_all_raw(sel.build(db.get_database_backend())).await?;
    let rows = crate::projection::models::<E>(&rows)?;
    let mut conn = finish(spec, q, rows, total)?;
    conn.agg = Some(Arc::new(crate::aggregate::RootAggregate { spec, select: filtered }));
    Ok(conn)
}

impl<E: EntityTrait> ListSpec<E> {
    /// The GraphQL types this list needs: `<Node>Connection`, `<Node>Edge`,
    /// `<Node>Filter`, `<Node>OrderField`, `<Node>Order`.
    pub fn types(&self) -> (Vec<async_graphql::dynamic::Object>, Vec<InputObject>, Vec<Enum>) {
        let node = self.node;
        let mut order_enum =
            Enum::new(format!("{node}OrderField")).description(format!("Fields {node} lists can be ordered by."));
        for s in &self.sorts {
            order_enum = order_enum.item(
                EnumItem::new(s.name).description(format!("Order by {}.", s.name.to_lowercase().replace('_', " "))),
            );
        }
        let order_input = InputObject::new(format!("{node}Order"))
            .description(format!("One sort key for {node} lists."))
            .field(
                InputValue::new("field", TypeRef::named_nn(format!("{node}OrderField")))
                    .description("The field to order by."),
            )
            .field(
                InputValue::new("direction", TypeRef::named_nn("OrderDirection"))
                    .default_value(Value::Enum(async_graphql::Name::new("ASC")))
                    .description("Ascending or descending."),
            );
        let filter_input = filter::filter_input(node, &self.filters);
        let (mut objects, mut enums) = (crate::gql::connection_objects(node), vec![order_enum]);
        let (extra, conn) = crate::gql::aggregate_types(node, self);
        objects[0] = conn(std::mem::replace(&mut objects[0], async_graphql::dynamic::Object::new("__placeholder")));
        objects.extend(extra.0);
        enums.extend(extra.1);
        (objects, vec![filter_input, order_input, filter::relation_input(node)], enums)
    }

    /// Adds `first/after/last/before/filter/orderBy` to a connection field.
    pub fn args(&self, field: Field) -> Field {
        let node = self.node;
        field
            .argument(
                InputValue::new("first", TypeRef::named(TypeRef::INT))
                    .description(format!("Return the first n (at most {MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}).")),
            )
            .argument(
                InputValue::new("after", TypeRef::named(TypeRef::STRING))
                    .description("Return items after this cursor."),
            )
            .argument(
                InputValue::new("last", TypeRef::named(TypeRef::INT))
                    .description(format!("Return the last n (at most {MAX_PAGE_SIZE}).")),
            )
            .argument(
                InputValue::new("before", TypeRef::named(TypeRef::STRING))
                    .description("Return items before this cursor."),
            )
            .argument(
                InputValue::new("filter", TypeRef::named(format!("{node}Filter")))
                    .description("Only items matching these conditions."),
            )
            .argument(
                InputValue::new("orderBy", TypeRef::named_nn_list(format!("{node}Order")))
                    .description(format!("Sort order; default {} ascending; the id breaks ties.", self.default_sort)),
            )
    }
}
