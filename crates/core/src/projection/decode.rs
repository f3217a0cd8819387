//! Rows into models by position: the columns a statement read (a lean page's, or every
//! column for the by-id and list loaders) on a blank model of the entity.
//!
//! The blank holds each field's `Default` (an empty string, the nil UUID, zero, `None`,
//! the epoch), so a statement never sends a stand-in for a column it does not read. The
//! first row fixes, for each column the statement returned, the model's column at that
//! position and how it decodes, checked against the column's type; every row then starts
//! as a copy of the blank and decodes those columns unchecked, with no lookup by name.
//! An entity with a field that has no `Default` has no blank: its statements read whole
//! rows ([`super::project`]), decoded as SeaORM decodes them.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::ArrayType;
use sea_orm::sqlx::postgres::{PgRow, PgTypeInfo};
use sea_orm::sqlx::{Column, Postgres, Row, Type};
use sea_orm::{
    ActiveModelTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, ModelTrait, ProxyRow, QueryResult,
    Value,
};

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
    Bytes,
    Strings,
    Uuids,
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
            Value::Bytes(_) => Kind::Bytes,
            Value::Array(ArrayType::String, _) => Kind::Strings,
            Value::Array(ArrayType::Uuid, _) => Kind::Uuids,
            _ => return None,
        })
    }

    /// Whether a column of PostgreSQL type `ty` decodes as this kind.
    fn accepts(self, ty: &PgTypeInfo) -> bool {
        use sea_orm::sqlx::types::chrono::{DateTime, FixedOffset, NaiveDate, Utc};
        match self {
            Kind::String => <String as Type<Postgres>>::compatible(ty),
            Kind::Uuid => <uuid::Uuid as Type<Postgres>>::compatible(ty),
            Kind::Int => <i32 as Type<Postgres>>::compatible(ty),
            Kind::SmallInt => <i16 as Type<Postgres>>::compatible(ty),
            Kind::BigInt => <i64 as Type<Postgres>>::compatible(ty),
            Kind::Bool => <bool as Type<Postgres>>::compatible(ty),
            Kind::Double => <f64 as Type<Postgres>>::compatible(ty),
            Kind::Float => <f32 as Type<Postgres>>::compatible(ty),
            Kind::Date => <NaiveDate as Type<Postgres>>::compatible(ty),
            Kind::DateTimeTz => <DateTime<FixedOffset> as Type<Postgres>>::compatible(ty),
            Kind::DateTimeUtc => <DateTime<Utc> as Type<Postgres>>::compatible(ty),
            Kind::Decimal => <rust_decimal::Decimal as Type<Postgres>>::compatible(ty),
            Kind::Json => <serde_json::Value as Type<Postgres>>::compatible(ty),
            Kind::Bytes => <Vec<u8> as Type<Postgres>>::compatible(ty),
            Kind::Strings => <Vec<String> as Type<Postgres>>::compatible(ty),
            Kind::Uuids => <Vec<uuid::Uuid> as Type<Postgres>>::compatible(ty),
        }
    }

    /// Column `i` of `row` as a value of this kind. Unchecked: [`Plan::new`] checked the
    /// column's type against this kind once for the whole result.
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
            Kind::Bytes => Value::Bytes(row.try_get_unchecked(i)?),
            Kind::Strings => {
                let items: Option<Vec<String>> = row.try_get_unchecked(i)?;
                let items = items.map(|v| Box::new(v.into_iter().map(|s| Value::String(Some(s))).collect()));
                Value::Array(ArrayType::String, items)
            }
            Kind::Uuids => {
                let items: Option<Vec<uuid::Uuid>> = row.try_get_unchecked(i)?;
                let items = items.map(|v| Box::new(v.into_iter().map(|u| Value::Uuid(Some(u))).collect()));
                Value::Array(ArrayType::Uuid, items)
            }
        })
    }
}

/// The model of `E` with every field at its `Default`; `None` when a field has none or
/// its value is of a kind not decoded here.
pub(crate) fn blank<E: EntityTrait>() -> Option<E::Model> {
    let defaults = <E::ActiveModel as ActiveModelTrait>::default_values();
    let mut values = BTreeMap::new();
    for col in E::Column::iter() {
        let value = defaults.get(col).into_value()?;
        Kind::of(&value)?;
        values.insert(col.as_str().to_owned(), value);
    }
    E::Model::from_query_result(&QueryResult::from(ProxyRow::new(values)), "").ok()
}

thread_local! {
    /// Per entity type, built once per thread: its blank model, if it has one.
    static BLANKS: RefCell<HashMap<TypeId, Option<Box<dyn Any>>>> = RefCell::new(HashMap::new());
    /// Per entity type: whether it has a blank.
    static PLANNABLE: RefCell<HashMap<TypeId, bool>> = RefCell::new(HashMap::new());
}

