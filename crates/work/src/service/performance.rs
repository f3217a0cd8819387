//! Member performance, derived and never typed in: per period, the hours a member had
//! (capacity, less time off), logged and billed, billable utilisation, and the tasks they
//! delivered (on time or not). Other domains add their own figures to the same periods
//! (crm: client feedback on the projects the member worked on).

use std::collections::HashMap;

use chrono::NaiveDate;
use opsgraph_core::{AppError, AppResult};
use opsgraph_org::enums::KpiPeriod;
use opsgraph_org::service::kpis::period_of;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use super::capacity::{self, MemberInputs};

/// Longest range one request may cover.
pub const MAX_DAYS: i64 = 731;

/// A member's figures for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    /// The member.
    pub membership_id: Uuid,
    /// First day.
    pub period_start: NaiveDate,
    /// Last day (inclusive).
    pub period_end: NaiveDate,
    /// Contracted hours.
    pub capacity_hours: Decimal,
    /// Contracted hours less approved time off.
    pub available_hours: Decimal,
    /// Hours logged.
    pub logged_hours: Decimal,
    /// Billable hours logged.
    pub billable_hours: Decimal,
    /// Tasks assigned to the member completed in the period.
    pub delivered_tasks: i64,
    /// Of those, completed by their due date (or without one).
    pub on_time_tasks: i64,
}

impl Performance {
    /// Billable hours as a share of available hours, in percent (`None` with no hours).
    pub fn utilisation(&self) -> Option<Decimal> {
        (!self.available_hours.is_zero())
            .then(|| (self.billable_hours * Decimal::from(100) / self.available_hours).round_dp(1))
    }
}

/// The periods of kind `bucket` covering `from..=to`, each cut to that range.
pub fn periods(from: NaiveDate, to: NaiveDate, bucket: KpiPeriod) -> AppResult<Vec<(NaiveDate, NaiveDate)>> {
    if to < from {
        return Err(AppError::bad_input("to", "to must not be before from"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::bad_input("from", format!("at most {MAX_DAYS} days at a time")));
    }
    let mut out = vec![];
    let mut day = from;
    while day <= to {
        let span = period_of(bucket, day);
        let end = span.until.pred_opt().unwrap_or(span.until).min(to);
        out.push((day, end));
        day = span.until;
    }
    Ok(out)
}

/// The figures of one member over `periods` from their loaded inputs and deliveries.
fn figures(
    member: Uuid,
    periods: &[(NaiveDate, NaiveDate)],
    m: &MemberInputs,
    done: &[(NaiveDate, i64, i64)],
) -> Vec<Performance> {
    periods
        .iter()
        .map(|&(start, end)| {
            let (mut cap, mut off) = (Decimal::ZERO, Decimal::ZERO);
            for d in start.iter_days().take_while(|d| *d <= end) {
                let (base, leave, _) = capacity::day_hours(m, d);
                cap += base;
                off += leave;
            }
            let logged = m.logged.iter().filter(|(d, _, _)| start <= *d && *d <= end);
            let in_period = done.iter().filter(|(d, _, _)| start <= *d && *d <= end);
            Performance {
                membership_id: member,
                period_start: start,
                period_end: end,
                capacity_hours: cap,
                available_hours: cap - off,
                logged_hours: logged.clone().map(|(_, h, _)| *h).sum(),
                billable_hours: logged.filter(|(_, _, b)| *b).map(|(_, h, _)| *h).sum(),
                delivered_tasks: in_period.clone().map(|(_, n, _)| n).sum(),
                on_time_tasks: in_period.map(|(_, _, o)| o).sum(),
            }
        })
        .collect()
}

/// The figures of `members` per period of `bucket` over `from..=to`: five statements.
pub async fn of_members(
    db: &impl ConnectionTrait,
    members: &[Uuid],
    (from, to, bucket): (NaiveDate, NaiveDate, KpiPeriod),
) -> AppResult<HashMap<Uuid, Vec<Performance>>> {
    let periods = periods(from, to, bucket)?;
    let inputs = capacity::load_inputs(db, members, from, to).await?;
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT assignee_id AS m, completed_at::date AS d, count(*) AS n, \
               count(*) FILTER (WHERE due_date IS NULL OR completed_at::date <= due_date) AS ot \
             FROM tasks WHERE assignee_id = ANY($1) AND status = 'DONE' AND deleted_at IS NULL \
               AND completed_at::date BETWEEN $2 AND $3 GROUP BY 1, 2",
            [opsgraph_core::loader::keys_array(members), from.into(), to.into()],
        ))
        .await?;
    let mut done: HashMap<Uuid, Vec<(NaiveDate, i64, i64)>> = HashMap::new();
    for r in rows {
        done.entry(r.try_get("", "m")?).or_default().push((
            r.try_get("", "d")?,
            r.try_get("", "n")?,
            r.try_get("", "ot")?,
        ));
    }
    let empty = MemberInputs::default();
    Ok(members
        .iter()
        .map(|m| {
            let d = done.get(m).map(Vec::as_slice).unwrap_or_default();
            (*m, figures(*m, &periods, inputs.get(m).unwrap_or(&empty), d))
        })
        .collect())
}

