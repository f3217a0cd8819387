//! Agent teams (002 agentTeams): agents grouped under a coordinator with roles and an
//! order. A team that requires approval makes every member ask before any write, whatever
//! the member's own tool settings. And the global catalog of agent templates (002
//! agentTemplates): installing one creates an agent from it.

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{agent, agent_team, agent_template};
use crate::enums::{AgentStatus, TeamRole};
use crate::nodes::{Agent, AgentTeam};
use crate::service::agents::{self, AgentToolInput, CreateAgentInput};

/// Create a team.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgentTeamInput {
    /// Name (unique).
    pub name: String,
    /// Department (sales, support, operations…).
    pub department: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// The coordinating agent (joins as COORDINATOR).
    pub coordinator_id: Option<Id>,
    /// Members ask before any write (default true).
    pub approval_required: Option<bool>,
}

/// Put an agent in a team (again: changes its role and order).
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddAgentTeamMemberInput {
    /// The team.
    pub team_id: Id,
    /// The agent.
    pub agent_id: Id,
    /// Its role.
    pub role: TeamRole,
    /// Its place in the order (lower first, default 0).
    pub priority: Option<i32>,
}

/// Install an agent from the catalog.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct InstallAgentTemplateInput {
    /// The template's slug (see `agentTemplates`).
    pub slug: String,
    /// The agent's name (default the template's).
    pub name: Option<String>,
    /// Its model (default the local one).
    pub model_id: Option<Id>,
    /// A knowledge collection it answers from.
    pub knowledge_collection_id: Option<Id>,
}

async fn member(
    db: &impl ConnectionTrait,
    org: Uuid,
    team: Uuid,
    agent: Uuid,
    role: TeamRole,
    priority: i32,
) -> AppResult<()> {
    let sql = "INSERT INTO agent_team_members (id, org_id, team_id, agent_id, role, priority) VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (team_id, agent_id) DO UPDATE SET role = EXCLUDED.role, priority = EXCLUDED.priority";
    let values = [new_id().into(), org.into(), team.into(), agent.into(), role.as_str().into(), priority.into()];
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    Ok(())
}

/// Creates a team (agent managers).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateAgentTeamInput,
) -> AppResult<agent_team::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let coordinator = match &i.coordinator_id {
        Some(g) => Some(agents::get(db, w.org, Agent::decode(g, "coordinatorId")?).await?.id),
        None => None,
    };
    let row = agent_team::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        department: Set(validate::opt_text("department", i.department.as_deref(), 100, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, true)?),
        coordinator_id: Set(coordinator),
        approval_required: Set(i.approval_required.unwrap_or(true)),
        status: Set(AgentStatus::Active.as_str().into()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let Some(c) = coordinator {
        member(db, w.org, row.id, c, TeamRole::Coordinator, 0).await?;
    }
    w.created::<AgentTeam>("agent_team.create", &row, ("createAgentTeam", None)).await?;
    w.changed::<AgentTeam>("agent_team.create", row.id, None).await?;
    Ok(row)
}

/// Adds an agent to a team or changes its role and order.
pub async fn add_member(
    db: &impl ConnectionTrait,
    session: &Session,
    i: AddAgentTeamMemberInput,
) -> AppResult<agent_team::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let team = opsgraph_core::db::find_in_org::<agent_team::Entity>(
        db,
        agent_team::Column::OrgId,
        w.org,
        AgentTeam::decode(&i.team_id, "teamId")?,
        "agent team",
    )
    .await?;
    let agent = agents::get(db, w.org, Agent::decode(&i.agent_id, "agentId")?).await?;
    let priority = i.priority.unwrap_or(0);
    if !(0..=1000).contains(&priority) {
        return Err(AppError::bad_input("priority", "priority is 0..1000"));
    }
    member(db, w.org, team.id, agent.id, i.role, priority).await?;
    w.audit::<AgentTeam>(
        "agent_team.member",
        team.id,
        serde_json::json!({ "agent": agent.id, "role": i.role.as_str() }),
    )
    .await?;
    w.changed::<AgentTeam>("agent_team.member", team.id, None).await?;
    Ok(team)
}

/// Whether an active team of `agent` requires approval for every write.
pub async fn asks_first(db: &impl ConnectionTrait, agent: Uuid) -> AppResult<bool> {
    let sql = "SELECT EXISTS (SELECT 1 FROM agent_team_members m JOIN agent_teams t ON t.id = m.team_id \
               WHERE m.agent_id = $1 AND t.status = 'ACTIVE' AND t.approval_required) AS b";
    let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [agent.into()])).await?;
    Ok(row.map(|r| r.try_get::<bool>("", "b")).transpose()?.unwrap_or(false))
}

/// Creates an agent from a published template and counts the install.
pub async fn install(
    db: &impl ConnectionTrait,
    session: &Session,
    i: InstallAgentTemplateInput,
) -> AppResult<agent::Model> {
    session.require(Permission::AiManage)?;
    let t = agent_template::Entity::find()
        .filter(agent_template::Column::Slug.eq(i.slug.clone()))
        .filter(agent_template::Column::Published.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("slug", format!("no agent template {:?}", i.slug)))?;
    let tools: Vec<AgentToolInput> = serde_json::from_value(t.tools.clone()).unwrap_or_default();
    let input = CreateAgentInput {
        name: i.name.unwrap_or_else(|| t.name.clone()),
        description: Some(t.description.clone()),
        model_id: i.model_id,
        system_prompt: Some(t.system_prompt.clone()),
        max_tokens: Some(t.max_tokens),
        temperature: None,
        avatar_url: None,
        knowledge_collection_id: i.knowledge_collection_id,
        tools: Some(tools),
        template_id: None,
        template_variables: None,
        memory_collection_id: None,
    };
    let a = agents::create(db, session, input).await?;
    let sql = "UPDATE agent_templates SET install_count = install_count + 1 WHERE id = $1";
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [t.id.into()])).await?;
    Ok(a)
}
