//! Relationships and loaders of the org crate.

use std::collections::HashMap;
use std::sync::Arc;

use crate::entity::{
    dashboard_widget, kpi_measurement, member_skill, membership, team, team_member, webhook_attempt, webhook_delivery,
};
use crate::service::kpis::{self, TrendPoint, Window};
use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::loader::{LoadError, app_error, db_error};
use opsgraph_core::relation;
use sea_orm::{ColumnTrait, DbBackend, FromQueryResult, QueryFilter, QueryOrder, Statement};
use uuid::Uuid;

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
pub async fn default_currency(req: &opsgraph_core::RequestCtx, org: Uuid) -> opsgraph_core::AppResult<String> {
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

relation!(
    /// Measurements of a KPI (paginated).
    MeasurementsOfKpi, kpi_measurement, KpiId, spec = crate::graphql::kpis::KPI_MEASUREMENTS
);

relation!(
    /// Widgets of a dashboard, in order.
    WidgetsOfDashboard, dashboard_widget, DashboardId,
    scope = |s| s.order_by_asc(dashboard_widget::Column::Position).order_by_asc(dashboard_widget::Column::CreatedAt)
);

/// The latest measurement of many KPIs, one statement.
pub struct LatestMeasurement(pub Arc<TxDb>);

impl Loader<Uuid> for LatestMeasurement {
    type Value = Arc<kpi_measurement::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, LoadError> {
        let sql = "SELECT DISTINCT ON (kpi_id) * FROM kpi_measurements WHERE kpi_id = ANY($1) \
                   ORDER BY kpi_id, period_start DESC";
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql, [opsgraph_core::loader::keys_array(keys)]);
        let rows = kpi_measurement::Model::find_by_statement(stmt).all(self.0.as_ref()).await.map_err(db_error)?;
        Ok(rows.into_iter().map(|m| (m.kpi_id, Arc::new(m))).collect())
    }
}

/// Key of [`TrendsOfKpi`]: the KPI and the window.
pub type TrendKey = (Uuid, Window);

/// Trends of many KPIs: one statement per distinct window.
pub struct TrendsOfKpi(pub Arc<TxDb>);

impl Loader<TrendKey> for TrendsOfKpi {
    type Value = Arc<Vec<TrendPoint>>;
    type Error = LoadError;

    async fn load(&self, keys: &[TrendKey]) -> Result<HashMap<TrendKey, Self::Value>, LoadError> {
        let mut windows: HashMap<Window, Vec<Uuid>> = HashMap::new();
        for (id, w) in keys {
            windows.entry(*w).or_default().push(*id);
        }
        let mut out: HashMap<TrendKey, Vec<TrendPoint>> = keys.iter().map(|k| (*k, vec![])).collect();
        for (w, ids) in windows {
            for p in kpis::trends(self.0.as_ref(), &ids, w).await.map_err(app_error)? {
                out.entry((p.kpi_id, w)).or_default().push(p);
            }
        }
        Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}
