//! Team chat channels: create (general, group, announcement; public or private; optionally
//! a project's, whose members are the project's staff), direct channels between two people
//! (one per pair), members and their roles, archiving, and where each member last read.
//!
//! Who sees a channel is Row Level Security's decision (migration 000039); this module also
//! checks who may manage one: its OWNER or ADMIN members, and the organisation's owners and
//! admins.

use chrono::{DateTime, FixedOffset, Utc};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Role, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{channel, channel_member};
use crate::enums::{ChannelKind, ChannelRole};
use crate::nodes::{Channel, ChannelMember, Project};
use opsgraph_org::nodes::{Membership, Team};

/// Members a channel may be created with at most.
const MAX_INITIAL_MEMBERS: usize = 500;

/// Create a chat channel.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateChannelInput {
    /// Name, unique among the organisation's open channels.
    pub name: String,
    /// Kind (not DIRECT: use `openDirectChannel`).
    pub kind: ChannelKind,
    /// Private: only its members see it (default false).
    pub is_private: Option<bool>,
    /// What it is about.
    pub description: Option<String>,
    /// The project it belongs to: its staff are then its members.
    pub project_id: Option<Id>,
    /// The team it belongs to.
    pub team_id: Option<Id>,
    /// Members besides you (Membership IDs).
    pub member_ids: Option<Vec<Id>>,
}

/// A visible channel of the active organisation (NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<channel::Model> {
    opsgraph_core::db::find_in_org::<channel::Entity>(db, channel::Column::OrgId, org, id, "channel").await
}

/// The caller's row in `channel`, if they are a member.
pub async fn membership(
    db: &impl ConnectionTrait,
    channel: Uuid,
    member: Option<Uuid>,
) -> AppResult<Option<channel_member::Model>> {
    let Some(member) = member else { return Ok(None) };
    Ok(channel_member::Entity::find()
        .filter(channel_member::Column::ChannelId.eq(channel))
        .filter(channel_member::Column::MembershipId.eq(member))
        .one(db)
        .await?)
}

/// Whether `session` manages `ch`: an OWNER or ADMIN of it, or an owner or admin of the
/// organisation.
pub async fn manages(db: &impl ConnectionTrait, session: &Session, ch: &channel::Model) -> AppResult<bool> {
    if matches!(session.role, Some(Role::Owner | Role::Admin)) {
        return Ok(true);
    }
    Ok(membership(db, ch.id, session.membership_id).await?.is_some_and(|m| m.role != ChannelRole::Member.as_str()))
}

async fn require_manager(db: &impl ConnectionTrait, session: &Session, ch: &channel::Model) -> AppResult<()> {
    if manages(db, session, ch).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the channel's owners and admins may do this".into()))
    }
}

/// Adds `member` to a channel the caller sees, or changes their role.
async fn insert_member(
    db: &impl ConnectionTrait,
    ch: &channel::Model,
    member: Uuid,
    role: ChannelRole,
) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO channel_members (id, org_id, channel_id, membership_id, role) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (channel_id, membership_id) DO UPDATE SET role = EXCLUDED.role",
        [new_id().into(), ch.org_id.into(), ch.id.into(), member.into(), role.as_str().into()],
    ))
    .await?;
    Ok(())
}

/// Inserts a channel and its first members, then reads it back: a private channel is
/// visible only once its members exist, so the insert cannot return it.
async fn insert_with_members(
    db: &impl ConnectionTrait,
    org: Uuid,
    am: channel::ActiveModel,
    members: &[(Uuid, ChannelRole)],
) -> AppResult<channel::Model> {
    let id = match &am.id {
        Set(id) => *id,
        _ => return Err(AppError::internal("a new channel needs its id")),
    };
    channel::Entity::insert(am).exec_without_returning(db).await?;
    // Plain inserts: an upsert would need the channel visible already.
    let rows: Vec<Uuid> = members.iter().map(|_| new_id()).collect();
    let ids: Vec<Uuid> = members.iter().map(|(m, _)| *m).collect();
    let roles: Vec<String> = members.iter().map(|(_, r)| r.as_str().to_owned()).collect();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO channel_members (id, org_id, channel_id, membership_id, role) \
         SELECT k.id, $1, $2, k.m, k.r FROM unnest($3::uuid[], $4::uuid[], $5::text[]) AS k(id, m, r)",
        [org.into(), id.into(), rows.into(), ids.into(), roles.into()],
    ))
    .await?;
    get(db, org, id).await
}

