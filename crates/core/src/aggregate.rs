//! Aggregates and group-by for every list, from its [`ListSpec`]: `<N>Connection.aggregate`
//! (count, sum, avg, min, max of the declared measures) and `<N>Connection.groupBy(field,
//! bucket)` under the same filter and scope as the page, ignoring paging. One statement per
//! level: a nested list's aggregates load for all parents at once (`GROUP BY parent`).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::batch::Loader;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select};
use uuid::Uuid;

use crate::context::RequestCtx;
use crate::db::TxDb;
use crate::error::{AppError, AppResult};
use crate::loader::{LoadError, PagedChildOf, app_error, failed};
use crate::pagination::{ListQuery, ListSpec};

/// Most groups one `groupBy` may return (filter first for more).
pub const MAX_GROUPS: usize = 1000;

/// What a measure adds up: a numeric column, or an SQL expression over the list's row
/// (e.g. a correlated sum from another table of the same domain).
pub enum Measure<C> {
    /// A numeric column.
    Column(C),
    /// An SQL expression evaluated per row.
    Sql(&'static str),
    /// An amount with its currency column: totals are per currency, never across.
    Money {
        /// The amount column.
        amount: C,
        /// The ISO 4217 currency column.
        currency: C,
    },
    /// Money computed per row by SQL expressions over the list's row, e.g. an amount
    /// converted into the organisation's currency at the rate of the row's date. Rows whose
    /// amount is NULL (nothing to convert with) are left out of every statistic, never
    /// guessed; a companion measure can report them.
    SqlMoney {
        /// The amount expression.
        amount: &'static str,
        /// The ISO 4217 currency expression.
        currency: &'static str,
    },
}

/// A numeric measure of a list: `sum`, `avg`, `min`, `max` report it by `name`.
pub struct AggField<C> {
    /// GraphQL field name in `<N>AggregateValues` (camelCase).
    pub name: &'static str,
    /// What it measures.
    pub measure: Measure<C>,
}

/// A measure over a column.
pub fn agg<C>(name: &'static str, column: C) -> AggField<C> {
    AggField { name, measure: Measure::Column(column) }
}

/// A money measure: amount and currency columns.
pub fn agg_money<C>(name: &'static str, amount: C, currency: C) -> AggField<C> {
    AggField { name, measure: Measure::Money { amount, currency } }
}

/// A money measure computed by SQL (see [`Measure::SqlMoney`]).
pub fn agg_money_sql<C>(name: &'static str, amount: &'static str, currency: &'static str) -> AggField<C> {
    AggField { name, measure: Measure::SqlMoney { amount, currency } }
}

impl<C> AggField<C> {
    /// Whether the measure is money (reported per currency).
    pub fn is_money(&self) -> bool {
        matches!(self.measure, Measure::Money { .. } | Measure::SqlMoney { .. })
    }
}

/// A measure over an SQL expression.
pub fn agg_sql<C>(name: &'static str, sql: &'static str) -> AggField<C> {
    AggField { name, measure: Measure::Sql(sql) }
}

/// How a group key is written.
#[derive(Debug, Clone, Copy)]
pub enum GroupKind {
    /// An enum stored as text; groups follow its rank (the values, lowest first).
    Enum(&'static [&'static str]),
    /// A reference to a node of the named type: the key is its global ID.
    Id(&'static str),
    /// A date or timestamp, bucketed by day, week, month, quarter or year: the key is the
    /// bucket's first day.
    Date,
    /// Plain text.
    Text,
}

/// A field lists can be grouped by.
pub struct GroupField<C> {
    /// Value in `<N>GroupField` (SCREAMING_SNAKE_CASE).
    pub name: &'static str,
    /// The column.
    pub column: C,
    /// How its keys are written.
    pub kind: GroupKind,
}

/// The grouping by the group field named `name` of `spec` (days for dates).
pub fn grouping<E: EntityTrait>(spec: &ListSpec<E>, name: &str) -> AppResult<Grouping> {
    let field =
        spec.groups.iter().position(|g| g.name == name).ok_or_else(|| AppError::internal("no such group field"))?;
    Ok(Grouping { field, bucket: DateBucket::Day })
}

/// Shorthand constructor.
pub fn gf<C>(name: &'static str, column: C, kind: GroupKind) -> GroupField<C> {
    GroupField { name, column, kind }
}

/// A date bucket of `groupBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, opsgraph_derive::GqlEnum)]
pub enum DateBucket {
    /// One group per day.
    Day,
    /// One group per ISO week (starting Monday).
    Week,
    /// One group per calendar month.
    Month,
    /// One group per calendar quarter.
    Quarter,
    /// One group per calendar year.
    Year,
}

/// A `groupBy` request: the index of the group field and the bucket for dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grouping {
    /// Index into [`ListSpec::groups`].
    pub field: usize,
    /// Date bucket (dates only).
    pub bucket: DateBucket,
}

