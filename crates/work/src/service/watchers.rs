//! Watchers: who follows a project or task (drives notifications). Creators, assignees and
//! commenters start watching automatically; anyone can watch or unwatch themselves,
//! managers can add others.

use opsgraph_core::id::{decode, new_id};
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, Permission, Session, audit};
use opsgraph_org::nodes::Membership;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::service::{projects, tasks};

/// What is watched.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    /// A project.
    Project(Uuid),
    /// A task.
    Task(Uuid),
}

impl Subject {
    /// Resolves a Project or Task global id of the active organisation.
    pub async fn resolve(db: &impl ConnectionTrait, org_id: Uuid, gid: &str, field: &str) -> AppResult<Subject> {
        let (ty, id) = decode(gid).map_err(|_| AppError::bad_input(field, format!("{field} is not a valid ID")))?;
        match ty.as_str() {
            "Project" => Ok(Subject::Project(projects::get(db, org_id, id).await?.id)),
            "Task" => Ok(Subject::Task(tasks::get(db, org_id, id).await?.id)),
            _ => Err(AppError::bad_input(field, format!("{field} must be a Project or Task ID"))),
        }
    }

    fn columns(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Subject::Project(p) => (Some(p), None),
            Subject::Task(t) => (None, Some(t)),
        }
    }

    /// The subject's id.
    pub fn id(self) -> Uuid {
        match self {
            Subject::Project(id) | Subject::Task(id) => id,
        }
    }
}

/// Makes `membership_id` watch `subject` (no-op if it already does). Returns whether a
/// watcher was added.
pub async fn ensure(db: &impl ConnectionTrait, org_id: Uuid, membership_id: Uuid, subject: Subject) -> AppResult<bool> {
    let (project_id, task_id) = subject.columns();
    let conflict = if project_id.is_some() {
        "(project_id, membership_id) WHERE project_id IS NOT NULL"
    } else {
        "(task_id, membership_id) WHERE task_id IS NOT NULL"
    };
    let res = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO watchers (id, org_id, membership_id, project_id, task_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT {conflict} DO NOTHING"
            ),
            [new_id().into(), org_id.into(), membership_id.into(), project_id.into(), task_id.into()],
        ))
        .await?;
    Ok(res.rows_affected() > 0)
}

fn target(session: &Session, membership_gid: Option<&str>) -> AppResult<Option<Uuid>> {
    match membership_gid {
        None => Ok(None),
        Some(g) => Ok(Some(Membership::decode(g, "membershipId")?)),
    }
    .and_then(|explicit| match explicit {
        Some(m) if Some(m) != session.membership_id => {
            session.require(Permission::WorkManage)?;
            Ok(Some(m))
        }
        _ => Ok(session.membership_id),
    })
}

/// `watch` / `unwatch`: the caller (or, for managers, `membership_gid`) starts or stops
/// watching `subject_gid`. Returns the subject and the membership.
pub async fn set_watching(
    db: &impl ConnectionTrait,
    session: &Session,
    subject_gid: &str,
    membership_gid: Option<&str>,
    watching: bool,
) -> AppResult<(Subject, Uuid)> {
    let org_id = session.require(Permission::WorkRead)?;
    let subject = Subject::resolve(db, org_id, subject_gid, "subjectId").await?;
    let member = target(session, membership_gid)?
        .ok_or_else(|| AppError::bad_input("membershipId", "API keys must name the membership"))?;
    let member = opsgraph_org::service::members::get(db, org_id, member).await?.id;
    let changed = if watching {
        ensure(db, org_id, member, subject).await?
    } else {
        let (p, t) = subject.columns();
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM watchers WHERE org_id = $1 AND membership_id = $2 \
             AND project_id IS NOT DISTINCT FROM $3 AND task_id IS NOT DISTINCT FROM $4",
            [org_id.into(), member.into(), p.into(), t.into()],
        ))
        .await?
        .rows_affected()
            > 0
    };
    if changed {
        audit::record(
            db,
            session,
            org_id,
            audit::AuditEntry {
                action: if watching { "watcher.add" } else { "watcher.remove" },
                entity_type: match subject {
                    Subject::Project(_) => "Project",
                    Subject::Task(_) => "Task",
                },
                entity_id: subject.id(),
                changes: serde_json::json!({ "membershipId": member }),
            },
        )
        .await?;
    }
    Ok((subject, member))
}
