//! Agent teams and the agent template catalog in GraphQL.

use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, list_field, node_mutation, node_object, opt, parent, payload_value, prop,
    ref_field, ref_field_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, Permission, RequestCtx, node::NodeType};
use opsgraph_org::nodes::Organization;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{agent_team, agent_template, team_member};
use crate::enums::{AgentStatus, TeamRole};
use crate::nodes::{Agent, AgentTeam};
use crate::service::teams;

/// `AgentTeam` lists.
pub static TEAMS: LazyLock<ListSpec<agent_team::Entity>> = LazyLock::new(|| {
    use agent_team::Column as C;
    ListSpec {
        node: AgentTeam::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("status", C::Status, K::Enum(AgentStatus::NAME))],
        sorts: vec![sk("NAME", C::Name, S::Text)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

fn text(s: &str) -> Value {
    s.to_owned().into()
}

fn team_object() -> Object {
    type T = agent_team::Model;
    let nn = TypeRef::named_nn;
    node_object::<AgentTeam>("Agents working together under a coordinator.")
        .field(prop::<T>("name", nn(TypeRef::STRING), "Name.", |t| text(&t.name)))
        .field(prop::<T>("department", TypeRef::named(TypeRef::STRING), "Department.", |t| opt(t.department.clone())))
        .field(prop::<T>("description", TypeRef::named(TypeRef::STRING), "What it is for.", |t| {
            opt(t.description.clone())
        }))
        .field(ref_field::<T, Agent>("coordinator", "The coordinating agent.", |t| t.coordinator_id))
        .field(prop::<T>("approvalRequired", nn(TypeRef::BOOLEAN), "Members ask before any write.", |t| {
            t.approval_required.into()
        }))
        .field(prop::<T>("status", AgentStatus::nn(), "Status.", |t| enum_value(&t.status)))
        .field(prop::<T>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |t| t.version.into()))
        .field(
            Field::new("members", TypeRef::named_nn_list_nn("AgentTeamMember"), |ctx| {
                FieldFuture::new(async move {
                    let req = RequestCtx::of(&ctx)?;
                    req.require(Permission::AiUse)?;
                    let t = parent::<T>(&ctx)?;
                    let rows = team_member::Entity::find()
                        .filter(team_member::Column::TeamId.eq(t.id))
                        .order_by_asc(team_member::Column::Priority)
                        .order_by_asc(team_member::Column::CreatedAt)
                        .all(req.db.as_ref())
                        .await
                        .map_err(|e| AppError::from(e).into_graphql())?;
                    Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("Its agents in order."),
        )
}

fn member_object() -> Object {
    type M = team_member::Model;
    let nn = TypeRef::named_nn;
    Object::new("AgentTeamMember")
        .description("An agent in a team.")
        .field(ref_field_nn::<M, Agent>("agent", "The agent.", |m| m.agent_id))
        .field(prop::<M>("role", TeamRole::nn(), "Its role.", |m| enum_value(&m.role)))
        .field(prop::<M>("priority", nn(TypeRef::INT), "Its place (lower first).", |m| m.priority.into()))
}

fn template_object() -> Object {
    type T = agent_template::Model;
    let nn = TypeRef::named_nn;
    Object::new("AgentTemplate")
        .description("A catalog template to install agents from.")
        .field(prop::<T>("slug", nn(TypeRef::STRING), "Its key.", |t| text(&t.slug)))
        .field(prop::<T>("name", nn(TypeRef::STRING), "Name.", |t| text(&t.name)))
        .field(prop::<T>("description", nn(TypeRef::STRING), "What it does.", |t| text(&t.description)))
        .field(prop::<T>("category", nn(TypeRef::STRING), "Category.", |t| text(&t.category)))
        .field(prop::<T>("systemPrompt", nn(TypeRef::STRING), "Its instructions.", |t| text(&t.system_prompt)))
        .field(prop::<T>("tools", nn("JSON"), "Its tools.", |t| {
            Value::from_json(t.tools.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<T>("installCount", nn("Int64"), "Installs, all organisations.", |t| {
            t.install_count.to_string().into()
        }))
}

/// Registers teams and templates.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<TeamRole>();
    parts.list(&*TEAMS);
    parts.object(team_object()).object(member_object()).object(template_object());
    parts.node::<AgentTeam>();
    parts.object(opsgraph_core::gql::payload::<AgentTeam>("team", "Result of a mutation changing an AgentTeam."));
    parts.input::<teams::CreateAgentTeamInput>().input::<teams::AddAgentTeamMemberInput>();
    parts.input::<teams::InstallAgentTemplateInput>();
    parts.extend::<Organization>(list_field("agentTeams", &TEAMS, "The organisation's agent teams.", |_, req| {
        let org = req.require(Permission::AiUse)?;
        Ok(agent_team::Entity::find().filter(agent_team::Column::OrgId.eq(org)))
    }));
    parts.query(
        Field::new("agentTemplates", TypeRef::named_nn_list_nn("AgentTemplate"), |ctx| {
            FieldFuture::new(async move {
                let req = RequestCtx::of(&ctx)?;
                req.require(Permission::AiUse)?;
                let rows = agent_template::Entity::find()
                    .filter(agent_template::Column::Published.eq(true))
                    .order_by_asc(agent_template::Column::Slug)
                    .all(req.db.as_ref())
                    .await
                    .map_err(|e| AppError::from(e).into_graphql())?;
                Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("The catalog of agent templates."),
    );
    parts.mutation(node_mutation(
        AgentTeam,
        "createAgentTeam",
        "Create an agent team (admins).",
        |req, i| async move { Ok(payload_value(teams::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        AgentTeam,
        "addAgentTeamMember",
        "Put an agent in a team, or change its role and order (admins).",
        |req, i| async move { Ok(payload_value(teams::add_member(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Agent,
        "installAgentTemplate",
        "Create an agent from a catalog template (admins).",
        |req, i| async move { Ok(payload_value(teams::install(req.db.as_ref(), &req.session, i).await?)) },
    ));
}
