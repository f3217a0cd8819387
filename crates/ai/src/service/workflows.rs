//! Workflows: a trigger on a kind of domain event from the outbox (`deal.won`,
//! `task.overdue`, `message.completed`…), conditions on the event, and ordered steps
//! (create a task, notify, ask an agent, call a webhook). Agent managers define them; they
//! run with their owner's rights ([`super::automation`] executes them).

use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::entity::workflow;
use crate::enums::{AgentStatus, ConditionOp, StepKind};
use crate::nodes::Workflow;
use crate::service::render;

/// Most steps in a workflow.
pub const MAX_STEPS: usize = 20;

/// A condition on the triggering event.
#[derive(Debug, Clone, Deserialize, Serialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowConditionInput {
    /// Dotted path in the event: `kind`, `subjectType`, `subjectId`, `projectId`, `data.<field>`.
    pub path: String,
    /// How to compare.
    pub op: ConditionOp,
    /// The value compared with (not for EXISTS).
    pub value: Option<Value>,
}

/// A step.
#[derive(Debug, Clone, Deserialize, Serialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStepInput {
    /// What it does.
    pub kind: StepKind,
    /// Its settings; text values may use `{{event.data.<field>}}`, `{{event.subjectId}}`,
    /// and earlier steps' outputs as `{{steps.<index>.<field>}}`.
    pub config: Value,
}

/// Create a workflow.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateWorkflowInput {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The event kind that starts it (e.g. `deal.won`).
    pub trigger_event: String,
    /// All must hold for a run to start.
    pub conditions: Option<Vec<WorkflowConditionInput>>,
    /// Ordered steps (1..20).
    pub steps: Vec<WorkflowStepInput>,
}

/// Change a workflow's status.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetWorkflowStatusInput {
    /// The workflow.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// ACTIVE runs it for new events; PAUSED and ARCHIVED do not.
    pub status: AgentStatus,
}

fn required(step: usize, config: &Value, keys: &[&str]) -> AppResult<()> {
    for k in keys {
        if config.get(*k).is_none_or(Value::is_null) {
            return Err(AppError::bad_input(format!("steps.{step}.config.{k}"), format!("{k} is required")));
        }
    }
    Ok(())
}

fn check_steps(steps: &[WorkflowStepInput]) -> AppResult<()> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(AppError::bad_input("steps", format!("a workflow has 1..{MAX_STEPS} steps")));
    }
    for (i, s) in steps.iter().enumerate() {
        if !s.config.is_object() {
            return Err(AppError::bad_input(format!("steps.{i}.config"), "config is an object"));
        }
        match s.kind {
            StepKind::CreateTask => required(i, &s.config, &["projectId", "title"])?,
            StepKind::Notify => required(i, &s.config, &["memberIds", "title"])?,
            StepKind::RunAgent => required(i, &s.config, &["agentId", "prompt"])?,
            StepKind::CallWebhook => {
                required(i, &s.config, &["url"])?;
                let url = s.config["url"].as_str().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(AppError::bad_input(format!("steps.{i}.config.url"), "url must be http(s)"));
                }
            }
        }
    }
    Ok(())
}

/// Creates a workflow owned by the caller (agent managers); it sees events from now on.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateWorkflowInput,
) -> AppResult<workflow::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let owner = session.membership_id.ok_or_else(|| AppError::Forbidden("workflows belong to a member".into()))?;
    let trigger = validate::text("triggerEvent", &i.trigger_event, 3, 100, false)?;
    if !trigger.contains('.') {
        return Err(AppError::bad_input("triggerEvent", "triggerEvent is an event kind such as deal.won"));
    }
    check_steps(&i.steps)?;
    let row = workflow::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, true)?),
        trigger_event: Set(trigger),
        conditions: Set(serde_json::to_value(i.conditions.unwrap_or_default()).map_err(AppError::internal)?),
        steps: Set(serde_json::to_value(&i.steps).map_err(AppError::internal)?),
        owner_id: Set(owner),
        cursor_seq: Set(opsgraph_core::events::latest(db, w.org).await?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Workflow>("workflow.create", &row, ("createWorkflow", None)).await?;
    w.changed::<Workflow>("workflow.create", row.id, None).await?;
    Ok(row)
}

