//! What integrations write in crm: accounts, contacts and deals created or updated by an
//! outside system's reference (a CRM's company, person and deal ids); see
//! `opsgraph_core::sync::upsert`.

use chrono::NaiveDate;
use opsgraph_core::db::TxDb;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::sync::ExternalRefInput;
use opsgraph_core::sync::upsert::{Upsert, required, unchanged};
use opsgraph_core::{AppResult, Session};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{account, contact, deal};
use crate::enums::{AccountSize, AccountStatus, ContactStatus};
use crate::nodes::{Account, Contact, Deal, Pipeline};
use crate::service::accounts::{self, CreateAccountInput, UpdateAccountInput};
use crate::service::contacts::{self, CreateContactInput, UpdateContactInput};
use crate::service::deals::{self, CreateDealInput, UpdateDealInput};

/// Create or update the account an outside system's reference names. Absent fields keep
/// their value, null clears; `name` is needed to create.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertAccountInput {
    /// The account's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// Company name.
    pub name: Option<String>,
    /// Industry.
    #[serde(default, deserialize_with = "patch")]
    pub industry_id: Option<Option<Id>>,
    /// Size band.
    #[serde(default, deserialize_with = "patch")]
    pub size: Option<Option<AccountSize>>,
    /// Website.
    #[serde(default, deserialize_with = "patch")]
    pub website: Option<Option<String>>,
    /// City.
    #[serde(default, deserialize_with = "patch")]
    pub city: Option<Option<String>>,
    /// Country (ISO 3166 alpha-2).
    #[serde(default, deserialize_with = "patch")]
    pub country: Option<Option<String>>,
    /// Status.
    pub status: Option<AccountStatus>,
    /// Owner (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub owner_id: Option<Option<Id>>,
    /// Tags (replaces the set).
    pub tags: Option<Vec<String>>,
}

impl Upsert for Account {
    type Input = UpsertAccountInput;
    const FIELD: &'static str = "account";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<account::Model> {
        let input = CreateAccountInput {
            name: required(&i.name, "name")?,
            industry_id: i.industry_id.clone().flatten(),
            size: i.size.flatten(),
            website: i.website.clone().flatten(),
            address: None,
            city: i.city.clone().flatten(),
            country: i.country.clone().flatten(),
            status: i.status,
            owner_id: i.owner_id.clone().flatten(),
            tags: i.tags.clone(),
            custom_fields: None,
            idempotency_key: None,
        };
        accounts::create(db, session, input).await
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(account::Model, bool)>> {
        let live = account::Entity::find_by_id(id).filter(account::Column::DeletedAt.is_null());
        let Some(current) = live.one(db).await? else { return Ok(None) };
        let input = UpdateAccountInput {
            id: Id::of::<Account>(id),
            expected_version: expected.unwrap_or(current.version),
            name: i.name.clone(),
            industry_id: i.industry_id.clone(),
            size: i.size,
            website: i.website.clone(),
            address: None,
            city: i.city.clone(),
            country: i.country.clone(),
            status: i.status,
            owner_id: i.owner_id.clone(),
            tags: i.tags.clone(),
            custom_fields: None,
        };
        let row = accounts::update(db, session, input).await?;
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}

/// Create or update the contact an outside system's reference names. Absent fields keep
/// their value, null clears; `firstName` is needed to create.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertContactInput {
    /// The contact's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// Their account.
    #[serde(default, deserialize_with = "patch")]
    pub account_id: Option<Option<Id>>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, deserialize_with = "patch")]
    pub last_name: Option<Option<String>>,
    /// E-mail.
    #[serde(default, deserialize_with = "patch")]
    pub email: Option<Option<String>>,
    /// Phone.
    #[serde(default, deserialize_with = "patch")]
    pub phone: Option<Option<String>>,
    /// Job title.
    #[serde(default, deserialize_with = "patch")]
    pub title: Option<Option<String>>,
    /// Company name.
    #[serde(default, deserialize_with = "patch")]
    pub company: Option<Option<String>>,
    /// Status.
    pub status: Option<ContactStatus>,
    /// Owner (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub owner_id: Option<Option<Id>>,
}