/// Active members among `ids` (BAD_USER_INPUT naming `field` for any other).
async fn members(db: &impl ConnectionTrait, org: Uuid, ids: &[Id], field: &str) -> AppResult<Vec<Uuid>> {
    let mut out: Vec<Uuid> = vec![];
    if ids.is_empty() {
        return Ok(out);
    }
    for id in ids {
        let m = Membership::decode(id, field)?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    let found = opsgraph_org::service::members::many(db, org, &out).await?;
    if found.iter().filter(|m| m.is_active).count() != out.len() {
        return Err(AppError::bad_input(field, "every member must be an active member of the organisation"));
    }
    Ok(out)
}

/// Creates a channel; the creator is its OWNER.
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateChannelInput) -> AppResult<channel::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    if i.kind == ChannelKind::Direct {
        return Err(AppError::bad_input("kind", "open a direct channel with openDirectChannel"));
    }
    let name = validate::text("name", &i.name, 1, 80, false)?;
    let description = i.description.map(|d| validate::text("description", &d, 0, 1000, true)).transpose()?;
    let project_id = match &i.project_id {
        Some(p) => Some(crate::service::projects::get(db, w.org, Project::decode(p, "projectId")?).await?.id),
        None => None,
    };
    let team_id = i.team_id.as_ref().map(|t| Team::decode(t, "teamId")).transpose()?;
    let ids = i.member_ids.unwrap_or_default();
    if ids.len() > MAX_INITIAL_MEMBERS {
        return Err(AppError::bad_input("memberIds", format!("at most {MAX_INITIAL_MEMBERS} members at once")));
    }
    let others = members(db, w.org, &ids, "memberIds").await?;
    let taken = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS x FROM channels WHERE org_id = $1 AND lower(name) = lower($2) AND direct_key IS NULL \
             AND archived_at IS NULL",
            [w.org.into(), name.clone().into()],
        ))
        .await?;
    if taken.is_some() {
        return Err(AppError::Conflict(format!("a channel named {name} exists")));
    }
    let am = channel::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(name),
        kind: Set(i.kind.as_str().to_owned()),
        is_private: Set(i.is_private.unwrap_or(false)),
        description: Set(description),
        project_id: Set(project_id),
        team_id: Set(team_id),
        created_by: Set(session.membership_id),
        ..Default::default()
    };
    let mut members = vec![];
    if let Some(me) = session.membership_id {
        members.push((me, ChannelRole::Owner));
    }
    members.extend(others.into_iter().filter(|m| Some(*m) != session.membership_id).map(|m| (m, ChannelRole::Member)));
    let ch = insert_with_members(db, w.org, am, &members).await?;
    w.created::<Channel>("channel.create", &ch, ("createChannel", None)).await?;
    w.changed::<Channel>("channel.created", ch.id, ch.project_id).await?;
    Ok(ch)
}

/// The direct channel between the caller and `other`, opened if it does not exist.
pub async fn open_direct(db: &impl ConnectionTrait, session: &Session, other: &Id) -> AppResult<channel::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let me = session.membership_id.ok_or_else(|| AppError::Forbidden("only members open direct channels".into()))?;
    let other = members(db, w.org, std::slice::from_ref(other), "membershipId").await?[0];
    if other == me {
        return Err(AppError::bad_input("membershipId", "a direct channel is between two people"));
    }
    let (a, b) = if me < other { (me, other) } else { (other, me) };
    let key = format!("{a}:{b}");
    if let Some(ch) = channel::Entity::find()
        .filter(channel::Column::OrgId.eq(w.org))
        .filter(channel::Column::DirectKey.eq(key.clone()))
        .one(db)
        .await?
    {
        return Ok(ch);
    }
    let am = channel::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set("direct".into()),
        kind: Set(ChannelKind::Direct.as_str().into()),
        is_private: Set(true),
        direct_key: Set(Some(key)),
        created_by: Set(Some(me)),
        ..Default::default()
    };
    let ch = insert_with_members(db, w.org, am, &[(me, ChannelRole::Member), (other, ChannelRole::Member)]).await?;
    w.created::<Channel>("channel.create", &ch, ("openDirectChannel", None)).await?;
    w.changed::<Channel>("channel.created", ch.id, None).await?;
    Ok(ch)
}

