//! Agents: configured assistants with a model, instructions, generation settings, the
//! tools they may use (and which of them must ask first), and optionally a knowledge
//! collection they answer from.

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_knowledge::nodes::Collection;
use opsgraph_knowledge::service::collections;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::entity::agent;
use crate::enums::AgentStatus;
use crate::nodes::{Agent, LlmModel, PromptTemplate};
use crate::service::{providers, templates, tools};

/// A tool an agent may use.
#[derive(Debug, Clone, Deserialize, Serialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AgentToolInput {
    /// The tool (`Query.agentTools` lists them).
    pub name: String,
    /// Whether its changes wait for a person's approval (default: yes for tools that write).
    pub requires_approval: Option<bool>,
}

/// Create an agent.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgentInput {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Its model (default the organisation's local SmolLM2-135M-Instruct).
    pub model_id: Option<Id>,
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
    /// Tools it may call (offered to models with the TOOLS capability).
    pub tools: Option<Vec<AgentToolInput>>,
    /// A prompt template whose current version replaces the system prompt.
    pub template_id: Option<Id>,
    /// The template's variables (an object of strings).
    pub template_variables: Option<Value>,
    /// A knowledge collection of MEMORY documents it also answers from.
    pub memory_collection_id: Option<Id>,
}

/// Change an agent; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAgentInput {
    /// The agent.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// Its model.
    pub model_id: Option<Id>,
    /// Its instructions.
    pub system_prompt: Option<String>,
    /// Status (a PAUSED or ARCHIVED agent takes no messages).
    pub status: Option<AgentStatus>,
    /// Tools (replaces the set).
    pub tools: Option<Vec<AgentToolInput>>,
    /// A prompt template (null: back to the system prompt).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub template_id: Option<Option<Id>>,
    /// The template's variables.
    pub template_variables: Option<Value>,
}

/// The stored tool list: known tools, once each, approval defaulting to "writes".
fn tool_list(input: Vec<AgentToolInput>) -> AppResult<Value> {
    let mut out: Vec<AgentToolInput> = vec![];
    for t in input {
        let def =
            tools::find(&t.name).ok_or_else(|| AppError::bad_input("tools", format!("unknown tool {:?}", t.name)))?;
        if out.iter().any(|o| o.name == t.name) {
            return Err(AppError::bad_input("tools", format!("tool {:?} is listed twice", t.name)));
        }
        out.push(AgentToolInput { requires_approval: Some(t.requires_approval.unwrap_or(def.writes)), ..t });
    }
    serde_json::to_value(out).map_err(AppError::internal)
}

/// An agent's tools as configured.
pub fn tools_of(a: &agent::Model) -> Vec<AgentToolInput> {
    serde_json::from_value(a.tools.clone()).unwrap_or_default()
}

async fn model_id(db: &impl ConnectionTrait, org: Uuid, gid: Option<&Id>) -> AppResult<Uuid> {
    match gid {
        Some(g) => {
            let m = providers::model(db, org, LlmModel::decode(g, "modelId")?).await?;
            if !m.active {
                return Err(AppError::bad_input("modelId", "the model is not active"));
            }
            Ok(m.id)
        }
        None => Ok(providers::local_model(db, org).await?.id),
    }
}

/// The template and variables, checked by rendering its current version.
async fn template(
    db: &impl ConnectionTrait,
    org: Uuid,
    gid: Option<&Id>,
    values: Option<Value>,
) -> AppResult<(Option<Uuid>, Value)> {
    let values = values.unwrap_or_else(|| serde_json::json!({}));
    let Some(g) = gid else { return Ok((None, values)) };
    let t = templates::get(db, org, PromptTemplate::decode(g, "templateId")?).await?;
    let v = templates::version(db, &t, None).await?;
    templates::render(&v, &values, &templates::sample_builtins()).map_err(|e| match e {
        AppError::BadUserInput { field, message } => {
            AppError::BadUserInput { field: field.map(|f| f.replace("variables", "templateVariables")), message }
        }
        e => e,
    })?;
    Ok((Some(t.id), values))
}

/// Creates an agent owned by the caller (agent managers).
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateAgentInput) -> AppResult<agent::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let owner = session.membership_id.ok_or_else(|| AppError::Forbidden("agents belong to a member".into()))?;
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
    let (template_id, template_variables) = template(db, w.org, i.template_id.as_ref(), i.template_variables).await?;
    let memory = match &i.memory_collection_id {
        Some(g) => Some(collections::get(db, w.org, Collection::decode(g, "memoryCollectionId")?).await?.id),
        None => None,
    };
    let row = agent::ActiveModel {
        id: Set(new_id()),
        template_id: Set(template_id),
        template_variables: Set(template_variables),
        memory_collection_id: Set(memory),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, false)?),
        model_id: Set(model_id(db, w.org, i.model_id.as_ref()).await?),
        system_prompt: Set(
            validate::opt_text("systemPrompt", i.system_prompt.as_deref(), 20_000, true)?.unwrap_or_default()
        ),
        status: Set(AgentStatus::Active.as_str().into()),
        owner_id: Set(owner),
        avatar_url: Set(validate::opt_text("avatarUrl", i.avatar_url.as_deref(), 2000, false)?),
        max_tokens: Set(max_tokens),
        temperature: Set(temperature),
        knowledge_collection_id: Set(collection),
        tools: Set(tool_list(i.tools.unwrap_or_default())?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Agent>("agent.create", &row, ("createAgent", None)).await?;
    w.changed::<Agent>("agent.create", row.id, None).await?;
    Ok(row)
}

/// Changes an agent (agent managers).
pub async fn update(db: &impl ConnectionTrait, session: &Session, i: UpdateAgentInput) -> AppResult<agent::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let current = get(db, w.org, Agent::decode(&i.id, "id")?).await?;
    let mut am: agent::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if i.model_id.is_some() {
        am.model_id = Set(model_id(db, w.org, i.model_id.as_ref()).await?);
    }
    if let Some(p) = &i.system_prompt {
        am.system_prompt = Set(validate::text("systemPrompt", p, 0, 20_000, true)?);
    }
    if let Some(s) = i.status {
        am.status = Set(s.as_str().into());
    }
    if let Some(t) = i.tools {
        am.tools = Set(tool_list(t)?);
    }
    if i.template_id.is_some() || i.template_variables.is_some() {
        let gid = match &i.template_id {
            Some(g) => g.clone(),
            None => current.template_id.map(|t| Id(PromptTemplate::gid(t))),
        };
        let values = i.template_variables.clone().or_else(|| Some(current.template_variables.clone()));
        let (t, v) = template(db, w.org, gid.as_ref(), values).await?;
        am.template_id = Set(t);
        am.template_variables = Set(v);
    }
    let after = w.update::<Agent, _>("agent.update", current, am, i.expected_version).await?.after;
    w.changed::<Agent>("agent.update", after.id, None).await?;
    Ok(after)
}

/// An agent of the organisation (NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<agent::Model> {
    opsgraph_core::db::find_in_org::<agent::Entity>(db, agent::Column::OrgId, org, id, "agent").await
}
