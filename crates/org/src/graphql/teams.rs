//! `Team` and `TeamMember`: types, lists and mutations.

use super::common::{S, id_nn, nn, nullable, ts};
use crate::entity::{team, team_member};
use crate::enums::TeamKind;
use crate::loader::{ChildTeams, TeamMembersOfTeam};
use crate::nodes::{Membership, Organization, Team, TeamMember};
use crate::service::teams;
use async_graphql::dynamic::{FieldValue, Object, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::list_field;
use opsgraph_core::gql::payload;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, mutation, node_mutation, node_object, opt, page_field, payload_value, prop,
    ref_field, ref_field_nn, scalar,
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
    parts.object(payload::<Team>("team", &changing("Team")));
    parts.object(payload::<TeamMember>("teamMember", &changing("TeamMember")));
    parts.input::<teams::CreateTeamInput>();
    parts.input::<teams::UpdateTeamInput>();
    parts.input::<DeleteTeamInput>();
    parts.input::<TeamMemberInput>();
    parts.enumeration::<TeamKind>();
    parts.list(&*TEAMS);
    parts.object(team_object());
    parts.object(team_member_object());
    parts.node::<Team>();
    parts.node::<TeamMember>();
    parts.extend::<Organization>(list_field("teams", &TEAMS, "Teams of the organisation.", |_, req| {
        let org = req.require(Permission::TeamsRead)?;
        Ok(team::Entity::find().filter(team::Column::OrgId.eq(org)))
    }));
    parts.object(Object::new("DeleteTeamPayload").description("Result of deleting a team.").field(prop::<uuid::Uuid>(
        "deletedTeamId",
        id_nn(),
        "The deleted team's ID.",
        |id| opsgraph_core::id::encode("Team", *id).into(),
    )));
    parts.mutation(node_mutation(Team, "createTeam", "Create a team.", |req, i| async move {
        Ok(payload_value(teams::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Team, "updateTeam", "Change a team.", |req, i| async move {
        Ok(payload_value(teams::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(mutation(
        "deleteTeam",
        "DeleteTeamPayload",
        "Delete a team without sub-teams.",
        |req, i: DeleteTeamInput| async move {
            Ok(FieldValue::owned_any(teams::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        TeamMember,
        "addTeamMember",
        "Add a member to a team.",
        |req, i: TeamMemberInput| async move {
            Ok(payload_value(
                teams::add_member(req.db.as_ref(), &req.session, &i.team_id, &i.membership_id, i.role.as_deref())
                    .await?,
            ))
        },
    ));
    parts.mutation(node_mutation(
        Team,
        "removeTeamMember",
        "Remove a member from a team.",
        |req, i: TeamMemberInput| async move {
            Ok(payload_value(teams::remove_member(req.db.as_ref(), &req.session, &i.team_id, &i.membership_id).await?))
        },
    ));
}

fn team_object() -> Object {
    type T = team::Model;
    node_object::<Team>("A group of people: team, studio, crew, department, area or practice.")
        .field(prop::<T>("name", nn(S), "Name, unique in the organisation.", |t| t.name.clone().into()))
        .field(prop::<T>("kind", TeamKind::nn(), "What kind of group.", |t| enum_value(&t.kind)))
        .field(prop::<T>("description", nullable(S), "Description.", |t| opt(t.description.clone())))
        .field(ref_field::<T, Team>("parent", "The enclosing team.", |t| t.parent_id))
        .field(page_field::<T, ChildTeams>("children", "Teams nested directly inside.", |t| t.id))
        .field(ref_field::<T, Membership>("lead", "Who leads it.", |t| t.lead_id))
        .field(page_field::<T, TeamMembersOfTeam>("members", "The team's members.", |t| t.id))
        .field(prop::<T>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |t| t.version.into()))
        .field(prop::<T>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |t| ts(&t.created_at)))
        .field(prop::<T>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |t| ts(&t.updated_at)))
}

fn team_member_object() -> Object {
    type T = team_member::Model;
    node_object::<TeamMember>("A member's place in a team.")
        .field(ref_field_nn::<T, Team>("team", "The team.", |t| t.team_id))
        .field(ref_field_nn::<T, Membership>("membership", "The member.", |t| t.membership_id))
        .field(prop::<T>("role", nullable(S), "Role in the team.", |t| opt(t.role.clone())))
        .field(prop::<T>("createdAt", nn(scalar::DATE_TIME), "When they joined the team.", |t| ts(&t.created_at)))
}

opsgraph_core::id_input!(
    /// Delete a team.
    DeleteTeamInput,
    "The team."
);

/// A member's place in a team.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
struct TeamMemberInput {
    /// The team.
    team_id: Id,
    /// The member.
    membership_id: Id,
    /// Role in the team (add only).
    role: Option<String>,
}

/// `Team` lists.
pub static TEAMS: LazyLock<ListSpec<team::Entity>> = LazyLock::new(|| {
    use team::Column as C;
    ListSpec {
        node: Team::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("kind", C::Kind, K::Enum(TeamKind::NAME)),
            ff("parentId", C::ParentId, K::Id(Team::NAME)),
            ff("leadId", C::LeadId, K::Id(Membership::NAME)),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `TeamMember` lists.
pub static TEAM_MEMBERS: LazyLock<ListSpec<team_member::Entity>> = LazyLock::new(|| {
    use team_member::Column as C;
    ListSpec {
        node: TeamMember::NAME,
        id: C::Id,
        filters: vec![ff("role", C::Role, K::Text), ff("membershipId", C::MembershipId, K::Id(Membership::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
