//! Pipeline numbers: per stage, per owner and per month of expected close, the count, the
//! total and the weighted total (amount x probability) of deals, converted into the
//! organisation's currency at the rate valid on the deal's date; deals whose currency has
//! no rate on that date are reported apart (`unconverted`), never summed at a guessed rate.
//! Win rate and average cycle time cover the deals closed in a period.
//!
//! Rounding, written once: a deal's converted amount is `amount x rate` unrounded; each
//! reported total is rounded to cents (half away from zero) after summing; a deal's
//! weighted amount is `amount x probability / 100` rounded the same way.
//! The deal's date is its actual close date, else its expected close date, else today.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use chrono::NaiveDate;
use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::loader::{LoadError, db_error};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

pub use opsgraph_core::money::cents;

/// Count, total and weighted total of a group of deals, in the organisation's currency.
#[derive(Debug, Clone, Default)]
pub struct Numbers {
    /// The group's key: a stage id, an owner id, or a month's first day.
    pub key: Option<String>,
    /// Deals converted and counted.
    pub count: i64,
    /// Sum of their amounts.
    pub total: Decimal,
    /// Sum of amount x probability.
    pub weighted: Decimal,
}

/// Deals left out of the totals for want of a rate.
#[derive(Debug, Clone)]
pub struct Unconverted {
    /// Their currency.
    pub currency: String,
    /// How many.
    pub count: i64,
    /// Their total in that currency.
    pub total: Decimal,
}

/// The numbers of one pipeline.
#[derive(Debug, Clone, Default)]
pub struct Forecast {
    /// The currency of every total.
    pub currency: String,
    /// Per stage, in board order (stages without deals included).
    pub stages: Vec<Numbers>,
    /// Open deals per owner.
    pub by_owner: Vec<Numbers>,
    /// Open deals per month of expected close.
    pub by_month: Vec<Numbers>,
    /// Deals without a rate, per currency.
    pub unconverted: Vec<Unconverted>,
    /// Deals won in the period.
    pub won: i64,
    /// Deals lost in the period.
    pub lost: i64,
    /// Mean days from opening to winning, over the deals won in the period.
    pub average_cycle_days: Option<f64>,
}

/// Forecasts by (pipeline, organisation currency, period start, period end); a level of a
/// query is one statement per period.
pub struct Forecasts(pub Arc<TxDb>);

/// The loader's key.
pub type Key = (Uuid, String, Option<NaiveDate>, Option<NaiveDate>);

/// The rate that converts a deal row `t` into currency `target` on the deal's date (1 in
/// that currency; NULL when no rate is valid then): the one conversion rule of crm figures,
/// used by the pipeline numbers, lifetime values and the deal list's converted measures.
fn rate(t: &str, target: &str) -> String {
    format!(
        "CASE WHEN {t}.currency = {target} THEN 1::numeric ELSE (SELECT r.rate FROM exchange_rates r \
           WHERE r.org_id = {t}.org_id AND r.currency = {t}.currency \
             AND r.valid_from <= coalesce({t}.actual_close_date, {t}.expected_close_date, current_date) \
           ORDER BY r.valid_from DESC LIMIT 1) END"
    )
}

/// The request organisation's currency (Row Level Security keeps every deal row in that
/// organisation).
pub const ORG_CURRENCY: &str = opsgraph_org::service::organization::DEFAULT_CURRENCY_SQL;

fn leak(s: String) -> &'static str {
    s.leak()
}

/// A deal's amount in the organisation's currency (NULL without a rate).
pub static CONVERTED: LazyLock<&'static str> =
    LazyLock::new(|| leak(format!("deals.amount * ({})", rate("deals", ORG_CURRENCY))));

/// A deal's amount x probability (its own, else its stage's) in the organisation's currency.
pub static WEIGHTED: LazyLock<&'static str> = LazyLock::new(|| {
    leak(format!(
        "deals.amount * ({}) * coalesce(deals.probability, \
           (SELECT s.probability FROM pipeline_stages s WHERE s.id = deals.stage_id)) / 100",
        rate("deals", ORG_CURRENCY)
    ))
});

