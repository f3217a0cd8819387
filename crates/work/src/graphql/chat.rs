//! Team chat on the graph: `Channel`, `ChannelMember`, `ChannelMessage`,
//! `MessageReaction`; `Organization.channels` (with each channel's unread count for the
//! viewer, one statement for the page) and `Organization.channelMessages` (full-text
//! search); the chat mutations; `channelEvents(channelId, after)`.

use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, SubscriptionField, SubscriptionFieldFuture, TypeRef,
};
use chrono::{DateTime, FixedOffset};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, datetime, enum_value, gid, list_field, mutation, node_mutation, node_object, opt, page_field,
    parent, payload, payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::input::Id;
use opsgraph_core::live::{LiveEvent, after_input, event_object};
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{Permission, RequestCtx};
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::{Membership, Organization, Team};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::entity::{channel, channel_member, channel_message, message_reaction};
use crate::enums::{ChannelKind, ChannelRole};
use crate::loader::{
    MembersOfChannel, MessagesOfChannel, ReactionCount, ReactionsByMessage, ReactionsOf, ThreadReplies, UnreadByChannel,
};
use crate::nodes::{Channel, ChannelMember, ChannelMessage, MessageReaction, Project};
use crate::service::channels::{self, CreateChannelInput};
use crate::service::chat::{self, AttachmentInput, PostMessageInput};

fn nn(t: &str) -> TypeRef {
    TypeRef::named_nn(t)
}

fn ts_opt(t: &Option<DateTime<FixedOffset>>) -> Value {
    t.as_ref().map_or(Value::Null, datetime)
}

/// Registers the chat types, lists, mutations and subscription.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<ChannelKind>();
    parts.enumeration::<ChannelRole>();
    parts.list(&*CHANNELS);
    parts.list(&*CHANNEL_MEMBERS);
    parts.list(&*CHANNEL_MESSAGES);
    parts.list(&*MESSAGE_REACTIONS);
    parts.object(channel_object());
    parts.object(member_object());
    parts.object(message_object());
    parts.object(reaction_object());
    parts.object(
        Object::new("ReactionCount")
            .description("One emoji's reactions on a message.")
            .field(prop::<ReactionCount>("emoji", nn(TypeRef::STRING), "The emoji.", |r| r.emoji.clone().into()))
            .field(prop::<ReactionCount>("count", nn(TypeRef::INT), "How many reacted.", |r| r.count.into()))
            .field(prop::<ReactionCount>("reactedByMe", nn(TypeRef::BOOLEAN), "Whether you did.", |r| r.mine.into())),
    );
    parts.node::<Channel>();
    parts.node::<ChannelMember>();
    parts.node::<ChannelMessage>();
    parts.node::<MessageReaction>();
    parts.extend::<Organization>(list_field(
        "channels",
        &CHANNELS,
        "Chat channels you can see (public ones, your private and direct ones, your projects').",
        |_, req| Ok(channel::Entity::find().filter(channel::Column::OrgId.eq(req.require(Permission::WorkRead)?))),
    ));
    parts.extend::<Organization>(list_field(
        "channelMessages",
        &CHANNEL_MESSAGES,
        "Chat messages you can see, across channels; `filter.search` searches their text.",
        |_, req| {
            let org = req.require(Permission::WorkRead)?;
            Ok(channel_message::Entity::find()
                .filter(channel_message::Column::OrgId.eq(org))
                .filter(channel_message::Column::DeletedAt.is_null()))
        },
    ));
    mutations(parts);
    subscription(parts);
}

fn channel_object() -> Object {
    type C = channel::Model;
    node_object::<Channel>("A chat channel.")
        .field(prop::<C>("name", nn(TypeRef::STRING), "Name (`direct` for a direct channel).", |c| {
            c.name.clone().into()
        }))
        .field(prop::<C>("kind", ChannelKind::nn(), "What it is for.", |c| enum_value(&c.kind)))
        .field(prop::<C>("isPrivate", nn(TypeRef::BOOLEAN), "Only its members see it.", |c| c.is_private.into()))
        .field(prop::<C>("description", TypeRef::named(TypeRef::STRING), "What it is about.", |c| {
            opt(c.description.clone())
        }))
        .field(ref_field::<C, Project>("project", "The project whose staff are its members.", |c| c.project_id))
        .field(ref_field::<C, Team>("team", "The team it belongs to.", |c| c.team_id))
        .field(ref_field::<C, Membership>("createdBy", "Who created it.", |c| c.created_by))
        .field(page_field::<C, MessagesOfChannel>("messages", "Its messages (threads' first messages).", |c| c.id))
        .field(page_field::<C, MembersOfChannel>(
            "members",
            "Its members (a project channel's staff read it too).",
            |c| c.id,
        ))
        .field(
            Field::new("unreadCount", nn(TypeRef::INT), |ctx| {
                FieldFuture::new(async move {
                    let c = parent::<C>(&ctx)?;
                    let req = &RequestCtx::of(&ctx)?;
                    let n = req
                        .loader(UnreadByChannel)
                        .load_one(c.id)
                        .await
                        .map_err(|e| opsgraph_core::loader::failed(&e))?;
                    Ok(Some(FieldValue::value(n.unwrap_or(0))))
                })
            })
            .description("Messages you have not read (not yours, after your `lastReadAt`)."),
        )
        .field(prop::<C>("lastMessageAt", TypeRef::named(scalar::DATE_TIME), "When the last message came.", |c| {
            ts_opt(&c.last_message_at)
        }))
        .field(prop::<C>("archivedAt", TypeRef::named(scalar::DATE_TIME), "When it was archived.", |c| {
            ts_opt(&c.archived_at)
        }))
        .field(prop::<C>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
        .field(prop::<C>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |c| datetime(&c.created_at)))
}