/// The statistics of a money measure in one currency.
#[derive(Debug, Clone)]
pub struct MoneyStat {
    /// ISO 4217 code.
    pub currency: String,
    /// Total.
    pub sum: Decimal,
    /// Smallest amount.
    pub min: Decimal,
    /// Largest amount.
    pub max: Decimal,
    /// How many amounts.
    pub count: i64,
    /// Computed per row by SQL ([`Measure::SqlMoney`]): reported in cents
    /// ([`crate::money::cents`], after summing).
    pub computed: bool,
}

impl MoneyStat {
    /// The mean amount (in cents when computed).
    pub fn avg(&self) -> Decimal {
        let m = mean(self.sum, self.count);
        if self.computed { crate::money::cents(m) } else { m }
    }
}

fn mean(sum: Decimal, count: i64) -> Decimal {
    if count == 0 { Decimal::ZERO } else { (sum / Decimal::from(count)).round_dp(6).normalize() }
}

/// What one aggregate field asks: the grouping (none: the whole list) and which measures
/// (bit `i` = measure `i`; only selected measures are computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AggQuery {
    /// The grouping, if any.
    pub group: Option<Grouping>,
    /// The measures to compute.
    pub measures: u64,
}

impl AggQuery {
    fn wants(self, i: usize) -> bool {
        i < 64 && self.measures & (1 << i) != 0
    }
}

/// One aggregate row: the whole list (no key) or one group.
#[derive(Debug, Clone, Default)]
pub struct AggRow {
    /// Per money measure (by measure index; empty for numeric ones): one entry per currency.
    pub money: Vec<Vec<MoneyStat>>,
    /// The group key (`None` for the whole list, or rows without a value).
    pub key: Option<String>,
    /// Matching rows.
    pub count: i64,
    /// Per measure, in declaration order.
    pub sum: Vec<Option<Decimal>>,
    /// Per measure.
    pub avg: Vec<Option<Decimal>>,
    /// Per measure.
    pub min: Vec<Option<Decimal>>,
    /// Per measure.
    pub max: Vec<Option<Decimal>>,
}

/// Where a connection's aggregates come from (set by the list that built the page).
#[async_trait::async_trait]
pub trait AggregateSource: Send + Sync {
    /// The whole list's aggregate (`group` = `None`) or its groups.
    async fn run(&self, req: &RequestCtx, q: AggQuery) -> AppResult<Vec<AggRow>>;
}

fn key_expr<C: ColumnTrait>(g: &GroupField<C>, bucket: DateBucket) -> SimpleExpr {
    let col = Expr::col(g.column.as_column_ref());
    match g.kind {
        GroupKind::Date => {
            let unit = bucket.as_str().to_lowercase();
            Expr::cust_with_expr(format!("to_char(date_trunc('{unit}', $1), 'YYYY-MM-DD')"), col)
        }
        _ => Expr::cust_with_expr("($1)::text", col),
    }
}

/// A measure's value for one row.
fn measure_expr<C: ColumnTrait>(m: &Measure<C>) -> SimpleExpr {
    match m {
        Measure::Column(c) | Measure::Money { amount: c, .. } => Expr::col(c.as_column_ref()),
        Measure::Sql(sql) | Measure::SqlMoney { amount: sql, .. } => Expr::cust(*sql),
    }
}

