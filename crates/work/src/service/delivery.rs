//! Milestones and the risk register of a project.

use crate::enums::{MilestoneStatus, RiskStatus};
use crate::nodes::{Milestone, Project, Risk};
use chrono::{NaiveDate, Utc};
use opsgraph_core::db::find_in_org;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;

use crate::entity::{milestone, risk};
use crate::service::notify;
use crate::service::projects;

/// Severity band of `probability x impact` (1..25).
pub fn risk_level(severity: i16) -> &'static str {
    match severity {
        ..=4 => "LOW",
        5..=9 => "MEDIUM",
        10..=16 => "HIGH",
        _ => "CRITICAL",
    }
}

fn scale(field: &str, v: i16) -> AppResult<i16> {
    if (1..=5).contains(&v) {
        Ok(v)
    } else {
        Err(AppError::bad_input(field, format!("{field} must be between 1 and 5")))
    }
}

/// Add a milestone.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateMilestoneInput {
    /// The project.
    pub project_id: Id,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Adds a milestone.
pub async fn create_milestone(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateMilestoneInput,
) -> AppResult<milestone::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let idem = i.idempotency_key.clone();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("createMilestone", idem.as_deref()).await? {
        return find_in_org::<milestone::Entity>(db, milestone::Column::OrgId, org_id, id, "milestone").await;
    }
    let p = projects::get(db, org_id, Project::decode(&i.project_id, "projectId")?).await?;
    let m = milestone::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        project_id: Set(p.id),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 5000, true)?),
        due_date: Set(i.due_date),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let changes = serde_json::json!({ "name": m.name, "dueDate": m.due_date });
    let event = DomainEvent {
        kind: "milestone.scheduled",
        subject_type: "Milestone",
        subject_id: m.id,
        project_id: Some(m.project_id),
        recipients: p.manager_id.into_iter().collect(),
        audience: vec![],
        data: changes,
    };
    notify::emit(db, session, org_id, event, None).await?;
    w.created::<Milestone>("milestone.create", &m, ("createMilestone", idem.as_deref())).await?;
    Ok(m)
}

/// Change a milestone; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMilestoneInput {
    /// The milestone.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// Due date (null clears).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub due_date: Option<Option<NaiveDate>>,
    /// Status.
    pub status: Option<MilestoneStatus>,
}

/// Changes a milestone.
pub async fn update_milestone(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateMilestoneInput,
) -> AppResult<milestone::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let id = Milestone::decode(&i.id, "id")?;
    let current = find_in_org::<milestone::Entity>(db, milestone::Column::OrgId, org_id, id, "milestone").await?;
    let mut am: milestone::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = i.due_date {
        am.due_date = Set(d);
    }
    if let Some(s) = &i.status {
        let s = s.as_str().to_owned();
        am.achieved_at = Set(if s == MilestoneStatus::Achieved {
            current.achieved_at.or(Some(Utc::now().fixed_offset()))
        } else {
            None
        });
        am.status = Set(s);
    }
    let Updated { after: updated, changes, .. } = Write { db, session, org: org_id }
        .update::<Milestone, _>("milestone.update", current.clone(), am, i.expected_version)
        .await?;
    let kind = match updated.status.as_str() {
        "ACHIEVED" if current.status != MilestoneStatus::Achieved => "milestone.achieved",
        "MISSED" if current.status != MilestoneStatus::Missed => "milestone.missed",
        _ => "milestone.updated",
    };
    let event = DomainEvent {
        kind,
        subject_type: "Milestone",
        subject_id: id,
        project_id: Some(updated.project_id),
        recipients: vec![],
        audience: vec![],
        data: serde_json::json!({ "name": updated.name, "changes": changes }),
    };
    notify::emit(db, session, org_id, event, None).await?;
    Ok(updated)
}

/// Raise a risk.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RaiseRiskInput {
    /// The project.
    pub project_id: Id,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// 1..5.
    pub probability: i16,
    /// 1..5.
    pub impact: i16,
    /// Mitigation plan.
    pub mitigation: Option<String>,
    /// Owner (Membership).
    pub owner_id: Option<Id>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Raises a risk; any member doing work may.
pub async fn raise_risk(db: &impl ConnectionTrait, session: &Session, i: RaiseRiskInput) -> AppResult<risk::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.clone();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("raiseRisk", idem.as_deref()).await? {
        return find_in_org::<risk::Entity>(db, risk::Column::OrgId, org_id, id, "risk").await;
    }
    let p = projects::get(db, org_id, Project::decode(&i.project_id, "projectId")?).await?;
    let owner_id = opsgraph_org::service::members::resolve(db, org_id, i.owner_id.as_deref(), "ownerId").await?;
    let r = risk::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        project_id: Set(p.id),
        title: Set(validate::text("title", &i.title, 1, 300, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 10_000, true)?),
        probability: Set(scale("probability", i.probability)?),
        impact: Set(scale("impact", i.impact)?),
        mitigation: Set(validate::opt_text("mitigation", i.mitigation.as_deref(), 10_000, true)?),
        owner_id: Set(owner_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let event = DomainEvent {
        kind: "risk.raised",
        subject_type: "Risk",
        subject_id: r.id,
        project_id: Some(r.project_id),
        recipients: r.owner_id.into_iter().chain(p.manager_id).collect(),
        audience: vec![],
        data: serde_json::json!({ "title": r.title, "severity": r.severity, "level": risk_level(r.severity) }),
    };
    notify::emit(db, session, org_id, event, None).await?;
    w.created::<Risk>("risk.raise", &r, ("raiseRisk", idem.as_deref())).await?;
    Ok(r)
}

/// Re-assess a risk; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRiskInput {
    /// The risk.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// 1..5.
    pub probability: Option<i16>,
    /// 1..5.
    pub impact: Option<i16>,
    /// Mitigation plan (null clears).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub mitigation: Option<Option<String>>,
    /// Status.
    pub status: Option<RiskStatus>,
}

/// Re-assesses or closes a risk.
pub async fn update_risk(db: &impl ConnectionTrait, session: &Session, i: UpdateRiskInput) -> AppResult<risk::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let id = Risk::decode(&i.id, "id")?;
    let current = find_in_org::<risk::Entity>(db, risk::Column::OrgId, org_id, id, "risk").await?;
    let mut am = risk::ActiveModel { ..Default::default() };
    if let Some(p) = i.probability {
        am.probability = Set(scale("probability", p)?);
    }
    if let Some(v) = i.impact {
        am.impact = Set(scale("impact", v)?);
    }
    if let Some(m) = &i.mitigation {
        am.mitigation = Set(validate::opt_text("mitigation", m.as_deref(), 10_000, true)?);
    }
    if let Some(s) = &i.status {
        am.status = Set(s.as_str().to_owned());
    }
    let Updated { after: updated, changes, .. } = Write { db, session, org: org_id }
        .update::<Risk, _>("risk.update", current.clone(), am, i.expected_version)
        .await?;
    let event = DomainEvent {
        kind: "risk.updated",
        subject_type: "Risk",
        subject_id: id,
        project_id: Some(updated.project_id),
        recipients: vec![],
        audience: vec![],
        data: serde_json::json!({ "title": updated.title, "changes": changes }),
    };
    notify::emit(db, session, org_id, event, None).await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    #[test]
    fn levels() {
        assert_eq!(super::risk_level(1), "LOW");
        assert_eq!(super::risk_level(6), "MEDIUM");
        assert_eq!(super::risk_level(12), "HIGH");
        assert_eq!(super::risk_level(25), "CRITICAL");
    }
}
