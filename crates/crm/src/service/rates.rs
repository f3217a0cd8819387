//! Exchange rates into the organisation's currency, kept by its admins.

use crate::entity::exchange_rate;
use crate::nodes::ExchangeRate;
use chrono::NaiveDate;
use opsgraph_core::id::new_id;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;

/// Set the rate of a currency from a date on.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetExchangeRateInput {
    /// ISO 4217 currency (not the organisation's own).
    pub currency: String,
    /// Units of the organisation's currency one unit of `currency` is worth (> 0).
    pub rate: Decimal,
    /// From which day it applies (until a later rate).
    pub valid_from: NaiveDate,
}

/// Sets (or replaces) the rate of `currency` from `validFrom` on; admins only.
pub async fn set(
    db: &impl ConnectionTrait,
    session: &Session,
    i: SetExchangeRateInput,
) -> AppResult<exchange_rate::Model> {
    let w = Write::new(db, session, Permission::SettingsManage)?;
    let currency = validate::currency("currency", &i.currency)?;
    if currency == opsgraph_org::service::organization::default_currency(db, w.org).await? {
        return Err(AppError::bad_input("currency", "the organisation's own currency has no rate"));
    }
    if i.rate <= Decimal::ZERO || i.rate.scale() > 10 || i.rate > Decimal::from(1_000_000_000) {
        return Err(AppError::bad_input("rate", "rate must be positive, at most 1e9, with at most 10 decimals"));
    }
    let row = exchange_rate::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        currency: Set(currency.clone()),
        rate: Set(i.rate),
        valid_from: Set(i.valid_from),
        ..Default::default()
    };
    exchange_rate::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                exchange_rate::Column::OrgId,
                exchange_rate::Column::Currency,
                exchange_rate::Column::ValidFrom,
            ])
            .update_column(exchange_rate::Column::Rate)
            .to_owned(),
        )
        .exec(db)
        .await?;
    let saved = exchange_rate::Entity::find()
        .filter(exchange_rate::Column::OrgId.eq(w.org))
        .filter(exchange_rate::Column::Currency.eq(currency))
        .filter(exchange_rate::Column::ValidFrom.eq(i.valid_from))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("rate not saved"))?;
    let changes = serde_json::json!({ "currency": saved.currency, "rate": saved.rate.to_string(), "validFrom": saved.valid_from });
    w.audit::<ExchangeRate>("exchange_rate.set", saved.id, changes).await?;
    w.changed::<ExchangeRate>("exchange_rate.set", saved.id, None).await?;
    Ok(saved)
}

/// The rate converting `currency` into organisation `org`'s currency on `day` (1 for the
/// organisation's own; `None` when no rate is valid then): for documents that snapshot it.
pub async fn rate_on(
    db: &impl ConnectionTrait,
    org: uuid::Uuid,
    currency: &str,
    day: NaiveDate,
) -> AppResult<Option<Decimal>> {
    use sea_orm::QueryOrder;
    if currency == opsgraph_org::service::organization::default_currency(db, org).await? {
        return Ok(Some(Decimal::ONE));
    }
    let row = exchange_rate::Entity::find()
        .filter(exchange_rate::Column::OrgId.eq(org))
        .filter(exchange_rate::Column::Currency.eq(currency))
        .filter(exchange_rate::Column::ValidFrom.lte(day))
        .order_by_desc(exchange_rate::Column::ValidFrom)
        .one(db)
        .await?;
    Ok(row.map(|r| r.rate))
}
