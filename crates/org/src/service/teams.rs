//! Teams (team, studio, crew, department, area, practice) with parents, leads and members.

use crate::enums::TeamKind;
use crate::nodes::{Membership, Team};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{team, team_member};
use crate::service::members;

/// Create a team.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateTeamInput {
    /// Unique name.
    pub name: String,
    /// Kind (default TEAM).
    pub kind: Option<TeamKind>,
    /// Description.
    pub description: Option<String>,
    /// Enclosing team.
    pub parent_id: Option<Id>,
    /// Lead (Membership).
    pub lead_id: Option<Id>,
}

/// Change a team; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTeamInput {
    /// The team.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// Kind.
    pub kind: Option<TeamKind>,
    /// Description.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub description: Option<Option<String>>,
    /// Enclosing team.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub parent_id: Option<Option<Id>>,
    /// Lead (Membership).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub lead_id: Option<Option<Id>>,
}

fn kind(v: Option<TeamKind>) -> String {
    v.unwrap_or(TeamKind::Team).as_str().to_owned()
}

/// Loads a team of the active organisation.
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<team::Model> {
    team::Entity::find_by_id(id)
        .filter(team::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("team"))
}

async fn resolve_parent(db: &impl ConnectionTrait, org_id: Uuid, team_id: Option<Uuid>, gid: &str) -> AppResult<Uuid> {
    let parent = get(db, org_id, Team::decode(gid, "parentId")?).await?.id;
    if let Some(me) = team_id {
        // Walk up from the new parent: reaching this team would close a cycle.
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "WITH RECURSIVE up(id, parent_id) AS ( \
                   SELECT id, parent_id FROM teams WHERE id = $1 \
                   UNION SELECT t.id, t.parent_id FROM teams t JOIN up ON t.id = up.parent_id) \
                 SELECT EXISTS (SELECT 1 FROM up WHERE id = $2) AS cycle",
                [parent.into(), me.into()],
            ))
            .await?;
        if row.map(|r| r.try_get::<bool>("", "cycle")).transpose()?.unwrap_or(false) {
            return Err(AppError::bad_input("parentId", "a team cannot be nested inside itself"));
        }
    }
    Ok(parent)
}

/// Creates a team.
pub async fn create(db: &impl ConnectionTrait, session: &Session, input: CreateTeamInput) -> AppResult<team::Model> {
    let org_id = session.require(Permission::TeamsManage)?;
    let name = validate::text("name", &input.name, 1, 200, false)?;
    let parent_id = match &input.parent_id {
        Some(g) => Some(resolve_parent(db, org_id, None, g).await?),
        None => None,
    };
    let lead_id = match &input.lead_id {
        Some(g) => Some(members::get(db, org_id, Membership::decode(g, "leadId")?).await?.id),
        None => None,
    };
    let t = team::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(name),
        kind: Set(kind(input.kind)),
        description: Set(validate::opt_text("description", input.description.as_deref(), 5000, true)?),
        parent_id: Set(parent_id),
        lead_id: Set(lead_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let w = Write { db, session, org: org_id };
    w.audit::<Team>("team.create", t.id, serde_json::json!({ "name": t.name, "kind": t.kind })).await?;
    w.changed::<Team>("team.created", t.id, None).await?;
    Ok(t)
}

/// Updates a team (optimistic concurrency on `version`).
pub async fn update(db: &impl ConnectionTrait, session: &Session, input: UpdateTeamInput) -> AppResult<team::Model> {
    let org_id = session.require(Permission::TeamsManage)?;
    let id = Team::decode(&input.id, "id")?;
    let current = get(db, org_id, id).await?;
    let mut am: team::ActiveModel = current.clone().into();
    if let Some(n) = &input.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(k) = &input.kind {
        am.kind = Set(kind(Some(*k)));
    }
    if let Some(d) = &input.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 5000, true)?);
    }
    if let Some(p) = &input.parent_id {
        am.parent_id = Set(match p {
            Some(g) => Some(resolve_parent(db, org_id, Some(id), g).await?),
            None => None,
        });
    }
    if let Some(l) = &input.lead_id {
        am.lead_id = Set(match l {
            Some(g) => Some(members::get(db, org_id, Membership::decode(g, "leadId")?).await?.id),
            None => None,
        });
    }
    let w = Write { db, session, org: org_id };
    let Updated { after: updated, changes, .. } =
        w.update::<Team, _>("team.update", current.clone(), am, input.expected_version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<Team>("team.updated", updated.id, None).await?;
    }
    Ok(updated)
}

