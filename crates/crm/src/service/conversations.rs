//! Conversations: omnichannel threads with one contact (e-mail, SMS, calls, WhatsApp,
//! social, live chat), assigned to a member, with a status. Each message is an interaction
//! of the thread (so it is on the account's and contact's timelines too). The thread keeps
//! its `lastMessageAt`, `messageCount` and `unreadCount` (inbound messages nobody read) in
//! the same statement that adds a message; an inbound message reopens an archived or
//! closed thread and notifies its assignee.

use chrono::{DateTime, FixedOffset, Utc};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{conversation, interaction};
use crate::enums::{ConversationChannel, ConversationStatus, Direction, InteractionKind, SenderType};
use crate::nodes::{Contact, Conversation, Interaction, PhoneNumber};
use crate::service::{checks, contacts, interactions, phone_numbers};

/// Open a conversation with a contact.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct OpenConversationInput {
    /// The contact.
    pub contact_id: Id,
    /// The channel.
    pub channel: ConversationChannel,
    /// Subject.
    pub subject: Option<String>,
    /// Who answers it (Membership; default: the contact's owner).
    pub assignee_id: Option<Id>,
    /// The phone number it runs through (SMS, calls, WhatsApp).
    pub phone_number_id: Option<Id>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Opens a conversation (`conversation.opened`; its assignee is notified).
pub async fn open(
    db: &impl ConnectionTrait,
    session: &Session,
    i: OpenConversationInput,
) -> AppResult<conversation::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key = ("openConversation", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let contact = contacts::get(db, w.org, Contact::decode(&i.contact_id, "contactId")?).await?;
    let assignee = match i.assignee_id.as_deref() {
        Some(g) => opsgraph_org::service::members::resolve(db, w.org, Some(g), "assigneeId").await?,
        None => contact.owner_id,
    };
    let phone = phone_number(db, w.org, i.phone_number_id.as_ref()).await?;
    let row = conversation::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        contact_id: Set(contact.id),
        account_id: Set(contact.account_id),
        channel: Set(i.channel.as_str().to_owned()),
        subject: Set(validate::opt_text("subject", i.subject.as_deref(), 500, false)?),
        assignee_id: Set(assignee),
        phone_number_id: Set(phone),
        tags: Set(checks::tags("tags", i.tags)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Conversation>("conversation.open", &row, key).await?;
    announce(&w, &row, "conversation.opened", format!("Conversation assigned to you: {}", title(&row))).await?;
    Ok(row)
}

/// A live phone number of `org`, if named.
async fn phone_number(db: &impl ConnectionTrait, org: Uuid, gid: Option<&Id>) -> AppResult<Option<Uuid>> {
    let Some(g) = gid else { return Ok(None) };
    let n = phone_numbers::get(db, org, PhoneNumber::decode(g, "phoneNumberId")?).await?;
    if n.status != "ACTIVE" {
        return Err(AppError::bad_input("phoneNumberId", "that number was released"));
    }
    Ok(Some(n.id))
}

fn title(c: &conversation::Model) -> String {
    c.subject.clone().unwrap_or_else(|| format!("{} conversation", c.channel.to_lowercase()))
}

/// Emits `kind` about `c`; addressed (with a notification titled `notify`) to its assignee
/// unless the assignee did it.
async fn announce(
    w: &Write<'_, impl ConnectionTrait>,
    c: &conversation::Model,
    kind: &'static str,
    notify: String,
) -> AppResult<()> {
    let note = if kind == "conversation.message_received" { "MENTION" } else { "ASSIGNMENT" };
    let data = serde_json::json!({ "channel": c.channel, "status": c.status });
    w.notify::<Conversation>(kind, c.id, c.assignee_id, (note, notify), DomainEvent { data, ..DomainEvent::default() })
        .await?;
    Ok(())
}

/// The conversation `id` of `org`.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<conversation::Model> {
    opsgraph_core::db::find_in_org::<conversation::Entity>(db, conversation::Column::OrgId, org, id, "conversation")
        .await
}

/// Change a conversation: status, assignee, subject, tags; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConversationInput {
    /// The conversation.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Status.
    pub status: Option<ConversationStatus>,
    /// Who answers it (null: nobody).
    #[serde(default, deserialize_with = "patch")]
    pub assignee_id: Option<Option<Id>>,
    /// Subject (null clears).
    #[serde(default, deserialize_with = "patch")]
    pub subject: Option<Option<String>>,
    /// Tags (replaces the set).
    pub tags: Option<Vec<String>>,
}