/// The currency of a money measure's row.
fn currency_expr<C: ColumnTrait>(m: &Measure<C>) -> Option<SimpleExpr> {
    match m {
        Measure::Money { currency, .. } => Some(Expr::col(currency.as_column_ref())),
        Measure::SqlMoney { currency, .. } => Some(Expr::cust(*currency)),
        _ => None,
    }
}

/// The aggregate statement: the list's rows with their partition, group key, currencies and
/// measure values computed once each (`m<i>`, however many functions use them), grouped
/// outside: `SELECT __p, __k, cur<i>, count(*), sum(m<i>), min, max, count FROM (rows) GROUP BY ..`.
fn statement<E: EntityTrait>(
    spec: &ListSpec<E>,
    select: Select<E>,
    partition: Option<E::Column>,
    grouped: Option<(&GroupField<E::Column>, Grouping)>,
    q: AggQuery,
) -> SelectStatement {
    let mut inner = select.select_only();
    let mut outer = Query::select();
    let keep = |outer: &mut SelectStatement, name: String| {
        outer.expr_as(Expr::col(Alias::new(&name)), Alias::new(&name)).group_by_col(Alias::new(&name));
    };
    if let Some(p) = partition {
        inner = inner.column_as(p, "__p");
        keep(&mut outer, "__p".into());
    }
    if let Some((gfield, g)) = grouped {
        inner = inner.column_as(key_expr(gfield, g.bucket), "__k");
        keep(&mut outer, "__k".into());
    }
    outer.expr_as(Expr::cust("COUNT(*)"), Alias::new("__n"));
    for (i, a) in spec.aggregates.iter().enumerate().filter(|(i, _)| q.wants(*i)) {
        if let Some(c) = currency_expr(&a.measure) {
            inner = inner.column_as(c, format!("cur{i}"));
            keep(&mut outer, format!("cur{i}"));
        }
        inner = inner.column_as(measure_expr(&a.measure), format!("m{i}"));
        for f in ["SUM", "MIN", "MAX", "COUNT"] {
            outer.expr_as(Expr::cust(format!("({f}(m{i}))::numeric")), Alias::new(format!("{}{i}", f.to_lowercase())));
        }
    }
    outer.from_subquery(inner.into_query(), Alias::new("__x"));
    // Money measures split groups by currency: fold first, count groups after.
    let money = spec.aggregates.iter().enumerate().any(|(i, a)| q.wants(i) && a.is_money());
    outer.limit(if money { 100_000 } else { MAX_GROUPS as u64 + 1 });
    outer
}

/// What one statement row holds before rows of the same group (split by currency when the
/// list has money measures) are folded together.
struct Partial {
    parent: Option<Uuid>,
    key: Option<String>,
    count: i64,
    currencies: Vec<Option<String>>,
    stats: Vec<[Option<Decimal>; 4]>,
}

