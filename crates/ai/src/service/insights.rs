//! Insights: AI findings (sentiment, risk, summary, suggestion, anomaly) attached to a
//! project, task, deal, account or contact, with confidence (0..1), a sentiment score
//! (-1..1) and whether someone should act; the subject is checked through its domain's
//! service, so a finding never points at something the writer cannot see.

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_crm::nodes::{Account, Contact, Deal};
use opsgraph_derive::GqlInput;
use opsgraph_work::nodes::{Project, Task};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::insight;
use crate::enums::InsightKind;
use crate::nodes::AiInsight;

/// The types insights attach to.
pub const SUBJECTS: [&str; 5] = [Project::NAME, Task::NAME, Deal::NAME, Account::NAME, Contact::NAME];

/// Record an insight.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RecordInsightInput {
    /// What it is about: a Project, Task, Deal, Account or Contact.
    pub subject_id: Id,
    /// Its kind.
    pub kind: InsightKind,
    /// Headline.
    pub title: String,
    /// Details.
    pub body: Option<String>,
    /// How sure (0..1).
    pub confidence: f64,
    /// Sentiment score (-1..1).
    pub sentiment: Option<f64>,
    /// Whether someone should act on it.
    pub actionable: Option<bool>,
}

/// The subject `gid` names, checked to exist for the caller.
async fn subject(db: &impl ConnectionTrait, org: Uuid, gid: &str) -> AppResult<(String, Uuid)> {
    let (ty, id) = opsgraph_core::id::decode(gid)?;
    match ty.as_str() {
        t if t == Project::NAME => opsgraph_work::service::projects::get(db, org, id).await.map(|_| ())?,
        t if t == Task::NAME => opsgraph_work::service::tasks::get(db, org, id).await.map(|_| ())?,
        t if t == Deal::NAME => opsgraph_crm::service::deals::get(db, org, id).await.map(|_| ())?,
        t if t == Account::NAME => opsgraph_crm::service::accounts::get(db, org, id).await.map(|_| ())?,
        t if t == Contact::NAME => opsgraph_crm::service::contacts::get(db, org, id).await.map(|_| ())?,
        _ => {
            return Err(AppError::bad_input("subjectId", format!("insights attach to {}", SUBJECTS.join(", "))));
        }
    }
    Ok((ty, id))
}

/// Records an insight (staff who use agents; an agent through the same call).
pub async fn record(db: &impl ConnectionTrait, session: &Session, i: RecordInsightInput) -> AppResult<insight::Model> {
    let w = Write::new(db, session, Permission::AiUse)?;
    let (subject_type, subject_id) = subject(db, w.org, &i.subject_id).await?;
    if !(0.0..=1.0).contains(&i.confidence) {
        return Err(AppError::bad_input("confidence", "confidence is 0..1"));
    }
    if i.sentiment.is_some_and(|s| !(-1.0..=1.0).contains(&s)) {
        return Err(AppError::bad_input("sentiment", "sentiment is -1..1"));
    }
    let (agent_id, run_id) = match session.actor {
        opsgraph_core::Actor::Agent { agent_id, run_id, .. } => (Some(agent_id), Some(run_id)),
        _ => (None, None),
    };
    let row = insight::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        subject_type: Set(subject_type),
        subject_id: Set(subject_id),
        kind: Set(i.kind.as_str().into()),
        title: Set(validate::text("title", &i.title, 1, 300, false)?),
        body: Set(validate::opt_text("body", i.body.as_deref(), 10_000, true)?.unwrap_or_default()),
        confidence: Set(i.confidence),
        sentiment: Set(i.sentiment),
        actionable: Set(i.actionable.unwrap_or(false)),
        agent_id: Set(agent_id),
        run_id: Set(run_id),
        created_by: Set(session.membership_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<AiInsight>("insight.create", &row, ("recordInsight", None)).await?;
    w.changed::<AiInsight>("insight.create", row.id, None).await?;
    Ok(row)
}