/// Deletes a team (its memberships go with it; sub-teams must be moved first).
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<Uuid> {
    let org_id = session.require(Permission::TeamsManage)?;
    let t = get(db, org_id, Team::decode(gid, "id")?).await?;
    if team::Entity::find().filter(team::Column::ParentId.eq(t.id)).one(db).await?.is_some() {
        return Err(AppError::Conflict("the team has sub-teams; move or delete them first".into()));
    }
    team::Entity::delete_by_id(t.id).exec(db).await?;
    let w = Write { db, session, org: org_id };
    w.audit::<Team>("team.delete", t.id, serde_json::json!({ "name": t.name })).await?;
    w.changed::<Team>("team.deleted", t.id, None).await?;
    opsgraph_core::sync::refs::forget(db, org_id, t.id).await?;
    Ok(t.id)
}

/// Adds a member to a team (CONFLICT if already there).
pub async fn add_member(
    db: &impl ConnectionTrait,
    session: &Session,
    team_gid: &str,
    member_gid: &str,
    role: Option<&str>,
) -> AppResult<team_member::Model> {
    let org_id = session.require(Permission::TeamsManage)?;
    let t = get(db, org_id, Team::decode(team_gid, "teamId")?).await?;
    let m = members::get(db, org_id, Membership::decode(member_gid, "membershipId")?).await?;
    let tm = team_member::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        team_id: Set(t.id),
        membership_id: Set(m.id),
        role: Set(validate::opt_text("role", role, 100, false)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let w = Write { db, session, org: org_id };
    w.audit::<Team>("team.member_add", t.id, serde_json::json!({ "membershipId": m.id })).await?;
    w.changed::<Team>("team.member_added", t.id, None).await?;
    Ok(tm)
}

/// Removes a member from a team; returns whether they were in it.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    session: &Session,
    team_gid: &str,
    member_gid: &str,
) -> AppResult<team::Model> {
    let org_id = session.require(Permission::TeamsManage)?;
    let t = get(db, org_id, Team::decode(team_gid, "teamId")?).await?;
    let member = Membership::decode(member_gid, "membershipId")?;
    let res = team_member::Entity::delete_many()
        .filter(team_member::Column::TeamId.eq(t.id))
        .filter(team_member::Column::MembershipId.eq(member))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("team member"));
    }
    let w = Write { db, session, org: org_id };
    w.audit::<Team>("team.member_remove", t.id, serde_json::json!({ "membershipId": member })).await?;
    w.changed::<Team>("team.member_removed", t.id, None).await?;
    Ok(t)
}

/// Resolves an optional Team global id given in input `field` to a team of the organisation.
pub async fn resolve(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    gid: Option<&str>,
    field: &str,
) -> AppResult<Option<Uuid>> {
    match gid {
        Some(g) => Ok(Some(get(db, org_id, Team::decode(g, field)?).await?.id)),
        None => Ok(None),
    }
}

/// The teams member `member` of `org_id` belongs to, one statement (for other domains'
/// access rules).
pub async fn team_ids_of(db: &impl ConnectionTrait, org_id: Uuid, member: Uuid) -> AppResult<Vec<Uuid>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT tm.team_id FROM team_members tm JOIN teams t ON t.id = tm.team_id \
             WHERE t.org_id = $1 AND tm.membership_id = $2",
            [org_id.into(), member.into()],
        ))
        .await?;
    Ok(rows.iter().map(|r| r.try_get("", "team_id")).collect::<Result<_, _>>()?)
}
