//! Loaders the work crate offers beyond the generic ones.

use crate::entity::{
    availability, change_request, channel_member, channel_message, checklist_item, comment, comment_mention, feedback,
    key_result, kudos, message_reaction, milestone, objective_link, project, project_member, risk, task,
    task_dependency, time_entry, time_off, watcher,
};
use opsgraph_core::relation;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::Arc;

use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::loader::LoadError;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::service::capacity::{self, WeekCapacity};
use crate::service::performance::{self, Performance};

/// Task counts and estimate sums of one status column of a project.
#[derive(Debug, Clone)]
pub struct StatusStat {
    /// The status.
    pub status: String,
    /// Live tasks in it.
    pub count: i64,
    /// Sum of their estimates.
    pub estimate_hours: Decimal,
    /// Hours logged on them (actuals).
    pub logged_hours: Decimal,
}

fn load_err(e: impl Into<opsgraph_core::AppError>) -> LoadError {
    opsgraph_core::loader::app_error(e.into())
}

/// Estimated vs logged hours of a project (live tasks' estimates; all time entries).
#[derive(Debug, Clone, Default)]
pub struct ProjectHours {
    /// Sum of live tasks' estimates.
    pub estimated: Decimal,
    /// Hours logged on the project.
    pub logged: Decimal,
    /// Billable part of the logged hours.
    pub billable: Decimal,
}

/// [`ProjectHours`] of many projects in one statement.
pub struct HoursByProject(pub Arc<TxDb>);

impl Loader<Uuid> for HoursByProject {
    type Value = ProjectHours;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, ProjectHours>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT k.id, \
                   (SELECT coalesce(sum(estimate_hours), 0) FROM tasks WHERE project_id = k.id AND deleted_at IS NULL) AS est, \
                   coalesce(te.logged, 0) AS logged, coalesce(te.billable, 0) AS billable \
                 FROM unnest($1::uuid[]) AS k(id) LEFT JOIN (SELECT project_id, sum(hours) AS logged, \
                   sum(hours) FILTER (WHERE is_billable) AS billable FROM time_entries WHERE project_id = ANY($1) \
                   GROUP BY project_id) te ON te.project_id = k.id",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(load_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("", "id")?,
                    ProjectHours {
                        estimated: r.try_get("", "est")?,
                        logged: r.try_get("", "logged")?,
                        billable: r.try_get("", "billable")?,
                    },
                ))
            })
            .collect::<Result<_, sea_orm::DbErr>>()
            .map_err(load_err)
    }
}

/// Hours logged per task, one `GROUP BY` for many tasks.
pub struct HoursByTask(pub Arc<TxDb>);

impl Loader<Uuid> for HoursByTask {
    type Value = Decimal;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Decimal>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT task_id, sum(hours) AS h FROM time_entries WHERE task_id = ANY($1) GROUP BY task_id",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(load_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "task_id")?, r.try_get("", "h")?)))
            .collect::<Result<_, sea_orm::DbErr>>()
            .map_err(load_err)
    }
}

/// Key of [`CapacityByMember`]: member, first day, number of weeks.
pub type CapacityKey = (Uuid, chrono::NaiveDate, u32);

/// Weekly capacity of many members: four statements per distinct (from, weeks) window.
pub struct CapacityByMember(pub Arc<TxDb>);

impl Loader<CapacityKey> for CapacityByMember {
    type Value = Vec<WeekCapacity>;
    type Error = LoadError;

    async fn load(&self, keys: &[CapacityKey]) -> Result<HashMap<CapacityKey, Vec<WeekCapacity>>, LoadError> {
        let mut windows: HashMap<(chrono::NaiveDate, u32), Vec<Uuid>> = HashMap::new();
        for (m, from, weeks) in keys {
            windows.entry((*from, *weeks)).or_default().push(*m);
        }
        let mut out = HashMap::new();
        for ((from, weeks), members) in windows {
            let start = capacity::monday_of(from);
            let end = start + chrono::Days::new(u64::from(weeks) * 7 - 1);
            let inputs = capacity::load_inputs(self.0.as_ref(), &members, start, end).await.map_err(load_err)?;
            for m in members {
                let figures = inputs.get(&m).map(|i| capacity::weeks_of(m, from, weeks, i)).unwrap_or_default();
                out.insert((m, from, weeks), figures);
            }
        }
        Ok(out)
    }
}

/// Which tasks wait on an unfinished dependency, one statement for many tasks.
pub struct WaitingTasks(pub Arc<TxDb>);

impl Loader<Uuid> for WaitingTasks {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, bool>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT DISTINCT d.task_id FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id \
                 WHERE d.task_id = ANY($1) AND b.deleted_at IS NULL AND b.status NOT IN ('DONE','CANCELLED')",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(load_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "task_id")?, true)))
            .collect::<Result<_, sea_orm::DbErr>>()
            .map_err(load_err)
    }
}

// Relationships, declared one way: the child entity, the column holding the parent id,
// the list spec when the field is a connection, extra scoping.

