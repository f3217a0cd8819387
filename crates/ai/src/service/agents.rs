//! Agents: configured assistants with a model, a system prompt and generation settings.

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_knowledge::nodes::Collection;
use opsgraph_knowledge::service::collections;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::agent;
use crate::enums::AgentStatus;
use crate::llm::local;
use crate::nodes::Agent;

/// The models an agent may use (the local one for now).
pub const MODELS: [&str; 1] = [local::MODEL];

/// Create an agent.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgentInput {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Its model (default the local SmolLM2-135M-Instruct).
    pub model: Option<String>,
    /// Its instructions.
    pub system_prompt: Option<String>,
    /// Longest reply in tokens (1..4096, default 256).
    pub max_tokens: Option<i32>,
    /// Sampling temperature (0..2, default 0: deterministic).
    pub temperature: Option<f64>,
    /// Picture.
    pub avatar_url: Option<String>,
    /// A knowledge collection it answers from (retrieving with hybrid search as the member
    /// it talks with, citing what it used).
    pub knowledge_collection_id: Option<Id>,
}

/// Creates an agent owned by the caller (agent managers).
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateAgentInput) -> AppResult<agent::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let owner = session.membership_id.ok_or_else(|| AppError::Forbidden("agents belong to a member".into()))?;
    let model = i.model.unwrap_or_else(|| local::MODEL.to_owned());
    if !MODELS.contains(&model.as_str()) {
        return Err(AppError::bad_input("model", format!("model must be one of {}", MODELS.join(", "))));
    }
    let max_tokens = i.max_tokens.unwrap_or(256);
    if !(1..=4096).contains(&max_tokens) {
        return Err(AppError::bad_input("maxTokens", "maxTokens is 1..4096"));
    }
    let temperature = i.temperature.unwrap_or(0.0);
    if !(0.0..=2.0).contains(&temperature) {
        return Err(AppError::bad_input("temperature", "temperature is 0..2"));
    }
    let collection = match &i.knowledge_collection_id {
        Some(g) => Some(collections::get(db, w.org, Collection::decode(g, "knowledgeCollectionId")?).await?.id),
        None => None,
    };
    let row = agent::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, false)?),
        model: Set(model),
        system_prompt: Set(
            validate::opt_text("systemPrompt", i.system_prompt.as_deref(), 20_000, true)?.unwrap_or_default()
        ),
        status: Set(AgentStatus::Active.as_str().into()),
        owner_id: Set(owner),
        avatar_url: Set(validate::opt_text("avatarUrl", i.avatar_url.as_deref(), 2000, false)?),
        max_tokens: Set(max_tokens),
        temperature: Set(temperature),
        knowledge_collection_id: Set(collection),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Agent>("agent.create", &row, ("createAgent", None)).await?;
    Ok(row)
}

/// An agent of the organisation (NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<agent::Model> {
    opsgraph_core::db::find_in_org::<agent::Entity>(db, agent::Column::OrgId, org, id, "agent").await
}
