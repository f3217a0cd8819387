//! KPIs: definitions (a metric of the [`Metrics`] registry with its parameter, a target, a
//! direction and a period), measurements (one per KPI and period, recorded by the scheduled
//! job and on demand, re-measuring a period replaces its value) and trends (time buckets).

use std::time::Duration;

use chrono::{Datelike, Months, NaiveDate};
use opsgraph_core::id::new_id;
use opsgraph_core::kpi::{Metrics, Span};
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, TxDb, validate};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, Set, Statement,
};
use uuid::Uuid;

use crate::entity::{kpi, kpi_measurement};
use crate::enums::{KpiDirection, KpiPeriod, MeasurementSource};
use crate::nodes::Kpi;

/// Most time buckets one trend returns.
pub const MAX_BUCKETS: i64 = 400;

/// The period of kind `period` holding `day`.
pub fn period_of(period: KpiPeriod, day: NaiveDate) -> Span {
    let first = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(day);
    let (from, until) = match period {
        KpiPeriod::Day => (day, day.succ_opt().unwrap_or(day)),
        KpiPeriod::Week => {
            let monday = day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()));
            (monday, monday + chrono::Days::new(7))
        }
        KpiPeriod::Month => {
            let f = first(day.year(), day.month());
            (f, f + Months::new(1))
        }
        KpiPeriod::Quarter => {
            let f = first(day.year(), (day.month0() / 3) * 3 + 1);
            (f, f + Months::new(3))
        }
        KpiPeriod::Year => {
            let f = first(day.year(), 1);
            (f, f + Months::new(12))
        }
    };
    Span { from, until }
}

/// The `date_trunc` unit of a period.
pub fn trunc_unit(period: KpiPeriod) -> &'static str {
    match period {
        KpiPeriod::Day => "day",
        KpiPeriod::Week => "week",
        KpiPeriod::Month => "month",
        KpiPeriod::Quarter => "quarter",
        KpiPeriod::Year => "year",
    }
}

/// What a new KPI or a change says.
#[derive(Debug, Default)]
pub struct KpiInput {
    /// Name, unique in the organisation.
    pub name: Option<String>,
    /// What it is for.
    pub description: Option<Option<String>>,
    /// The metric's key.
    pub metric: Option<String>,
    /// The metric's parameter, `{ "level": "HIGH" }`.
    pub params: Option<serde_json::Value>,
    /// The target.
    pub target: Option<Option<Decimal>>,
    /// Which way is better.
    pub direction: Option<KpiDirection>,
    /// How often it is measured.
    pub period: Option<KpiPeriod>,
    /// Who answers for it.
    pub owner_id: Option<Option<Uuid>>,
    /// Whether the scheduled job measures it.
    pub active: Option<bool>,
}

/// A KPI of organisation `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<kpi::Model> {
    kpi::Entity::find_by_id(id)
        .filter(kpi::Column::OrgId.eq(org))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("kpi"))
}

fn checked_target(t: Option<Decimal>) -> AppResult<Option<Decimal>> {
    let max = Decimal::from(10_000_000_000_000_000i64);
    match t {
        Some(v) if v.abs() >= max => Err(AppError::bad_input("target", "target is out of range")),
        other => Ok(other.map(|v| v.round_dp(4))),
    }
}

async fn owner(db: &impl ConnectionTrait, org: Uuid, id: Option<Uuid>) -> AppResult<Option<Uuid>> {
    match id {
        Some(m) => Ok(Some(super::members::get(db, org, m).await?.id)),
        None => Ok(None),
    }
}

/// Defines a KPI (AnalyticsManage).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    metrics: &Metrics,
    i: KpiInput,
) -> AppResult<kpi::Model> {
    let w = Write::new(db, session, Permission::AnalyticsManage)?;
    let key = i.metric.unwrap_or_default();
    let metric = metrics.get(&key, "metric")?;
    let params = i.params.unwrap_or_else(|| serde_json::json!({}));
    Metrics::param_value(metric, &params)?;
    let row = kpi::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", i.name.as_deref().unwrap_or_default(), 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.flatten().as_deref(), 2000, true)?),
        metric: Set(metric.key.to_owned()),
        params: Set(if params.is_null() { serde_json::json!({}) } else { params }),
        target: Set(checked_target(i.target.flatten())?),
        direction: Set(i.direction.unwrap_or(KpiDirection::HigherIsBetter).as_str().to_owned()),
        period: Set(i.period.unwrap_or(KpiPeriod::Month).as_str().to_owned()),
        owner_id: Set(owner(db, w.org, i.owner_id.flatten()).await?),
        active: Set(i.active.unwrap_or(true)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| unique_name(e.into()))?;
    w.created::<Kpi>("kpi.create", &row, ("createKpi", None)).await?;
    w.changed::<Kpi>("kpi.created", row.id, None).await?;
    Ok(row)
}

