//! The organisation's P&L by month: revenue (invoices net of credit notes, at their
//! issue-rate snapshot), labour cost (hours x the member's cost rate on each day) and approved
//! expenses, in the organisation's currency; three statements for any range.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use opsgraph_core::money::cents;
use opsgraph_core::{AppError, AppResult, Permission, Session};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Most months one P&L covers.
pub const MAX_MONTHS: u32 = 36;

/// One month of the P&L.
#[derive(Debug, Clone, Default)]
pub struct Month {
    /// Its first day.
    pub month: Option<NaiveDate>,
    /// Invoiced, net of credit notes.
    pub revenue: Decimal,
    /// Hours x cost rates.
    pub labour_cost: Decimal,
    /// Approved expenses.
    pub expenses: Decimal,
    /// Documents left out for want of a rate.
    pub unconverted: i64,
}

impl Month {
    /// Revenue - labour - expenses.
    pub fn margin(&self) -> Decimal {
        self.revenue - self.labour_cost - self.expenses
    }
}

const REVENUE: &str = "SELECT date_trunc('month', issue_date)::date AS month, \
   sum(CASE WHEN kind = 'INVOICE' THEN total ELSE -total END * rate_to_org) AS amount, \
   count(*) FILTER (WHERE rate_to_org IS NULL) AS unconverted \
 FROM invoices WHERE org_id = $1 AND status NOT IN ('DRAFT','VOID') AND issue_date BETWEEN $2 AND $3 GROUP BY 1";

const EXPENSES: &str = "SELECT date_trunc('month', spent_on)::date AS month, \
   sum(amount * rate_to_org) AS amount, count(*) FILTER (WHERE rate_to_org IS NULL) AS unconverted \
 FROM expenses WHERE org_id = $1 AND status IN ('APPROVED','REIMBURSED') AND spent_on BETWEEN $2 AND $3 GROUP BY 1";

/// The months of `from..=to` (whole months), each with its figures.
pub async fn by_month(
    db: &impl ConnectionTrait,
    session: &Session,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<(String, Vec<Month>)> {
    let org = session.require(Permission::FinanceRead)?;
    let (start, end) = months(from, to)?;
    let currency = opsgraph_org::service::organization::default_currency(db, org).await?;
    let mut out: BTreeMap<NaiveDate, Month> = BTreeMap::new();
    let mut m = start;
    while m <= end {
        out.insert(m, Month { month: Some(m), ..Month::default() });
        m = m.checked_add_months(Months::new(1)).ok_or_else(|| AppError::internal("date overflow"))?;
    }
    let last = end.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(end);
    for (sql, revenue) in [(REVENUE, true), (EXPENSES, false)] {
        let values: Vec<sea_orm::Value> = vec![org.into(), start.into(), last.into()];
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
        for r in db.query_all_raw(stmt).await? {
            let Some(slot) = out.get_mut(&r.try_get::<NaiveDate>("", "month")?) else { continue };
            let amount = r.try_get::<Option<Decimal>>("", "amount")?.unwrap_or_default();
            if revenue {
                slot.revenue = amount
            } else {
                slot.expenses = amount
            }
            slot.unconverted += r.try_get::<i64>("", "unconverted")?;
        }
    }
    for (month, l) in opsgraph_work::service::time::labour_by_month(db, org, start, last).await? {
        if let Some(slot) = out.get_mut(&month) {
            slot.labour_cost = l.cost;
        }
    }
    let rows = out
        .into_values()
        .map(|mut m| {
            for v in [&mut m.revenue, &mut m.labour_cost, &mut m.expenses] {
                *v = cents(*v);
                v.rescale(2);
            }
            m
        })
        .collect();
    Ok((currency, rows))
}

/// The first days of the first and last month of `from..=to` (at most [`MAX_MONTHS`]).
pub fn months(from: NaiveDate, to: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    let start = from.with_day(1).ok_or_else(|| AppError::bad_input("from", "not a date"))?;
    let end = to.with_day(1).ok_or_else(|| AppError::bad_input("to", "not a date"))?;
    if end < start {
        return Err(AppError::bad_input("to", "to is before from"));
    }
    let span = (end.year() - start.year()) * 12 + end.month() as i32 - start.month() as i32 + 1;
    if span > MAX_MONTHS as i32 {
        return Err(AppError::bad_input("to", format!("at most {MAX_MONTHS} months")));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ranges_are_whole_and_bounded() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(months(d(2026, 1, 15), d(2026, 3, 2)).ok(), Some((d(2026, 1, 1), d(2026, 3, 1))));
        assert!(months(d(2026, 3, 1), d(2026, 1, 1)).is_err());
        assert!(months(d(2024, 1, 1), d(2026, 12, 1)).is_ok());
        assert!(months(d(2024, 1, 1), d(2027, 1, 1)).is_err());
    }
}
