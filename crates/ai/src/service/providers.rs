//! Providers and models as data: the organisation's local provider (SmolLM2 in process,
//! created on first use) and OpenAI-compatible endpoints whose API key is sealed with the
//! server's key ([`opsgraph_core::secrets`]) and only ever shown as a hint; models with
//! their context window, capabilities and prices per million tokens.

use std::sync::Arc;
use std::time::Duration;

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::secrets::{Sealer, hint};
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{llm_model, provider};
use crate::enums::{ModelCapability, ProviderKind};
use crate::llm::{local, openai};
use crate::nodes::{LlmModel, LlmProvider};

/// The local provider's name in every organisation.
pub const LOCAL_PROVIDER: &str = "Local";

/// Add a provider.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateLlmProviderInput {
    /// Name (unique in the organisation).
    pub name: String,
    /// Base URL of an OpenAI-compatible API (`https://…/v1`).
    pub base_url: String,
    /// API key: sealed at rest, never returned (only its last four characters).
    pub api_key: Option<String>,
    /// Longest wait for one reply, in seconds (1..3600, default 120).
    pub timeout_secs: Option<i32>,
    /// Retries on 429, 5xx and network failures before a reply starts (0..10, default 2).
    pub max_retries: Option<i32>,
}

/// Change a provider; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateLlmProviderInput {
    /// The provider.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// Base URL.
    pub base_url: Option<String>,
    /// A new API key (null removes it).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub api_key: Option<Option<String>>,
    /// Timeout in seconds.
    pub timeout_secs: Option<i32>,
    /// Retries.
    pub max_retries: Option<i32>,
}

/// Add a model of a provider.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateLlmModelInput {
    /// The provider.
    pub provider_id: Id,
    /// The provider's name for it (`gpt-4o-mini`).
    pub name: String,
    /// Shown to people.
    pub display_name: Option<String>,
    /// Context window in tokens.
    pub context_window: i32,
    /// What it can do (default CHAT).
    pub capabilities: Option<Vec<ModelCapability>>,
    /// Price per million prompt tokens (default 0).
    pub input_price: Option<Decimal>,
    /// Price per million generated tokens (default 0).
    pub output_price: Option<Decimal>,
    /// ISO 4217 currency of the prices (default USD).
    pub currency: Option<String>,
}

/// Change a model; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateLlmModelInput {
    /// The model.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Shown to people.
    pub display_name: Option<String>,
    /// Context window.
    pub context_window: Option<i32>,
    /// Capabilities (replaces the set).
    pub capabilities: Option<Vec<ModelCapability>>,
    /// Price per million prompt tokens.
    pub input_price: Option<Decimal>,
    /// Price per million generated tokens.
    pub output_price: Option<Decimal>,
    /// Offered for new agents.
    pub active: Option<bool>,
}

fn base_url(v: &str) -> AppResult<String> {
    let v = validate::text("baseUrl", v, 8, 2000, false)?.trim_end_matches('/').to_owned();
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(AppError::bad_input("baseUrl", "baseUrl must be an http(s) URL"));
    }
    Ok(v)
}

fn bounded(field: &str, v: Option<i32>, range: std::ops::RangeInclusive<i32>, default: i32) -> AppResult<i32> {
    let v = v.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(AppError::bad_input(field, format!("{field} is {}..{}", range.start(), range.end())))
    }
}

fn sealed(sealer: &Sealer, org: Uuid, id: Uuid, key: &str) -> AppResult<(Vec<u8>, String)> {
    let key = validate::text("apiKey", key, 1, 4000, false)?;
    Ok((sealer.seal(&key, &bound(org, id))?, hint(&key)))
}

/// The associated data a provider's key is sealed with: its organisation and id.
fn bound(org: Uuid, id: Uuid) -> Vec<u8> {
    [org.as_bytes().as_slice(), id.as_bytes().as_slice()].concat()
}