fn member_object() -> Object {
    type M = channel_member::Model;
    node_object::<ChannelMember>("A member of a chat channel.")
        .field(ref_field_nn::<M, Channel>("channel", "The channel.", |m| m.channel_id))
        .field(ref_field_nn::<M, Membership>("membership", "The member.", |m| m.membership_id))
        .field(prop::<M>("role", ChannelRole::nn(), "Their role in it.", |m| enum_value(&m.role)))
        .field(prop::<M>("lastReadAt", TypeRef::named(scalar::DATE_TIME), "Where they last read.", |m| {
            ts_opt(&m.last_read_at)
        }))
        .field(prop::<M>("createdAt", nn(scalar::DATE_TIME), "When they joined.", |m| datetime(&m.created_at)))
}

fn message_object() -> Object {
    type M = channel_message::Model;
    node_object::<ChannelMessage>("A chat message; a reply in a thread when it has a parent.")
        .field(ref_field_nn::<M, Channel>("channel", "The channel.", |m| m.channel_id))
        .field(ref_field::<M, Membership>("author", "Who wrote it.", |m| m.author_id))
        .field(prop::<M>("body", nn(TypeRef::STRING), "Markdown.", |m| m.body.clone().into()))
        .field(ref_field::<M, ChannelMessage>("parent", "The thread's first message (replies).", |m| m.parent_id))
        .field(page_field::<M, ThreadReplies>("replies", "The thread's replies.", |m| m.id))
        .field(prop::<M>("replyCount", nn(TypeRef::INT), "Replies in its thread.", |m| m.reply_count.into()))
        .field(prop::<M>("lastReplyAt", TypeRef::named(scalar::DATE_TIME), "When the last reply came.", |m| {
            ts_opt(&m.last_reply_at)
        }))
        .field(prop::<M>(
            "attachments",
            nn(scalar::JSON),
            "Files attached (url or storageKey, name, contentType, sizeBytes).",
            |m| Value::from_json(m.attachments.clone()).unwrap_or(Value::Null),
        ))
        .field(prop::<M>("mentions", TypeRef::named_nn_list_nn(TypeRef::ID), "Members it mentions.", |m| {
            Value::List(m.mentions.iter().map(|id| gid::<Membership>(*id)).collect())
        }))
        .field(
            Field::new("reactions", TypeRef::named_nn_list_nn("ReactionCount"), |ctx| {
                FieldFuture::new(async move {
                    let m = parent::<M>(&ctx)?;
                    let req = &RequestCtx::of(&ctx)?;
                    let r = req
                        .loader(ReactionsByMessage)
                        .load_one(m.id)
                        .await
                        .map_err(|e| opsgraph_core::loader::failed(&e))?;
                    Ok(Some(FieldValue::list(r.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("Reactions by emoji, first used first."),
        )
        .field(page_field::<M, ReactionsOf>("reactedBy", "Who reacted, and with what.", |m| m.id))
        .field(prop::<M>("pinnedAt", TypeRef::named(scalar::DATE_TIME), "When it was pinned.", |m| {
            ts_opt(&m.pinned_at)
        }))
        .field(ref_field::<M, Membership>("pinnedBy", "Who pinned it.", |m| m.pinned_by))
        .field(prop::<M>("editedAt", TypeRef::named(scalar::DATE_TIME), "When it was last edited.", |m| {
            ts_opt(&m.edited_at)
        }))
        .field(prop::<M>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into()))
        .field(prop::<M>("createdAt", nn(scalar::DATE_TIME), "When it was posted.", |m| datetime(&m.created_at)))
}

fn reaction_object() -> Object {
    type R = message_reaction::Model;
    node_object::<MessageReaction>("One member's reaction to a chat message.")
        .field(ref_field_nn::<R, ChannelMessage>("message", "The message.", |r| r.message_id))
        .field(ref_field_nn::<R, Membership>("membership", "Who reacted.", |r| r.membership_id))
        .field(prop::<R>("emoji", nn(TypeRef::STRING), "The emoji.", |r| r.emoji.clone().into()))
        .field(prop::<R>("createdAt", nn(scalar::DATE_TIME), "When.", |r| datetime(&r.created_at)))
}

fn mutations(parts: &mut SchemaParts) {
    parts.object(payload::<Channel>("channel", "Result of a mutation changing a Channel."));
    parts.object(payload::<ChannelMember>("channelMember", "Result of a mutation changing a ChannelMember."));
    parts.object(payload::<ChannelMessage>("channelMessage", "Result of a mutation changing a ChannelMessage."));
    parts.input::<CreateChannelInput>();
    parts.input::<DirectChannelInput>();
    parts.input::<ChannelMemberInput>();
    parts.input::<ArchiveChannelInput>();
    parts.input::<MarkChannelReadInput>();
    parts.input::<AttachmentInput>();
    parts.input::<PostMessageInput>();
    parts.input::<EditMessageInput>();
    parts.input::<MessageIdInput>();
    parts.input::<PinMessageInput>();
    parts.input::<ReactInput>();
    parts.mutation(node_mutation(
        Channel,
        "createChannel",
        "Create a chat channel; you are its owner.",
        |req, i| async move { Ok(payload_value(channels::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Channel,
        "openDirectChannel",
        "The direct channel between you and a member (opened if new).",
        |req, i: DirectChannelInput| async move {
            Ok(payload_value(channels::open_direct(req.db.as_ref(), &req.session, &i.membership_id).await?))
        },
    ));
    parts.mutation(node_mutation(
        ChannelMember,
        "addChannelMember",
        "Add a member to a channel, or change their role (its managers).",
        |req, i: ChannelMemberInput| async move {
            let key = (&i.channel_id, &i.membership_id);
            Ok(payload_value(channels::add_member(req.db.as_ref(), &req.session, key, i.role).await?))
        },
    ));
    parts.mutation(node_mutation(
        Channel,
        "removeChannelMember",
        "Remove a member from a channel (its managers), or leave it yourself.",
        |req, i: ChannelMemberInput| async move {
            let key = (&i.channel_id, &i.membership_id);
            Ok(payload_value(channels::remove_member(req.db.as_ref(), &req.session, key).await?))
        },
    ));
    parts.mutation(node_mutation(
        Channel,
        "archiveChannel",
        "Archive a channel (its managers).",
        |req, i: ArchiveChannelInput| async move {
            Ok(payload_value(channels::archive(req.db.as_ref(), &req.session, &i.id, i.expected_version).await?))
        },
    ));
    parts.mutation(node_mutation(
        Channel,
        "markChannelRead",
        "Record that you have read a channel up to `at` (default now).",
        |req, i: MarkChannelReadInput| async move {
            Ok(payload_value(channels::mark_read(req.db.as_ref(), &req.session, &i.channel_id, i.at).await?))
        },
    ));
    message_mutations(parts);
}

fn message_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        ChannelMessage,
        "postMessage",
        "Post a message, or reply in a thread.",
        |req, i| async move { Ok(payload_value(chat::post(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        ChannelMessage,
        "editMessage",
        "Edit your message.",
        |req, i: EditMessageInput| async move {
            Ok(payload_value(chat::edit(req.db.as_ref(), &req.session, (&i.id, i.expected_version), &i.body).await?))
        },
    ));
    parts.mutation(node_mutation(
        ChannelMessage,
        "deleteMessage",
        "Delete a message (its author, or the channel's managers).",
        |req, i: MessageIdInput| async move { Ok(payload_value(chat::delete(req.db.as_ref(), &req.session, &i.id).await?)) },
    ));
    parts.mutation(node_mutation(
        ChannelMessage,
        "pinMessage",
        "Pin or unpin a message.",
        |req, i: PinMessageInput| async move {
            Ok(payload_value(chat::pin(req.db.as_ref(), &req.session, &i.id, i.pinned).await?))
        },
    ));
    parts.mutation(mutation(
        "reactToMessage",
        "ChannelMessagePayload",
        "Add or remove your reaction to a message.",
        |req, i: ReactInput| async move {
            Ok(payload_value(
                chat::react(req.db.as_ref(), &req.session, &i.message_id, &i.emoji, i.on.unwrap_or(true)).await?,
            ))
        },
    ));
}

fn subscription(parts: &mut SchemaParts) {
    type E = std::sync::Arc<LiveEvent>;
    parts.object(
        event_object(
            "ChannelEvent",
            "Something that happened in a channel: `channel_message.posted`, `.edited`, `.deleted`, `.pinned`, \
             `.unpinned`, `.reacted`.",
        )
        .field(prop::<E>("messageId", nn(TypeRef::ID), "The message's global ID.", |e| {
            gid::<ChannelMessage>(e.subject_id)
        }))
        .field(ref_field::<E, ChannelMessage>(
            "message",
            "The message as it is now (null once deleted).",
            |e| Some(e.subject_id),
        )),
    );
    parts.subscription(
        SubscriptionField::new("channelEvents", nn("ChannelEvent"), |ctx| {
            SubscriptionFieldFuture::new(async move {
                opsgraph_org::live::follow_children_where::<Channel>(
                    &ctx,
                    ("channelId", Permission::WorkRead),
                    (ChannelMessage::NAME, "channelId"),
                    Some(|scope, channel, who| Box::pin(crate::live::channel_visible(scope, channel, who))),
                )
                .await
            })
        })
        .argument(InputValue::new("channelId", nn(TypeRef::ID)).description("A channel you can see."))
        .argument(after_input())
        .description(
            "A channel's message events in commit order, resumable with `after`. Each delivery re-checks that you \
             still see the channel: removed from a private channel (or from a project's staff), the stream ends.",
        ),
    );
}

/// Open the direct channel with a member.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "OpenDirectChannelInput")]
struct DirectChannelInput {
    /// The other member.
    membership_id: Id,
}

/// A member of a channel.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct ChannelMemberInput {
    /// The channel.
    channel_id: Id,
    /// The member.
    membership_id: Id,
    /// Their role (adding; default MEMBER).
    role: Option<ChannelRole>,
}

/// Archive a channel.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct ArchiveChannelInput {
    /// The channel.
    id: Id,
    /// The version you last read.
    expected_version: i32,
}

/// Mark a channel read.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct MarkChannelReadInput {
    /// The channel.
    channel_id: Id,
    /// Read up to (default now).
    at: Option<DateTime<FixedOffset>>,
}

/// Edit a message.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct EditMessageInput {
    /// The message.
    id: Id,
    /// The version you last read.
    expected_version: i32,
    /// The new markdown.
    body: String,
}

opsgraph_core::id_input!(
    /// Delete a message.
    MessageIdInput,
    "The message."
);

/// Pin or unpin a message.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct PinMessageInput {
    /// The message.
    id: Id,
    /// Pinned or not.
    pinned: bool,
}

/// React to a message.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "ReactToMessageInput")]
struct ReactInput {
    /// The message.
    message_id: Id,
    /// An emoji (`👍`) or a short name (`:tada:`).
    emoji: String,
    /// Add (default) or remove.
    on: Option<bool>,
}

/// `Channel` lists.
pub static CHANNELS: LazyLock<ListSpec<channel::Entity>> = LazyLock::new(|| {
    use channel::Column as C;
    ListSpec {
        node: Channel::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("kind", C::Kind, K::Enum(ChannelKind::NAME)),
            ff("isPrivate", C::IsPrivate, K::Boolean),
            ff("projectId", C::ProjectId, K::Id(Project::NAME)),
            ff("archivedAt", C::ArchivedAt, K::DateTime),
        ],
        sorts: vec![
            sk("NAME", C::Name, S::Text),
            sk("LAST_MESSAGE_AT", C::LastMessageAt, S::DateTime),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
        ],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `ChannelMember` lists.
pub static CHANNEL_MEMBERS: LazyLock<ListSpec<channel_member::Entity>> = LazyLock::new(|| {
    use channel_member::Column as C;
    ListSpec {
        node: ChannelMember::NAME,
        id: C::Id,
        filters: vec![ff("role", C::Role, K::Enum(ChannelRole::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `ChannelMessage` lists.
pub static CHANNEL_MESSAGES: LazyLock<ListSpec<channel_message::Entity>> = LazyLock::new(|| {
    use channel_message::Column as C;
    ListSpec {
        node: ChannelMessage::NAME,
        id: C::Id,
        filters: vec![
            ff("search", C::Body, K::FullText("search")),
            ff("channelId", C::ChannelId, K::Id(Channel::NAME)),
            ff("authorId", C::AuthorId, K::Id(Membership::NAME)),
            ff("pinnedAt", C::PinnedAt, K::DateTime),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `MessageReaction` lists.
pub static MESSAGE_REACTIONS: LazyLock<ListSpec<message_reaction::Entity>> = LazyLock::new(|| {
    use message_reaction::Column as C;
    ListSpec {
        node: MessageReaction::NAME,
        id: C::Id,
        filters: vec![ff("emoji", C::Emoji, K::Text)],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