/// Aggregates of `select` (already scoped and filtered), per `partition` value when given,
/// per group when asked; one statement.
async fn run<E, C>(
    db: &C,
    spec: &ListSpec<E>,
    select: Select<E>,
    partition: Option<E::Column>,
    q: AggQuery,
) -> AppResult<Vec<(Option<Uuid>, AggRow)>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let group = q.group;
    let grouped = match group {
        Some(g) => Some(spec.groups.get(g.field).ok_or_else(|| AppError::bad_input("field", "unknown field"))?),
        None => None,
    };
    let sel = statement(spec, select, partition, grouped.zip(group), q);
    let stmt = db.get_database_backend().build(&sel);
    let rows = db.query_all_raw(stmt).await?;
    let mut partials = Vec::with_capacity(rows.len());
    for r in rows {
        let n = spec.aggregates.len();
        let get = |f: &str, i: usize| r.try_get::<Option<Decimal>>("", &format!("{f}{i}"));
        let stats = (0..n)
            .map(|i| {
                if q.wants(i) {
                    Ok([get("sum", i)?, get("min", i)?, get("max", i)?, get("count", i)?])
                } else {
                    Ok([None; 4])
                }
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        let currencies =
            (0..n)
                .map(|i| {
                    if q.wants(i) && spec.aggregates[i].is_money() {
                        r.try_get("", &format!("cur{i}"))
                    } else {
                        Ok(None)
                    }
                })
                .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        partials.push(Partial {
            parent: if partition.is_some() { Some(r.try_get("", "__p")?) } else { None },
            key: if grouped.is_some() { r.try_get("", "__k")? } else { None },
            count: r.try_get("", "__n")?,
            currencies,
            stats,
        });
    }
    let mut out = fold(spec, partials);
    if grouped.is_some() && out.len() > MAX_GROUPS {
        return Err(AppError::bad_input("field", format!("more than {MAX_GROUPS} groups; narrow the filter")));
    }
    if let Some(g) = grouped {
        finish_keys(g.kind, &mut out);
    }
    Ok(out)
}

/// Folds statement rows of the same (parent, key) into one row per group.
fn fold<E: EntityTrait>(spec: &ListSpec<E>, partials: Vec<Partial>) -> Vec<(Option<Uuid>, AggRow)> {
    let n = spec.aggregates.len();
    let mut out: Vec<(Option<Uuid>, AggRow)> = Vec::new();
    let mut cnt: Vec<Vec<Decimal>> = Vec::new();
    let mut index: HashMap<(Option<Uuid>, Option<String>), usize> = HashMap::new();
    for p in partials {
        let at = *index.entry((p.parent, p.key.clone())).or_insert_with(|| {
            let row = AggRow {
                key: p.key.clone(),
                money: vec![vec![]; n],
                sum: vec![None; n],
                avg: vec![None; n],
                min: vec![None; n],
                max: vec![None; n],
                ..AggRow::default()
            };
            out.push((p.parent, row));
            cnt.push(vec![Decimal::ZERO; n]);
            out.len() - 1
        });
        let row = &mut out[at].1;
        row.count += p.count;
        for (i, [sum, min, max, count]) in p.stats.into_iter().enumerate() {
            let c = count.unwrap_or_default();
            match (&p.currencies[i], spec.aggregates[i].is_money()) {
                (Some(cur), true) => add_money(&mut row.money[i], cur, [sum, min, max], c),
                (None, true) => {}
                (_, false) => {
                    row.sum[i] = add(row.sum[i], sum, |a, b| a + b);
                    row.min[i] = add(row.min[i], min, Decimal::min);
                    row.max[i] = add(row.max[i], max, Decimal::max);
                    cnt[at][i] += c;
                }
            }
        }
    }
    for ((_, row), cnt) in out.iter_mut().zip(cnt) {
        row.avg = row.sum.iter().zip(cnt).map(|(s, c)| s.map(|s| mean(s, c.try_into().unwrap_or(i64::MAX)))).collect();
        for (i, m) in row.money.iter_mut().enumerate() {
            m.sort_by(|a, b| a.currency.cmp(&b.currency));
            if matches!(spec.aggregates[i].measure, Measure::SqlMoney { .. }) {
                for stat in m.iter_mut() {
                    let c = crate::money::cents;
                    (stat.sum, stat.min, stat.max, stat.computed) = (c(stat.sum), c(stat.min), c(stat.max), true);
                }
            }
        }
    }
    out
}

fn add(a: Option<Decimal>, b: Option<Decimal>, f: fn(Decimal, Decimal) -> Decimal) -> Option<Decimal> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => a.or(b),
    }
}

fn add_money(stats: &mut Vec<MoneyStat>, cur: &str, [sum, min, max]: [Option<Decimal>; 3], count: Decimal) {
    let (Some(sum), Some(min), Some(max)) = (sum, min, max) else { return };
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    match stats.iter_mut().find(|m| m.currency == cur) {
        Some(m) => {
            m.sum += sum;
            m.min = m.min.min(min);
            m.max = m.max.max(max);
            m.count += count;
        }
        None => stats.push(MoneyStat { currency: cur.to_owned(), sum, min, max, count, computed: false }),
    }
}

