//! Relationships and loaders of the org crate.

use crate::entity::{member_skill, membership, team, team_member, webhook_attempt, webhook_delivery};
use opsgraph_core::relation;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};

// Relationships, declared one way: the child entity, the column holding the parent id,
// the list spec when the field is a connection, extra scoping.

relation!(
    /// Members of a team (paginated).
    TeamMembersOfTeam, team_member, TeamId, spec = crate::graphql::teams::TEAM_MEMBERS
);

relation!(
    /// Team rows of a membership.
    TeamsOfMember, team_member, MembershipId, spec = crate::graphql::teams::TEAM_MEMBERS
);

relation!(
    /// Direct reports of a manager (active only).
    ReportsOf, membership, ManagerId, spec = crate::graphql::members::MEMBERS,
    scope = |s| s.filter(membership::Column::IsActive.eq(true))
);

relation!(
    /// Sub-teams of a team.
    ChildTeams, team, ParentId, spec = crate::graphql::teams::TEAMS
);

relation!(
    /// Skills of a member.
    SkillsOfMember, member_skill, MembershipId, spec = crate::graphql::skills::MEMBER_SKILLS
);

relation!(
    /// Memberships of a user (all organisations the viewer belongs to).
    MembershipsOfUser, membership, UserId, spec = crate::graphql::members::MEMBERS
);

/// The request organisation's default currency, through the request's by-id loader (one
/// statement however many fields of a level ask), for other domains' money figures.
pub async fn default_currency(req: &opsgraph_core::RequestCtx, org: uuid::Uuid) -> opsgraph_core::AppResult<String> {
    let row = opsgraph_core::loader::by_id::<crate::entity::organization::Entity>(req, org).await?;
    Ok(row.ok_or_else(|| opsgraph_core::AppError::not_found("organization"))?.default_currency.clone())
}

relation!(
    /// Deliveries of a webhook endpoint (paginated).
    DeliveriesOfEndpoint, webhook_delivery, EndpointId, spec = crate::graphql::webhooks::WEBHOOK_DELIVERIES
);

relation!(
    /// Attempts of a webhook delivery, first first.
    AttemptsOfDelivery, webhook_attempt, DeliveryId, scope = |s| s.order_by_asc(webhook_attempt::Column::Attempt)
);
