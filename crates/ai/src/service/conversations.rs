//! Conversations: a member starts one with an agent and sends messages; each message
//! queues the agent's reply (an ASSISTANT message, PENDING) for the [`super::runner`], and
//! every change is an outbox event on the message (`message.created`, `message.delta`,
//! `message.completed`, `message.failed`) carrying its conversation, so
//! `conversationEvents` streams a reply as it is written.

use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::entity::{conversation, message};
use crate::enums::{AgentChannel, AgentStatus, MessageRole, MessageStatus};
use crate::nodes::{Agent, AgentConversation, AgentMessage};
use crate::service::{agents, providers, spend};
use opsgraph_crm::nodes::Contact;

/// Most messages a conversation lists (and the runner reads as history).
pub const HISTORY: u64 = 200;

/// Start a conversation.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct StartConversationInput {
    /// The agent.
    pub agent_id: Id,
    /// A title.
    pub title: Option<String>,
    /// CHAT (default) or VOICE (a call, with recordings).
    pub channel: Option<AgentChannel>,
    /// The crm contact on the call.
    pub contact_id: Option<Id>,
}

/// Send a message.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageInput {
    /// The conversation.
    pub conversation_id: Id,
    /// What you say (1..20,000 characters).
    pub content: String,
}

/// The event data of a message event: its conversation, and the new text of a delta.
pub fn event_data(conversation: Uuid, delta: Option<&str>) -> serde_json::Value {
    match delta {
        Some(d) => json!({ "conversationId": AgentConversation::gid(conversation), "delta": d }),
        None => json!({ "conversationId": AgentConversation::gid(conversation) }),
    }
}

/// Raises `kind` on message `id` of `conversation` (from a request or the runner).
pub async fn announce(
    db: &impl ConnectionTrait,
    session: &Session,
    org: Uuid,
    subject: (&'static str, Uuid, Uuid),
    delta: Option<&str>,
) -> AppResult<i64> {
    announce_with(db, session, org, subject, event_data(subject.2, delta)).await
}

/// Raises `kind` on message `id` with `data` (which names the conversation): tool calls,
/// their results, a final usage.
pub async fn announce_with(
    db: &impl ConnectionTrait,
    session: &Session,
    org: Uuid,
    (kind, id, conversation): (&'static str, Uuid, Uuid),
    mut data: serde_json::Value,
) -> AppResult<i64> {
    data["conversationId"] = AgentConversation::gid(conversation).into();
    let event = DomainEvent { kind, subject_type: AgentMessage::NAME, subject_id: id, data, ..DomainEvent::default() };
    opsgraph_core::events::emit(db, session, org, event).await
}

/// Starts a conversation of the caller with an active agent.
pub async fn start(
    db: &impl ConnectionTrait,
    session: &Session,
    i: StartConversationInput,
) -> AppResult<conversation::Model> {
    let w = Write::new(db, session, Permission::AiUse)?;
    let me = session.membership_id.ok_or_else(|| AppError::Forbidden("conversations belong to a member".into()))?;
    let agent = agents::get(db, w.org, Agent::decode(&i.agent_id, "agentId")?).await?;
    if agent.status != AgentStatus::Active.as_str() {
        return Err(AppError::bad_input("agentId", "the agent is not active"));
    }
    let row = conversation::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        agent_id: Set(agent.id),
        member_id: Set(me),
        title: Set(validate::opt_text("title", i.title.as_deref(), 300, false)?.unwrap_or_default()),
        channel: Set(i.channel.unwrap_or(AgentChannel::Chat).as_str().into()),
        contact_id: Set(match &i.contact_id {
            Some(g) => {
                Some(opsgraph_crm::service::contacts::get(db, w.org, Contact::decode(g, "contactId")?).await?.id)
            }
            None => None,
        }),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<AgentConversation>("conversation.create", &row, ("startConversation", None)).await?;
    w.changed::<AgentConversation>("conversation.create", row.id, None).await?;
    Ok(row)
}

/// A conversation the caller can read (their own; NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<conversation::Model> {
    opsgraph_core::db::find_in_org::<conversation::Entity>(db, conversation::Column::OrgId, org, id, "conversation")
        .await
}

/// Records the caller's message and queues the agent's reply; returns the reply (PENDING).
pub async fn send(db: &impl ConnectionTrait, session: &Session, i: SendMessageInput) -> AppResult<message::Model> {
    let w = Write::new(db, session, Permission::AiUse)?;
    let c = get(db, w.org, AgentConversation::decode(&i.conversation_id, "conversationId")?).await?;
    let agent = agents::get(db, w.org, c.agent_id).await?;
    if agent.status != AgentStatus::Active.as_str() {
        return Err(AppError::bad_input("conversationId", "the agent is not active"));
    }
    let content = validate::text("content", &i.content, 1, 20_000, true)?;
    spend::check_budget(db, w.org).await?;
    let model = providers::model(db, w.org, agent.model_id).await?;
    let mut rows = vec![];
    for (role, text, status) in [
        (MessageRole::User, content, MessageStatus::Complete),
        (MessageRole::Assistant, String::new(), MessageStatus::Pending),
    ] {
        let row = message::ActiveModel {
            id: Set(new_id()),
            org_id: Set(w.org),
            conversation_id: Set(c.id),
            role: Set(role.as_str().into()),
            content: Set(text),
            status: Set(status.as_str().into()),
            model: Set((role == MessageRole::Assistant).then(|| model.name.clone())),
            citations: Set(json!([])),
            ..Default::default()
        }
        .insert(db)
        .await?;
        announce(db, session, w.org, ("message.created", row.id, c.id), None).await?;
        rows.push(row);
    }
    rows.pop().ok_or_else(|| AppError::internal("no reply row"))
}

/// A conversation's messages, oldest first (at most [`HISTORY`], the latest).
pub async fn messages(db: &impl ConnectionTrait, conversation: Uuid) -> AppResult<Vec<message::Model>> {
    let mut rows = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation))
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
        .limit(HISTORY)
        .all(db)
        .await?;
    rows.reverse();
    Ok(rows)
}
