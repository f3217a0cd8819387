//! Capacity maths per member and ISO week (Monday first), from four inputs:
//! - availability: hours per weekday (default 8 Monday-Friday, 0 at weekends);
//! - approved time off: whole days (or `hoursPerDay`) taken out of that day's hours;
//! - allocations: `allocationPercent` of each project membership active that day (projects
//!   not deleted, COMPLETED or CANCELLED), applied to the day's base hours;
//! - time entries: hours logged (and the billable part).
//!
//! Per week: `capacity` = Σ base hours, `available` = capacity - time off, `allocated` =
//! Σ base × allocation, `free` = available - allocated (negative when over-booked), and
//! `overAllocated` when allocated exceeds available.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// One member's figures for one week.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekCapacity {
    /// The member.
    pub membership_id: Uuid,
    /// Monday of the week.
    pub week_start: NaiveDate,
    /// Contracted hours (availability pattern).
    pub capacity_hours: Decimal,
    /// Approved time off, in hours.
    pub time_off_hours: Decimal,
    /// Capacity minus time off.
    pub available_hours: Decimal,
    /// Hours booked by project allocations.
    pub allocated_hours: Decimal,
    /// Allocated hours as a share of capacity, in percent (rounded).
    pub allocation_percent: i32,
    /// Hours logged.
    pub logged_hours: Decimal,
    /// Billable part of the logged hours.
    pub billable_hours: Decimal,
    /// Available minus allocated (negative when over-booked).
    pub free_hours: Decimal,
    /// Allocated exceeds available.
    pub over_allocated: bool,
}

/// Approved time off of a member.
#[derive(Debug, Clone)]
pub struct Leave {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    /// Hours per day, or whole days.
    pub hours_per_day: Option<Decimal>,
}

/// A project allocation of a member.
#[derive(Debug, Clone)]
pub struct Allocation {
    /// Percent 0..100.
    pub percent: i16,
    /// From (open when none).
    pub start: Option<NaiveDate>,
    /// To, inclusive (open when none).
    pub end: Option<NaiveDate>,
}

/// Everything the maths needs about one member.
#[derive(Debug, Clone, Default)]
pub struct MemberInputs {
    /// Hours per ISO weekday 1..7 (index 0 = Monday); `None`: the default pattern.
    pub pattern: Option<[Decimal; 7]>,
    /// Approved time off.
    pub leaves: Vec<Leave>,
    /// Active project allocations.
    pub allocations: Vec<Allocation>,
    /// (day, hours, billable) logged.
    pub logged: Vec<(NaiveDate, Decimal, bool)>,
}

/// Monday of the week holding `d`.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

fn base_hours(pattern: &Option<[Decimal; 7]>, d: NaiveDate) -> Decimal {
    let i = d.weekday().num_days_from_monday() as usize;
    match pattern {
        Some(p) => p[i],
        None if i < 5 => Decimal::from(8),
        None => Decimal::ZERO,
    }
}

/// One member's hours on day `d`: contracted, taken off, booked by allocations.
pub fn day_hours(m: &MemberInputs, d: NaiveDate) -> (Decimal, Decimal, Decimal) {
    let base = base_hours(&m.pattern, d);
    let leave = m
        .leaves
        .iter()
        .filter(|l| l.start <= d && d <= l.end)
        .map(|l| l.hours_per_day.unwrap_or(base).min(base))
        .fold(Decimal::ZERO, |a, b| a.max(b));
    let pct: i32 = m
        .allocations
        .iter()
        .filter(|a| a.start.is_none_or(|s| s <= d) && a.end.is_none_or(|e| d <= e))
        .map(|a| i32::from(a.percent))
        .sum();
    (base, leave, base * Decimal::from(pct) / Decimal::from(100))
}

/// The weekly figures of one member for `weeks` weeks from the Monday of `from`.
pub fn weeks_of(membership_id: Uuid, from: NaiveDate, weeks: u32, m: &MemberInputs) -> Vec<WeekCapacity> {
    let first = monday_of(from);
    (0..weeks)
        .map(|w| {
            let start = first + Days::new(u64::from(w) * 7);
            let end = start + Days::new(6);
            let (mut cap, mut off, mut alloc) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
            for d in start.iter_days().take(7) {
                let (base, leave, booked) = day_hours(m, d);
                cap += base;
                off += leave;
                alloc += booked;
            }
            let in_week = m.logged.iter().filter(|(d, _, _)| start <= *d && *d <= end);
            let logged: Decimal = in_week.clone().map(|(_, h, _)| *h).sum();
            let billable: Decimal = in_week.filter(|(_, _, b)| *b).map(|(_, h, _)| *h).sum();
            let available = cap - off;
            let pct = if cap.is_zero() {
                0
            } else {
                (alloc * Decimal::from(100) / cap).round().try_into().unwrap_or(i32::MAX)
            };
            WeekCapacity {
                membership_id,
                week_start: start,
                capacity_hours: cap,
                time_off_hours: off,
                available_hours: available,
                allocated_hours: alloc.round_dp(2),
                allocation_percent: pct,
                logged_hours: logged,
                billable_hours: billable,
                free_hours: (available - alloc).round_dp(2),
                over_allocated: alloc > available,
            }
        })
        .collect()
}