/// A deal's amount in its own currency when no rate converts it (else NULL).
pub static UNCONVERTED: LazyLock<&'static str> =
    LazyLock::new(|| leak(format!("CASE WHEN ({}) IS NULL THEN deals.amount END", rate("deals", ORG_CURRENCY))));

static SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH x AS ( \
   SELECT d.*, s.kind, coalesce(d.probability, s.probability) AS p, {} AS rate \
   FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE d.pipeline_id = ANY($1) AND d.deleted_at IS NULL), \
 g AS ( \
   SELECT st.pipeline_id AS pid, 'stage' AS dim, st.id::text AS key, st.position AS ord, count(x.id) AS n, \
     sum(x.amount * x.rate) AS t, sum(x.amount * x.rate * x.p / 100) AS w \
     FROM pipeline_stages st LEFT JOIN x ON x.stage_id = st.id AND x.rate IS NOT NULL WHERE st.pipeline_id = ANY($1) \
     GROUP BY st.pipeline_id, st.id, st.position \
   UNION ALL SELECT pipeline_id, 'owner', owner_id::text, 0, count(*), sum(amount * rate), sum(amount * rate * p / 100) FROM x \
     WHERE kind = 'OPEN' AND rate IS NOT NULL GROUP BY pipeline_id, owner_id \
   UNION ALL SELECT pipeline_id, 'month', to_char(date_trunc('month', expected_close_date), 'YYYY-MM-DD'), 0, count(*), \
     sum(amount * rate), sum(amount * rate * p / 100) FROM x WHERE kind = 'OPEN' AND rate IS NOT NULL GROUP BY 1, 3 \
   UNION ALL SELECT pipeline_id, 'unconverted', currency, 0, count(*), sum(amount), NULL FROM x WHERE rate IS NULL \
     GROUP BY pipeline_id, currency \
   UNION ALL SELECT pipeline_id, 'closed', kind, 0, count(*), avg(actual_close_date - created_at::date), NULL FROM x \
     WHERE kind <> 'OPEN' AND ($3::date IS NULL OR actual_close_date >= $3) AND ($4::date IS NULL OR actual_close_date <= $4) \
     GROUP BY pipeline_id, kind) \
 SELECT pid, dim, key, n, t::text AS t, w::text AS w FROM g ORDER BY pid, dim, ord, key",
        rate("d", "$2")
    )
});

/// Adds one statement row to its pipeline's forecast.
fn add(f: &mut Forecast, r: &sea_orm::QueryResult) -> Result<(), LoadError> {
    let dim: String = r.try_get("", "dim").map_err(db_error)?;
    let key: Option<String> = r.try_get("", "key").map_err(db_error)?;
    let n: i64 = r.try_get("", "n").map_err(db_error)?;
    let dec = |c: &str| -> Result<Decimal, LoadError> {
        let s: Option<String> = r.try_get("", c).map_err(db_error)?;
        Ok(s.and_then(|s| s.parse().ok()).unwrap_or_default())
    };
    let numbers = Numbers { key: key.clone(), count: n, total: cents(dec("t")?), weighted: cents(dec("w")?) };
    match dim.as_str() {
        "stage" => f.stages.push(numbers),
        "owner" => f.by_owner.push(numbers),
        "month" => f.by_month.push(numbers),
        "unconverted" => {
            f.unconverted.push(Unconverted { currency: key.unwrap_or_default(), count: n, total: dec("t")? })
        }
        _ => match key.as_deref() {
            Some("WON") => {
                f.won = n;
                f.average_cycle_days = dec("t")?.to_string().parse().ok();
            }
            _ => f.lost = n,
        },
    }
    Ok(())
}

impl Loader<Key> for Forecasts {
    type Value = Arc<Forecast>;
    type Error = LoadError;