relation!(
    /// Root comments of a task (replies hang under them); deleted roots stay so threads keep their place.
    CommentsOfTask, comment, TaskId, spec = crate::graphql::collab::COMMENTS, scope = |s| s.filter(comment::Column::ParentId.is_null())
);

relation!(
    /// Root project-level comments (status updates and reports), not those on its tasks.
    CommentsOfProject, comment, ProjectId, spec = crate::graphql::collab::COMMENTS,
    scope = |s| s.filter(comment::Column::ParentId.is_null()).filter(comment::Column::TaskId.is_null())
);

relation!(
    /// Replies of a root comment.
    RepliesOf, comment, ParentId, spec = crate::graphql::collab::COMMENTS
);

relation!(
    /// Mentions of a comment.
    MentionsOf, comment_mention, CommentId
);

relation!(
    /// A task's checklist, in order.
    ChecklistOf, checklist_item, TaskId,
    scope = |s| s.order_by_asc(checklist_item::Column::Position).order_by_asc(checklist_item::Column::Id)
);

relation!(
    /// Change requests of a project.
    ChangeRequestsOf, change_request, ProjectId, spec = crate::graphql::collab::CHANGE_REQUESTS
);

relation!(
    /// Milestones of a project.
    MilestonesOf, milestone, ProjectId, spec = crate::graphql::delivery::MILESTONES
);

relation!(
    /// Risks of a project.
    RisksOf, risk, ProjectId, spec = crate::graphql::delivery::RISKS
);

relation!(
    /// What a task depends on.
    DependenciesOf, task_dependency, TaskId, spec = crate::graphql::dependencies::DEPENDENCIES
);

relation!(
    /// What depends on a task.
    DependentsOf, task_dependency, DependsOnId, spec = crate::graphql::dependencies::DEPENDENCIES
);

relation!(
    /// Projects a member manages.
    ProjectsOfManager, project, ManagerId, spec = crate::graphql::PROJECTS,
    scope = |s| s.filter(project::Column::DeletedAt.is_null())
);

relation!(
    /// Projects a team owns.
    ProjectsOfTeam, project, TeamId, spec = crate::graphql::PROJECTS,
    scope = |s| s.filter(project::Column::DeletedAt.is_null())
);

relation!(
    /// Key results of an objective.
    KeyResultsOf, key_result, ObjectiveId,
    scope = |s| s.order_by_asc(key_result::Column::CreatedAt).order_by_asc(key_result::Column::Id)
);

relation!(
    /// Objective links of a project.
    LinksOfProject, objective_link, ProjectId
);

relation!(
    /// Objective links of a task.
    LinksOfTask, objective_link, TaskId
);

relation!(
    /// Links of an objective.
    LinksOfObjective, objective_link, ObjectiveId
);

relation!(
    /// Staffing of a project.
    MembersOfProject, project_member, ProjectId, spec = crate::graphql::people::PROJECT_MEMBERS
);

relation!(
    /// Project staffing of a member.
    StaffingOfMember, project_member, MembershipId, spec = crate::graphql::people::PROJECT_MEMBERS
);

relation!(
    /// Watchers of a project.
    WatchersOfProject, watcher, ProjectId, spec = crate::graphql::people::WATCHERS
);

relation!(
    /// Watchers of a task.
    WatchersOfTask, watcher, TaskId, spec = crate::graphql::people::WATCHERS
);

relation!(
    /// All feedback about a member.
    FeedbackAbout, feedback, SubjectId, spec = crate::graphql::people::FEEDBACK
);

relation!(
    /// Shared feedback about a member (what the member sees).
    SharedFeedbackAbout, feedback, SubjectId, spec = crate::graphql::people::FEEDBACK, scope = |s| s.filter(feedback::Column::IsShared.eq(true))
);

relation!(
    /// Feedback a member wrote.
    FeedbackBy, feedback, AuthorId, spec = crate::graphql::people::FEEDBACK
);

relation!(
    /// Kudos a member received.
    KudosTo, kudos, ToId, spec = crate::graphql::people::KUDOS
);

relation!(
    /// Tasks of a project.
    TasksOfProject, task, ProjectId, spec = crate::graphql::tasks::TASKS,
    scope = |s| s.filter(task::Column::DeletedAt.is_null())
);

relation!(
    /// Subtasks of a task.
    Subtasks, task, ParentId, spec = crate::graphql::tasks::TASKS,
    scope = |s| s.filter(task::Column::DeletedAt.is_null())
);

relation!(
    /// Tasks assigned to a member.
    TasksOfAssignee, task, AssigneeId, spec = crate::graphql::tasks::TASKS,
    scope = |s| s.filter(task::Column::DeletedAt.is_null())
);

relation!(
    /// Time logged by a member.
    TimeOfMember, time_entry, MembershipId, spec = crate::graphql::time::TIME_ENTRIES
);

relation!(
    /// Time logged on a project.
    TimeOfProject, time_entry, ProjectId, spec = crate::graphql::time::TIME_ENTRIES
);

