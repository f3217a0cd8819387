//! Threaded comments on tasks and projects (kinds COMMENT/UPDATE/REPORT) with @mentions.
//! A mention is `@` followed by a member's e-mail or its local part (`@ana.silva`); the
//! mentioned members are stored, start watching, and are addressed by the event.

use crate::enums::CommentKind;
use crate::error::WorkError;
use crate::nodes::Comment;
use chrono::Utc;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::comment;
use crate::service::notify;
use crate::service::watchers::{self, Subject};

/// The distinct mention handles in `body`, lower-cased, in order of first appearance.
/// `@` must start the text or follow a non-word character (so `a@b.com` is no mention);
/// trailing dots are punctuation, not part of the handle.
pub fn mention_handles(body: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let chars: Vec<char> = body.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let handle_char = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@');
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' && (i == 0 || !word(chars[i - 1])) {
            let mut j = i + 1;
            while j < chars.len() && handle_char(chars[j]) {
                j += 1;
            }
            let h: String = chars[i + 1..j].iter().collect();
            let h = h.trim_end_matches(['.', '-', '@']).to_lowercase();
            if !h.is_empty() && h.len() <= 254 && !out.contains(&h) {
                out.push(h);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out.truncate(50);
    out
}

/// Loads a live comment of the active organisation.
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<comment::Model> {
    comment::Entity::find_by_id(id)
        .filter(comment::Column::OrgId.eq(org_id))
        .filter(comment::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("comment"))
}

/// Stores the mentions of `body` on comment `c` that are not stored yet; returns the newly
/// mentioned members (who also start watching the subject).
async fn store_mentions(db: &impl ConnectionTrait, c: &comment::Model) -> AppResult<Vec<Uuid>> {
    let handles = mention_handles(&c.body);
    let found = opsgraph_org::service::members::resolve_handles(db, c.org_id, &handles).await?;
    let ids: Vec<Uuid> = found.into_iter().map(|(_, id)| id).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO comment_mentions (org_id, comment_id, membership_id) SELECT $1, $2, unnest($3::uuid[]) \
             ON CONFLICT DO NOTHING RETURNING membership_id",
            [c.org_id.into(), c.id.into(), ids.into()],
        ))
        .await?;
    let added: Vec<Uuid> = rows.iter().map(|r| r.try_get("", "membership_id")).collect::<Result<_, _>>()?;
    let subject = match c.task_id {
        Some(t) => Subject::Task(t),
        None => Subject::Project(c.project_id),
    };
    for m in &added {
        watchers::ensure(db, c.org_id, *m, subject).await?;
    }
    Ok(added)
}

async fn emit(
    db: &impl ConnectionTrait,
    session: &Session,
    c: &comment::Model,
    kind: &'static str,
    mentioned: Vec<Uuid>,
) -> AppResult<()> {
    let excerpt: String = c.body.chars().take(200).collect();
    let event = DomainEvent {
        kind,
        subject_type: "Comment",
        subject_id: c.id,
        project_id: Some(c.project_id),
        recipients: mentioned.clone(),
        audience: vec![],
        data: serde_json::json!({ "taskId": c.task_id, "kind": c.kind, "excerpt": excerpt, "mentioned": mentioned }),
    };
    notify::emit(db, session, c.org_id, event, c.task_id).await?;
    Ok(())
}

/// Post a comment or reply; `@handle` (an e-mail or its local part) mentions a member.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddCommentInput {
    /// The Task or Project (omit when replying).
    pub subject_id: Option<Id>,
    /// The comment replied to.
    pub parent_id: Option<Id>,
    /// Kind (default COMMENT).
    pub kind: Option<CommentKind>,
    /// Markdown body.
    pub body: String,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Posts a comment or a reply.