/// Adds an OpenAI-compatible provider (agent managers).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    sealer: &Sealer,
    i: CreateLlmProviderInput,
) -> AppResult<provider::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let id = new_id();
    let key = i.api_key.as_deref().map(|k| sealed(sealer, w.org, id, k)).transpose()?;
    let row = provider::ActiveModel {
        id: Set(id),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        kind: Set(ProviderKind::OpenaiCompatible.as_str().into()),
        base_url: Set(Some(base_url(&i.base_url)?)),
        api_key_sealed: Set(key.as_ref().map(|k| k.0.clone())),
        api_key_hint: Set(key.map(|k| k.1)),
        timeout_secs: Set(bounded("timeoutSecs", i.timeout_secs, 1..=3600, 120)?),
        max_retries: Set(bounded("maxRetries", i.max_retries, 0..=10, 2)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<LlmProvider>("llm_provider.create", &row, ("createLlmProvider", None)).await?;
    w.changed::<LlmProvider>("llm_provider.create", row.id, None).await?;
    Ok(row)
}

/// Changes a provider (the local one keeps its kind and has no URL or key).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    sealer: &Sealer,
    i: UpdateLlmProviderInput,
) -> AppResult<provider::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let current = get(db, w.org, LlmProvider::decode(&i.id, "id")?).await?;
    let local = current.kind == ProviderKind::Local.as_str();
    if local && (i.base_url.is_some() || i.api_key.is_some()) {
        return Err(AppError::bad_input("baseUrl", "the local provider has no URL or API key"));
    }
    let mut am: provider::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(u) = &i.base_url {
        am.base_url = Set(Some(base_url(u)?));
    }
    match &i.api_key {
        Some(Some(k)) => {
            let (s, h) = sealed(sealer, w.org, current.id, k)?;
            am.api_key_sealed = Set(Some(s));
            am.api_key_hint = Set(Some(h));
        }
        Some(None) => {
            am.api_key_sealed = Set(None);
            am.api_key_hint = Set(None);
        }
        None => {}
    }
    if i.timeout_secs.is_some() {
        am.timeout_secs = Set(bounded("timeoutSecs", i.timeout_secs, 1..=3600, 120)?);
    }
    if i.max_retries.is_some() {
        am.max_retries = Set(bounded("maxRetries", i.max_retries, 0..=10, 2)?);
    }
    let Updated { after, .. } =
        w.update::<LlmProvider, _>("llm_provider.update", current, am, i.expected_version).await?;
    w.changed::<LlmProvider>("llm_provider.update", after.id, None).await?;
    Ok(after)
}

fn capabilities(c: Option<Vec<ModelCapability>>) -> Vec<String> {
    let mut v: Vec<String> =
        c.unwrap_or_else(|| vec![ModelCapability::Chat]).iter().map(|c| c.as_str().into()).collect();
    v.sort();
    v.dedup();
    v
}

fn price(field: &str, v: Option<Decimal>) -> AppResult<Option<Decimal>> {
    match v {
        Some(p) if p.is_sign_negative() || p > Decimal::from(1_000_000) || p.scale() > 6 => {
            Err(AppError::bad_input(field, format!("{field} is 0..1000000 with at most 6 decimals")))
        }
        v => Ok(v),
    }
}

/// Adds a model to a provider (agent managers).
pub async fn create_model(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateLlmModelInput,
) -> AppResult<llm_model::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let p = get(db, w.org, LlmProvider::decode(&i.provider_id, "providerId")?).await?;
    if p.kind == ProviderKind::Local.as_str() {
        return Err(AppError::bad_input("providerId", "the local provider runs only its own model"));
    }
    let name = validate::text("name", &i.name, 1, 200, false)?;
    let row = llm_model::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        provider_id: Set(p.id),
        display_name: Set(
            validate::opt_text("displayName", i.display_name.as_deref(), 200, false)?.unwrap_or_else(|| name.clone())
        ),
        name: Set(name),
        context_window: Set(bounded("contextWindow", Some(i.context_window), 1..=100_000_000, 1)?),
        capabilities: Set(capabilities(i.capabilities)),
        input_price: Set(price("inputPrice", i.input_price)?.unwrap_or_default()),
        output_price: Set(price("outputPrice", i.output_price)?.unwrap_or_default()),
        currency: Set(validate::currency("currency", i.currency.as_deref().unwrap_or("USD"))?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<LlmModel>("llm_model.create", &row, ("createLlmModel", None)).await?;
    w.changed::<LlmModel>("llm_model.create", row.id, None).await?;
    Ok(row)
}

