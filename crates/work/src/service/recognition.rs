//! Feedback (rated 1..5, private to subject, author and managers unless shared) and kudos
//! (public recognition).

use crate::enums::KudosCategory;
use crate::error::WorkError;
use crate::nodes::{Feedback, Kudos, Project, Task};
use opsgraph_core::db::find_in_org;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::Membership;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{feedback, kudos};
use crate::service::notify;
use crate::service::{projects, tasks};

/// Whether the session may read feedback about `subject` written by `author`: the two of
/// them, and managers.
pub fn can_read_feedback(session: &Session, f: &feedback::Model) -> bool {
    let me = session.membership_id;
    me == Some(f.author_id) || (me == Some(f.subject_id) && f.is_shared) || session.can(Permission::WorkManage)
}

async fn other_member(
    db: &impl ConnectionTrait,
    session: &Session,
    org_id: Uuid,
    gid: &str,
) -> AppResult<(Uuid, Uuid)> {
    let me = session.membership_id.ok_or(WorkError::NotAPerson)?;
    let to = opsgraph_org::service::members::get(db, org_id, Membership::decode(gid, "toId")?).await?.id;
    if to == me {
        return Err(AppError::bad_input("toId", "you cannot give this to yourself"));
    }
    Ok((me, to))
}

/// Give feedback to a colleague.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct GiveFeedbackInput {
    /// Who it is about.
    pub to_id: Id,
    /// 1 (poor) .. 5 (outstanding).
    pub rating: i16,
    /// Details.
    pub body: Option<String>,
    /// Share with them (default true).
    pub is_shared: Option<bool>,
    /// The project it concerns.
    pub project_id: Option<Id>,
    /// The task it concerns.
    pub task_id: Option<Id>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Records feedback about a colleague.
pub async fn give_feedback(
    db: &impl ConnectionTrait,
    session: &Session,
    i: GiveFeedbackInput,
) -> AppResult<feedback::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.clone();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("giveFeedback", idem.as_deref()).await? {
        return find_in_org::<feedback::Entity>(db, feedback::Column::OrgId, org_id, id, "feedback").await;
    }
    let (me, to) = other_member(db, session, org_id, &i.to_id).await?;
    if !(1..=5).contains(&i.rating) {
        return Err(AppError::bad_input("rating", "rating must be between 1 and 5"));
    }
    let project_id = match &i.project_id {
        Some(g) => Some(projects::get(db, org_id, Project::decode(g, "projectId")?).await?.id),
        None => None,
    };
    let task_id = match &i.task_id {
        Some(g) => Some(tasks::get(db, org_id, Task::decode(g, "taskId")?).await?.id),
        None => None,
    };
    let f = feedback::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        author_id: Set(me),
        subject_id: Set(to),
        project_id: Set(project_id),
        task_id: Set(task_id),
        rating: Set(i.rating),
        body: Set(validate::opt_text("body", i.body.as_deref(), 10_000, true)?),
        is_shared: Set(i.is_shared.unwrap_or(true)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if f.is_shared {
        let event = DomainEvent {
            kind: "feedback.received",
            subject_type: "Feedback",
            subject_id: f.id,
            project_id,
            recipients: vec![to],
            audience: vec![],
            data: serde_json::json!({ "rating": f.rating }),
        };
        notify::emit(db, session, org_id, event, None).await?;
    }
    w.created::<Feedback>("feedback.give", &f, ("giveFeedback", idem.as_deref())).await?;
    Ok(f)
}

/// Recognise a colleague.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct GiveKudosInput {
    /// Who.
    pub to_id: Id,
    /// Category (default TEAMWORK).
    pub category: Option<KudosCategory>,
    /// Why.
    pub message: String,
    /// The project it concerns.
    pub project_id: Option<Id>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Recognises a colleague.
pub async fn give_kudos(db: &impl ConnectionTrait, session: &Session, i: GiveKudosInput) -> AppResult<kudos::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.clone();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("giveKudos", idem.as_deref()).await? {
        return find_in_org::<kudos::Entity>(db, kudos::Column::OrgId, org_id, id, "kudos").await;
    }
    let (me, to) = other_member(db, session, org_id, &i.to_id).await?;
    let project_id = match &i.project_id {
        Some(g) => Some(projects::get(db, org_id, Project::decode(g, "projectId")?).await?.id),
        None => None,
    };
    let k = kudos::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        from_id: Set(me),
        to_id: Set(to),
        category: Set(i.category.unwrap_or(KudosCategory::Teamwork).as_str().to_owned()),
        message: Set(validate::text("message", &i.message, 1, 2000, true)?),
        project_id: Set(project_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let event = DomainEvent {
        kind: "kudos.received",
        subject_type: "Kudos",
        subject_id: k.id,
        project_id,
        recipients: vec![to],
        audience: vec![],
        data: serde_json::json!({ "category": k.category, "message": k.message }),
    };
    notify::emit(db, session, org_id, event, None).await?;
    w.created::<Kudos>("kudos.give", &k, ("giveKudos", idem.as_deref())).await?;
    Ok(k)
}
