//! The skills catalog (skills, disciplines, titles) and members' proficiencies (0..10).

use opsgraph_core::id::{decode_as, new_id};
use opsgraph_core::{AppError, AppResult, Permission, Session, audit, validate};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{member_skill, skill};
use crate::service::members;

/// The closed set of catalog kinds.
pub const KINDS: [&str; 3] = ["SKILL", "DISCIPLINE", "TITLE"];

/// Input of `createSkill`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSkillInput {
    /// Name, unique per kind.
    pub name: String,
    /// Kind (default SKILL).
    pub kind: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Parent entry (e.g. the discipline of a title).
    pub parent_id: Option<String>,
    /// Seniority level (titles).
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
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    input: CreateSkillInput,
) -> AppResult<skill::Model> {
    let org_id = session.require(Permission::SkillsManage)?;
    let kind = input.kind.unwrap_or_else(|| "SKILL".into());
    if !KINDS.contains(&kind.as_str()) {
        return Err(AppError::bad_input("kind", "unknown skill kind"));
    }
    let parent_id = match &input.parent_id {
        Some(g) => Some(
            get(db, org_id, decode_as(g, "Skill", "parentId")?)
                .await?
                .id,
        ),
        None => None,
    };
    let s = skill::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(validate::text("name", &input.name, 1, 100, false)?),
        kind: Set(kind),
        category: Set(validate::opt_text(
            "category",
            input.category.as_deref(),
            100,
            false,
        )?),
        description: Set(validate::opt_text(
            "description",
            input.description.as_deref(),
            2000,
            true,
        )?),
        parent_id: Set(parent_id),
        level: Set(validate::opt_text(
            "level",
            input.level.as_deref(),
            50,
            false,
        )?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        session,
        org_id,
        audit::AuditEntry {
            action: "skill.create",
            entity_type: "Skill",
            entity_id: s.id,
            changes: serde_json::json!({ "name": s.name, "kind": s.kind }),
        },
    )
    .await?;
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
    let member = members::get(
        db,
        org_id,
        decode_as(member_gid, "Membership", "membershipId")?,
    )
    .await?;
    if session.membership_id != Some(member.id) {
        session.require(Permission::MemberSkillsManage)?;
    }
    let skill = get(db, org_id, decode_as(skill_gid, "Skill", "skillId")?).await?;
    if !(0..=10).contains(&proficiency) {
        return Err(AppError::bad_input(
            "proficiency",
            "proficiency must be between 0 and 10",
        ));
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
    audit::record(
        db,
        session,
        org_id,
        audit::AuditEntry {
            action: "member_skill.set",
            entity_type: "Membership",
            entity_id: member.id,
            changes: serde_json::json!({ "skill": skill.name, "proficiency": proficiency }),
        },
    )
    .await?;
    Ok(saved)
}
