//! Team chat messages: post (markdown, a thread's reply, attachments as metadata,
//! `@mentions` that notify through the dispatcher those who can see the channel), edit,
//! delete, pin and react. Every change is an event about the message carrying its
//! channel's ID, which `channelEvents` follows.

use chrono::Utc;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entity::{channel, channel_message};
use crate::enums::ChannelKind;
use crate::nodes::{Channel, ChannelMessage};
use crate::service::channels;

/// Attachments one message may carry at most.
const MAX_ATTACHMENTS: usize = 20;

/// A file attached to a message: where it is and what it is (the file itself lives in
/// storage outside opsgraph).
#[derive(Debug, Clone, Deserialize, Serialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "AttachmentInput")]
pub struct AttachmentInput {
    /// An `https` URL, or give `storageKey`.
    pub url: Option<String>,
    /// A key in the organisation's storage, or give `url`.
    pub storage_key: Option<String>,
    /// The file's name.
    pub name: String,
    /// Its media type (`image/png`).
    pub content_type: String,
    /// Its size in bytes.
    pub size_bytes: i64,
}

/// Post a chat message or a thread's reply.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct PostMessageInput {
    /// The channel.
    pub channel_id: Id,
    /// Markdown; `@handle` (an e-mail or its local part) mentions a member.
    pub body: String,
    /// The thread's first message, to reply in its thread.
    pub parent_id: Option<Id>,
    /// Files attached (metadata only).
    pub attachments: Option<Vec<AttachmentInput>>,
    /// Retrying with the same key returns the first message instead of a duplicate.
    pub idempotency_key: Option<String>,
}

/// A live message of the active organisation in a channel the caller sees.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<channel_message::Model> {
    channel_message::Entity::find_by_id(id)
        .filter(channel_message::Column::OrgId.eq(org))
        .filter(channel_message::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("message"))
}

fn attachments(list: Option<Vec<AttachmentInput>>) -> AppResult<serde_json::Value> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_ATTACHMENTS {
        return Err(AppError::bad_input("attachments", format!("at most {MAX_ATTACHMENTS} attachments")));
    }
    for a in &list {
        validate::text("attachments.name", &a.name, 1, 255, false)?;
        validate::text("attachments.contentType", &a.content_type, 3, 255, false)?;
        let url_ok = a.url.as_deref().is_some_and(|u| u.starts_with("https://") && u.len() <= 2000);
        let key_ok = a.storage_key.as_deref().is_some_and(|k| !k.is_empty() && k.len() <= 500);
        if url_ok == key_ok {
            return Err(AppError::bad_input("attachments", "give each attachment an https url or a storageKey"));
        }
        if !(0..=10_i64.pow(12)).contains(&a.size_bytes) {
            return Err(AppError::bad_input("attachments.sizeBytes", "sizeBytes is 0 to 1 TB"));
        }
    }
    Ok(serde_json::to_value(list).unwrap_or_default())
}

/// Of the members named by `body`'s mentions, those who can see `ch`.
async fn mentioned(db: &impl ConnectionTrait, ch: &channel::Model, body: &str) -> AppResult<Vec<Uuid>> {
    let handles = crate::service::comments::mention_handles(body);
    let found = opsgraph_org::service::members::resolve_handles(db, ch.org_id, &handles).await?;
    let ids: Vec<Uuid> = found.into_iter().map(|(_, id)| id).collect();
    if ids.is_empty() {
        return Ok(ids);
    }
    // The channel's own rule of who sees it, for other people than the caller.
    // Work managers see every open project channel (their roles only matter there).
    let managers: Vec<Uuid> = match ch.project_id {
        Some(_) if !ch.is_private => opsgraph_org::service::members::many(db, ch.org_id, &ids)
            .await?
            .into_iter()
            .filter(|m| opsgraph_core::Role::parse(&m.role).is_some_and(|r| r.allows(Permission::WorkManage)))
            .map(|m| m.id)
            .collect(),
        _ => vec![],
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT m FROM unnest($1::uuid[]) m WHERE \
               ($2::uuid IS NULL AND NOT $3) \
               OR m IN (SELECT membership_id FROM channel_members WHERE channel_id = $4) \
               OR ($2 IS NOT NULL AND NOT $3 AND (m = ANY($5) \
                 OR m IN (SELECT membership_id FROM project_members WHERE project_id = $2) \
                 OR m IN (SELECT manager_id FROM projects WHERE id = $2)))",
            [ids.into(), ch.project_id.into(), ch.is_private.into(), ch.id.into(), managers.into()],
        ))
        .await?;
    rows.iter().map(|r| Ok(r.try_get("", "m")?)).collect()
}