pub async fn add(db: &impl ConnectionTrait, session: &Session, i: AddCommentInput) -> AppResult<comment::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.as_deref();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("addComment", idem).await? {
        return get(db, org_id, id).await;
    }
    let body = validate::text("body", &i.body, 1, 20_000, true)?;
    let kind = i.kind.unwrap_or(CommentKind::Comment).as_str().to_owned();
    let (project_id, task_id, parent_id) = match (&i.parent_id, &i.subject_id) {
        (Some(p), _) => {
            let parent = get(db, org_id, Comment::decode(p, "parentId")?).await?;
            if let Some(s) = &i.subject_id {
                let subject = Subject::resolve(db, org_id, s, "subjectId").await?;
                if subject.id() != parent.task_id.unwrap_or(parent.project_id) {
                    return Err(AppError::bad_input("parentId", "the reply's parent is on another subject"));
                }
            }
            (parent.project_id, parent.task_id, Some(parent.parent_id.unwrap_or(parent.id)))
        }
        (None, Some(s)) => match Subject::resolve(db, org_id, s, "subjectId").await? {
            Subject::Project(p) => (p, None, None),
            Subject::Task(t) => (crate::service::tasks::get(db, org_id, t).await?.project_id, Some(t), None),
        },
        (None, None) => return Err(AppError::bad_input("subjectId", "name the Task or Project, or a parentId")),
    };
    let c = comment::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        project_id: Set(project_id),
        task_id: Set(task_id),
        parent_id: Set(parent_id),
        kind: Set(kind),
        author_id: Set(session.membership_id),
        body: Set(body),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mentioned = store_mentions(db, &c).await?;
    if let Some(me) = session.membership_id {
        let subject = task_id.map(Subject::Task).unwrap_or(Subject::Project(project_id));
        watchers::ensure(db, org_id, me, subject).await?;
    }
    emit(db, session, &c, "comment.created", mentioned).await?;
    w.created::<Comment>("comment.create", &c, ("addComment", idem)).await?;
    Ok(c)
}

/// Edit your comment.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct EditCommentInput {
    /// The comment.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// The new body.
    pub body: String,
}

fn own(session: &Session, c: &comment::Model) -> AppResult<()> {
    if c.author_id.is_some() && c.author_id == session.membership_id {
        Ok(())
    } else {
        Err(WorkError::NotTheAuthor.into())
    }
}

/// Edits one's own comment (`editedAt` set; newly mentioned members are notified).
pub async fn edit(db: &impl ConnectionTrait, session: &Session, i: EditCommentInput) -> AppResult<comment::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get(db, org_id, Comment::decode(&i.id, "id")?).await?;
    own(session, &current)?;
    let mut am = comment::ActiveModel { ..Default::default() };
    am.body = Set(validate::text("body", &i.body, 1, 20_000, true)?);
    am.edited_at = Set(Some(Utc::now().fixed_offset()));
    let Updated { after: updated, .. } = Write { db, session, org: org_id }
        .update::<Comment, _>("comment.edit", current.clone(), am, i.expected_version)
        .await?;
    let mentioned = store_mentions(db, &updated).await?;
    emit(db, session, &updated, "comment.edited", mentioned).await?;
    Ok(updated)
}

/// Deletes a comment (its author, or a manager); replies stay, shown under a deleted root.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<comment::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get(db, org_id, Comment::decode(gid, "id")?).await?;
    if own(session, &current).is_err() {
        session.require(Permission::WorkManage)?;
    }
    let mut am = comment::ActiveModel { ..Default::default() };
    am.deleted_at = Set(Some(Utc::now().fixed_offset()));
    let Updated { after: updated, .. } = Write { db, session, org: org_id }
        .update::<Comment, _>("comment.delete", current.clone(), am, current.version)
        .await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::mention_handles;

    #[test]
    fn handles() {
        assert_eq!(mention_handles("hi @Ana.Silva, see @bo@x.io. cc @ana.silva"), vec!["ana.silva", "bo@x.io"]);
        assert!(mention_handles("mail me at a@b.com").is_empty());
        assert!(mention_handles("@ alone and trailing @").is_empty());
        assert_eq!(mention_handles("(@kim) and @lee."), vec!["kim", "lee"]);
    }
}
