//! A member's cost and bill rates over time. Each row of `member_rates` holds the rates of
//! one period of days (a `daterange`, the upper bound exclusive); one member's periods never
//! overlap, and a period without a lower bound holds the rate known from the start. Work
//! done on a day is priced at the rates of the period holding that day, so a raise in July
//! leaves March's time at March's rates. Other domains price in their own statements with
//! [`join_sql`], or ask [`at`] for given days.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::id::new_id;
use opsgraph_core::loader::{LoadError, app_error};
use opsgraph_core::{AppError, AppResult};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use uuid::Uuid;

/// The rates of one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates {
    /// Internal cost per hour.
    pub cost: Option<Decimal>,
    /// Billing rate per hour.
    pub bill: Option<Decimal>,
}

/// One period of a member's rate history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePeriod {
    /// The member.
    pub membership_id: Uuid,
    /// First day (none: since the start).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (none: still in effect).
    pub until: Option<NaiveDate>,
    /// The rates.
    pub rates: Rates,
}

impl RatePeriod {
    /// Whether the period holds `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.until.is_none_or(|u| day <= u)
    }
}

/// A change of rates from a day on, until the next change already recorded.
#[derive(Debug, Clone, Default)]
pub struct RateChange {
    /// First day the new rates apply (none: since the start).
    pub from: Option<NaiveDate>,
    /// New cost rate (omitted: keep; null: none).
    pub cost: Option<Option<Decimal>>,
    /// New bill rate (omitted: keep; null: none).
    pub bill: Option<Option<Decimal>>,
}

impl RateChange {
    /// Whether it changes anything.
    pub fn is_empty(&self) -> bool {
        self.cost.is_none() && self.bill.is_none()
    }

    fn applied_to(&self, base: Rates) -> Rates {
        Rates { cost: self.cost.unwrap_or(base.cost), bill: self.bill.unwrap_or(base.bill) }
    }
}

/// SQL joining, as `alias`, the rates in effect for member `member` on day `day` (both SQL
/// expressions of the host statement); its columns are `alias.cost_rate` and
/// `alias.bill_rate`, null when no rate is recorded.
pub fn join_sql(alias: &str, member: &str, day: &str) -> String {
    format!("LEFT JOIN member_rates {alias} ON {alias}.membership_id = {member} AND {alias}.valid @> {day}")
}

const COLUMNS: &str = "membership_id, lower(valid) AS valid_from, upper(valid) AS valid_to, cost_rate, bill_rate";

fn period(r: &QueryResult) -> Result<RatePeriod, sea_orm::DbErr> {
    let to: Option<NaiveDate> = r.try_get("", "valid_to")?;
    Ok(RatePeriod {
        membership_id: r.try_get("", "membership_id")?,
        from: r.try_get("", "valid_from")?,
        until: to.and_then(|d| d.pred_opt()),
        rates: Rates { cost: r.try_get("", "cost_rate")?, bill: r.try_get("", "bill_rate")? },
    })
}

/// The rate histories of `members` of `org`, oldest period first, in one statement.
pub async fn history(db: &impl ConnectionTrait, org: Uuid, members: &[Uuid]) -> AppResult<Vec<RatePeriod>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM member_rates WHERE org_id = $1 AND membership_id = ANY($2) \
         ORDER BY membership_id, lower(valid) NULLS FIRST"
    );
    let values: Vec<Value> = vec![org.into(), opsgraph_core::loader::keys_array(members)];
    let rows = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    Ok(rows.iter().map(period).collect::<Result<_, _>>()?)
}

/// The rates of each (member, day) of `pairs`, in one statement; pairs without a recorded
/// rate are left out.
pub async fn at(
    db: &impl ConnectionTrait,
    org: Uuid,
    pairs: &[(Uuid, NaiveDate)],
) -> AppResult<HashMap<(Uuid, NaiveDate), Rates>> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let (members, days): (Vec<Uuid>, Vec<NaiveDate>) = pairs.iter().copied().unzip();
    let sql = format!(
        "SELECT q.m, q.d, r.cost_rate, r.bill_rate FROM unnest($2::uuid[], $3::date[]) AS q(m, d) \
         {} WHERE r.org_id = $1",
        join_sql("r", "q.m", "q.d").replacen("LEFT JOIN", "JOIN", 1)
    );
    let values: Vec<Value> = vec![org.into(), members.into(), days.into()];
    let rows = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    let mut out = HashMap::new();
    for r in rows {
        let rates = Rates { cost: r.try_get("", "cost_rate")?, bill: r.try_get("", "bill_rate")? };
        out.insert((r.try_get("", "m")?, r.try_get("", "d")?), rates);
    }
    Ok(out)
}

/// Whether member `member` has any rate recorded.
pub async fn recorded(db: &impl ConnectionTrait, org: Uuid, member: Uuid) -> AppResult<bool> {
    let rows = exec(
        db,
        "SELECT 1 AS one FROM member_rates WHERE org_id = $1 AND membership_id = $2 LIMIT 1",
        vec![org.into(), member.into()],
    )
    .await?;
    Ok(!rows.is_empty())
}

/// Checks a rate: 0..=1e9 with at most two decimals.
pub fn validate(field: &str, v: Option<Decimal>) -> AppResult<Option<Decimal>> {
    match v {
        Some(d) if d.is_sign_negative() || d.scale() > 2 || d > Decimal::from(1_000_000_000) => {
            Err(AppError::bad_input(field, format!("{field} must be between 0 and 1e9 with at most 2 decimals")))
        }
        other => Ok(other),
    }
}

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> AppResult<Vec<QueryResult>> {
    Ok(db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?)
}

