//! The skills catalog (skills, disciplines, titles) and members' proficiencies (0..10).

use crate::enums::SkillKind;
use crate::nodes::{Membership, Skill};
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{member_skill, skill};
use crate::service::members;

/// Add a catalog entry.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateSkillInput {
    /// Name.
    pub name: String,
    /// Kind (default SKILL).
    pub kind: Option<SkillKind>,
    /// Category.
    pub category: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Parent entry.
    pub parent_id: Option<Id>,
    /// Seniority level.
    pub level: Option<String>,
}

/// Loads a catalog entry of the active organisation.
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<skill::Model> {
    skill::Entity::find_by_id(id)
        .filter(skill::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("skill"))
}

/// Adds a catalog entry.
pub async fn create(db: &impl ConnectionTrait, session: &Session, input: CreateSkillInput) -> AppResult<skill::Model> {
    let org_id = session.require(Permission::SkillsManage)?;
    let kind = input.kind.unwrap_or(SkillKind::Skill).as_str().to_owned();
    let parent_id = match &input.parent_id {
        Some(g) => Some(get(db, org_id, Skill::decode(g, "parentId")?).await?.id),
        None => None,
    };
    let s = skill::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(validate::text("name", &input.name, 1, 100, false)?),
        kind: Set(kind),
        category: Set(validate::opt_text("category", input.category.as_deref(), 100, false)?),
        description: Set(validate::opt_text("description", input.description.as_deref(), 2000, true)?),
        parent_id: Set(parent_id),
        level: Set(validate::opt_text("level", input.level.as_deref(), 50, false)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let w = Write { db, session, org: org_id };
    w.audit::<Skill>("skill.create", s.id, serde_json::json!({ "name": s.name, "kind": s.kind })).await?;
    w.changed::<Skill>("skill.created", s.id, None).await?;
    Ok(s)
}

/// Sets (inserts or updates) a member's proficiency in a skill. Members may set their own.
pub async fn set_member_skill(
    db: &impl ConnectionTrait,
    session: &Session,
    member_gid: &str,
    skill_gid: &str,
    proficiency: i64,
) -> AppResult<member_skill::Model> {
    let org_id = session.require(Permission::SkillsEditOwn)?;
    let member = members::get(db, org_id, Membership::decode(member_gid, "membershipId")?).await?;
    if session.membership_id != Some(member.id) {
        session.require(Permission::MemberSkillsManage)?;
    }
    let skill = get(db, org_id, Skill::decode(skill_gid, "skillId")?).await?;
    if !(0..=10).contains(&proficiency) {
        return Err(AppError::bad_input("proficiency", "proficiency must be between 0 and 10"));
    }
    let row = member_skill::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        membership_id: Set(member.id),
        skill_id: Set(skill.id),
        proficiency: Set(proficiency as i16),
        ..Default::default()
    };
    let saved = member_skill::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                member_skill::Column::OrgId,
                member_skill::Column::MembershipId,
                member_skill::Column::SkillId,
            ])
            .update_columns([member_skill::Column::Proficiency])
            .to_owned(),
        )
        .exec_with_returning(db)
        .await?;
    let w = Write { db, session, org: org_id };
    let changes = serde_json::json!({ "skill": skill.name, "proficiency": proficiency });
    w.audit::<Membership>("member_skill.set", member.id, changes).await?;
    w.changed::<Membership>("membership.skill_set", member.id, None).await?;
    Ok(saved)
}

/// Change a catalog entry; omitted fields stay, null clears.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSkillInput {
    /// The entry.
    pub id: Id,
    /// Name.
    pub name: Option<String>,
    /// Category.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub category: Option<Option<String>>,
    /// Description.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub description: Option<Option<String>>,
    /// Seniority level.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub level: Option<Option<String>>,
}

/// Changes a catalog entry.
pub async fn update(db: &impl ConnectionTrait, session: &Session, input: UpdateSkillInput) -> AppResult<skill::Model> {
    let org_id = session.require(Permission::SkillsManage)?;
    let current = get(db, org_id, Skill::decode(&input.id, "id")?).await?;
    let mut am: skill::ActiveModel = current.clone().into();
    if let Some(n) = &input.name {
        am.name = Set(validate::text("name", n, 1, 100, false)?);
    }
    if let Some(c) = &input.category {
        am.category = Set(validate::opt_text("category", c.as_deref(), 100, false)?);
    }
    if let Some(d) = &input.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 2000, true)?);
    }
    if let Some(l) = &input.level {
        am.level = Set(validate::opt_text("level", l.as_deref(), 50, false)?);
    }
    // The catalog has no version column: the last write wins.
    let w = Write { db, session, org: org_id };
    let done = w.update::<Skill, _>("skill.update", current, am, 0).await?;
    if done.changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<Skill>("skill.updated", done.after.id, None).await?;
    }
    Ok(done.after)
}

/// Deletes a catalog entry and every member's rating of it.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<Uuid> {
    let org_id = session.require(Permission::SkillsManage)?;
    let s = get(db, org_id, Skill::decode(gid, "id")?).await?;
    if skill::Entity::find().filter(skill::Column::ParentId.eq(s.id)).one(db).await?.is_some() {
        return Err(AppError::Conflict("other entries have this one as parent; change them first".into()));
    }
    skill::Entity::delete_by_id(s.id).exec(db).await?;
    let w = Write { db, session, org: org_id };
    w.audit::<Skill>("skill.delete", s.id, serde_json::json!({ "name": s.name })).await?;
    w.changed::<Skill>("skill.deleted", s.id, None).await?;
    opsgraph_core::sync::refs::forget(db, org_id, s.id).await?;
    Ok(s.id)
}

/// Removes a member's rating of a skill (members may remove their own).
pub async fn remove_member_skill(
    db: &impl ConnectionTrait,
    session: &Session,
    member_gid: &str,
    skill_gid: &str,
) -> AppResult<crate::entity::membership::Model> {
    let org_id = session.require(Permission::SkillsEditOwn)?;
    let member = members::get(db, org_id, Membership::decode(member_gid, "membershipId")?).await?;
    if session.membership_id != Some(member.id) {
        session.require(Permission::MemberSkillsManage)?;
    }
    let skill_id = Skill::decode(skill_gid, "skillId")?;
    let res = member_skill::Entity::delete_many()
        .filter(member_skill::Column::OrgId.eq(org_id))
        .filter(member_skill::Column::MembershipId.eq(member.id))
        .filter(member_skill::Column::SkillId.eq(skill_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("member skill"));
    }
    let w = Write { db, session, org: org_id };
    w.audit::<Membership>("member_skill.remove", member.id, serde_json::json!({ "skillId": skill_id })).await?;
    w.changed::<Membership>("membership.skill_removed", member.id, None).await?;
    Ok(member)
}
