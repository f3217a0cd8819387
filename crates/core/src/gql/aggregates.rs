//! The GraphQL side of [`crate::aggregate`]: `<N>Aggregate`, `<N>AggregateValues`,
//! `<N>Group`, `<N>GroupField` and the `aggregate` / `groupBy` fields of `<N>Connection`.

use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{Enum, EnumItem, Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;

use super::{GqlEnum, Money, parent};
use crate::aggregate::{AggQuery, AggRow, DateBucket, GroupKind, Grouping, MoneyStat};
use crate::context::RequestCtx;
use crate::error::AppError;
use crate::pagination::{Connection, ListSpec};

/// The measures of one aggregate function (`sum`, `avg`, ...), in declaration order:
/// numbers, and per money measure its amounts per currency.
struct AggValues(Vec<Option<Decimal>>, Vec<Vec<Money>>);

type Extra = (Vec<Object>, Vec<Enum>);
/// Reads one aggregate function's measures from a row.
type Pick = fn(&AggRow) -> &Vec<Option<Decimal>>;
/// Reads one aggregate function's value from a currency's statistics.
type PickMoney = fn(&MoneyStat) -> Decimal;

/// The aggregate types of list `node` and a function adding `aggregate` / `groupBy` to its
/// connection object.
pub fn aggregate_types<E: EntityTrait>(node: &str, spec: &ListSpec<E>) -> (Extra, impl FnOnce(Object) -> Object) {
    let measures: Vec<(&'static str, bool)> = spec.aggregates.iter().map(|a| (a.name, a.is_money())).collect();
    let values = (!measures.is_empty()).then(|| format!("{node}AggregateValues"));
    let mut objects: Vec<Object> = values.iter().map(|v| values_object(node, v, &measures)).collect();
    let mut enums = Vec::new();
    let aggregate = format!("{node}Aggregate");
    let desc = format!("Aggregates of the {node} items matching the list's filter.");
    objects.push(with_values(Object::new(&aggregate).description(desc), values.as_deref()));
    let groups: Arc<Vec<(&'static str, GroupKind)>> = Arc::new(spec.groups.iter().map(|g| (g.name, g.kind)).collect());
    let (group, group_field) = (format!("{node}Group"), format!("{node}GroupField"));
    if !groups.is_empty() {
        objects.push(with_values(group_object(node, &group), values.as_deref()));
        enums.push(group_field_enum(node, &group_field, &groups));
    }
    let names: Arc<Vec<&'static str>> = Arc::new(measures.iter().map(|m| m.0).collect());
    let add = move |conn: Object| -> Object {
        let conn = conn.field(aggregate_field(&aggregate, names.clone()));
        if groups.is_empty() { conn } else { conn.field(group_by_field(&group, &group_field, groups, names)) }
    };
    ((objects, enums), add)
}

/// `<N>AggregateValues`: one nullable decimal per measure.
fn values_object(node: &str, values: &str, measures: &[(&'static str, bool)]) -> Object {
    let mut o = Object::new(values).description(format!("Measures of {node} items (null when there are none)."));
    for (i, (m, money)) in measures.iter().enumerate() {
        if *money {
            o = o.field(money_measure(i, m));
            continue;
        }
        o = o.field(
            Field::new(*m, TypeRef::named("Decimal"), move |ctx| {
                FieldFuture::new(async move {
                    let v = parent::<AggValues>(&ctx)?;
                    Ok(v.0.get(i).copied().flatten().map(|d| FieldValue::value(d.normalize().to_string())))
                })
            })
            .description(format!("`{m}` over the items that have one.")),
        );
    }
    o
}

/// A money measure: one amount per currency (never added across currencies).
fn money_measure(i: usize, name: &str) -> Field {
    Field::new(name, TypeRef::named_nn_list_nn(super::scalar::MONEY), move |ctx| {
        FieldFuture::new(async move {
            let v = parent::<AggValues>(&ctx)?;
            let amounts = v.1.get(i).cloned().unwrap_or_default();
            Ok(Some(FieldValue::list(amounts.into_iter().map(FieldValue::owned_any))))
        })
    })
    .description(format!("`{name}` per currency, over the items that have one."))
}

/// Adds `count` and, when the list has measures, `sum` / `avg` / `min` / `max`.
fn with_values(o: Object, values: Option<&str>) -> Object {
    let mut o = o.field(
        Field::new("count", TypeRef::named_nn(TypeRef::INT), |ctx| {
            FieldFuture::new(async move { Ok(Some(FieldValue::value(parent::<AggRow>(&ctx)?.count))) })
        })
        .description("How many items."),
    );
    let Some(values) = values else { return o };
    let pick: [(&str, &str, Pick, PickMoney); 4] = [
        ("sum", "Totals.", |r| &r.sum, |m| m.sum),
        ("avg", "Averages.", |r| &r.avg, MoneyStat::avg),
        ("min", "Smallest values.", |r| &r.min, |m| m.min),
        ("max", "Largest values.", |r| &r.max, |m| m.max),
    ];
    for (name, desc, get, get_money) in pick {
        o = o.field(
            Field::new(name, TypeRef::named_nn(values), move |ctx| {
                FieldFuture::new(async move {
                    let row = parent::<AggRow>(&ctx)?;
                    let money = row
                        .money
                        .iter()
                        .map(|m| {
                            m.iter().map(|s| Money { amount: get_money(s), currency: s.currency.clone() }).collect()
                        })
                        .collect();
                    Ok(Some(FieldValue::owned_any(AggValues(get(row).clone(), money))))
                })
            })
            .description(desc),
        );
    }
    o
}

/// `<N>Group` with its `key`.
fn group_object(node: &str, group: &str) -> Object {
    Object::new(group).description(format!("One group of {node} items.")).field(
        Field::new("key", TypeRef::named(TypeRef::STRING), |ctx| {
            FieldFuture::new(async move { Ok(parent::<AggRow>(&ctx)?.key.clone().map(FieldValue::value)) })
        })
        .description("The group's value: an enum value, a global ID, or a bucket's first day (null: none)."),
    )
}

/// `<N>GroupField`.
fn group_field_enum(node: &str, name: &str, groups: &[(&'static str, GroupKind)]) -> Enum {
    groups.iter().fold(
        Enum::new(name).description(format!("Fields {node} lists can be grouped by.")),
        |e, (n, kind)| {
            let how = if matches!(kind, GroupKind::Date) { " (bucketed)" } else { "" };
            e.item(EnumItem::new(*n).description(format!("By {}{how}.", n.to_lowercase().replace('_', " "))))
        },
    )
}

/// `<N>Connection.aggregate`.
fn aggregate_field(aggregate: &str, measures: Arc<Vec<&'static str>>) -> Field {
    Field::new("aggregate", TypeRef::named_nn(aggregate), move |ctx| {
        let measures = measures.clone();
        FieldFuture::new(async move {
            let rows = run(&ctx, None, &measures).await?;
            Ok(Some(FieldValue::owned_any(rows.into_iter().next().unwrap_or_default())))
        })
    })
    .description("Count and measures of every matching item (all pages, same filter).")
}

/// `<N>Connection.groupBy(field, bucket)`.
fn group_by_field(
    group: &str,
    group_field: &str,
    groups: Arc<Vec<(&'static str, GroupKind)>>,
    measures: Arc<Vec<&'static str>>,
) -> Field {
    let first = groups.first().map_or("", |g| g.0);
    let default = Value::Enum(async_graphql::Name::new(first));
    Field::new("groupBy", TypeRef::named_nn_list_nn(group), move |ctx| {
        let (groups, measures) = (groups.clone(), measures.clone());
        FieldFuture::new(async move {
            let grouping = grouping(&ctx, &groups)?;
            let rows = run(&ctx, Some(grouping), &measures).await?;
            Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
        })
    })
    .argument(
        InputValue::new("field", TypeRef::named(group_field))
            .default_value(default)
            .description("What to group by (default: the first field)."),
    )
    .argument(
        InputValue::new("bucket", TypeRef::named(DateBucket::NAME))
            .description("For dates: the bucket (default DAY); not allowed for other fields."),
    )
    .description("Matching items grouped by one field (enums in their rank order), with their measures.")
}

/// Reads `field` / `bucket` of `groupBy`.
fn grouping(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    groups: &[(&str, GroupKind)],
) -> Result<Grouping, AppError> {
    let value = ctx.args.get("field").ok_or_else(|| AppError::bad_input("field", "expected a group field"))?;
    let name = value.enum_name().map_err(|_| AppError::bad_input("field", "expected a group field"))?;
    let field =
        groups.iter().position(|(n, _)| *n == name).ok_or_else(|| AppError::bad_input("field", "unknown field"))?;
    let bucket = match ctx.args.get("bucket").filter(|v| !v.is_null()) {
        None => DateBucket::Day,
        Some(v) => {
            if !matches!(groups[field].1, GroupKind::Date) {
                return Err(AppError::bad_input("bucket", "bucket applies to date fields only"));
            }
            let b = v.enum_name().map_err(|_| AppError::bad_input("bucket", "expected a DateBucket"))?;
            DateBucket::parse(b).ok_or_else(|| AppError::bad_input("bucket", "unknown bucket"))?
        }
    };
    Ok(Grouping { field, bucket })
}

/// Runs the aggregate of the parent connection, computing only the measures selected.
async fn run(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    group: Option<Grouping>,
    measures: &[&'static str],
) -> Result<Vec<AggRow>, AppError> {
    let conn = parent::<Connection>(ctx)?;
    let source = conn.agg.clone().ok_or_else(|| AppError::internal("this list has no aggregate source"))?;
    let req = RequestCtx::of(ctx)?;
    let look = ctx.look_ahead();
    let selected = |m: &str| ["sum", "avg", "min", "max"].iter().any(|f| look.field(f).field(m).exists());
    let mask =
        measures.iter().enumerate().filter(|(_, m)| selected(m)).fold(0u64, |acc, (i, _)| acc | (1 << i.min(63)));
    source.run(&req, AggQuery { group, measures: mask }).await
}
