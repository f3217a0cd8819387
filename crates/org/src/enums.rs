//! The closed value sets of the org domain, declared once: each is the Rust type the
//! services use, the GraphQL enum, the database text and the rank orderings follow.

use opsgraph_derive::GqlEnum;

/// What kind of group a team is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum TeamKind {
    /// A working team.
    Team,
    /// A studio.
    Studio,
    /// A crew.
    Crew,
    /// A department.
    Department,
    /// A business area or region.
    Area,
    /// A practice or discipline group.
    Practice,
}

/// What a catalog entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum SkillKind {
    /// A skill.
    Skill,
    /// A discipline.
    Discipline,
    /// A job title.
    Title,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ApiKeyScope {
    /// Read like a VIEWER.
    Read,
    /// Read and write like a MEMBER.
    Write,
    /// Administer like an ADMIN.
    Admin,
}

/// Subscription tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum PlanTier {
    /// Free.
    Free,
    /// Starter.
    Starter,
    /// Professional.
    Professional,
    /// Enterprise.
    Enterprise,
}

/// Kind of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum NotificationKind {
    /// Information.
    Info,
    /// Something succeeded.
    Success,
    /// A warning.
    Warning,
    /// An error.
    Error,
    /// You were mentioned.
    Mention,
    /// Something was assigned to you.
    Assignment,
    /// A reminder.
    Reminder,
    /// A status changed.
    StatusChange,
    /// A new comment on something you follow.
    Comment,
    /// Kudos or feedback for you.
    Recognition,
}

/// Whether a webhook endpoint receives events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum WebhookEndpointStatus {
    /// Events are queued and sent.
    Active,
    /// Nothing is queued or sent (by an administrator, or after repeated failures).
    Disabled,
}

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum WebhookDeliveryStatus {
    /// Queued or being retried.
    Pending,
    /// The receiver acknowledged it (2xx).
    Succeeded,
    /// A test ping the receiver did not acknowledge (pings are not retried).
    Failed,
}

/// How often a KPI is measured: the length of its periods (weeks start on Monday,
/// quarters and years on the calendar's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum KpiPeriod {
    /// A day.
    Day,
    /// An ISO week.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

/// Which way a KPI should move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum KpiDirection {
    /// Meeting the target means reaching it or more.
    HigherIsBetter,
    /// Meeting the target means staying at it or below.
    LowerIsBetter,
}

/// What recorded a KPI measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum MeasurementSource {
    /// The scheduled job.
    Schedule,
    /// Someone asked for it (`measureKpi`).
    OnDemand,
}

/// What a dashboard widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum WidgetKind {
    /// A KPI: its latest value against its target, and its trend.
    Kpi,
    /// A chart over a saved query's rows.
    Chart,
    /// A list of a saved query's rows.
    List,
}

/// The file format of a generated report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ReportFormat {
    /// Comma-separated values (RFC 4180, UTF-8).
    Csv,
    /// A PDF with the table and a bar chart.
    Pdf,
}