/// Adds a member to a channel (or changes their role); managers only.
pub async fn add_member(
    db: &impl ConnectionTrait,
    session: &Session,
    (channel_gid, member_gid): (&Id, &Id),
    role: Option<ChannelRole>,
) -> AppResult<channel_member::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let ch = get(db, w.org, Channel::decode(channel_gid, "channelId")?).await?;
    if ch.kind == ChannelKind::Direct.as_str() {
        return Err(AppError::bad_input("channelId", "a direct channel keeps its two members"));
    }
    require_manager(db, session, &ch).await?;
    let member = members(db, w.org, std::slice::from_ref(member_gid), "membershipId").await?[0];
    insert_member(db, &ch, member, role.unwrap_or(ChannelRole::Member)).await?;
    let row = membership(db, ch.id, Some(member)).await?.ok_or_else(|| AppError::internal("member not stored"))?;
    w.audit::<ChannelMember>("channel.add_member", row.id, serde_json::json!({ "role": row.role })).await?;
    w.changed::<ChannelMember>("channel_member.added", row.id, ch.project_id).await?;
    Ok(row)
}

/// Removes a member from a channel: managers remove anyone, members remove themselves.
/// A removed member of a private channel stops seeing it, and its live events, at once.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    session: &Session,
    (channel_gid, member_gid): (&Id, &Id),
) -> AppResult<channel::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let ch = get(db, w.org, Channel::decode(channel_gid, "channelId")?).await?;
    if ch.kind == ChannelKind::Direct.as_str() {
        return Err(AppError::bad_input("channelId", "a direct channel keeps its two members"));
    }
    let member = Membership::decode(member_gid, "membershipId")?;
    if Some(member) != session.membership_id {
        require_manager(db, session, &ch).await?;
    }
    let row = membership(db, ch.id, Some(member)).await?.ok_or_else(|| AppError::not_found("channel member"))?;
    w.changed::<ChannelMember>("channel_member.removed", row.id, ch.project_id).await?;
    w.delete::<ChannelMember>("channel.remove_member", row).await?;
    Ok(ch)
}

/// Archives a channel (read-only afterwards; its name is free again); managers only.
pub async fn archive(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &Id,
    expected: i32,
) -> AppResult<channel::Model> {
    let w = Write::new(db, session, Permission::WorkWrite)?;
    let ch = get(db, w.org, Channel::decode(gid, "id")?).await?;
    require_manager(db, session, &ch).await?;
    let am = channel::ActiveModel { archived_at: Set(Some(Utc::now().fixed_offset())), ..Default::default() };
    let after = w.update::<Channel, _>("channel.archive", ch, am, expected).await?.after;
    w.changed::<Channel>("channel.archived", after.id, after.project_id).await?;
    Ok(after)
}

/// Records that the caller has read `channel` up to `at` (default now; never backwards).
/// Reading a public channel makes one a member of it.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &Id,
    at: Option<DateTime<FixedOffset>>,
) -> AppResult<channel::Model> {
    let org = session.require(Permission::WorkRead)?;
    let me = session.membership_id.ok_or_else(|| AppError::Forbidden("only members read channels".into()))?;
    let ch = get(db, org, Channel::decode(gid, "channelId")?).await?;
    let at = at.unwrap_or_else(|| Utc::now().fixed_offset());
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO channel_members (id, org_id, channel_id, membership_id, last_read_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (channel_id, membership_id) DO UPDATE SET last_read_at = \
           greatest(channel_members.last_read_at, EXCLUDED.last_read_at)",
        [new_id().into(), org.into(), ch.id.into(), me.into(), at.into()],
    ))
    .await?;
    Ok(ch)
}