fn unique_name(e: AppError) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::Conflict("a KPI with this name exists".into()),
        other => other,
    }
}

/// Changes a KPI (AnalyticsManage; optimistic concurrency).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    metrics: &Metrics,
    (id, expected): (Uuid, i32),
    i: KpiInput,
) -> AppResult<kpi::Model> {
    let w = Write::new(db, session, Permission::AnalyticsManage)?;
    let current = get(db, w.org, id).await?;
    let mut am: kpi::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 2000, true)?);
    }
    let key = i.metric.clone().unwrap_or_else(|| current.metric.clone());
    let metric = metrics.get(&key, "metric")?;
    let params = i.params.clone().unwrap_or_else(|| current.params.clone());
    Metrics::param_value(metric, &params)?;
    am.metric = Set(metric.key.to_owned());
    am.params = Set(params);
    if let Some(t) = i.target {
        am.target = Set(checked_target(t)?);
    }
    if let Some(d) = i.direction {
        am.direction = Set(d.as_str().to_owned());
    }
    if let Some(p) = i.period {
        am.period = Set(p.as_str().to_owned());
    }
    if let Some(o) = i.owner_id {
        am.owner_id = Set(owner(db, w.org, o).await?);
    }
    if let Some(a) = i.active {
        am.active = Set(a);
    }
    let Updated { after, changes, .. } =
        w.update::<Kpi, _>("kpi.update", current, am, expected).await.map_err(unique_name)?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<Kpi>("kpi.updated", after.id, None).await?;
    }
    Ok(after)
}

/// Deletes a KPI with its measurements (AnalyticsManage).
pub async fn delete(db: &impl ConnectionTrait, session: &Session, id: Uuid) -> AppResult<kpi::Model> {
    let w = Write::new(db, session, Permission::AnalyticsManage)?;
    let row = w.delete::<Kpi>("kpi.delete", get(db, w.org, id).await?).await?;
    w.changed::<Kpi>("kpi.deleted", row.id, None).await?;
    Ok(row)
}

/// The organisation's calendar for a measurement: makes its time zone the transaction's
/// (so a metric's date bounds and `::date` casts are its local days) and returns the zone
/// that was set before and the organisation's today.
async fn local_calendar(db: &impl ConnectionTrait, org: Uuid) -> AppResult<(String, NaiveDate)> {
    let sql = "WITH before AS MATERIALIZED (SELECT current_setting('TimeZone') AS prev) \
               SELECT before.prev, (now() AT TIME ZONE o.timezone)::date AS today, \
                 set_config('TimeZone', o.timezone, true) AS tz \
               FROM before, organizations o WHERE o.id = $1";
    let row = db
        .query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [org.into()]))
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    Ok((row.try_get("", "prev")?, row.try_get("", "today")?))
}

