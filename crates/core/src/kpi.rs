//! Named aggregates over the graph that KPIs measure. Each domain declares its own (one SQL
//! statement over its own tables) and the schema crate collects them into one
//! [`Metrics`] registry; org keeps the KPI definitions and measurements and never reads
//! another domain's tables, which is why the registry lives here.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// What a metric's value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, opsgraph_derive::GqlEnum)]
pub enum MetricUnit {
    /// A number of things.
    Count,
    /// Hours.
    Hours,
    /// A share, in percent.
    Percent,
    /// Money in the organisation's currency.
    Money,
    /// A rating (1 to 5).
    Rating,
}

/// A parameter a metric takes (one at most): its name and the values it accepts.
#[derive(Debug, Clone, Copy)]
pub struct MetricParam {
    /// The parameter's name in a KPI's `params`.
    pub name: &'static str,
    /// The values it accepts.
    pub values: &'static [&'static str],
}

/// A named aggregate: one statement returning one numeric column `value` from the bind
/// parameters `$1` organisation, `$2` first day, `$3` day after the last (the period is
/// `[$2, $3)`) and `$4` the parameter's value (text, null when the metric takes none); it
/// may use any of them (typed `::uuid`, `::date`, `::text`).
/// A metric of the state of things ("open risks") reads the state at `$3`'s eve where the
/// data allows it, and otherwise now.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Stable key: `<domain>.<name>`, e.g. `work.open_risks`.
    pub key: &'static str,
    /// What it measures, for people choosing one.
    pub description: &'static str,
    /// Its unit.
    pub unit: MetricUnit,
    /// Its parameter, if it takes one.
    pub param: Option<MetricParam>,
    /// The statement (see above).
    pub sql: &'static str,
}

/// A period a metric is measured over: `[from, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First day.
    pub from: NaiveDate,
    /// The day after the last.
    pub until: NaiveDate,
}

/// Every metric of the schema, by key.
#[derive(Clone, Default)]
pub struct Metrics(Arc<BTreeMap<&'static str, Metric>>);

impl Metrics {
    /// The registry of `metrics` (a duplicate key is a programming error, reported).
    pub fn new(metrics: impl IntoIterator<Item = Metric>) -> Result<Metrics, String> {
        let mut map = BTreeMap::new();
        for m in metrics {
            if map.insert(m.key, m).is_some() {
                return Err(format!("metric {} declared twice", m.key));
            }
        }
        Ok(Metrics(Arc::new(map)))
    }

    /// Every metric, by key.
    pub fn all(&self) -> impl Iterator<Item = &Metric> {
        self.0.values()
    }

    /// Metric `key`, or BAD_USER_INPUT on `field`.
    pub fn get(&self, key: &str, field: &str) -> AppResult<&Metric> {
        self.0.get(key).ok_or_else(|| AppError::bad_input(field, format!("`{key}` is not a metric (see `metrics`)")))
    }

    /// Checks `params` against metric `m`: an object holding its parameter (when it takes
    /// one) with an accepted value, and nothing else. Returns the parameter's value.
    pub fn param_value(m: &Metric, params: &serde_json::Value) -> AppResult<Option<String>> {
        let empty = serde_json::Map::new();
        let obj = match params {
            serde_json::Value::Null => &empty,
            serde_json::Value::Object(o) => o,
            _ => return Err(AppError::bad_input("params", "params must be an object")),
        };
        let Some(p) = m.param else {
            if let Some(k) = obj.keys().next() {
                return Err(AppError::bad_input("params", format!("{} takes no parameter `{k}`", m.key)));
            }
            return Ok(None);
        };
        if let Some(k) = obj.keys().find(|k| *k != p.name) {
            return Err(AppError::bad_input("params", format!("{} takes only `{}`, not `{k}`", m.key, p.name)));
        }
        match obj.get(p.name) {
            None => Ok(None),
            Some(serde_json::Value::String(v)) if p.values.contains(&v.as_str()) => Ok(Some(v.clone())),
            Some(_) => Err(AppError::bad_input("params", format!("`{}` is one of {}", p.name, p.values.join(", ")))),
        }
    }

    /// Measures `m` for organisation `org` over `span` (one statement).
    pub async fn measure(
        db: &impl ConnectionTrait,
        m: &Metric,
        org: Uuid,
        span: Span,
        param: Option<String>,
    ) -> AppResult<Decimal> {
        let values = vec![org.into(), span.from.into(), span.until.into(), param.into()];
        // The outer select types all four parameters, whichever the metric uses.
        let sql = format!("SELECT m.value FROM ({}) m, (SELECT $1::uuid, $2::date, $3::date, $4::text) p", m.sql);
        let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
        let value: Option<Decimal> = row.map(|r| r.try_get("", "value")).transpose()?.flatten();
        Ok(value.unwrap_or_default().round_dp(4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Metric = Metric {
        key: "t.m",
        description: "",
        unit: MetricUnit::Count,
        param: Some(MetricParam { name: "level", values: &["HIGH", "LOW"] }),
        sql: "",
    };

    #[test]
    fn params_are_checked_against_the_declaration() {
        let ok = serde_json::json!({ "level": "HIGH" });
        assert_eq!(Metrics::param_value(&M, &ok).ok().flatten().as_deref(), Some("HIGH"));
        assert_eq!(Metrics::param_value(&M, &serde_json::json!({})).ok(), Some(None));
        for bad in [serde_json::json!({ "level": "MID" }), serde_json::json!({ "x": 1 }), serde_json::json!([1])] {
            assert!(Metrics::param_value(&M, &bad).is_err(), "{bad}");
        }
        let none = Metric { param: None, ..M };
        assert!(Metrics::param_value(&none, &ok).is_err());
        assert!(Metrics::new([M, M]).is_err());
    }
}