/// The projects each (member, first day, last day) logged time on in that range, one
/// statement (for other domains' per-period figures).
pub async fn projects_worked(
    db: &impl ConnectionTrait,
    keys: &[(Uuid, NaiveDate, NaiveDate)],
) -> AppResult<HashMap<(Uuid, NaiveDate, NaiveDate), Vec<Uuid>>> {
    let (ms, fs, ts): (Vec<Uuid>, Vec<NaiveDate>, Vec<NaiveDate>) =
        keys.iter().fold((vec![], vec![], vec![]), |mut acc, (m, f, t)| {
            acc.0.push(*m);
            acc.1.push(*f);
            acc.2.push(*t);
            acc
        });
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT DISTINCT k.m, k.f, k.t, e.project_id FROM unnest($1::uuid[], $2::date[], $3::date[]) AS k(m, f, t) \
             JOIN time_entries e ON e.membership_id = k.m AND e.entry_date BETWEEN k.f AND k.t",
            [ms.into(), fs.into(), ts.into()],
        ))
        .await?;
    let mut out: HashMap<_, Vec<Uuid>> = HashMap::new();
    for r in rows {
        let key = (r.try_get("", "m")?, r.try_get("", "f")?, r.try_get("", "t")?);
        out.entry(key).or_default().push(r.try_get("", "project_id")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn periods_are_cut_to_the_range() {
        let p = periods(d("2026-10-15"), d("2026-12-03"), KpiPeriod::Month).unwrap_or_default();
        assert_eq!(
            p,
            vec![
                (d("2026-10-15"), d("2026-10-31")),
                (d("2026-11-01"), d("2026-11-30")),
                (d("2026-12-01"), d("2026-12-03"))
            ]
        );
        assert!(periods(d("2026-12-03"), d("2026-12-01"), KpiPeriod::Week).is_err());
        assert!(periods(d("2020-01-01"), d("2026-12-01"), KpiPeriod::Week).is_err());
    }

    #[test]
    fn figures_count_hours_and_deliveries() {
        let m = MemberInputs {
            logged: vec![(d("2026-11-02"), Decimal::from(6), true), (d("2026-11-03"), Decimal::from(2), false)],
            ..MemberInputs::default()
        };
        let done = [(d("2026-11-04"), 3, 2)];
        // Week of Monday 2 November: 5 weekdays x 8 h.
        let f = figures(Uuid::nil(), &[(d("2026-11-02"), d("2026-11-08"))], &m, &done);
        assert_eq!(
            (f[0].capacity_hours, f[0].logged_hours, f[0].billable_hours),
            (Decimal::from(40), Decimal::from(8), Decimal::from(6))
        );
        assert_eq!((f[0].delivered_tasks, f[0].on_time_tasks), (3, 2));
        assert_eq!(f[0].utilisation(), Some(Decimal::new(150, 1)));
    }
}
