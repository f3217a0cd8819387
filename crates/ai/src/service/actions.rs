//! Pending actions: a write tool an agent must ask about proposes its change instead of
//! making it. The member the agent works for (or an agent manager) approves it, which
//! applies the stored arguments through the same service as the agent would have, with
//! the agent's session and the version read when proposing (a record changed since is
//! CONFLICT and nothing is applied), or rejects it with a reason; either way the run
//! resumes with the outcome as the tool's result. Undecided actions expire.

use chrono::{Duration, Utc};
use opsgraph_core::auth::Actor;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_knowledge::embed::Models;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::entity::{message, pending_action as action};
use crate::enums::{ActionStatus, MessageStatus, RunStatus};
use crate::nodes::PendingAction;
use crate::service::tools::{self, Proposal, ToolDef};
use crate::service::{agents, conversations, grounding, spend};

/// How long an action waits for a decision.
pub const EXPIRES_AFTER: Duration = Duration::hours(24);

/// Decide on a pending action.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct DecideActionInput {
    /// The action.
    pub id: Id,
    /// Why (required to reject).
    pub reason: Option<String>,
}

/// Where a proposal comes from.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// The run.
    pub run: Uuid,
    /// The reply whose tool call proposed it.
    pub message: Uuid,
    /// The agent.
    pub agent: Uuid,
    /// The member it works for.
    pub member: Uuid,
}

/// The session an agent acts in for `o`: the member's rights, actor AGENT.
pub async fn agent_session(db: &impl ConnectionTrait, org: Uuid, o: Origin) -> AppResult<Session> {
    as_agent(grounding::member_session(db, org, o.member).await?, o)
}

/// `member`'s session (see [`grounding::member_session`]) turned into the agent's for `o`.
pub fn as_agent(mut member: Session, o: Origin) -> AppResult<Session> {
    let user_id = member.user_id()?;
    member.actor = Actor::Agent { agent_id: o.agent, user_id, run_id: o.run, message_id: o.message };
    member.request_id = format!("ai-run-{}", o.run);
    Ok(member)
}

/// Records `p` as waiting for a decision and notifies the member; returns its id.
pub async fn propose(
    db: &impl ConnectionTrait,
    session: &Session,
    o: Origin,
    (tool, call_id): (&ToolDef, &str),
    p: Proposal,
) -> AppResult<Uuid> {
    let org = session.org_id()?;
    let row = action::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org),
        run_id: Set(o.run),
        message_id: Set(o.message),
        agent_id: Set(o.agent),
        member_id: Set(o.member),
        tool: Set(tool.name.into()),
        call_id: Set(call_id.into()),
        arguments: Set(p.arguments),
        subject_type: Set(tool.subject.into()),
        subject_id: Set(p.subject_id),
        expected_version: Set(p.expected_version),
        diff: Set(p.diff),
        risk: Set(tool.risk.as_str().into()),
        expires_at: Set((Utc::now() + EXPIRES_AFTER).fixed_offset()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let event = DomainEvent {
        kind: "action.proposed",
        subject_type: PendingAction::NAME,
        subject_id: row.id,
        recipients: vec![o.member],
        data: json!({ "tool": tool.name, "risk": row.risk,
            "notify": { "kind": "INFO", "title": format!("An agent asks your approval: {}", tool.description) } }),
        ..DomainEvent::default()
    };
    // Raised by the runner, not as the member: the member is told, not skipped as its author.
    opsgraph_core::events::emit(db, &crate::service::stream::session(), org, event).await?;
    Ok(row.id)
}

/// A pending action the caller may see, locked for a decision.
async fn locked(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<action::Model> {
    let org = session.require(Permission::AiUse)?;
    let id = PendingAction::decode(gid, "id")?;
    let a = action::Entity::find()
        .filter(action::Column::OrgId.eq(org))
        .filter(action::Column::Id.eq(id))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("pending action"))?;
    if session.membership_id != Some(a.member_id) && !session.can(Permission::AiManage) {
        return Err(AppError::not_found("pending action"));
    }
    if a.status != ActionStatus::Pending.as_str() {
        return Err(AppError::Conflict(format!("the action is already {}", a.status.to_lowercase())));
    }
    if a.expires_at < Utc::now() {
        return Err(AppError::Conflict("the action expired".into()));
    }
    Ok(a)
}