impl Upsert for Contact {
    type Input = UpsertContactInput;
    const FIELD: &'static str = "contact";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<contact::Model> {
        let input = CreateContactInput {
            account_id: i.account_id.clone().flatten(),
            first_name: required(&i.first_name, "firstName")?,
            last_name: i.last_name.clone().flatten(),
            email: i.email.clone().flatten(),
            phone: i.phone.clone().flatten(),
            title: i.title.clone().flatten(),
            company: i.company.clone().flatten(),
            source: None,
            status: i.status,
            owner_id: i.owner_id.clone().flatten(),
            tags: None,
            custom_fields: None,
            idempotency_key: None,
        };
        contacts::create(db, session, input).await
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(contact::Model, bool)>> {
        let live = contact::Entity::find_by_id(id).filter(contact::Column::DeletedAt.is_null());
        let Some(current) = live.one(db).await? else { return Ok(None) };
        let input = UpdateContactInput {
            id: Id::of::<Contact>(id),
            expected_version: expected.unwrap_or(current.version),
            account_id: i.account_id.clone(),
            first_name: i.first_name.clone(),
            last_name: i.last_name.clone(),
            email: i.email.clone(),
            phone: i.phone.clone(),
            title: i.title.clone(),
            company: i.company.clone(),
            source: None,
            status: i.status,
            owner_id: i.owner_id.clone(),
            tags: None,
            custom_fields: None,
        };
        let row = contacts::update(db, session, input).await?;
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}

/// Create or update the deal an outside system's reference names. Absent fields keep
/// their value, null clears; `name` is needed to create; the stage moves with `moveDeal`.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpsertDealInput {
    /// The deal's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version you last read (stale = CONFLICT); omit to update whatever is there.
    pub expected_version: Option<i32>,
    /// Name.
    pub name: Option<String>,
    /// Pipeline (set on create; default the organisation's).
    pub pipeline_id: Option<Id>,
    /// Stage on create (default the first OPEN one).
    pub stage_id: Option<Id>,
    /// The client account.
    #[serde(default, deserialize_with = "patch")]
    pub account_id: Option<Option<Id>>,
    /// The primary contact.
    #[serde(default, deserialize_with = "patch")]
    pub contact_id: Option<Option<Id>>,
    /// Value.
    pub amount: Option<Decimal>,
    /// Currency.
    pub currency: Option<String>,
    /// Expected close date.
    #[serde(default, deserialize_with = "patch")]
    pub expected_close_date: Option<Option<NaiveDate>>,
    /// Owner (Membership).
    #[serde(default, deserialize_with = "patch")]
    pub owner_id: Option<Option<Id>>,
}

impl Upsert for Deal {
    type Input = UpsertDealInput;
    const FIELD: &'static str = "deal";

    async fn create(db: &TxDb, session: &Session, i: &Self::Input) -> AppResult<deal::Model> {
        let input = CreateDealInput {
            name: required(&i.name, "name")?,
            pipeline_id: i.pipeline_id.clone(),
            stage_id: i.stage_id.clone(),
            account_id: i.account_id.clone().flatten(),
            contact_id: i.contact_id.clone().flatten(),
            amount: i.amount,
            currency: i.currency.clone(),
            probability: None,
            expected_close_date: i.expected_close_date.flatten(),
            owner_id: i.owner_id.clone().flatten(),
            source: None,
            idempotency_key: None,
        };
        deals::create(db, session, input).await
    }

    async fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        i: &Self::Input,
    ) -> AppResult<Option<(deal::Model, bool)>> {
        let live = deal::Entity::find_by_id(id).filter(deal::Column::DeletedAt.is_null());
        let Some(current) = live.one(db).await? else { return Ok(None) };
        let pipeline = i.pipeline_id.as_deref().map(|p| Pipeline::decode(p, "pipelineId")).transpose()?;
        unchanged(pipeline, current.pipeline_id, "pipelineId")?;
        let input = UpdateDealInput {
            id: Id::of::<Deal>(id),
            expected_version: expected.unwrap_or(current.version),
            name: i.name.clone(),
            account_id: i.account_id.clone(),
            contact_id: i.contact_id.clone(),
            amount: i.amount,
            currency: i.currency.clone(),
            probability: None,
            expected_close_date: i.expected_close_date,
            owner_id: i.owner_id.clone(),
            source: None,
            lost_reason: None,
        };
        let row = deals::update(db, session, input).await?;
        let changed = row.version != current.version;
        Ok(Some((row, changed)))
    }
}