/// Updates a conversation (`conversation.assigned` notifies a new assignee).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateConversationInput,
) -> AppResult<conversation::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let current = get(db, w.org, Conversation::decode(&i.id, "id")?).await?;
    let mut am: conversation::ActiveModel = current.clone().into();
    if let Some(s) = i.status {
        am.status = Set(s.as_str().to_owned());
    }
    if let Some(a) = &i.assignee_id {
        am.assignee_id = Set(opsgraph_org::service::members::resolve(db, w.org, a.as_deref(), "assigneeId").await?);
    }
    if let Some(s) = &i.subject {
        am.subject = Set(validate::opt_text("subject", s.as_deref(), 500, false)?);
    }
    if i.tags.is_some() {
        am.tags = Set(checks::tags("tags", i.tags)?);
    }
    let done = w.update::<Conversation, _>("conversation.update", current.clone(), am, i.expected_version).await?;
    let after = done.after;
    if done.changes.as_object().is_some_and(serde_json::Map::is_empty) {
        return Ok(after);
    }
    if after.assignee_id.is_some() && after.assignee_id != current.assignee_id {
        announce(&w, &after, "conversation.assigned", format!("Conversation assigned to you: {}", title(&after)))
            .await?;
    } else {
        w.emit::<Conversation>(
            "conversation.updated",
            after.id,
            DomainEvent { data: done.changes, ..Default::default() },
        )
        .await?;
    }
    Ok(after)
}

/// Add a message to a conversation.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct PostConversationMessageInput {
    /// The conversation.
    pub conversation_id: Id,
    /// INBOUND (the contact wrote; recorded by an integration or a member) or OUTBOUND.
    pub direction: Direction,
    /// The text (markdown).
    pub body: String,
    /// Who wrote it (default: CONTACT for inbound, MEMBER for outbound).
    pub sender_type: Option<SenderType>,
    /// When it was sent (default now; not in the future).
    pub occurred_at: Option<DateTime<FixedOffset>>,
    /// When it reached the other side (outbound), if known.
    pub delivered_at: Option<DateTime<FixedOffset>>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Adds a message (an interaction of the thread) and updates the thread's counters in one
/// statement; an inbound message reopens the thread and notifies its assignee.
pub async fn post(
    db: &impl ConnectionTrait,
    session: &Session,
    i: PostConversationMessageInput,
) -> AppResult<interaction::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let key = ("postConversationMessage", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return interactions::get(db, w.org, id).await;
    }
    let thread = get(db, w.org, Conversation::decode(&i.conversation_id, "conversationId")?).await?;
    let inbound = i.direction == Direction::Inbound;
    let sender = i.sender_type.unwrap_or(if inbound { SenderType::Contact } else { SenderType::Member });
    let message = interactions::Message {
        conversation: thread.id,
        contact: thread.contact_id,
        account: thread.account_id,
        kind: kind_of(&thread.channel),
        channel: thread.channel.to_lowercase(),
        direction: i.direction,
        sender,
        body: validate::text("body", &i.body, 1, 50_000, true)?,
        occurred_at: i.occurred_at,
        delivered_at: i.delivered_at,
    };
    let row = interactions::record_message(&w, message).await?;
    let reopen = inbound && matches!(thread.status.as_str(), "ARCHIVED" | "CLOSED");
    let after = bump(db, &thread, &row, inbound, reopen).await?;
    w.created::<Interaction>("conversation.post", &row, key).await?;
    if inbound {
        let from = contacts::get(db, w.org, thread.contact_id).await?;
        let who = format!("{} {}", from.first_name, from.last_name);
        announce(&w, &after, "conversation.message_received", format!("New message from {}", who.trim())).await?;
    } else {
        w.changed::<Conversation>("conversation.message_sent", after.id, None).await?;
    }
    Ok(row)
}

/// The interaction kind of a channel's messages.
fn kind_of(channel: &str) -> InteractionKind {
    match channel {
        "EMAIL" => InteractionKind::Email,
        "CALL" => InteractionKind::Call,
        _ => InteractionKind::Message,
    }
}

/// Moves the thread's counters for message `m` (and reopens it when asked) in one
/// statement that returns the thread as it is now.
async fn bump(
    db: &impl ConnectionTrait,
    thread: &conversation::Model,
    m: &interaction::Model,
    inbound: bool,
    reopen: bool,
) -> AppResult<conversation::Model> {
    use sea_orm::EntityTrait;
    conversation::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE conversations SET message_count = message_count + 1, \
               unread_count = unread_count + CASE WHEN $2 THEN 1 ELSE 0 END, \
               last_message_at = greatest(last_message_at, $3), \
               status = CASE WHEN $4 THEN 'ACTIVE' ELSE status END, version = version + 1 \
             WHERE id = $1 RETURNING *",
            [thread.id.into(), inbound.into(), m.occurred_at.into(), reopen.into()],
        ))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("conversation"))
}

/// Marks every unread inbound message of a conversation read; returns the conversation.
pub async fn mark_read(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<conversation::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let thread = get(db, w.org, Conversation::decode(gid, "id")?).await?;
    if thread.unread_count == 0 {
        return Ok(thread);
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE interactions SET read_at = $2 WHERE conversation_id = $1 AND direction = 'INBOUND' AND read_at IS NULL",
        [thread.id.into(), Utc::now().fixed_offset().into()],
    ))
    .await?;
    let mut am: conversation::ActiveModel = thread.clone().into();
    am.unread_count = Set(0);
    let after = w.update::<Conversation, _>("conversation.read", thread.clone(), am, thread.version).await?.after;
    w.changed::<Conversation>("conversation.read", after.id, None).await?;
    Ok(after)
}
