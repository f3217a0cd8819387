//! The organisation's phone numbers (calls, SMS, WhatsApp), unique per organisation,
//! with their provider, capabilities and monthly price; released numbers stay on record.

use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::phone_number;
use crate::enums::{PhoneCapability, PhoneNumberStatus};
use crate::nodes::PhoneNumber;
use crate::service::checks;

/// Add a phone number.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreatePhoneNumberInput {
    /// The number (E.164, e.g. +14155550100).
    pub number: String,
    /// A name people recognise ("Sales line").
    pub friendly_name: Option<String>,
    /// The provider (`twilio`, `signalwire`, ...).
    pub provider: Option<String>,
    /// What it can do.
    pub capabilities: Option<Vec<PhoneCapability>>,
    /// What it costs per month.
    pub monthly_price: Option<Decimal>,
    /// Currency of the price (default: the organisation's).
    pub currency: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn caps(v: &[PhoneCapability]) -> Vec<String> {
    let mut out: Vec<String> = v.iter().map(|c| c.as_str().to_owned()).collect();
    out.sort();
    out.dedup();
    out
}

fn price(v: Option<Decimal>) -> AppResult<Option<Decimal>> {
    match v {
        Some(p) if p.is_sign_negative() || p > Decimal::from(1_000_000) => {
            Err(AppError::bad_input("monthlyPrice", "monthlyPrice must be 0..1000000"))
        }
        v => Ok(v.map(|p| p.round_dp(2))),
    }
}

/// Adds a number (CONFLICT when the organisation has it already).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreatePhoneNumberInput,
) -> AppResult<phone_number::Model> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let key_text = i.idempotency_key.clone();
    let key = ("createPhoneNumber", key_text.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let number = checks::phone("number", &i.number)?;
    let monthly = price(i.monthly_price)?;
    let currency = match (&monthly, &i.currency) {
        (None, _) => None,
        (Some(_), Some(c)) => Some(validate::currency("currency", c)?),
        (Some(_), None) => Some(opsgraph_org::service::organization::default_currency(db, w.org).await?),
    };
    let taken = phone_number::Entity::find()
        .filter(phone_number::Column::OrgId.eq(w.org))
        .filter(phone_number::Column::Number.eq(number.clone()))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(AppError::Conflict(format!("{number} is already one of the organisation's numbers")));
    }
    let row = phone_number::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        number: Set(number),
        friendly_name: Set(validate::opt_text("friendlyName", i.friendly_name.as_deref(), 100, false)?),
        provider: Set(validate::opt_text("provider", i.provider.as_deref(), 50, false)?),
        capabilities: Set(caps(&i.capabilities.unwrap_or_default())),
        monthly_price: Set(monthly),
        currency: Set(currency),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<PhoneNumber>("phone_number.create", &row, key).await?;
    w.changed::<PhoneNumber>("phone_number.created", row.id, None).await?;
    Ok(row)
}

/// Change a phone number; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePhoneNumberInput {
    /// The number.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// A name people recognise (null clears).
    #[serde(default, deserialize_with = "patch")]
    pub friendly_name: Option<Option<String>>,
    /// What it can do (replaces the set).
    pub capabilities: Option<Vec<PhoneCapability>>,
    /// ACTIVE or RELEASED (a released number takes no new conversations).
    pub status: Option<PhoneNumberStatus>,
}

/// Updates a number.
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdatePhoneNumberInput,
) -> AppResult<phone_number::Model> {
    let w = Write::new(db, session, Permission::CrmManage)?;
    let current = get(db, w.org, PhoneNumber::decode(&i.id, "id")?).await?;
    let mut am: phone_number::ActiveModel = current.clone().into();
    if let Some(v) = &i.friendly_name {
        am.friendly_name = Set(validate::opt_text("friendlyName", v.as_deref(), 100, false)?);
    }
    if let Some(v) = &i.capabilities {
        am.capabilities = Set(caps(v));
    }
    if let Some(s) = i.status {
        am.status = Set(s.as_str().to_owned());
    }
    let done = w.update::<PhoneNumber, _>("phone_number.update", current, am, i.expected_version).await?;
    if !done.changes.as_object().is_some_and(serde_json::Map::is_empty) {
        w.changed::<PhoneNumber>("phone_number.updated", done.after.id, None).await?;
    }
    Ok(done.after)
}

/// The number `id` of `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<phone_number::Model> {
    opsgraph_core::db::find_in_org::<phone_number::Entity>(db, phone_number::Column::OrgId, org, id, "phone number")
        .await
}
