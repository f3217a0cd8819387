//! The closed value sets of the work domain, declared once: each is the Rust type the
//! services use, the GraphQL enum, the database text and the rank orderings follow.

use opsgraph_derive::GqlEnum;

/// Where an objective stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ObjectiveStatus {
    /// Being drafted.
    Draft,
    /// In its period.
    Active,
    /// Reached.
    Achieved,
    /// Not reached.
    Missed,
    /// Dropped.
    Cancelled,
}

/// Where a task is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum TaskStatus {
    /// Not planned yet.
    Backlog,
    /// Planned, not started.
    Todo,
    /// Being worked on.
    InProgress,
    /// Waiting for review.
    InReview,
    /// Cannot proceed.
    Blocked,
    /// Finished (leaves only via reopenTask).
    Done,
    /// Will not be done (terminal unless reopened).
    Cancelled,
}

/// How urgent a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum TaskPriority {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

/// What kind of work a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum TaskKind {
    /// A task.
    Task,
    /// A defect.
    Bug,
    /// A feature.
    Feature,
    /// Maintenance.
    Chore,
    /// A meeting.
    Meeting,
    /// Research.
    Research,
}

/// A slice of "my work".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum MyWorkView {
    /// Everything not DONE or CANCELLED.
    Open,
    /// Open and due before today.
    Overdue,
    /// Open and due within the next 7 days.
    DueSoon,
    /// Open and BLOCKED, or waiting on an unfinished dependency.
    Blocked,
}

/// How two tasks depend on each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum DependencyKind {
    /// The dependent starts after this one finishes.
    FinishToStart,
    /// Both start together.
    StartToStart,
    /// Both finish together.
    FinishToFinish,
    /// The dependent finishes when this one starts.
    StartToFinish,
}

/// Lifecycle of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ProjectStatus {
    /// Being planned.
    Planning,
    /// Under way.
    Active,
    /// Paused.
    OnHold,
    /// Delivered.
    Completed,
    /// Stopped for good.
    Cancelled,
}

/// What a comment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum CommentKind {
    /// A discussion comment.
    Comment,
    /// A status update.
    Update,
    /// A report.
    Report,
}

/// Where a change request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ChangeRequestStatus {
    /// Awaiting a decision.
    Proposed,
    /// Accepted into scope.
    Approved,
    /// Declined.
    Rejected,
    /// Withdrawn by its requester.
    Withdrawn,
}

/// What a kudos recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum KudosCategory {
    /// Teamwork.
    Teamwork,
    /// Quality of work.
    Quality,
    /// A new idea.
    Innovation,
    /// Care for a client.
    Customer,
    /// Leadership.
    Leadership,
    /// Going the extra mile.
    GoingExtraMile,
}

/// Where a milestone stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum MilestoneStatus {
    /// Planned.
    Planned,
    /// Being worked towards.
    InProgress,
    /// Reached.
    Achieved,
    /// Not reached in time.
    Missed,
    /// Dropped.
    Cancelled,
}

/// Where a risk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum RiskStatus {
    /// Identified.
    Open,
    /// Being mitigated.
    Mitigating,
    /// Accepted as is.
    Accepted,
    /// No longer a risk.
    Closed,
}

/// Band of a risk's severity (probability x impact, 1..25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum RiskLevel {
    /// 1-4.
    Low,
    /// 5-9.
    Medium,
    /// 10-16.
    High,
    /// 17-25.
    Critical,
}

/// Kind of leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum TimeOffKind {
    /// Vacation.
    Vacation,
    /// Sick leave.
    Sick,
    /// Personal leave.
    Personal,
    /// Public holiday.
    PublicHoliday,
    /// Parental leave.
    Parental,
    /// Other.
    Other,
}

/// Where a time-off request stands (only APPROVED counts against capacity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum TimeOffStatus {
    /// Awaiting a decision.
    Requested,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
    /// Cancelled.
    Cancelled,
}

/// What a chat channel is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ChannelKind {
    /// Open conversation on a topic.
    General,
    /// A small group.
    Group,
    /// Only its owners and admins post; everyone reads.
    Announcement,
    /// Two people.
    Direct,
}

/// A member's role in a chat channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ChannelRole {
    /// Created it; manages it.
    Owner,
    /// Manages members, pins, posts in announcements.
    Admin,
    /// Reads and posts.
    Member,
}