/// Emits `kind` about message `m` (with its channel's ID), addressed to `to` with a
/// notification when `note` is given.
async fn announce(
    w: &Write<'_, impl ConnectionTrait>,
    kind: &'static str,
    m: &channel_message::Model,
    ch: &channel::Model,
    (to, note): (Vec<Uuid>, Option<String>),
) -> AppResult<i64> {
    let excerpt: String = m.body.chars().take(200).collect();
    // `private`: outgoing webhooks never carry what only a channel's members may read.
    let data = serde_json::json!({ "channelId": Channel::gid(ch.id), "parentId": m.parent_id.map(ChannelMessage::gid),
                                   "excerpt": excerpt, "private": ch.is_private });
    let event = DomainEvent { project_id: ch.project_id, data, ..DomainEvent::default() };
    match note {
        Some(title) => w.notify::<ChannelMessage>(kind, m.id, to, ("MENTION", title), event).await,
        None => w.emit::<ChannelMessage>(kind, m.id, event).await,
    }
}

fn mention_title(ch: &channel::Model) -> String {
    let place =
        if ch.kind == ChannelKind::Direct.as_str() { "a direct message".to_owned() } else { format!("#{}", ch.name) };
    format!("You were mentioned in {place}")
}

/// Posts a message (or a reply in a thread).
pub async fn post(
    db: &impl ConnectionTrait,
    session: &Session,
    i: PostMessageInput,
) -> AppResult<channel_message::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let idem = i.idempotency_key.as_deref();
    if let Some(id) = w.replay("postMessage", idem).await? {
        return get(db, w.org, id).await;
    }
    let ch = channels::get(db, w.org, Channel::decode(&i.channel_id, "channelId")?).await?;
    if ch.archived_at.is_some() {
        return Err(AppError::Conflict("the channel is archived".into()));
    }
    let parent = match &i.parent_id {
        Some(p) => {
            let p = get(db, w.org, ChannelMessage::decode(p, "parentId")?).await?;
            if p.channel_id != ch.id || p.parent_id.is_some() {
                return Err(AppError::bad_input("parentId", "reply to a thread's first message in the same channel"));
            }
            Some(p)
        }
        None => None,
    };
    if ch.kind == ChannelKind::Announcement.as_str() && parent.is_none() && !channels::manages(db, session, &ch).await?
    {
        return Err(AppError::Forbidden("only the channel's owners and admins post announcements".into()));
    }
    let body = validate::text("body", &i.body, 1, 40_000, true)?;
    let mentions = mentioned(db, &ch, &body).await?;
    let m = channel_message::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        channel_id: Set(ch.id),
        author_id: Set(session.membership_id),
        body: Set(body),
        parent_id: Set(parent.as_ref().map(|p| p.id)),
        attachments: Set(attachments(i.attachments)?),
        mentions: Set(mentions.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let sql = match &parent {
        Some(_) => "UPDATE channel_messages SET reply_count = reply_count + 1, last_reply_at = $2 WHERE id = $1",
        None => "UPDATE channels SET last_message_at = $2 WHERE id = $1",
    };
    let target = parent.as_ref().map_or(ch.id, |p| p.id);
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [target.into(), m.created_at.into()]))
        .await?;
    w.created::<ChannelMessage>("channel_message.post", &m, ("postMessage", idem)).await?;
    let note = (!mentions.is_empty()).then(|| mention_title(&ch));
    announce(&w, "channel_message.posted", &m, &ch, (mentions, note)).await?;
    Ok(m)
}