/// Applies `change` to member `member` of `org` (the caller has checked permissions) under
/// the membership's row lock, so concurrent changes apply one after the other: the period holding `change.from` is split there (or
/// rewritten when it starts that day); with none, a new period runs to the next recorded
/// one. Returns whether anything changed.
pub async fn set(db: &impl ConnectionTrait, org: Uuid, member: Uuid, change: &RateChange) -> AppResult<bool> {
    if change.is_empty() {
        return Ok(false);
    }
    let from = change.from;
    let lock = "SELECT id FROM memberships WHERE org_id = $1 AND id = $2 FOR UPDATE";
    if exec(db, lock, vec![org.into(), member.into()]).await?.is_empty() {
        return Err(AppError::not_found("membership"));
    }
    let holding = exec(
        db,
        &format!(
            "SELECT id, {COLUMNS} FROM member_rates WHERE org_id = $1 AND membership_id = $2 \
             AND CASE WHEN $3::date IS NULL THEN lower_inf(valid) ELSE valid @> $3::date END"
        ),
        vec![org.into(), member.into(), from.into()],
    )
    .await?;
    let Some(row) = holding.first() else {
        let next = exec(
            db,
            "SELECT min(lower(valid)) AS next FROM member_rates WHERE org_id = $1 AND membership_id = $2 \
             AND NOT lower_inf(valid) AND ($3::date IS NULL OR lower(valid) > $3::date)",
            vec![org.into(), member.into(), from.into()],
        )
        .await?;
        let next: Option<NaiveDate> = match next.first() {
            Some(r) => r.try_get("", "next")?,
            None => None,
        };
        insert(db, org, member, from, next, change.applied_to(Rates::default())).await?;
        return Ok(true);
    };
    let id: Uuid = row.try_get("", "id")?;
    let current = period(row)?;
    let rates = change.applied_to(current.rates);
    if rates == current.rates {
        return Ok(false);
    }
    let end = current.until.and_then(|d| d.succ_opt());
    if current.from == from {
        exec(
            db,
            "UPDATE member_rates SET cost_rate = $2, bill_rate = $3 WHERE id = $1",
            vec![id.into(), rates.cost.into(), rates.bill.into()],
        )
        .await?;
    } else {
        exec(
            db,
            "UPDATE member_rates SET valid = daterange(lower(valid), $2::date) WHERE id = $1",
            vec![id.into(), from.into()],
        )
        .await?;
        insert(db, org, member, from, end, rates).await?;
    }
    Ok(true)
}

async fn insert(
    db: &impl ConnectionTrait,
    org: Uuid,
    member: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    rates: Rates,
) -> AppResult<()> {
    exec(
        db,
        "INSERT INTO member_rates (id, org_id, membership_id, valid, cost_rate, bill_rate) \
         VALUES ($1, $2, $3, daterange($4::date, $5::date), $6, $7)",
        vec![new_id().into(), org.into(), member.into(), from.into(), to.into(), rates.cost.into(), rates.bill.into()],
    )
    .await?;
    Ok(())
}

/// Rate histories by membership id, one statement per batch.
pub struct RateHistoryLoader(pub Arc<TxDb>);

impl Loader<(Uuid, Uuid)> for RateHistoryLoader {
    type Value = Arc<Vec<RatePeriod>>;
    type Error = LoadError;

    /// Keys are (organisation, membership).
    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), Self::Value>, LoadError> {
        let mut by_org: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (org, m) in keys {
            by_org.entry(*org).or_default().push(*m);
        }
        let mut out = HashMap::new();
        for (org, members) in by_org {
            let rows = history(self.0.as_ref(), org, &members).await.map_err(app_error)?;
            let mut grouped: HashMap<Uuid, Vec<RatePeriod>> = members.iter().map(|m| (*m, vec![])).collect();
            for p in rows {
                grouped.entry(p.membership_id).or_default().push(p);
            }
            out.extend(grouped.into_iter().map(|(m, ps)| ((org, m), Arc::new(ps))));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn periods_cover_their_days_inclusively() {
        let p = RatePeriod {
            membership_id: Uuid::nil(),
            from: Some(d(2026, 3, 1)),
            until: Some(d(2026, 6, 30)),
            rates: Rates::default(),
        };
        assert!(p.covers(d(2026, 3, 1)) && p.covers(d(2026, 6, 30)));
        assert!(!p.covers(d(2026, 2, 28)) && !p.covers(d(2026, 7, 1)));
        let open = RatePeriod { from: None, until: None, ..p };
        assert!(open.covers(d(1990, 1, 1)));
    }

    #[test]
    fn a_change_keeps_what_it_omits() {
        let base = Rates { cost: Some(Decimal::from(60)), bill: Some(Decimal::from(150)) };
        let c = RateChange { from: None, cost: None, bill: Some(Some(Decimal::from(170))) };
        assert_eq!(c.applied_to(base), Rates { cost: Some(Decimal::from(60)), bill: Some(Decimal::from(170)) });
        let clear = RateChange { from: None, cost: Some(None), bill: None };
        assert_eq!(clear.applied_to(base).cost, None);
        assert!(RateChange::default().is_empty());
    }

    #[test]
    fn rates_are_bounded() {
        assert!(validate("costRate", Some(Decimal::new(-1, 0))).is_err());
        assert!(validate("costRate", Some(Decimal::new(1001, 3))).is_err());
        assert!(validate("costRate", Some(Decimal::new(5550, 2))).is_ok());
    }
}
