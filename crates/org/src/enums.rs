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