relation!(
    /// Time logged on a task.
    TimeOfTask, time_entry, TaskId, spec = crate::graphql::time::TIME_ENTRIES
);

relation!(
    /// Time off of a member.
    TimeOffOfMember, time_off, MembershipId, spec = crate::graphql::time::TIME_OFF
);

relation!(
    /// Availability pattern of a member.
    AvailabilityOf, availability, MembershipId
);

relation!(
    /// Live projects of a client account (the crm domain contributes `Account.projects`).
    ProjectsOfClient, project, ClientAccountId, spec = crate::graphql::PROJECTS,
    scope = |s| s.filter(project::Column::DeletedAt.is_null())
);

relation!(
    /// A channel's messages (threads' first messages, not deleted), paginated.
    MessagesOfChannel, channel_message, ChannelId, spec = crate::graphql::chat::CHANNEL_MESSAGES,
    scope = |s| s.filter(channel_message::Column::ParentId.is_null()).filter(channel_message::Column::DeletedAt.is_null())
);

relation!(
    /// A thread's replies (not deleted), paginated.
    ThreadReplies, channel_message, ParentId, spec = crate::graphql::chat::CHANNEL_MESSAGES,
    scope = |s| s.filter(channel_message::Column::DeletedAt.is_null())
);

relation!(
    /// Who reacted to a message, and with what, paginated.
    ReactionsOf, message_reaction, MessageId, spec = crate::graphql::chat::MESSAGE_REACTIONS
);

relation!(
    /// A channel's members, paginated.
    MembersOfChannel, channel_member, ChannelId, spec = crate::graphql::chat::CHANNEL_MEMBERS
);

/// Messages of many channels the viewer has not read (top-level, not theirs, after their
/// `lastReadAt`), in one statement; Row Level Security decides which channels count.
pub struct UnreadByChannel(pub Arc<TxDb>);

impl Loader<Uuid> for UnreadByChannel {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, i64>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT m.channel_id, count(*) AS n FROM channel_messages m                  LEFT JOIN channel_members cm ON cm.channel_id = m.channel_id AND cm.membership_id = app_member()                  WHERE m.channel_id = ANY($1) AND m.parent_id IS NULL AND m.deleted_at IS NULL                    AND m.author_id IS DISTINCT FROM app_member()                    AND m.created_at > coalesce(cm.last_read_at, '-infinity')                  GROUP BY m.channel_id",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(load_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get("", "channel_id")?, r.try_get("", "n")?)))
            .collect::<Result<_, sea_orm::DbErr>>()
            .map_err(load_err)
    }
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone)]
pub struct ReactionCount {
    /// The emoji.
    pub emoji: String,
    /// How many reacted with it.
    pub count: i64,
    /// Whether the viewer did.
    pub mine: bool,
}

/// The reactions of many messages, grouped by emoji, in one statement.
pub struct ReactionsByMessage(pub Arc<TxDb>);

impl Loader<Uuid> for ReactionsByMessage {
    type Value = Vec<ReactionCount>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<ReactionCount>>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT message_id, emoji, count(*) AS n, bool_or(membership_id = app_member()) AS mine,                    min(created_at) AS first FROM message_reactions WHERE message_id = ANY($1)                  GROUP BY message_id, emoji ORDER BY message_id, first, emoji",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(load_err)?;
        let mut out: HashMap<Uuid, Vec<ReactionCount>> = HashMap::new();
        for r in &rows {
            let id: Uuid = r.try_get("", "message_id").map_err(load_err)?;
            let count = ReactionCount {
                emoji: r.try_get("", "emoji").map_err(load_err)?,
                count: r.try_get("", "n").map_err(load_err)?,
                mine: r.try_get::<Option<bool>>("", "mine").map_err(load_err)?.unwrap_or(false),
            };
            out.entry(id).or_default().push(count);
        }
        Ok(out)
    }
}

/// Key of [`PerformanceOf`]: member, first day, last day, bucket.
pub type PerformanceKey = (Uuid, chrono::NaiveDate, chrono::NaiveDate, opsgraph_org::enums::KpiPeriod);

/// Performance of many members: five statements per distinct window.
pub struct PerformanceOf(pub Arc<TxDb>);

impl Loader<PerformanceKey> for PerformanceOf {
    type Value = Arc<Vec<Performance>>;
    type Error = LoadError;

    async fn load(&self, keys: &[PerformanceKey]) -> Result<HashMap<PerformanceKey, Self::Value>, LoadError> {
        let mut windows: HashMap<_, Vec<Uuid>> = HashMap::new();
        for (m, from, to, bucket) in keys {
            windows.entry((*from, *to, *bucket)).or_default().push(*m);
        }
        let mut out = HashMap::new();
        for (w, members) in windows {
            let found = performance::of_members(self.0.as_ref(), &members, w)
                .await
                .map_err(opsgraph_core::loader::app_error)?;
            for (m, figures) in found {
                out.insert((m, w.0, w.1, w.2), Arc::new(figures));
            }
        }
        Ok(out)
    }
}
