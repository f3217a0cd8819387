//! The organisation's own profile.

use crate::nodes::Organization;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Deserialize;

use crate::entity::organization;

/// Change the active organisation's profile.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "UpdateOrganizationInput")]
pub struct UpdateOrgInput {
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// New name.
    pub name: Option<String>,
    /// New domain.
    pub domain: Option<String>,
    /// New IANA time zone.
    pub timezone: Option<String>,
    /// New default currency (ISO 4217).
    pub default_currency: Option<String>,
    /// New fiscal year start month (1-12).
    pub fiscal_year_start_month: Option<i16>,
}

/// Changes the active organisation's profile (optimistic concurrency on `version`).
pub async fn update(req: &RequestCtx, i: UpdateOrgInput) -> AppResult<organization::Model> {
    let org = req.require(Permission::OrgManage)?;
    let db = req.db.as_ref();
    let current =
        organization::Entity::find_by_id(org).one(db).await?.ok_or_else(|| AppError::not_found("organisation"))?;
    let mut am = organization::ActiveModel { ..Default::default() };
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.domain {
        am.domain = Set(validate::opt_text("domain", Some(d), 253, false)?);
    }
    if let Some(t) = &i.timezone {
        am.timezone = Set(timezone(db, t).await?);
    }
    if let Some(c) = &i.default_currency {
        am.default_currency = Set(validate::currency("defaultCurrency", c)?);
    }
    if let Some(m) = i.fiscal_year_start_month {
        if !(1..=12).contains(&m) {
            return Err(AppError::bad_input("fiscalYearStartMonth", "month must be 1..12"));
        }
        am.fiscal_year_start_month = Set(m);
    }
    let w = Write { db, session: &req.session, org };
    let done = w.update::<Organization, _>("organization.update", current, am, i.expected_version).await?;
    if done.changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<Organization>("organization.updated", done.after.id, None).await?;
    }
    Ok(done.after)
}

/// An IANA time zone name known to the database (`pg_timezone_names`, which PostgreSQL
/// reads from the IANA tz database), in its canonical spelling.
async fn timezone(db: &impl ConnectionTrait, value: &str) -> AppResult<String> {
    let t = validate::text("timezone", value, 1, 64, false)?;
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT name FROM pg_timezone_names WHERE lower(name) = lower($1) LIMIT 1",
            [t.clone().into()],
        ))
        .await?;
    match row.map(|r| r.try_get::<String>("", "name")).transpose()? {
        Some(name) if !name.starts_with("posix/") => Ok(name),
        _ => Err(AppError::bad_input("timezone", format!("{t} is not an IANA time zone (e.g. Europe/Berlin)"))),
    }
}

/// Ids of every live organisation, read in a transaction of their own as the scheduler
/// (the one cross-tenant read of a scheduled job; each organisation then runs in its own).
pub async fn scheduled_ids(pool: &sea_orm::DatabaseConnection) -> AppResult<Vec<uuid::Uuid>> {
    let db = opsgraph_core::TxDb::begin_system(pool, None, "scheduler").await?;
    let ids = active_ids(&db).await?;
    db.commit().await?;
    Ok(ids)
}

/// Ids of every live organisation (for system jobs running with `app.system` set).
pub async fn active_ids(db: &impl ConnectionTrait) -> AppResult<Vec<uuid::Uuid>> {
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT id FROM organizations WHERE deleted_at IS NULL",
        ))
        .await?;
    Ok(rows.iter().map(|r| r.try_get("", "id")).collect::<Result<_, _>>()?)
}

/// The request organisation's default currency as an SQL scalar (uncorrelated, so evaluated
/// once per statement), for other domains' statements that convert money into it.
pub const DEFAULT_CURRENCY_SQL: &str = "(SELECT o.default_currency FROM organizations o WHERE o.id = app_org_id())";

/// The default currency of organisation `org` (ISO 4217), for other domains' money.
pub async fn default_currency(db: &impl ConnectionTrait, org: uuid::Uuid) -> AppResult<String> {
    use sea_orm::EntityTrait;
    let row = organization::Entity::find_by_id(org).one(db).await?;
    row.map(|o| o.default_currency).ok_or_else(|| AppError::not_found("organization"))
}

/// The month (1..12) organisation `org`'s fiscal year starts in.
pub async fn fiscal_start_month(db: &impl ConnectionTrait, org: uuid::Uuid) -> AppResult<u32> {
    use sea_orm::EntityTrait;
    let row = organization::Entity::find_by_id(org).one(db).await?;
    let month = row.map(|o| o.fiscal_year_start_month).ok_or_else(|| AppError::not_found("organization"))?;
    Ok(u32::try_from(month).unwrap_or(1).clamp(1, 12))
}

/// The name of organisation `org` (for documents other domains print).
pub async fn name(db: &impl ConnectionTrait, org: uuid::Uuid) -> AppResult<String> {
    use sea_orm::EntityTrait;
    let row = organization::Entity::find_by_id(org).one(db).await?;
    row.map(|o| o.name).ok_or_else(|| AppError::not_found("organization"))
}
