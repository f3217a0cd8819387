//! Rows into models, decoding only the columns the statement read: a lean page's, or
//! every column for the by-id and list loaders ([`super::WHOLE`]).
//!
//! The first row decodes whole, placeholders included, as SeaORM decodes any row. Every
//! later row starts as a copy of it and decodes only the read columns, by position and
//! with the type of the model's own value, so no placeholder is decoded and no column is
//! looked up by name. A row this cannot decode (an unexpected type, a column elsewhere
//! than expected) decodes whole instead.

use sea_orm::sea_query::ArrayType;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::{Column, Row};
use sea_orm::{DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, ModelTrait, QueryResult, Value};

/// How a read column decodes: the variant of the model's value for it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    String,
    Uuid,
    Int,
    SmallInt,
    BigInt,
    Bool,
    Double,
    Float,
    Date,
    DateTimeTz,
    DateTimeUtc,
    Decimal,
    Json,
    Strings,
}

impl Kind {
    fn of(v: &Value) -> Option<Kind> {
        Some(match v {
            Value::String(_) => Kind::String,
            Value::Uuid(_) => Kind::Uuid,
            Value::Int(_) => Kind::Int,
            Value::SmallInt(_) => Kind::SmallInt,
            Value::BigInt(_) => Kind::BigInt,
            Value::Bool(_) => Kind::Bool,
            Value::Double(_) => Kind::Double,
            Value::Float(_) => Kind::Float,
            Value::ChronoDate(_) => Kind::Date,
            Value::ChronoDateTimeWithTimeZone(_) => Kind::DateTimeTz,
            Value::ChronoDateTimeUtc(_) => Kind::DateTimeUtc,
            Value::Decimal(_) => Kind::Decimal,
            Value::Json(_) => Kind::Json,
            Value::Array(ArrayType::String, _) => Kind::Strings,
            _ => return None,
        })
    }

    /// Column `i` of `row` as a value of this kind. Unchecked: the plan was made from the
    /// first row of the same result, whose columns SeaORM decoded with their types checked.
    fn read(self, row: &PgRow, i: usize) -> Result<Value, sea_orm::sqlx::Error> {
        Ok(match self {
            Kind::String => Value::String(row.try_get_unchecked(i)?),
            Kind::Uuid => Value::Uuid(row.try_get_unchecked(i)?),
            Kind::Int => Value::Int(row.try_get_unchecked(i)?),
            Kind::SmallInt => Value::SmallInt(row.try_get_unchecked(i)?),
            Kind::BigInt => Value::BigInt(row.try_get_unchecked(i)?),
            Kind::Bool => Value::Bool(row.try_get_unchecked(i)?),
            Kind::Double => Value::Double(row.try_get_unchecked(i)?),
            Kind::Float => Value::Float(row.try_get_unchecked(i)?),
            Kind::Date => Value::ChronoDate(row.try_get_unchecked(i)?),
            Kind::DateTimeTz => Value::ChronoDateTimeWithTimeZone(row.try_get_unchecked(i)?),
            Kind::DateTimeUtc => Value::ChronoDateTimeUtc(row.try_get_unchecked(i)?),
            Kind::Decimal => Value::Decimal(row.try_get_unchecked(i)?),
            Kind::Json => Value::Json(row.try_get_unchecked::<Option<serde_json::Value>, _>(i)?.map(Box::new)),
            Kind::Strings => {
                let items: Option<Vec<String>> = row.try_get_unchecked(i)?;
                let items = items.map(|v| Box::new(v.into_iter().map(|s| Value::String(Some(s))).collect()));
                Value::Array(ArrayType::String, items)
            }
        })
    }
}

/// What a lean page's later rows are decoded from: the first row's model, with the
/// read columns' strings emptied, and each read column with its position and kind.
struct Plan<E: EntityTrait> {
    blank: E::Model,
    reads: Vec<(E::Column, usize, Kind)>,
}

impl<E: EntityTrait> Plan<E> {
    /// The plan for a statement reading `mask`, from its first row and that row's model;
    /// `None` when a read column has a kind not handled here or is not where expected.
    fn new(first: &E::Model, row: &PgRow, mask: u64) -> Option<Self> {
        let mut blank = first.clone();
        let mut reads = Vec::new();
        for (i, col) in E::Column::iter().enumerate() {
            if super::unread(i, col, mask).is_some() {
                continue;
            }
            if row.columns().get(i).map(|c| c.name()) != Some(col.as_str()) {
                return None;
            }
            let value = first.get(col);
            let kind = Kind::of(&value)?;
            if matches!(value, Value::String(Some(_))) {
                blank.try_set(col, Value::String(Some(String::new()))).ok()?;
            }
            reads.push((col, i, kind));
        }
        Some(Plan { blank, reads })
    }

    /// A later row's model; `None` when a column does not decode as planned.
    fn decode(&self, row: &PgRow) -> Option<E::Model> {
        let mut model = self.blank.clone();
        for &(col, i, kind) in &self.reads {
            model.try_set(col, kind.read(row, i).ok()?).ok()?;
        }
        Some(model)
    }
}

/// The models of a page's `rows`. `mask` is what the statement read (see
/// [`super::read_mask`]); `None`: whole rows, decoded as SeaORM decodes them.
pub(crate) fn models<E: EntityTrait>(rows: &[QueryResult], mask: Option<u64>) -> Result<Vec<E::Model>, DbErr> {
    let Some(mask) = mask else {
        return rows.iter().map(|r| E::Model::from_query_result(r, "")).collect();
    };
    let mut out = Vec::with_capacity(rows.len());
    // `None` until the first row is decoded, then whether a plan could be made.
    let mut plan: Option<Option<Plan<E>>> = None;
    for row in rows {
        let pg = row.try_as_pg_row();
        if let Some(model) = plan.as_ref().and_then(Option::as_ref).zip(pg).and_then(|(p, pg)| p.decode(pg)) {
            out.push(model);
            continue;
        }
        let model = E::Model::from_query_result(row, "")?;
        if plan.is_none() {
            plan = Some(pg.and_then(|pg| Plan::new(&model, pg, mask)));
        }
        out.push(model);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_models_values() {
        assert_eq!(Kind::of(&Value::String(None)), Some(Kind::String));
        assert_eq!(Kind::of(&Value::Int(Some(3))), Some(Kind::Int));
        assert_eq!(Kind::of(&Value::ChronoDate(None)), Some(Kind::Date));
        assert_eq!(Kind::of(&Value::Array(ArrayType::String, None)), Some(Kind::Strings));
        // Anything else is not planned: such a page decodes whole rows.
        assert_eq!(Kind::of(&Value::Array(ArrayType::Int, None)), None);
        assert_eq!(Kind::of(&Value::Bytes(None)), None);
    }
}