/// Writes node keys as global IDs and orders groups: enums by rank, others by key, no value last.
fn finish_keys(kind: GroupKind, out: &mut [(Option<Uuid>, AggRow)]) {
    if let GroupKind::Id(node) = kind {
        for (_, r) in out.iter_mut() {
            r.key = r.key.as_deref().and_then(|k| Uuid::parse_str(k).ok()).map(|u| crate::id::encode(node, u));
        }
    }
    let rank = |k: &Option<String>| match (kind, k) {
        (_, None) => (usize::MAX, String::new()),
        (GroupKind::Enum(values), Some(k)) => (values.iter().position(|v| v == k).unwrap_or(values.len()), k.clone()),
        (_, Some(k)) => (0, k.clone()),
    };
    out.sort_by_key(|(_, r)| rank(&r.key));
}

/// The aggregates of a root list: its scoped, filtered query.
pub struct RootAggregate<E: EntityTrait> {
    /// The list's declaration.
    pub spec: &'static ListSpec<E>,
    /// The list's query without paging.
    pub select: Select<E>,
}

#[async_trait::async_trait]
impl<E> AggregateSource for RootAggregate<E>
where
    E: EntityTrait + Send + Sync,
    Select<E>: Send + Sync,
{
    async fn run(&self, req: &RequestCtx, q: AggQuery) -> AppResult<Vec<AggRow>> {
        let rows = run(req.db.as_ref(), self.spec, self.select.clone(), None, q).await?;
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }
}

/// The aggregates of one parent's nested list through `R`, batched across parents.
pub struct ChildAggregate<R> {
    /// The parent.
    pub parent: Uuid,
    /// The list's arguments (its filter applies).
    pub query: Arc<ListQuery>,
    /// The relationship.
    pub rel: PhantomData<R>,
}

#[async_trait::async_trait]
impl<R> AggregateSource for ChildAggregate<R>
where
    R: PagedChildOf,
    <R::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    async fn run(&self, req: &RequestCtx, q: AggQuery) -> AppResult<Vec<AggRow>> {
        let (key, group) = ((self.parent, self.query.clone(), q), q.group);
        let rows = req.loader(AggregateBy::<R>::new).load_one(key).await.map_err(|e| failed(&e))?;
        Ok(match (rows, group) {
            (Some(rows), _) => rows,
            // No matching rows: groups are empty, the whole-list aggregate counts zero.
            (None, Some(_)) => vec![],
            (None, None) => vec![AggRow {
                money: vec![vec![]; R::spec().aggregates.len()],
                sum: vec![None; R::spec().aggregates.len()],
                avg: vec![None; R::spec().aggregates.len()],
                min: vec![None; R::spec().aggregates.len()],
                max: vec![None; R::spec().aggregates.len()],
                ..AggRow::default()
            }],
        })
    }
}

/// Aggregate rows per (parent, arguments, grouping); equal arguments batch into one statement.
pub struct AggregateBy<R>(Arc<TxDb>, PhantomData<R>);

impl<R: PagedChildOf> AggregateBy<R> {
    /// For the request's transaction.
    pub fn new(db: Arc<TxDb>) -> Self {
        AggregateBy(db, PhantomData)
    }
}

type AggKey = (Uuid, Arc<ListQuery>, AggQuery);

impl<R> Loader<AggKey> for AggregateBy<R>
where
    R: PagedChildOf,
    <R::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    type Value = Vec<AggRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[AggKey]) -> Result<HashMap<AggKey, Vec<AggRow>>, LoadError> {
        let mut batches: HashMap<(Arc<ListQuery>, AggQuery), Vec<Uuid>> = HashMap::new();
        for (parent, q, g) in keys {
            batches.entry((q.clone(), *g)).or_default().push(*parent);
        }
        let mut out: HashMap<AggKey, Vec<AggRow>> = HashMap::new();
        for ((q, g), parents) in batches {
            let spec = R::spec();
            let base = R::scope(R::Entity::find()).filter(R::column().is_in(parents.iter().copied()));
            let select = q.filtered(spec, base).map_err(app_error)?;
            let rows = run(self.0.as_ref(), spec, select, Some(R::column()), g).await.map_err(app_error)?;
            for (parent, row) in rows {
                if let Some(p) = parent {
                    out.entry((p, q.clone(), g)).or_default().push(row);
                }
            }
        }
        Ok(out)
    }
}