    /// One statement per distinct (currency, period) of the batch, for all its pipelines.
    async fn load(&self, keys: &[Key]) -> Result<HashMap<Key, Arc<Forecast>>, LoadError> {
        let mut periods: HashMap<(String, Option<NaiveDate>, Option<NaiveDate>), Vec<Uuid>> = HashMap::new();
        for (pipeline, currency, from, to) in keys {
            periods.entry((currency.clone(), *from, *to)).or_default().push(*pipeline);
        }
        let mut out = HashMap::new();
        for ((currency, from, to), pipelines) in periods {
            let values: [sea_orm::Value; 4] =
                [pipelines.clone().into(), currency.clone().into(), from.into(), to.into()];
            let rows = self
                .0
                .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, SQL.as_str(), values))
                .await
                .map_err(db_error)?;
            let mut by_pipeline: HashMap<Uuid, Forecast> = pipelines
                .iter()
                .map(|p| (*p, Forecast { currency: currency.clone(), ..Forecast::default() }))
                .collect();
            for r in &rows {
                let pid: Uuid = r.try_get("", "pid").map_err(db_error)?;
                if let Some(f) = by_pipeline.get_mut(&pid) {
                    add(f, r)?;
                }
            }
            for (pid, f) in by_pipeline {
                out.insert((pid, currency.clone(), from, to), Arc::new(f));
            }
        }
        Ok(out)
    }
}

/// An account's lifetime value: its won deals, converted like the pipeline numbers.
#[derive(Debug, Clone, Default)]
pub struct Lifetime {
    /// The currency of `total`.
    pub currency: String,
    /// Won deals converted and counted.
    pub won: i64,
    /// Their total (rounded to cents once, after summing).
    pub total: Decimal,
    /// Won deals without a rate, per currency.
    pub unconverted: Vec<Unconverted>,
}

/// Lifetime values by (account, organisation currency): one statement per level.
pub struct LifetimeValues(pub Arc<TxDb>);

static LIFETIME_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH x AS (SELECT d.account_id, d.currency, d.amount, {} AS rate FROM deals d \
           JOIN pipeline_stages s ON s.id = d.stage_id \
           WHERE d.account_id = ANY($1) AND s.kind = 'WON' AND d.deleted_at IS NULL) \
         SELECT account_id, NULL AS currency, count(*) AS n, sum(amount * rate)::text AS t FROM x \
           WHERE rate IS NOT NULL GROUP BY account_id \
         UNION ALL SELECT account_id, currency, count(*), sum(amount)::text FROM x WHERE rate IS NULL \
           GROUP BY account_id, currency ORDER BY 1, 2 NULLS FIRST",
        rate("d", "$2")
    )
});

impl Loader<(Uuid, String)> for LifetimeValues {
    type Value = Arc<Lifetime>;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, String)]) -> Result<HashMap<(Uuid, String), Arc<Lifetime>>, LoadError> {
        let mut by_currency: HashMap<String, Vec<Uuid>> = HashMap::new();
        for (account, currency) in keys {
            by_currency.entry(currency.clone()).or_default().push(*account);
        }
        let mut out = HashMap::new();
        for (currency, accounts) in by_currency {
            let values: [sea_orm::Value; 2] = [accounts.clone().into(), currency.clone().into()];
            let stmt = Statement::from_sql_and_values(DbBackend::Postgres, LIFETIME_SQL.as_str(), values);
            let rows = self.0.query_all_raw(stmt).await.map_err(db_error)?;
            let zero = Lifetime { currency: currency.clone(), total: Decimal::new(0, 2), ..Lifetime::default() };
            let mut each: HashMap<Uuid, Lifetime> = accounts.iter().map(|a| (*a, zero.clone())).collect();
            for r in &rows {
                let account: Uuid = r.try_get("", "account_id").map_err(db_error)?;
                let other: Option<String> = r.try_get("", "currency").map_err(db_error)?;
                let n: i64 = r.try_get("", "n").map_err(db_error)?;
                let t: Option<String> = r.try_get("", "t").map_err(db_error)?;
                let t: Decimal = t.and_then(|s| s.parse().ok()).unwrap_or_default();
                let Some(l) = each.get_mut(&account) else { continue };
                match other {
                    None => (l.won, l.total) = (n, cents(t)),
                    Some(c) => l.unconverted.push(Unconverted { currency: c, count: n, total: t }),
                }
            }
            out.extend(each.into_iter().map(|(a, l)| ((a, currency.clone()), Arc::new(l))));
        }
        Ok(out)
    }
}
