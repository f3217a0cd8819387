//! Forecasts: a project's expected revenue and cost per month with a confidence (0..1),
//! set (created or replaced) one month at a time.

use chrono::{Datelike, NaiveDate};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_work::nodes::Project;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;

use crate::entity::forecast;
use crate::nodes::Forecast;

/// Set a project's forecast for a month.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetForecastInput {
    /// The project.
    pub project_id: Id,
    /// Any day of the month (stored as its first day).
    pub month: NaiveDate,
    /// Expected revenue (>= 0), in the organisation's currency.
    pub revenue: Decimal,
    /// Expected cost (>= 0), in the organisation's currency.
    pub cost: Decimal,
    /// How sure (0..1).
    pub confidence: Decimal,
    /// Why.
    pub note: Option<String>,
}

fn money(field: &str, v: Decimal) -> AppResult<Decimal> {
    if v < Decimal::ZERO || v.scale() > 2 || v > Decimal::from(1_000_000_000_000i64) {
        return Err(AppError::bad_input(field, format!("{field} must be >= 0 with at most 2 decimals")));
    }
    Ok(v)
}

/// Creates or replaces the month's forecast of a project (FinanceWrite).
pub async fn set(db: &impl ConnectionTrait, session: &Session, i: SetForecastInput) -> AppResult<forecast::Model> {
    let w = Write::new(db, session, Permission::FinanceWrite)?;
    let project =
        opsgraph_work::service::projects::get(db, w.org, Project::decode(&i.project_id, "projectId")?).await?;
    let month = i.month.with_day(1).ok_or_else(|| AppError::bad_input("month", "not a date"))?;
    if i.confidence < Decimal::ZERO || i.confidence > Decimal::ONE || i.confidence.scale() > 2 {
        return Err(AppError::bad_input("confidence", "confidence is 0..1 with at most 2 decimals"));
    }
    let (revenue, cost) = (money("revenue", i.revenue)?, money("cost", i.cost)?);
    let note = validate::opt_text("note", i.note.as_deref(), 1000, true)?;
    let existing = forecast::Entity::find()
        .filter(forecast::Column::ProjectId.eq(project.id))
        .filter(forecast::Column::Month.eq(month))
        .one(db)
        .await?;
    let row = match existing {
        Some(current) => {
            let mut am: forecast::ActiveModel = current.clone().into();
            (am.revenue, am.cost, am.confidence, am.note) = (Set(revenue), Set(cost), Set(i.confidence), Set(note));
            let done = w.update::<Forecast, _>("forecast.update", current.clone(), am, current.version).await?;
            if done.changes.as_object().is_some_and(serde_json::Map::is_empty) {
                return Ok(done.after);
            }
            done.after
        }
        None => {
            let row = forecast::ActiveModel {
                id: Set(new_id()),
                org_id: Set(w.org),
                project_id: Set(project.id),
                month: Set(month),
                revenue: Set(revenue),
                cost: Set(cost),
                currency: Set(opsgraph_org::service::organization::default_currency(db, w.org).await?),
                confidence: Set(i.confidence),
                note: Set(note),
                ..Default::default()
            }
            .insert(db)
            .await?;
            w.created::<Forecast>("forecast.create", &row, ("setForecast", None)).await?;
            row
        }
    };
    w.changed::<Forecast>("forecast.set", row.id, Some(project.id)).await?;
    Ok(row)
}
