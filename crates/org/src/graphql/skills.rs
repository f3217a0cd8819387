//! The skills catalog (`Skill`) and members' ratings (`MemberSkill`).

use super::common::{S, id_nn, nn, nullable, ts};
use crate::entity::{member_skill, skill};
use crate::enums::SkillKind;
use crate::nodes::{MemberSkill, Membership, Organization, Skill};
use crate::service::skills;
use async_graphql::dynamic::{FieldValue, Object, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::list_field;
use opsgraph_core::gql::payload;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, mutation, node_mutation, node_object, opt, payload_value, prop, ref_field,
    ref_field_nn, scalar,
};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_derive::GqlInput;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::sync::LazyLock;

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    let changing = |node: &str| format!("Result of a mutation changing a {node}.");
    parts.object(payload::<Skill>("skill", &changing("Skill")));
    parts.object(payload::<MemberSkill>("memberSkill", &changing("MemberSkill")));
    parts.input::<skills::CreateSkillInput>();
    parts.input::<MemberSkillInput>();
    parts.enumeration::<SkillKind>();
    parts.list(&*SKILLS);
    parts.list(&*MEMBER_SKILLS);
    parts.object(skill_object());
    parts.object(member_skill_object());
    parts.node::<Skill>();
    parts.node::<MemberSkill>();
    parts.extend::<Organization>(list_field("skills", &SKILLS, "The skills catalog.", |_, req| {
        let org = req.require(Permission::SkillsRead)?;
        Ok(skill::Entity::find().filter(skill::Column::OrgId.eq(org)))
    }));
    parts.object(Object::new("DeleteSkillPayload").description("Result of deleting a catalog entry.").field(prop::<
        DeletedSkill,
    >(
        "deletedSkillId",
        id_nn(),
        "The deleted entry's ID.",
        |d| opsgraph_core::id::encode("Skill", d.0).into(),
    )));
    parts.mutation(node_mutation(Skill, "createSkill", "Add a skills-catalog entry.", |req, i| async move {
        Ok(payload_value(skills::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.input::<skills::UpdateSkillInput>();
    parts.input::<DeleteSkillInput>();
    parts.input::<RemoveSkillInput>();
    parts.mutation(node_mutation(Skill, "updateSkill", "Change a skills-catalog entry.", |req, i| async move {
        Ok(payload_value(skills::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(mutation(
        "deleteSkill",
        "DeleteSkillPayload",
        "Delete a catalog entry and its ratings.",
        |req, i: DeleteSkillInput| async move {
            Ok(FieldValue::owned_any(DeletedSkill(skills::delete(req.db.as_ref(), &req.session, &i.id).await?)))
        },
    ));
    parts.mutation(node_mutation(
        Membership,
        "removeMemberSkill",
        "Remove a member's rating of a skill.",
        |req, i: RemoveSkillInput| async move {
            Ok(payload_value(
                skills::remove_member_skill(req.db.as_ref(), &req.session, &i.membership_id, &i.skill_id).await?,
            ))
        },
    ));
    parts.mutation(node_mutation(
        MemberSkill,
        "setMemberSkill",
        "Set a member's proficiency in a skill.",
        |req, i: MemberSkillInput| async move {
            Ok(payload_value(
                skills::set_member_skill(req.db.as_ref(), &req.session, &i.membership_id, &i.skill_id, i.proficiency)
                    .await?,
            ))
        },
    ));
}

fn skill_object() -> Object {
    type K = skill::Model;
    node_object::<Skill>("An entry of the skills catalog: a skill, discipline or job title.")
        .field(prop::<K>("name", nn(S), "Name, unique per kind.", |s| s.name.clone().into()))
        .field(prop::<K>("kind", SkillKind::nn(), "Kind of entry.", |s| enum_value(&s.kind)))
        .field(prop::<K>("category", nullable(S), "Category.", |s| opt(s.category.clone())))
        .field(prop::<K>("description", nullable(S), "Description.", |s| opt(s.description.clone())))
        .field(ref_field::<K, Skill>("parent", "Parent entry (e.g. the discipline of a title).", |s| s.parent_id))
        .field(prop::<K>("level", nullable(S), "Seniority level (titles).", |s| opt(s.level.clone())))
        .field(prop::<K>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |s| ts(&s.created_at)))
}

fn member_skill_object() -> Object {
    type K = member_skill::Model;
    node_object::<MemberSkill>("How well a member masters a skill.")
        .field(ref_field_nn::<K, Membership>("membership", "The member.", |s| s.membership_id))
        .field(ref_field_nn::<K, Skill>("skill", "The skill.", |s| s.skill_id))
        .field(prop::<K>("proficiency", nn(TypeRef::INT), "Proficiency from 0 (none) to 10 (expert).", |s| {
            i32::from(s.proficiency).into()
        }))
        .field(prop::<K>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |s| ts(&s.updated_at)))
}

opsgraph_core::id_input!(
    /// Delete a catalog entry.
    DeleteSkillInput,
    "The entry."
);

/// Set a member's proficiency.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "SetMemberSkillInput")]
struct MemberSkillInput {
    /// The member.
    membership_id: Id,
    /// The skill.
    skill_id: Id,
    /// 0 (none) to 10 (expert).
    proficiency: i64,
}

/// Remove a member's rating of a skill.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "RemoveMemberSkillInput")]
struct RemoveSkillInput {
    /// The member.
    membership_id: Id,
    /// The skill.
    skill_id: Id,
}

/// The parent of `DeleteSkillPayload`.
struct DeletedSkill(uuid::Uuid);

/// `Skill` lists.
pub static SKILLS: LazyLock<ListSpec<skill::Entity>> = LazyLock::new(|| {
    use skill::Column as C;
    ListSpec {
        node: Skill::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("kind", C::Kind, K::Enum(SkillKind::NAME)),
            ff("category", C::Category, K::Text),
            ff("parentId", C::ParentId, K::Id(Skill::NAME)),
        ],
        sorts: vec![
            sk("NAME", C::Name, S::Text),
            sk("KIND", C::Kind, S::Ranked(&SkillKind::VALUES)),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
        ],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `MemberSkill` lists.
pub static MEMBER_SKILLS: LazyLock<ListSpec<member_skill::Entity>> = LazyLock::new(|| {
    use member_skill::Column as C;
    ListSpec {
        node: MemberSkill::NAME,
        id: C::Id,
        filters: vec![ff("skillId", C::SkillId, K::Id(Skill::NAME)), ff("proficiency", C::Proficiency, K::Int)],
        sorts: vec![sk("PROFICIENCY", C::Proficiency, S::Int), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