/// Pauses, resumes or archives a workflow.
pub async fn set_status(
    db: &impl ConnectionTrait,
    session: &Session,
    i: SetWorkflowStatusInput,
) -> AppResult<workflow::Model> {
    let w = Write::new(db, session, Permission::AiManage)?;
    let current = opsgraph_core::db::find_in_org::<workflow::Entity>(
        db,
        workflow::Column::OrgId,
        w.org,
        Workflow::decode(&i.id, "id")?,
        "workflow",
    )
    .await?;
    let mut am: workflow::ActiveModel = current.clone().into();
    am.status = Set(i.status.as_str().into());
    if i.status == AgentStatus::Active && current.status != AgentStatus::Active.as_str() {
        // Resumed: from now on, not the events it missed while paused.
        am.cursor_seq = Set(opsgraph_core::events::latest(db, w.org).await?);
    }
    let after = w.update::<Workflow, _>("workflow.status", current, am, i.expected_version).await?.after;
    w.changed::<Workflow>("workflow.status", after.id, None).await?;
    Ok(after)
}

/// The event as conditions and templates see it.
pub fn event_json(e: &opsgraph_core::live::LiveEvent) -> Value {
    json!({ "seq": e.seq, "kind": e.kind, "subjectType": e.subject_type,
            "subjectId": opsgraph_core::id::encode(&e.subject_type, e.subject_id),
            "projectId": e.project_id.map(|p| opsgraph_core::id::encode("Project", p)), "data": e.data })
}

/// Whether every condition holds for `event`.
pub fn matches(conditions: &Value, event: &Value) -> bool {
    let conditions: Vec<WorkflowConditionInput> = serde_json::from_value(conditions.clone()).unwrap_or_default();
    conditions.iter().all(|c| {
        let got = render::at(event, &c.path);
        let want = c.value.as_ref().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        let num = |s: &Option<String>| s.as_deref().and_then(|s| s.parse::<f64>().ok());
        match c.op {
            ConditionOp::Exists => got.is_some(),
            ConditionOp::Eq => got.is_some() && got == want,
            ConditionOp::Ne => got != want,
            ConditionOp::Contains => got.zip(want).is_some_and(|(g, w)| g.contains(&w)),
            ConditionOp::Gt => num(&got).zip(num(&want)).is_some_and(|(g, w)| g > w),
            ConditionOp::Lt => num(&got).zip(num(&want)).is_some_and(|(g, w)| g < w),
        }
    })
}

/// A workflow's owner and steps.
pub fn steps(w: &workflow::Model) -> Vec<WorkflowStepInput> {
    serde_json::from_value(w.steps.clone()).unwrap_or_default()
}

/// Resolves `{{…}}` in every text of `config` against `scope` (`event`, `steps`).
pub fn fill_config(config: &Value, scope: &Value) -> Result<Value, String> {
    Ok(match config {
        Value::String(s) => {
            Value::String(render::fill(s, |n| render::at(scope, n)).map_err(|n| format!("no value for {{{{{n}}}}}"))?)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| fill_config(v, scope)).collect::<Result<_, _>>()?),
        Value::Object(o) => Value::Object(
            o.iter().map(|(k, v)| Ok((k.clone(), fill_config(v, scope)?))).collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_and_templates() {
        let event = json!({ "kind": "deal.won", "data": { "name": "Acme", "amount": "1200" } });
        let c = |op: &str, v: Value| json!([{ "path": "data.amount", "op": op, "value": v }]);
        assert!(matches(&c("GT", json!(1000)), &event));
        assert!(!matches(&c("LT", json!(1000)), &event));
        assert!(matches(&json!([{ "path": "data.name", "op": "EQ", "value": "Acme" }]), &event));
        assert!(!matches(&json!([{ "path": "data.owner", "op": "EXISTS" }]), &event));
        assert!(matches(&json!([]), &event));
        let scope = json!({ "event": event });
        let cfg = json!({ "title": "Kick-off {{event.data.name}}", "n": 3, "ids": ["{{event.kind}}"] });
        assert_eq!(fill_config(&cfg, &scope), Ok(json!({ "title": "Kick-off Acme", "n": 3, "ids": ["deal.won"] })));
        assert!(fill_config(&json!("{{event.data.nope}}"), &scope).is_err());
    }
}