/// [`blank`], built once per entity type and thread.
fn cached_blank<E: EntityTrait>() -> Option<E::Model>
where
    E::Model: 'static,
{
    BLANKS.with_borrow_mut(|m| {
        let entry = m.entry(TypeId::of::<E>()).or_insert_with(|| blank::<E>().map(|b| Box::new(b) as Box<dyn Any>));
        entry.as_ref().and_then(|b| b.downcast_ref::<E::Model>()).cloned()
    })
}

/// Whether statements of `E` may leave columns out: it has a [`blank`].
pub(crate) fn plannable<E: EntityTrait>() -> bool {
    PLANNABLE.with_borrow_mut(|m| *m.entry(TypeId::of::<E>()).or_insert_with(|| blank::<E>().is_some()))
}

/// How the rows of one result decode: the blank, and each returned column of the entity
/// with its position and kind.
struct Plan<E: EntityTrait> {
    blank: E::Model,
    reads: Vec<(E::Column, usize, Kind)>,
}

impl<E: EntityTrait> Plan<E>
where
    E::Model: 'static,
{
    /// The plan for a result whose rows look like `row`, reading the columns named
    /// `{prefix}{column}`; `None` when `E` has no blank.
    fn new(row: &PgRow, prefix: &str) -> Result<Option<Self>, DbErr> {
        let Some(blank) = cached_blank::<E>() else { return Ok(None) };
        let mut reads = Vec::new();
        for (i, c) in row.columns().iter().enumerate() {
            let Some(name) = c.name().strip_prefix(prefix) else { continue };
            let Some(col) = E::Column::iter().find(|col| col.as_str() == name) else { continue };
            let Some(kind) = Kind::of(&blank.get(col)) else { return Ok(None) };
            if !kind.accepts(c.type_info()) {
                return Err(DbErr::Type(format!("column {} does not decode as {kind:?}", c.name())));
            }
            reads.push((col, i, kind));
        }
        Ok(Some(Plan { blank, reads }))
    }

    /// A row's model.
    fn decode(&self, row: &PgRow) -> Result<E::Model, DbErr> {
        let mut model = self.blank.clone();
        for &(col, i, kind) in &self.reads {
            let value = kind.read(row, i).map_err(|e| DbErr::Type(format!("column {}: {e}", col.as_str())))?;
            model.try_set(col, value)?;
        }
        Ok(model)
    }
}

/// The models of a result's `rows`, each decoded from the columns its statement read.
pub(crate) fn models<E: EntityTrait>(rows: &[QueryResult]) -> Result<Vec<E::Model>, DbErr>
where
    E::Model: 'static,
{
    let plan = match rows.first().and_then(QueryResult::try_as_pg_row) {
        Some(first) => Plan::<E>::new(first, "")?,
        None => None,
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match (&plan, row.try_as_pg_row()) {
            (Some(plan), Some(pg)) => out.push(plan.decode(pg)?),
            _ => out.push(E::Model::from_query_result(row, "")?),
        }
    }
    Ok(out)
}

/// Rows of `E` joined into a result under the column names `{prefix}{column}` (see
/// [`crate::joined`]), decoded by position like [`models`].
pub(crate) struct Prefixed<E: EntityTrait> {
    plan: Plan<E>,
    id: usize,
}

impl<E: EntityTrait> Prefixed<E>
where
    E::Model: 'static,
{
    /// For a result whose rows look like `row`; `None` when `E` has no blank or the
    /// result has no `{prefix}{id}` column (then rows decode by name).
    pub(crate) fn new(row: &PgRow, prefix: &str, id: E::Column) -> Result<Option<Self>, DbErr> {
        let Some(plan) = Plan::<E>::new(row, prefix)? else { return Ok(None) };
        let Some(&(_, at, _)) = plan.reads.iter().find(|(c, _, _)| c.as_str() == id.as_str()) else {
            return Ok(None);
        };
        Ok(Some(Prefixed { plan, id: at }))
    }

    /// The joined row's id; `None` when the join found none.
    pub(crate) fn id(&self, row: &PgRow) -> Result<Option<uuid::Uuid>, DbErr> {
        row.try_get_unchecked(self.id).map_err(|e| DbErr::Type(format!("joined id: {e}")))
    }

    /// The joined row.
    pub(crate) fn decode(&self, row: &PgRow) -> Result<E::Model, DbErr> {
        self.plan.decode(row)
    }
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
        assert_eq!(Kind::of(&Value::Bytes(None)), Some(Kind::Bytes));
        assert_eq!(Kind::of(&Value::Array(ArrayType::Uuid, None)), Some(Kind::Uuids));
        // Anything else has no blank: such an entity's statements read whole rows.
        assert_eq!(Kind::of(&Value::Array(ArrayType::Int, None)), None);
        assert_eq!(Kind::of(&Value::TinyInt(None)), None);
    }
}