/// Measures `k` for the period holding `day` (default: the organisation's today, in its
/// time zone) and records it, replacing that period's earlier value. A day after today is
/// BAD_USER_INPUT on `on`.
pub async fn record(
    db: &impl ConnectionTrait,
    metrics: &Metrics,
    k: &kpi::Model,
    day: Option<NaiveDate>,
    source: MeasurementSource,
) -> AppResult<kpi_measurement::Model> {
    let metric = metrics.get(&k.metric, "metric")?;
    let param = Metrics::param_value(metric, &k.params)?;
    let period = KpiPeriod::parse(&k.period).ok_or_else(|| AppError::internal("kpi with an unknown period"))?;
    let (previous_zone, today) = local_calendar(db, k.org_id).await?;
    let day = day.unwrap_or(today);
    if day > today {
        return Err(AppError::bad_input("on", "a period that has not begun cannot be measured"));
    }
    let span = period_of(period, day);
    let value = Metrics::measure(db, metric, k.org_id, span, param).await?;
    let restore = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('TimeZone', $1, true)",
        [previous_zone.into()],
    );
    db.query_one_raw(restore).await?;
    let sql = "INSERT INTO kpi_measurements (id, org_id, kpi_id, period_start, period_end, value, target, source) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
               ON CONFLICT (kpi_id, period_start) DO UPDATE SET value = excluded.value, target = excluded.target, \
                 source = excluded.source, period_end = excluded.period_end, measured_at = now() \
               RETURNING *";
    let last_day = span.until.pred_opt().unwrap_or(span.from);
    let values: Vec<sea_orm::Value> = vec![
        new_id().into(),
        k.org_id.into(),
        k.id.into(),
        span.from.into(),
        last_day.into(),
        value.into(),
        k.target.into(),
        source.as_str().into(),
    ];
    let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    kpi_measurement::Model::find_by_statement(stmt)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("measurement not recorded"))
}

/// Measures a KPI for its current period (in the organisation's time zone), or for the
/// period holding `on` (AnalyticsManage).
pub async fn measure(
    db: &impl ConnectionTrait,
    session: &Session,
    metrics: &Metrics,
    id: Uuid,
    on: Option<NaiveDate>,
) -> AppResult<kpi_measurement::Model> {
    let w = Write::new(db, session, Permission::AnalyticsManage)?;
    let k = get(db, w.org, id).await?;
    let m = record(db, metrics, &k, on, MeasurementSource::OnDemand).await?;
    if on.is_none() {
        kpi::Entity::update_many()
            .col_expr(kpi::Column::LastMeasuredAt, sea_orm::sea_query::Expr::current_timestamp())
            .filter(kpi::Column::Id.eq(k.id))
            .exec(db)
            .await?;
    }
    w.changed::<Kpi>("kpi.measured", k.id, None).await?;
    Ok(m)
}

/// The scheduled job: measures every active KPI of every organisation not measured for
/// `every`, for the period holding the organisation's today. Safe on several instances: a KPI being measured is
/// locked, the others skip it. Returns the measurements recorded.
pub async fn run_due(pool: &DatabaseConnection, metrics: &Metrics, every: Duration) -> AppResult<u64> {
    let mut done = 0;
    let stale = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    for org in super::organization::scheduled_ids(pool).await? {
        let db = TxDb::begin_system(pool, Some(org), "kpi").await?;
        let sql = "SELECT * FROM kpis WHERE org_id = $1 AND active \
                   AND (last_measured_at IS NULL OR last_measured_at < now() - make_interval(secs => $2::float8 / 1000)) \
                   ORDER BY id FOR UPDATE SKIP LOCKED";
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, [org.into(), stale.into()]);
        let due = kpi::Model::find_by_statement(stmt).all(&db).await?;
        for k in &due {
            match record(&db, metrics, k, None, MeasurementSource::Schedule).await {
                Ok(_) => done += 1,
                // A metric a newer server no longer has: skip it, keep the others.
                Err(e @ AppError::BadUserInput { .. }) => tracing::warn!(kpi = %k.id, error = ?e, "kpi not measured"),
                Err(e) => return Err(e),
            }
        }
        if !due.is_empty() {
            let ids: Vec<Uuid> = due.iter().map(|k| k.id).collect();
            kpi::Entity::update_many()
                .col_expr(kpi::Column::LastMeasuredAt, sea_orm::sea_query::Expr::current_timestamp())
                .filter(kpi::Column::Id.is_in(ids))
                .exec(&db)
                .await?;
        }
        db.commit().await?;
    }
    Ok(done)
}

/// One point of a trend: a time bucket and the KPI's value in it (the latest measured
/// period starting in the bucket), with the mean of every measurement in it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct TrendPoint {
    /// The KPI.
    pub kpi_id: Uuid,
    /// The bucket's first day.
    pub bucket_start: NaiveDate,
    /// The latest value measured in the bucket.
    pub value: Option<Decimal>,
    /// The mean of the bucket's measurements.
    pub average: Option<Decimal>,
    /// The target that latest measurement was held against.
    pub target: Option<Decimal>,
    /// Measurements in the bucket.
    pub measurements: i64,
}

