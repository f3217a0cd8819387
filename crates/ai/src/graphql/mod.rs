//! The ai domain's GraphQL: agents, conversations and messages, the lists over them, the
//! mutations, and `conversationEvents` ([`live`]).

pub mod automation;
pub mod live;
pub mod models;
pub mod runs;
pub mod teams;

use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, datetime, enum_value, list_field, node_mutation, node_object, opt, parent, payload,
    payload_value, prop, ref_field, ref_field_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{Permission, node::NodeType};
use opsgraph_knowledge::nodes::{Collection, Document};
use opsgraph_org::nodes::{Membership, Organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{agent, conversation, message};
use crate::enums::{AgentStatus, MessageRole, MessageStatus};
use crate::nodes::{Agent, AgentConversation, AgentMessage, AiRun, LlmModel, PendingAction};
use crate::service::{agents, conversations};

/// `Agent` lists.
pub static AGENTS: LazyLock<ListSpec<agent::Entity>> = LazyLock::new(|| {
    use agent::Column as C;
    ListSpec {
        node: Agent::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("status", C::Status, K::Enum(AgentStatus::NAME))],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `AgentConversation` lists.
pub static CONVERSATIONS: LazyLock<ListSpec<conversation::Entity>> = LazyLock::new(|| {
    use conversation::Column as C;
    ListSpec {
        node: AgentConversation::NAME,
        id: C::Id,
        filters: vec![ff("title", C::Title, K::Text), ff("agentId", C::AgentId, K::Id(Agent::NAME))],
        sorts: vec![sk("UPDATED_AT", C::UpdatedAt, S::DateTime), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "UPDATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `AgentMessage` lists.
pub static MESSAGES: LazyLock<ListSpec<message::Entity>> = LazyLock::new(|| {
    use message::Column as C;
    ListSpec {
        node: AgentMessage::NAME,
        id: C::Id,
        filters: vec![ff("role", C::Role, K::Enum(MessageRole::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

fn text(s: &str) -> Value {
    s.to_owned().into()
}

fn agent_object() -> Object {
    type A = agent::Model;
    let nn = TypeRef::named_nn;
    node_object::<Agent>("A configured assistant: its model, instructions and generation settings.")
        .field(prop::<A>("name", nn(TypeRef::STRING), "Name.", |a| text(&a.name)))
        .field(prop::<A>("description", TypeRef::named(TypeRef::STRING), "What it is for.", |a| {
            opt(a.description.clone())
        }))
        .field(ref_field_nn::<A, LlmModel>("model", "The language model it runs on.", |a| a.model_id))
        .field(
            Field::new("tools", TypeRef::named_nn_list_nn("AgentTool"), |ctx| {
                FieldFuture::new(async move {
                    let a = parent::<A>(&ctx)?;
                    Ok(Some(FieldValue::list(agents::tools_of(a).into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("The tools it may call, and which must ask first."),
        )
        .field(prop::<A>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |a| a.version.into()))
        .field(prop::<A>("systemPrompt", nn(TypeRef::STRING), "Its instructions.", |a| text(&a.system_prompt)))
        .field(prop::<A>("status", AgentStatus::nn(), "Whether it answers.", |a| enum_value(&a.status)))
        .field(ref_field_nn::<A, Membership>("owner", "Who configured it.", |a| a.owner_id))
        .field(prop::<A>("avatarUrl", TypeRef::named(TypeRef::STRING), "Picture.", |a| opt(a.avatar_url.clone())))
        .field(prop::<A>("maxTokens", nn(TypeRef::INT), "Longest reply, in tokens.", |a| a.max_tokens.into()))
        .field(prop::<A>("temperature", nn(TypeRef::FLOAT), "Sampling temperature (0: deterministic).", |a| {
            a.temperature.into()
        }))
        .field(ref_field::<A, Collection>(
            "knowledgeCollection",
            "The knowledge collection it answers from, citing what it used.",
            |a| a.knowledge_collection_id,
        ))
        .field(prop::<A>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Created.", |a| {
            datetime(&a.created_at)
        }))
}

/// A passage a reply answered from.
struct Citation {
    document_id: Option<uuid::Uuid>,
    revision: i64,
    start: i64,
    end: i64,
    title: String,
}

impl Citation {
    fn all(v: &serde_json::Value) -> Vec<Citation> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|c| Citation {
                document_id: c["documentId"].as_str().and_then(|s| s.parse().ok()),
                revision: c["revision"].as_i64().unwrap_or(0),
                start: c["charStart"].as_i64().unwrap_or(0),
                end: c["charEnd"].as_i64().unwrap_or(0),
                title: c["title"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }
}

fn citation_object() -> Object {
    let nn = TypeRef::named_nn;
    Object::new("Citation")
        .description("A passage of a knowledge document that a reply answered from.")
        .field(ref_field::<Citation, Document>("document", "The document (null if you may no longer read it).", |c| {
            c.document_id
        }))
        .field(prop::<Citation>("title", nn(TypeRef::STRING), "The document's title when cited.", |c| text(&c.title)))
        .field(prop::<Citation>("documentRevision", nn(TypeRef::INT), "The revision the passage is from.", |c| {
            c.revision.into()
        }))
        .field(prop::<Citation>("charStart", nn(TypeRef::INT), "First character in that revision's body.", |c| {
            c.start.into()
        }))
        .field(prop::<Citation>("charEnd", nn(TypeRef::INT), "One past the last.", |c| c.end.into()))
}

fn agent_tool_object() -> Object {
    type T = agents::AgentToolInput;
    let nn = TypeRef::named_nn;
    Object::new("AgentTool")
        .description("A tool an agent may call.")
        .field(prop::<T>("name", nn(TypeRef::STRING), "The tool (see `agentTools`).", |t| text(&t.name)))
        .field(prop::<T>("requiresApproval", nn(TypeRef::BOOLEAN), "Its changes wait for a person's approval.", |t| {
            t.requires_approval.unwrap_or(true).into()
        }))
}

/// A tool call of a reply, as kept on it.
struct ToolCallView(serde_json::Value);

fn tool_call_object() -> Object {
    type T = ToolCallView;
    let nn = TypeRef::named_nn;
    Object::new("AgentToolCall")
        .description("A tool a reply called: its arguments, status (DONE, FAILED, PROPOSED, APPROVED, REJECTED, EXPIRED) and result.")
        .field(prop::<T>("callId", nn(TypeRef::STRING), "The provider's id for the call.", |t| {
            t.0["id"].as_str().map_or(Value::Null, |v| v.to_owned().into())
        }))
        .field(prop::<T>("name", nn(TypeRef::STRING), "The tool.", |t| {
            t.0["name"].as_str().map_or(Value::Null, |v| v.to_owned().into())
        }))
        .field(prop::<T>("arguments", nn(TypeRef::STRING), "Its arguments (JSON text as the model wrote it).", |t| {
            t.0["arguments"].as_str().unwrap_or_default().to_owned().into()
        }))
        .field(prop::<T>("status", nn(TypeRef::STRING), "What became of it.", |t| {
            t.0["status"].as_str().map_or(Value::Null, |v| v.to_owned().into())
        }))
        .field(prop::<T>("result", TypeRef::named("JSON"), "What the model was told.", |t| {
            Value::from_json(t.0["result"].clone()).unwrap_or(Value::Null)
        }))
        .field(ref_field::<T, PendingAction>("action", "The pending action it proposed.", |t| {
            t.0["actionId"].as_str().and_then(|s| s.parse().ok())
        }))
}

fn conversation_object() -> Object {
    type C = conversation::Model;
    let nn = TypeRef::named_nn;
    node_object::<AgentConversation>("A member's conversation with an agent (only its member reads it).")
        .field(prop::<C>("title", nn(TypeRef::STRING), "Title.", |c| text(&c.title)))
        .field(ref_field_nn::<C, Agent>("agent", "The agent.", |c| c.agent_id))
        .field(ref_field_nn::<C, Membership>("member", "The member.", |c| c.member_id))
        .field(prop::<C>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Started.", |c| {
            datetime(&c.created_at)
        }))
        .field(list_field("messages", &MESSAGES, "Its messages, oldest first.", |ctx, req| {
            req.require(Permission::AiUse)?;
            let c = parent::<C>(ctx)?;
            Ok(message::Entity::find().filter(message::Column::ConversationId.eq(c.id)))
        }))
}

fn message_object() -> Object {
    type M = message::Model;
    let nn = TypeRef::named_nn;
    node_object::<AgentMessage>("One turn of a conversation; a reply streams over conversationEvents while STREAMING.")
        .field(ref_field_nn::<M, AgentConversation>("conversation", "Its conversation.", |m| m.conversation_id))
        .field(prop::<M>("role", MessageRole::nn(), "Who said it.", |m| enum_value(&m.role)))
        .field(prop::<M>("content", nn(TypeRef::STRING), "Its text (so far, while STREAMING).", |m| text(&m.content)))
        .field(prop::<M>("status", MessageStatus::nn(), "Where a reply is in its life.", |m| enum_value(&m.status)))
        .field(prop::<M>("error", TypeRef::named(TypeRef::STRING), "Why generation failed.", |m| opt(m.error.clone())))
        .field(prop::<M>("model", TypeRef::named(TypeRef::STRING), "The model that wrote a reply.", |m| {
            opt(m.model.clone())
        }))
        .field(prop::<M>("tokensIn", nn(TypeRef::INT), "Prompt tokens of a reply.", |m| m.tokens_in.into()))
        .field(prop::<M>("tokensOut", nn(TypeRef::INT), "Generated tokens of a reply.", |m| m.tokens_out.into()))
        .field(prop::<M>("latencyMs", TypeRef::named(TypeRef::INT), "Time to the complete reply.", |m| {
            opt(m.latency_ms)
        }))
        .field(prop::<M>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Sent.", |m| datetime(&m.created_at)))
        .field(ref_field::<M, AiRun>("run", "The run that wrote a reply (its cost, steps, status).", |m| m.run_id))
        .field(
            Field::new("toolCalls", TypeRef::named_nn_list_nn("AgentToolCall"), |ctx| {
                FieldFuture::new(async move {
                    let m = parent::<M>(&ctx)?;
                    let calls = m
                        .tool_calls
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|r| r["calls"].as_array().cloned().unwrap_or_default());
                    Ok(Some(FieldValue::list(calls.map(|c| FieldValue::owned_any(ToolCallView(c))))))
                })
            })
            .description("The tools a reply called, in order."),
        )
        .field(
            Field::new("citations", TypeRef::named_nn_list_nn("Citation"), |ctx| {
                FieldFuture::new(async move {
                    let m = parent::<M>(&ctx)?;
                    Ok(Some(FieldValue::list(Citation::all(&m.citations).into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("The knowledge passages a reply answered from."),
        )
}

fn mutations(parts: &mut SchemaParts) {
    parts.object(payload::<Agent>("agent", "Result of a mutation changing an Agent."));
    parts.object(payload::<AgentConversation>("conversation", "Result of a mutation changing a AgentConversation."));
    parts.object(payload::<AgentMessage>("message", "Result of a mutation adding a AgentMessage."));
    parts.input::<agents::AgentToolInput>().input::<agents::CreateAgentInput>().input::<agents::UpdateAgentInput>();
    parts.input::<conversations::StartConversationInput>().input::<conversations::SendMessageInput>();
    parts.mutation(node_mutation(Agent, "createAgent", "Configure an agent (admins).", |req, i| async move {
        Ok(payload_value(agents::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Agent, "updateAgent", "Change an agent (admins).", |req, i| async move {
        Ok(payload_value(agents::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        AgentConversation,
        "startConversation",
        "Start a conversation with an active agent.",
        |req, i| async move { Ok(payload_value(conversations::start(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        AgentMessage,
        "sendMessage",
        "Say something in your conversation: returns the agent's reply, PENDING; follow it with conversationEvents.",
        |req, i| async move { Ok(payload_value(conversations::send(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

/// Registers the ai domain.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<AgentStatus>().enumeration::<MessageRole>().enumeration::<MessageStatus>();
    parts.list(&*AGENTS).list(&*CONVERSATIONS).list(&*MESSAGES);
    parts.object(agent_object()).object(conversation_object()).object(message_object()).object(citation_object());
    parts.object(agent_tool_object()).object(tool_call_object());
    parts.node::<Agent>().node::<AgentConversation>().node::<AgentMessage>();
    parts.extend::<Organization>(list_field("agents", &AGENTS, "The organisation's agents.", |_, req| {
        let org = req.require(Permission::AiUse)?;
        Ok(agent::Entity::find().filter(agent::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(list_field(
        "agentConversations",
        &CONVERSATIONS,
        "Your conversations with agents.",
        |_, req| {
            let org = req.require(Permission::AiUse)?;
            Ok(conversation::Entity::find().filter(conversation::Column::OrgId.eq(org)))
        },
    ));
    mutations(parts);
    models::register(parts);
    runs::register(parts);
    automation::register(parts);
    teams::register(parts);
    live::register(parts);
}
