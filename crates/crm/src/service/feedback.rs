//! Client feedback: a rating (1..5) and a comment about an account's work, optionally one
//! project, and our response.

use crate::entity::client_feedback;
use crate::nodes::{Account, ClientFeedback};
use crate::service::{accounts, portal};
use opsgraph_core::events::DomainEvent;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_work::nodes::Project;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;

/// Record a client's feedback.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct GiveClientFeedbackInput {
    /// The account.
    pub account_id: Id,
    /// The project it is about, if one.
    pub project_id: Option<Id>,
    /// 1 (poor) to 5 (excellent).
    pub rating: i32,
    /// What they said.
    pub comment: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Records feedback: staff who write crm data, or a CLIENT for its own account. The
/// account's owner is notified.
pub async fn give(
    db: &impl ConnectionTrait,
    session: &Session,
    i: GiveClientFeedbackInput,
) -> AppResult<client_feedback::Model> {
    let w = Write::new(db, session, Permission::ClientRespond)?;
    let key = ("giveClientFeedback", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return opsgraph_core::db::find_in_org::<client_feedback::Entity>(
            db,
            client_feedback::Column::OrgId,
            w.org,
            id,
            "feedback",
        )
        .await;
    }
    let account = accounts::get(db, w.org, Account::decode(&i.account_id, "accountId")?).await?;
    portal::guard_account(db, session, account.id).await?;
    if !(1..=5).contains(&i.rating) {
        return Err(AppError::bad_input("rating", "rating must be 1..5"));
    }
    let project = match &i.project_id {
        Some(g) => {
            let p = opsgraph_work::service::projects::get(db, w.org, Project::decode(g, "projectId")?).await?;
            if p.client_account_id != Some(account.id) {
                return Err(AppError::bad_input("projectId", "the project is not this account's"));
            }
            Some(p.id)
        }
        None => None,
    };
    let row = client_feedback::ActiveModel {
        id: Set(opsgraph_core::id::new_id()),
        org_id: Set(w.org),
        account_id: Set(account.id),
        project_id: Set(project),
        rating: Set(i16::try_from(i.rating).unwrap_or(1)),
        comment: Set(validate::opt_text("comment", i.comment.as_deref(), 5000, true)?),
        given_by: Set(session.membership_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<ClientFeedback>("client_feedback.give", &row, key).await?;
    let title = format!("Feedback from {}: {}/5", account.name, row.rating);
    let event = DomainEvent {
        project_id: project,
        data: serde_json::json!({ "rating": row.rating }),
        ..DomainEvent::default()
    };
    w.notify::<ClientFeedback>("client_feedback.given", row.id, account.owner_id, ("COMMENT", title), event).await?;
    Ok(row)
}

/// Answer a client's feedback.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RespondToFeedbackInput {
    /// The feedback.
    pub id: Id,
    /// Our response (replaces an earlier one).
    pub response: String,
}

/// Records our response.
pub async fn respond(
    db: &impl ConnectionTrait,
    session: &Session,
    i: RespondToFeedbackInput,
) -> AppResult<client_feedback::Model> {
    let w = Write::new(db, session, Permission::CrmWrite)?;
    let id = ClientFeedback::decode(&i.id, "id")?;
    let current = opsgraph_core::db::find_in_org::<client_feedback::Entity>(
        db,
        client_feedback::Column::OrgId,
        w.org,
        id,
        "feedback",
    )
    .await?;
    let mut am: client_feedback::ActiveModel = current.clone().into();
    am.response = Set(Some(validate::text("response", &i.response, 1, 5000, true)?));
    am.responded_at = Set(Some(chrono::Utc::now().fixed_offset()));
    am.responded_by = Set(session.membership_id);
    let after = w.update::<ClientFeedback, _>("client_feedback.respond", current.clone(), am, 0).await?.after;
    w.changed::<ClientFeedback>("client_feedback.answered", after.id, after.project_id).await?;
    Ok(after)
}
