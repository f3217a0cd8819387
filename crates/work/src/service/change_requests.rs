//! Change requests: proposed scope changes with schedule and cost impact, decided by a
//! manager (PROPOSED -> APPROVED | REJECTED, or WITHDRAWN by the requester).

use crate::enums::ChangeRequestStatus;
use crate::nodes::{ChangeRequest, Project};
use chrono::Utc;
use opsgraph_core::db::find_in_org;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::change_request as cr;
use crate::service::notify;
use crate::service::projects;

/// An exact amount of money.
#[derive(Debug, Deserialize, GqlInput)]
pub struct MoneyInput {
    /// The amount.
    pub amount: Decimal,
    /// ISO 4217 code.
    pub currency: String,
}

/// Propose a scope change.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct ProposeChangeRequestInput {
    /// The project.
    pub project_id: Id,
    /// Title.
    pub title: String,
    /// What changes.
    pub description: Option<String>,
    /// Impact on scope, quality or people.
    pub impact: Option<String>,
    /// Days the schedule moves (negative: earlier).
    pub schedule_impact_days: Option<i32>,
    /// Cost impact (negative: saving).
    pub cost_impact: Option<MoneyInput>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<cr::Model> {
    find_in_org::<cr::Entity>(db, cr::Column::OrgId, org_id, id, "change request").await
}

async fn emit(db: &impl ConnectionTrait, session: &Session, c: &cr::Model, kind: &'static str) -> AppResult<()> {
    let event = DomainEvent {
        kind,
        subject_type: "ChangeRequest",
        subject_id: c.id,
        project_id: Some(c.project_id),
        recipients: if kind == "change_request.proposed" { vec![] } else { c.requested_by.into_iter().collect() },
        audience: vec![],
        data: serde_json::json!({ "title": c.title, "status": c.status }),
    };
    notify::emit(db, session, c.org_id, event, None).await?;
    Ok(())
}

/// Proposes a change to a project's scope.
pub async fn propose(
    db: &impl ConnectionTrait,
    session: &Session,
    i: ProposeChangeRequestInput,
) -> AppResult<cr::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.as_deref();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("proposeChangeRequest", idem).await? {
        return get(db, org_id, id).await;
    }
    let p = projects::get(db, org_id, Project::decode(&i.project_id, "projectId")?).await?;
    let days = i.schedule_impact_days.unwrap_or(0);
    if !(-3650..=3650).contains(&days) {
        return Err(AppError::bad_input("scheduleImpactDays", "scheduleImpactDays must be within ±3650"));
    }
    let (amount, currency) = match &i.cost_impact {
        Some(m) => (Some(m.amount), Some(validate::currency("costImpact.currency", &m.currency)?)),
        None => (None, None),
    };
    let c = cr::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        project_id: Set(p.id),
        title: Set(validate::text("title", &i.title, 1, 300, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 20_000, true)?),
        impact: Set(validate::opt_text("impact", i.impact.as_deref(), 10_000, true)?),
        schedule_impact_days: Set(days),
        cost_impact_amount: Set(amount),
        cost_impact_currency: Set(currency),
        requested_by: Set(session.membership_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    emit(db, session, &c, "change_request.proposed").await?;
    w.created::<ChangeRequest>("change_request.propose", &c, ("proposeChangeRequest", idem)).await?;
    Ok(c)
}

/// Approve or reject (managers), or withdraw (the requester) a proposed change.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct DecideChangeRequestInput {
    /// The change request.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// APPROVED, REJECTED or WITHDRAWN.
    pub status: ChangeRequestStatus,
    /// Why.
    pub note: Option<String>,
}

/// Decides or withdraws a proposed change request.
pub async fn decide(db: &impl ConnectionTrait, session: &Session, i: DecideChangeRequestInput) -> AppResult<cr::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get(db, org_id, ChangeRequest::decode(&i.id, "id")?).await?;
    let status = validate::one_of("status", i.status.as_str(), &ChangeRequestStatus::VALUES[1..])?;
    if status == ChangeRequestStatus::Withdrawn {
        if current.requested_by.is_none() || current.requested_by != session.membership_id {
            session.require(Permission::WorkManage)?;
        }
    } else {
        session.require(Permission::WorkManage)?;
    }
    if current.status != ChangeRequestStatus::Proposed {
        return Err(AppError::bad_input("status", format!("the change request is already {}", current.status)));
    }
    let mut am = cr::ActiveModel { ..Default::default() };
    am.status = Set(status.clone());
    am.decided_by = Set(session.membership_id);
    am.decided_at = Set(Some(Utc::now().fixed_offset()));
    am.decision_note = Set(validate::opt_text("note", i.note.as_deref(), 5000, true)?);
    let Updated { after: updated, .. } = Write { db, session, org: org_id }
        .update::<ChangeRequest, _>("change_request.decide", current.clone(), am, i.expected_version)
        .await?;
    emit(db, session, &updated, "change_request.decided").await?;
    Ok(updated)
}