/// Edits one's own message at version `expected`; newly mentioned members are notified.
pub async fn edit(
    db: &impl ConnectionTrait,
    session: &Session,
    (gid, expected): (&Id, i32),
    body: &str,
) -> AppResult<channel_message::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let before = get(db, w.org, ChannelMessage::decode(gid, "id")?).await?;
    if before.author_id.is_none() || before.author_id != session.membership_id {
        return Err(AppError::Forbidden("only the author edits a message".into()));
    }
    let ch = channels::get(db, w.org, before.channel_id).await?;
    let body = validate::text("body", body, 1, 40_000, true)?;
    let mentions = mentioned(db, &ch, &body).await?;
    let new: Vec<Uuid> = mentions.iter().copied().filter(|m| !before.mentions.contains(m)).collect();
    let am = channel_message::ActiveModel {
        body: Set(body),
        mentions: Set(mentions),
        edited_at: Set(Some(Utc::now().fixed_offset())),
        ..Default::default()
    };
    let after = w.update::<ChannelMessage, _>("channel_message.edit", before, am, expected).await?.after;
    let note = (!new.is_empty()).then(|| mention_title(&ch));
    announce(&w, "channel_message.edited", &after, &ch, (new, note)).await?;
    Ok(after)
}

/// Deletes a message (its author, or the channel's managers); its replies stay.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &Id) -> AppResult<channel_message::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let m = get(db, w.org, ChannelMessage::decode(gid, "id")?).await?;
    let ch = channels::get(db, w.org, m.channel_id).await?;
    if m.author_id != session.membership_id && !channels::manages(db, session, &ch).await? {
        return Err(AppError::Forbidden("only the author or the channel's managers delete a message".into()));
    }
    let version = m.version;
    let am = channel_message::ActiveModel { deleted_at: Set(Some(Utc::now().fixed_offset())), ..Default::default() };
    let after = w.update::<ChannelMessage, _>("channel_message.delete", m, am, version).await?.after;
    announce(&w, "channel_message.deleted", &after, &ch, (vec![], None)).await?;
    Ok(after)
}

/// Pins or unpins a message (anyone who may post in its channel).
pub async fn pin(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &Id,
    pinned: bool,
) -> AppResult<channel_message::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let m = get(db, w.org, ChannelMessage::decode(gid, "id")?).await?;
    let ch = channels::get(db, w.org, m.channel_id).await?;
    if pinned == m.pinned_at.is_some() {
        return Ok(m);
    }
    let version = m.version;
    let am = channel_message::ActiveModel {
        pinned_at: Set(pinned.then(|| Utc::now().fixed_offset())),
        pinned_by: Set(if pinned { session.membership_id } else { None }),
        ..Default::default()
    };
    let after = w.update::<ChannelMessage, _>("channel_message.pin", m, am, version).await?.after;
    announce(
        &w,
        if pinned { "channel_message.pinned" } else { "channel_message.unpinned" },
        &after,
        &ch,
        (vec![], None),
    )
    .await?;
    Ok(after)
}

/// Adds (`on`) or removes the caller's reaction `emoji` on a message.
pub async fn react(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &Id,
    emoji: &str,
    on: bool,
) -> AppResult<channel_message::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let me = session.membership_id.ok_or_else(|| AppError::Forbidden("only members react".into()))?;
    let m = get(db, w.org, ChannelMessage::decode(gid, "id")?).await?;
    let ch = channels::get(db, w.org, m.channel_id).await?;
    let emoji = validate::text("emoji", emoji, 1, 64, false)?;
    if emoji.chars().any(char::is_whitespace) {
        return Err(AppError::bad_input("emoji", "an emoji or a :short_name: without spaces"));
    }
    let (sql, values): (&str, Vec<sea_orm::Value>) = if on {
        (
            "INSERT INTO message_reactions (id, org_id, message_id, membership_id, emoji) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (message_id, membership_id, emoji) DO NOTHING",
            vec![new_id().into(), w.org.into(), m.id.into(), me.into(), emoji.into()],
        )
    } else {
        (
            "DELETE FROM message_reactions WHERE message_id = $1 AND membership_id = $2 AND emoji = $3",
            vec![m.id.into(), me.into(), emoji.into()],
        )
    };
    let changed =
        db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?.rows_affected();
    if changed > 0 {
        announce(&w, "channel_message.reacted", &m, &ch, (vec![], None)).await?;
    }
    Ok(m)
}
