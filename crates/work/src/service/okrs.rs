//! OKRs: objectives with key results (start -> target, checked in as `current`), linked to
//! projects and tasks; progress is computed, never stored.

use crate::enums::ObjectiveStatus;
use crate::nodes::{KeyResult, Objective};
use chrono::NaiveDate;
use opsgraph_core::db::find_in_org;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{key_result, objective};
use crate::service::notify;
use crate::service::watchers::Subject;

/// Progress of one key result, 0..1: how far `current` went from `start` towards `target`
/// (works for decreasing targets too), clamped.
pub fn key_result_progress(start: Decimal, target: Decimal, current: Decimal) -> f64 {
    let span = target - start;
    if span.is_zero() {
        return if current == target { 1.0 } else { 0.0 };
    }
    ((current - start) / span).to_f64().unwrap_or(0.0).clamp(0.0, 1.0)
}

/// Weighted mean progress of an objective's key results (0 when it has none).
pub fn objective_progress(krs: &[key_result::Model]) -> f64 {
    let total: f64 = krs.iter().map(|k| k.weight.to_f64().unwrap_or(0.0)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    krs.iter()
        .map(|k| k.weight.to_f64().unwrap_or(0.0) * key_result_progress(k.start_value, k.target_value, k.current_value))
        .sum::<f64>()
        / total
}

/// Loads an objective of the active organisation.
pub async fn get(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<objective::Model> {
    find_in_org::<objective::Entity>(db, objective::Column::OrgId, org_id, id, "objective").await
}

/// Create an objective.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateObjectiveInput {
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Owner (Membership).
    pub owner_id: Option<Id>,
    /// Owning team.
    pub team_id: Option<Id>,
    /// Objective it contributes to.
    pub parent_id: Option<Id>,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period.
    pub period_end: NaiveDate,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Creates an objective.
pub async fn create_objective(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateObjectiveInput,
) -> AppResult<objective::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let idem = i.idempotency_key.as_deref();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("createObjective", idem).await? {
        return get(db, org_id, id).await;
    }
    if i.period_end < i.period_start {
        return Err(AppError::bad_input("periodEnd", "periodEnd must not be before periodStart"));
    }
    let team_id = opsgraph_org::service::teams::resolve(db, org_id, i.team_id.as_deref(), "teamId").await?;
    let parent_id = match &i.parent_id {
        Some(g) => Some(get(db, org_id, Objective::decode(g, "parentId")?).await?.id),
        None => None,
    };
    let o = objective::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        parent_id: Set(parent_id),
        title: Set(validate::text("title", &i.title, 1, 300, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 10_000, true)?),
        owner_id: Set(opsgraph_org::service::members::resolve(db, org_id, i.owner_id.as_deref(), "ownerId").await?),
        team_id: Set(team_id),
        period_start: Set(i.period_start),
        period_end: Set(i.period_end),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Objective>("objective.create", &o, ("createObjective", idem)).await?;
    w.changed::<Objective>("objective.created", o.id, None).await?;
    Ok(o)
}

/// Change an objective; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateObjectiveInput {
    /// The objective.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// Title.
    pub title: Option<String>,
    /// Status.
    pub status: Option<ObjectiveStatus>,
    /// Owner (null clears).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub owner_id: Option<Option<Id>>,
}

/// Changes an objective.
pub async fn update_objective(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateObjectiveInput,
) -> AppResult<objective::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let current = get(db, org_id, Objective::decode(&i.id, "id")?).await?;
    let mut am = objective::ActiveModel { ..Default::default() };
    if let Some(t) = &i.title {
        am.title = Set(validate::text("title", t, 1, 300, false)?);
    }
    if let Some(s) = &i.status {
        am.status = Set(s.as_str().to_owned());
    }
    if let Some(o) = &i.owner_id {
        am.owner_id = Set(opsgraph_org::service::members::resolve(db, org_id, o.as_deref(), "ownerId").await?);
    }
    let w = Write { db, session, org: org_id };
    let Updated { after: updated, changes, .. } =
        w.update::<Objective, _>("objective.update", current.clone(), am, i.expected_version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<Objective>("objective.updated", updated.id, None).await?;
    }
    Ok(updated)
}

/// Add a key result.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AddKeyResultInput {
    /// The objective.
    pub objective_id: Id,
    /// Title.
    pub title: String,
    /// Unit.
    pub unit: Option<String>,
    /// Baseline (default 0).
    pub start_value: Option<Decimal>,
    /// Target (must differ from the baseline).
    pub target_value: Decimal,
    /// Current value (default: the baseline).
    pub current_value: Option<Decimal>,
    /// Weight (default 1).
    pub weight: Option<Decimal>,
    /// Owner.
    pub owner_id: Option<Id>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

fn kr_weight(w: Decimal) -> AppResult<Decimal> {
    if w > Decimal::ZERO && w <= Decimal::from(100) {
        Ok(w)
    } else {
        Err(AppError::bad_input("weight", "weight must be greater than 0 and at most 100"))
    }
}

