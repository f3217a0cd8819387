//! `conversationEvents(conversationId, after)`: a conversation's messages as they are
//! created and as a reply streams (`message.delta` events carry the new text; the message
//! holds the text so far), resumable with `after`; each event re-checked against the
//! subscriber's current right to use agents.

use std::sync::Arc;

use async_graphql::dynamic::{InputValue, SubscriptionField, SubscriptionFieldFuture, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::gql::{SchemaParts, gid, prop, ref_field};
use opsgraph_core::live::{LiveEvent, after_input, event_object};
use opsgraph_core::node::NodeType;

use crate::nodes::{AgentConversation, AgentMessage};

type E = Arc<LiveEvent>;

/// Registers `ConversationEvent` and `conversationEvents`.
pub fn register(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    parts.object(
        event_object(
            "ConversationEvent",
            "Something that happened in a conversation: `message.created`, `message.delta` (more of a reply's text), \
             `message.tool_calls` (the tools a reply called, with status and result), `message.waiting` (a proposed \
             change waits for approval), `message.action_approved` / `_rejected` / `_expired`, `message.restarted` \
             (a stalled reply is written again: drop its text), `message.completed` (with its usage), `message.failed`.",
        )
        .field(prop::<E>("messageId", nn(TypeRef::ID), "The message's global ID.", |e| {
            gid::<AgentMessage>(e.subject_id)
        }))
        .field(prop::<E>("delta", TypeRef::named(TypeRef::STRING), "The new text of a `message.delta`.", |e| {
            e.data.get("delta").and_then(|d| d.as_str()).map_or(async_graphql::Value::Null, |d| d.to_owned().into())
        }))
        .field(prop::<E>(
            "detail",
            TypeRef::named("JSON"),
            "The tool calls of `message.tool_calls`, the usage of `message.completed` (tokens, cost in micro-units).",
            |e| {
                let d = e.data.get("toolCalls").map(|t| serde_json::json!({ "toolCalls": t }))
                    .or_else(|| e.data.get("usage").map(|u| serde_json::json!({ "usage": u })));
                d.and_then(|d| async_graphql::Value::from_json(d).ok()).unwrap_or(async_graphql::Value::Null)
            },
        ))
        .field(ref_field::<E, AgentMessage>("message", "The message as it is now.", |e| Some(e.subject_id))),
    );
    parts.subscription(
        SubscriptionField::new("conversationEvents", nn("ConversationEvent"), |ctx| {
            SubscriptionFieldFuture::new(async move {
                opsgraph_org::live::follow_children::<AgentConversation>(
                    &ctx,
                    "conversationId",
                    Permission::AiUse,
                    AgentMessage::NAME,
                    "conversationId",
                )
                .await
            })
        })
        .argument(InputValue::new("conversationId", nn(TypeRef::ID)).description("Your conversation."))
        .argument(after_input())
        .description(
            "A conversation's messages in commit order, with the agent's reply streaming as `message.delta` events. \
             Only the conversation's member may follow it.",
        ),
    );
}