/// Changes a model's settings and prices.
pub async fn update_model(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateLlmModelInput,
) -> AppResult<llm_model::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let current = model(db, w.org, LlmModel::decode(&i.id, "id")?).await?;
    let mut am: llm_model::ActiveModel = current.clone().into();
    if let Some(n) = &i.display_name {
        am.display_name = Set(validate::text("displayName", n, 1, 200, false)?);
    }
    if let Some(c) = i.context_window {
        am.context_window = Set(bounded("contextWindow", Some(c), 1..=100_000_000, 1)?);
    }
    if i.capabilities.is_some() {
        am.capabilities = Set(capabilities(i.capabilities));
    }
    if let Some(p) = price("inputPrice", i.input_price)? {
        am.input_price = Set(p);
    }
    if let Some(p) = price("outputPrice", i.output_price)? {
        am.output_price = Set(p);
    }
    if let Some(a) = i.active {
        am.active = Set(a);
    }
    let after = w.update::<LlmModel, _>("llm_model.update", current, am, i.expected_version).await?.after;
    w.changed::<LlmModel>("llm_model.update", after.id, None).await?;
    Ok(after)
}

/// A provider of the organisation (NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<provider::Model> {
    opsgraph_core::db::find_in_org::<provider::Entity>(db, provider::Column::OrgId, org, id, "provider").await
}

/// A model of the organisation (NOT_FOUND otherwise).
pub async fn model(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<llm_model::Model> {
    opsgraph_core::db::find_in_org::<llm_model::Entity>(db, llm_model::Column::OrgId, org, id, "model").await
}

/// The organisation's local model, created with its provider on first use.
pub async fn local_model(db: &impl ConnectionTrait, org: Uuid) -> AppResult<llm_model::Model> {
    let sql = "WITH p AS (INSERT INTO llm_providers (id, org_id, name, kind) VALUES ($2, $1, $4, 'LOCAL') \
                 ON CONFLICT (org_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id) \
               INSERT INTO llm_models (id, org_id, provider_id, name, display_name, context_window, capabilities) \
               SELECT $3, $1, p.id, $5, 'SmolLM2 135M Instruct (local)', 8192, '{CHAT}' FROM p \
               ON CONFLICT (org_id, provider_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id";
    let values = [org.into(), new_id().into(), new_id().into(), LOCAL_PROVIDER.into(), local::MODEL.into()];
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values))
        .await?
        .ok_or_else(|| AppError::internal("local model not created"))?;
    model(db, org, row.try_get("", "id")?).await
}

/// How a model is reached.
#[derive(Debug, Clone)]
pub enum Engine {
    /// In process.
    Local,
    /// Over HTTP (settings hold the opened key: never log them).
    Remote(Arc<openai::Settings>),
}

/// The engine of `m`: its provider's kind, URL and opened key.
pub async fn engine(db: &impl ConnectionTrait, sealer: &Sealer, m: &llm_model::Model) -> AppResult<Engine> {
    let p = provider::Entity::find()
        .filter(provider::Column::OrgId.eq(m.org_id))
        .filter(provider::Column::Id.eq(m.provider_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("provider"))?;
    if p.kind == ProviderKind::Local.as_str() {
        return Ok(Engine::Local);
    }
    let api_key = p.api_key_sealed.as_deref().map(|s| sealer.open(s, &bound(p.org_id, p.id))).transpose()?;
    Ok(Engine::Remote(Arc::new(openai::Settings {
        base_url: p.base_url.unwrap_or_default(),
        api_key,
        model: m.name.clone(),
        timeout: Duration::from_secs(u64::try_from(p.timeout_secs).unwrap_or(120)),
        max_retries: u32::try_from(p.max_retries).unwrap_or(2),
    })))
}