fn kr_value(field: &str, v: Decimal) -> AppResult<Decimal> {
    if v.abs() < Decimal::from(100_000_000_000_000i64) {
        Ok(v)
    } else {
        Err(AppError::bad_input(field, format!("{field} is out of range")))
    }
}

/// Adds a key result to an objective.
pub async fn add_key_result(
    db: &impl ConnectionTrait,
    session: &Session,
    i: AddKeyResultInput,
) -> AppResult<key_result::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let idem = i.idempotency_key.clone();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("addKeyResult", idem.as_deref()).await? {
        return find_in_org::<key_result::Entity>(db, key_result::Column::OrgId, org_id, id, "key result").await;
    }
    let o = get(db, org_id, Objective::decode(&i.objective_id, "objectiveId")?).await?;
    let start = kr_value("startValue", i.start_value.unwrap_or_default())?;
    let target = kr_value("targetValue", i.target_value)?;
    if target == start {
        return Err(AppError::bad_input("targetValue", "targetValue must differ from startValue"));
    }
    let k = key_result::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        objective_id: Set(o.id),
        title: Set(validate::text("title", &i.title, 1, 300, false)?),
        unit: Set(validate::opt_text("unit", i.unit.as_deref(), 30, false)?),
        start_value: Set(start),
        target_value: Set(target),
        current_value: Set(kr_value("currentValue", i.current_value.unwrap_or(start))?),
        weight: Set(kr_weight(i.weight.unwrap_or(Decimal::ONE))?),
        owner_id: Set(opsgraph_org::service::members::resolve(db, org_id, i.owner_id.as_deref(), "ownerId").await?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<KeyResult>("key_result.add", &k, ("addKeyResult", idem.as_deref())).await?;
    w.changed::<KeyResult>("key_result.added", k.id, None).await?;
    Ok(k)
}

/// Record a key result's current value.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CheckInKeyResultInput {
    /// The key result.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// The new value.
    pub current_value: Decimal,
}

/// Records a key result's current value (members doing the work may).
pub async fn check_in(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CheckInKeyResultInput,
) -> AppResult<key_result::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let id = KeyResult::decode(&i.id, "id")?;
    let current = find_in_org::<key_result::Entity>(db, key_result::Column::OrgId, org_id, id, "key result").await?;
    let mut am = key_result::ActiveModel { ..Default::default() };
    am.current_value = Set(kr_value("currentValue", i.current_value)?);
    let Updated { after: updated, changes, .. } = Write { db, session, org: org_id }
        .update::<KeyResult, _>("key_result.check_in", current.clone(), am, i.expected_version)
        .await?;
    let event = DomainEvent {
        kind: "key_result.checked_in",
        subject_type: "KeyResult",
        subject_id: id,
        project_id: None,
        recipients: vec![],
        audience: vec![],
        data: serde_json::json!({ "objectiveId": updated.objective_id, "changes": changes }),
    };
    notify::emit(db, session, org_id, event, None).await?;
    Ok(updated)
}

/// Links (`linked`) or unlinks an objective and a project or task. Returns the objective.
pub async fn set_link(
    db: &impl ConnectionTrait,
    session: &Session,
    objective_gid: &str,
    subject_gid: &str,
    linked: bool,
) -> AppResult<objective::Model> {
    let org_id = session.require(Permission::WorkManage)?;
    let o = get(db, org_id, Objective::decode(objective_gid, "objectiveId")?).await?;
    let subject = Subject::resolve(db, org_id, subject_gid, "subjectId").await?;
    let (p, t) = match subject {
        Subject::Project(p) => (Some(p), None),
        Subject::Task(t) => (None, Some(t)),
    };
    let sql = if linked {
        "INSERT INTO objective_links (id, org_id, objective_id, project_id, task_id) \
         SELECT $5, $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM objective_links WHERE objective_id = $2 \
         AND project_id IS NOT DISTINCT FROM $3 AND task_id IS NOT DISTINCT FROM $4)"
    } else {
        "DELETE FROM objective_links WHERE org_id = $1 AND objective_id = $2 \
         AND project_id IS NOT DISTINCT FROM $3 AND task_id IS NOT DISTINCT FROM $4 AND $5::uuid IS NOT NULL"
    };
    let n = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [org_id.into(), o.id.into(), p.into(), t.into(), new_id().into()],
        ))
        .await?
        .rows_affected();
    if n > 0 {
        let action = if linked { "objective.link" } else { "objective.unlink" };
        let w = Write { db, session, org: org_id };
        w.audit::<Objective>(action, o.id, serde_json::json!({ "subjectId": subject.id() })).await?;
        w.changed::<Objective>(if linked { "objective.linked" } else { "objective.unlinked" }, o.id, None).await?;
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::key_result_progress as p;

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    #[test]
    fn progress_is_clamped_and_directional() {
        assert_eq!(p(d(0), d(100), d(25)), 0.25);
        assert_eq!(p(d(0), d(100), d(150)), 1.0);
        assert_eq!(p(d(0), d(100), d(-5)), 0.0);
        // Decreasing target: churn 10% -> 4%, now 7%.
        assert_eq!(p(d(10), d(4), d(7)), 0.5);
        assert_eq!(p(d(5), d(5), d(5)), 1.0);
    }
}