/// A trend's window: first and last day (inclusive) and the bucket.
pub type Window = (NaiveDate, NaiveDate, KpiPeriod);

/// Checks a trend window: ordered, at most [`MAX_BUCKETS`] buckets.
pub fn checked_window(w: Window) -> AppResult<Window> {
    let (from, to, bucket) = w;
    if to < from {
        return Err(AppError::bad_input("to", "to must not be before from"));
    }
    let approx_days = match bucket {
        KpiPeriod::Day => 1,
        KpiPeriod::Week => 7,
        KpiPeriod::Month => 28,
        KpiPeriod::Quarter => 90,
        KpiPeriod::Year => 365,
    };
    if (to - from).num_days() / approx_days >= MAX_BUCKETS {
        return Err(AppError::bad_input("from", format!("at most {MAX_BUCKETS} buckets per trend")));
    }
    Ok(w)
}

/// The trends of KPIs `ids` over one window: every bucket, measured or not, oldest first.
/// One statement for all of them.
pub async fn trends(db: &impl ConnectionTrait, ids: &[Uuid], w: Window) -> AppResult<Vec<TrendPoint>> {
    let (from, to, bucket) = checked_window(w)?;
    let (first, last) = (period_of(bucket, from).from, period_of(bucket, to).from);
    let unit = trunc_unit(bucket);
    let sql = format!(
        "SELECT k.id AS kpi_id, b::date AS bucket_start, latest.value, latest.target, agg.average, \
           coalesce(agg.n, 0) AS measurements \
         FROM unnest($1::uuid[]) k(id) CROSS JOIN generate_series($2::date, $3::date, interval '1 {unit}') b \
         LEFT JOIN LATERAL (SELECT m.value, m.target FROM kpi_measurements m \
             WHERE m.kpi_id = k.id AND date_trunc('{unit}', m.period_start)::date = b::date \
             ORDER BY m.period_start DESC LIMIT 1) latest ON true \
         LEFT JOIN LATERAL (SELECT round(avg(m.value), 4) AS average, count(*) AS n FROM kpi_measurements m \
             WHERE m.kpi_id = k.id AND date_trunc('{unit}', m.period_start)::date = b::date) agg ON true \
         ORDER BY k.id, b"
    );
    let values: Vec<sea_orm::Value> = vec![ids.to_vec().into(), first.into(), last.into()];
    Ok(TrendPoint::find_by_statement(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).all(db).await?)
}

/// Whether `value` meets `target` in `direction` (`None` without a target).
pub fn on_target(value: Decimal, target: Option<Decimal>, direction: &str) -> Option<bool> {
    let t = target?;
    Some(if direction == KpiDirection::LowerIsBetter.as_str() { value <= t } else { value >= t })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn periods_hold_their_day() {
        let day = d("2026-11-25"); // a Wednesday
        let span = |p| {
            let s = period_of(p, day);
            (s.from.to_string(), s.until.to_string())
        };
        assert_eq!(span(KpiPeriod::Day), ("2026-11-25".into(), "2026-11-26".into()));
        assert_eq!(span(KpiPeriod::Week), ("2026-11-23".into(), "2026-11-30".into()));
        assert_eq!(span(KpiPeriod::Month), ("2026-11-01".into(), "2026-12-01".into()));
        assert_eq!(span(KpiPeriod::Quarter), ("2026-10-01".into(), "2027-01-01".into()));
        assert_eq!(span(KpiPeriod::Year), ("2026-01-01".into(), "2027-01-01".into()));
        assert_eq!(period_of(KpiPeriod::Quarter, d("2026-03-31")).from, d("2026-01-01"));
    }

    #[test]
    fn targets_follow_the_direction() {
        let (v, t) = (Decimal::from(5), Some(Decimal::from(4)));
        assert_eq!(on_target(v, t, "HIGHER_IS_BETTER"), Some(true));
        assert_eq!(on_target(v, t, "LOWER_IS_BETTER"), Some(false));
        assert_eq!(on_target(v, None, "LOWER_IS_BETTER"), None);
    }
}