/// Applies a pending action as the agent (the member's rights; CONFLICT when its record
/// changed since it was proposed: nothing is applied) and resumes the run.
pub async fn approve(
    db: &impl ConnectionTrait,
    session: &Session,
    models: &Models,
    i: DecideActionInput,
) -> AppResult<action::Model> {
    let a = locked(db, session, &i.id).await?;
    let tool = tools::find(&a.tool).ok_or_else(|| AppError::internal("unknown tool on an action"))?;
    let origin = Origin { run: a.run_id, message: a.message_id, agent: a.agent_id, member: a.member_id };
    let agent_session = agent_session(db, a.org_id, origin).await?;
    let agent = agents::get(db, a.org_id, a.agent_id).await?;
    let call = tools::Call { session: &agent_session, models, collection: agent.knowledge_collection_id };
    let result = tools::execute(db, &call, tool, &a.arguments).await?;
    decide(db, session, a, ActionStatus::Approved, i.reason.as_deref(), result).await
}

/// Refuses a pending action with a reason and resumes the run.
pub async fn reject(db: &impl ConnectionTrait, session: &Session, i: DecideActionInput) -> AppResult<action::Model> {
    let reason = validate::text("reason", i.reason.as_deref().unwrap_or_default(), 1, 2000, true)?;
    let a = locked(db, session, &i.id).await?;
    let result = json!({ "rejected": true, "reason": reason });
    decide(db, session, a, ActionStatus::Rejected, Some(&reason), result).await
}

async fn decide(
    db: &impl ConnectionTrait,
    session: &Session,
    a: action::Model,
    status: ActionStatus,
    reason: Option<&str>,
    result: Value,
) -> AppResult<action::Model> {
    let org = a.org_id;
    let mut am = a.clone().into_active_model();
    am.status = Set(status.as_str().into());
    am.decided_by = Set(session.membership_id);
    am.decided_at = Set(Some(Utc::now().fixed_offset()));
    am.reason = Set(reason.map(str::to_owned));
    am.result = Set(Some(result.clone()));
    am.version = Set(a.version + 1);
    let row = am.update(db).await?;
    let w = opsgraph_core::write::Write { db, session, org };
    w.audit::<PendingAction>(
        &format!("pending_action.{}", status.as_str().to_lowercase()),
        row.id,
        json!({
        "tool": row.tool, "subject": row.subject_id, "reason": reason }),
    )
    .await?;
    w.changed::<PendingAction>("pending_action.decided", row.id, None).await?;
    resume(db, session, &row, status, result).await?;
    Ok(row)
}

/// Writes the outcome into the reply's tool calls and queues the reply again.
async fn resume(
    db: &impl ConnectionTrait,
    session: &Session,
    a: &action::Model,
    status: ActionStatus,
    result: Value,
) -> AppResult<()> {
    let m = message::Entity::find_by_id(a.message_id)
        .filter(message::Column::OrgId.eq(a.org_id))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("an action's message is gone"))?;
    let mut rounds = m.tool_calls.clone();
    for call in rounds.as_array_mut().into_iter().flatten().flat_map(|r| r["calls"].as_array_mut()).flatten() {
        if call["id"] == a.call_id {
            call["status"] = status.as_str().into();
            call["result"] = result.clone();
        }
    }
    let waiting = rounds
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["calls"].as_array().into_iter().flatten())
        .any(|c| c["status"] == "PROPOSED");
    let conversation = m.conversation_id;
    let mut am = m.into_active_model();
    am.tool_calls = Set(rounds);
    if !waiting {
        am.status = Set(MessageStatus::Pending.as_str().into());
    }
    am.update(db).await?;
    if !waiting {
        spend::set_status(db, a.run_id, RunStatus::Running, None, None).await?;
    }
    let kind = match status {
        ActionStatus::Approved => "message.action_approved",
        ActionStatus::Expired => "message.action_expired",
        _ => "message.action_rejected",
    };
    conversations::announce(db, session, a.org_id, (kind, a.message_id, conversation), None).await?;
    Ok(())
}

/// Marks actions past their expiry EXPIRED and resumes their runs; returns how many.
pub async fn expire(db: &impl ConnectionTrait, session: &Session, org: Uuid) -> AppResult<u64> {
    let due = action::Entity::find()
        .filter(action::Column::OrgId.eq(org))
        .filter(action::Column::Status.eq(ActionStatus::Pending.as_str()))
        .filter(action::Column::ExpiresAt.lt(Utc::now()))
        .lock_with_behavior(sea_orm::sea_query::LockType::Update, sea_orm::sea_query::LockBehavior::SkipLocked)
        .limit(100)
        .all(db)
        .await?;
    let n = due.len() as u64;
    for a in due {
        let result = json!({ "expired": true, "reason": "nobody decided in time" });
        let mut am = a.clone().into_active_model();
        am.status = Set(ActionStatus::Expired.as_str().into());
        am.result = Set(Some(result.clone()));
        am.version = Set(a.version + 1);
        let row = am.update(db).await?;
        resume(db, session, &row, ActionStatus::Expired, result).await?;
    }
    Ok(n)
}
