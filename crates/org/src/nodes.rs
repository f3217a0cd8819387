//! The org node types: the public handles other crates use to reference, extend and load
//! org data (never the entity modules).

use crate::entity::{
    api_key, audit_entry, dashboard, dashboard_widget, generated_report, kpi, kpi_measurement, member_skill,
    membership, notification, organization, report_template, saved_query, skill, team, team_member, user,
    webhook_attempt, webhook_delivery, webhook_endpoint,
};

opsgraph_core::node_type! {
    /// A tenant: a company using opsgraph.
    pub Organization = organization, read OrgRead, tenant id;
    /// A person's account (shared by their memberships).
    pub User = user, read MembersRead, tenant id;
    /// A user's membership in an organisation: the "person" of everything else.
    pub Membership = membership, read MembersRead;
    /// A team (also studios, departments, practices).
    pub Team = team, read TeamsRead;
    /// A member's place in a team.
    pub TeamMember = team_member, read TeamsRead;
    /// A catalog entry: skill, discipline or title.
    pub Skill = skill, read SkillsRead;
    /// A member's level in a skill.
    pub MemberSkill = member_skill, read MembersRead;
    /// An API key of the organisation.
    pub ApiKey = api_key, read ApiKeysManage;
    /// One row of the audit log.
    pub AuditEntry = audit_entry, read AuditRead;
    /// A notification in a member's inbox.
    pub Notification = notification, read NotificationsOwn;
    /// An outgoing webhook's receiver.
    pub WebhookEndpoint = webhook_endpoint, read WebhooksManage;
    /// One message queued for (or sent to) a webhook endpoint.
    pub WebhookDelivery = webhook_delivery, read WebhooksManage;
    /// One attempt to send a webhook delivery: the receiver's answer and how long it took.
    pub WebhookAttempt = webhook_attempt, read WebhooksManage;
    /// A key performance indicator: a named aggregate of the graph with a target and a period.
    pub Kpi = kpi, read AnalyticsRead;
    /// One measured value of a KPI for one of its periods.
    pub KpiMeasurement = kpi_measurement, read AnalyticsRead;
    /// A stored GraphQL query, run with the viewer's permissions.
    pub SavedQuery = saved_query, read AnalyticsRead;
    /// A dashboard: ordered widgets, a member's own or shared with the organisation.
    pub Dashboard = dashboard, read AnalyticsRead;
    /// A widget of a dashboard: a KPI, or a chart or list over a saved query.
    pub DashboardWidget = dashboard_widget, read AnalyticsRead;
    /// A report template: a saved query's rows as a table (and a chart), exported on demand.
    pub ReportTemplate = report_template, read AnalyticsRead;
    /// A report file generated from a template, downloadable by whoever generated it.
    pub GeneratedReport = generated_report, read AnalyticsRead;
}
