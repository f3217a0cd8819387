//! The fiscal calendar: a fiscal year starts on the first day of the organisation's fiscal
//! start month and has twelve monthly periods. A closed period takes no postings: invoice
//! dates and payments dated inside it are refused with a clear error. Dates outside every
//! defined year are open (an organisation without a calendar closes nothing).

use chrono::{Datelike, Months, NaiveDate, Utc};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{fiscal_period, fiscal_year};
use crate::nodes::{FiscalPeriod, FiscalYear};

/// Create a fiscal year.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateFiscalYearInput {
    /// The calendar year it starts in.
    pub year: i32,
}

/// The first and last day of fiscal year `year` starting in `month`.
pub fn bounds(year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::from_ymd_opt(year, month, 1)?;
    let end = start.checked_add_months(Months::new(12))?.pred_opt()?;
    Some((start, end))
}

/// Creates a fiscal year and its twelve periods (CONFLICT if it exists; it may not overlap
/// another year, which the same start month guarantees).
pub async fn create_year(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateFiscalYearInput,
) -> AppResult<fiscal_year::Model> {
    let w = Write::new(db, session, Permission::FinanceManage)?;
    if !(2000..=2100).contains(&i.year) {
        return Err(AppError::bad_input("year", "year must be 2000..2100"));
    }
    let month = opsgraph_org::service::organization::fiscal_start_month(db, w.org).await?;
    let (start, end) = bounds(i.year, month).ok_or_else(|| AppError::bad_input("year", "not a valid year"))?;
    let exists = fiscal_year::Entity::find()
        .filter(fiscal_year::Column::OrgId.eq(w.org))
        .filter(fiscal_year::Column::Year.eq(i.year))
        .one(db)
        .await?;
    if exists.is_some() {
        return Err(AppError::Conflict(format!("fiscal year {} exists already", i.year)));
    }
    let row = fiscal_year::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        year: Set(i.year),
        start_date: Set(start),
        end_date: Set(end),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for n in 0..12u32 {
        let from = start.checked_add_months(Months::new(n)).ok_or_else(|| AppError::internal("date overflow"))?;
        let to = from.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt());
        fiscal_period::ActiveModel {
            id: Set(new_id()),
            org_id: Set(w.org),
            fiscal_year_id: Set(row.id),
            number: Set(n as i32 + 1),
            start_date: Set(from),
            end_date: Set(to.ok_or_else(|| AppError::internal("date overflow"))?),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    w.created::<FiscalYear>("fiscal_year.create", &row, ("createFiscalYear", None)).await?;
    w.changed::<FiscalYear>("fiscal_year.created", row.id, None).await?;
    Ok(row)
}

/// Closes (`closed: true`) or reopens a period (FinanceManage).
pub async fn set_closed(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &Id,
    closed: bool,
) -> AppResult<fiscal_period::Model> {
    let w = Write::new(db, session, Permission::FinanceManage)?;
    let id = FiscalPeriod::decode(gid, "id")?;
    let current = fiscal_period::Entity::find_by_id(id)
        .filter(fiscal_period::Column::OrgId.eq(w.org))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("fiscal period"))?;
    if current.closed_at.is_some() == closed {
        return Ok(current);
    }
    let mut am: fiscal_period::ActiveModel = current.clone().into();
    am.closed_at = Set(closed.then(|| Utc::now().fixed_offset()));
    am.closed_by = Set(if closed { session.membership_id } else { None });
    let action = if closed { "fiscal_period.close" } else { "fiscal_period.reopen" };
    let after = w.update::<FiscalPeriod, _>(action, current.clone(), am, current.version).await?.after;
    let kind = if closed { "fiscal_period.closed" } else { "fiscal_period.reopened" };
    w.changed::<FiscalPeriod>(kind, after.id, None).await?;
    Ok(after)
}

/// Refuses `day` (BAD_USER_INPUT on `field`) when it falls in a closed period of `org`.
pub async fn check_open(db: &impl ConnectionTrait, org: Uuid, day: NaiveDate, field: &str) -> AppResult<()> {
    let closed = fiscal_period::Entity::find()
        .filter(fiscal_period::Column::OrgId.eq(org))
        .filter(fiscal_period::Column::StartDate.lte(day))
        .filter(fiscal_period::Column::EndDate.gte(day))
        .filter(fiscal_period::Column::ClosedAt.is_not_null())
        .one(db)
        .await?;
    match closed {
        Some(p) => Err(AppError::bad_input(
            field,
            format!("{day} falls in a closed fiscal period ({} to {}); reopen it first", p.start_date, p.end_date),
        )),
        None => Ok(()),
    }
}

/// The calendar year a date's invoice number counts in.
pub fn numbering_year(day: NaiveDate) -> i32 {
    day.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_years_start_on_the_start_month() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(bounds(2026, 1,).map(|b| (Some(b.0), Some(b.1))), Some((d(2026, 1, 1), d(2026, 12, 31))));
        assert_eq!(bounds(2026, 4).map(|b| (Some(b.0), Some(b.1))), Some((d(2026, 4, 1), d(2027, 3, 31))));
        assert_eq!(bounds(2027, 3).map(|b| (Some(b.0), Some(b.1))), Some((d(2027, 3, 1), d(2028, 2, 29))));
    }
}