/// Loads the inputs of `members` for the days `from..=to` in four statements.
pub async fn load_inputs(
    db: &impl ConnectionTrait,
    members: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<Uuid, MemberInputs>, sea_orm::DbErr> {
    let q = |sql: &str, with_dates: bool| {
        let mut values: Vec<sea_orm::Value> = vec![opsgraph_core::loader::keys_array(members)];
        if with_dates {
            values.push(from.into());
            values.push(to.into());
        }
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    };
    let mut out: HashMap<Uuid, MemberInputs> = members.iter().map(|m| (*m, MemberInputs::default())).collect();
    for r in db
        .query_all_raw(q(
            "SELECT membership_id AS m, array_agg(hours ORDER BY weekday) AS h FROM availability \
             WHERE membership_id = ANY($1) GROUP BY membership_id HAVING count(*) = 7",
            false,
        ))
        .await?
    {
        let m: Uuid = r.try_get("", "m")?;
        let h: Vec<Decimal> = r.try_get("", "h")?;
        if let (Some(e), Ok(p)) = (out.get_mut(&m), <[Decimal; 7]>::try_from(h)) {
            e.pattern = Some(p);
        }
    }
    for r in db
        .query_all_raw(q(
            "SELECT membership_id AS m, start_date AS s, end_date AS e, hours_per_day AS h FROM time_off \
             WHERE membership_id = ANY($1) AND status = 'APPROVED' AND start_date <= $3 AND end_date >= $2",
            true,
        ))
        .await?
    {
        let m: Uuid = r.try_get("", "m")?;
        if let Some(e) = out.get_mut(&m) {
            e.leaves.push(Leave {
                start: r.try_get("", "s")?,
                end: r.try_get("", "e")?,
                hours_per_day: r.try_get("", "h")?,
            });
        }
    }
    for r in db
        .query_all_raw(q(
            "SELECT pm.membership_id AS m, pm.allocation_percent AS p, pm.start_date AS s, pm.end_date AS e \
             FROM project_members pm JOIN projects p ON p.id = pm.project_id \
             WHERE pm.membership_id = ANY($1) AND p.deleted_at IS NULL AND p.status NOT IN ('COMPLETED','CANCELLED') \
             AND (pm.start_date IS NULL OR pm.start_date <= $3) AND (pm.end_date IS NULL OR pm.end_date >= $2)",
            true,
        ))
        .await?
    {
        let m: Uuid = r.try_get("", "m")?;
        if let Some(e) = out.get_mut(&m) {
            e.allocations.push(Allocation {
                percent: r.try_get("", "p")?,
                start: r.try_get("", "s")?,
                end: r.try_get("", "e")?,
            });
        }
    }
    for r in db
        .query_all_raw(q(
            "SELECT membership_id AS m, entry_date AS d, sum(hours) AS h, is_billable AS b FROM time_entries \
             WHERE membership_id = ANY($1) AND entry_date BETWEEN $2 AND $3 GROUP BY 1, 2, 4",
            true,
        ))
        .await?
    {
        let m: Uuid = r.try_get("", "m")?;
        if let Some(e) = out.get_mut(&m) {
            e.logged.push((r.try_get("", "d")?, r.try_get("", "h")?, r.try_get("", "b")?));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn default_week_with_allocation_time_off_and_logs() {
        // 2026-11-23 is a Monday.
        let m = MemberInputs {
            pattern: None,
            leaves: vec![Leave { start: d("2026-11-26"), end: d("2026-11-29"), hours_per_day: None }],
            allocations: vec![
                Allocation { percent: 60, start: None, end: None },
                Allocation { percent: 50, start: Some(d("2026-11-25")), end: None },
            ],
            logged: vec![(d("2026-11-23"), Decimal::from(6), true), (d("2026-11-24"), Decimal::from(3), false)],
        };
        let w = &weeks_of(Uuid::nil(), d("2026-11-25"), 2, &m);
        assert_eq!(w[0].week_start, d("2026-11-23"));
        assert_eq!(w[0].capacity_hours, Decimal::from(40));
        assert_eq!(w[0].time_off_hours, Decimal::from(16)); // Thu + Fri; the weekend has no hours
        assert_eq!(w[0].available_hours, Decimal::from(24));
        // Mon, Tue at 60% (4.8 h each) + Wed..Fri at 110% (8.8 h each) = 36 h.
        assert_eq!(w[0].allocated_hours, Decimal::from(36));
        assert_eq!(w[0].allocation_percent, 90);
        assert_eq!(w[0].free_hours, Decimal::from(-12));
        assert!(w[0].over_allocated);
        assert_eq!((w[0].logged_hours, w[0].billable_hours), (Decimal::from(9), Decimal::from(6)));
        // Next week: 110% all week, no leave.
        assert_eq!(w[1].allocated_hours, Decimal::from(44));
        assert!(w[1].over_allocated);
    }

    #[test]
    fn custom_pattern_and_partial_days() {
        let mut pattern = [Decimal::ZERO; 7];
        pattern[0] = Decimal::from(4);
        pattern[2] = Decimal::from(4);
        let m = MemberInputs {
            pattern: Some(pattern),
            leaves: vec![Leave { start: d("2026-11-23"), end: d("2026-11-25"), hours_per_day: Some(Decimal::from(2)) }],
            allocations: vec![Allocation { percent: 50, start: None, end: Some(d("2026-11-23")) }],
            logged: vec![],
        };
        let w = &weeks_of(Uuid::nil(), d("2026-11-29"), 1, &m)[0];
        assert_eq!(
            (w.capacity_hours, w.time_off_hours, w.available_hours),
            (Decimal::from(8), Decimal::from(4), Decimal::from(4))
        );
        assert_eq!(w.allocated_hours, Decimal::from(2));
        assert_eq!(w.free_hours, Decimal::from(2));
        assert!(!w.over_allocated);
    }
}
