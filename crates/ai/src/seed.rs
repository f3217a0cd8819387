//! Demo data: each demo organisation gets an assistant that answers from its handbook, a
//! workflow that opens a kick-off task when a deal is won, and a change the assistant
//! proposed that waits for the owner's approval.

use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, TxDb};
use opsgraph_knowledge::nodes::Collection;
use opsgraph_org::seed::DemoOrg;
use opsgraph_work::nodes::Project;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::enums::RunTrigger;
use crate::service::actions::{self, Origin};
use crate::service::agents::{self, CreateAgentInput};
use crate::service::conversations::{self, SendMessageInput, StartConversationInput};
use crate::service::workflows::{self, CreateWorkflowInput, WorkflowStepInput};
use crate::service::{spend, tools};

/// Seeds one demo organisation's ai data, acting as its owner; `project` receives the
/// workflow's and the proposed tasks.
pub async fn ai(db: &TxDb, org: &DemoOrg, handbook: Uuid, project: Uuid) -> AppResult<()> {
    let owner = &org.owner;
    db.set_tenant(&owner.tenant()).await?;
    let input = CreateAgentInput {
        name: "Handbook assistant".into(),
        description: Some("Answers questions about the company handbook, citing its pages.".into()),
        model_id: None,
        tools: None,
        template_id: None,
        template_variables: None,
        memory_collection_id: None,
        system_prompt: Some("You are the company's handbook assistant. Answer briefly and cite the passages.".into()),
        max_tokens: Some(160),
        temperature: None,
        avatar_url: None,
        knowledge_collection_id: Some(Id::of::<Collection>(handbook)),
    };
    let agent = agents::create(db, owner, input).await?;
    let steps = vec![WorkflowStepInput {
        kind: crate::enums::StepKind::CreateTask,
        config: json!({ "projectId": Project::gid(project), "title": "Kick-off for {{event.data.name}}",
                        "priority": "HIGH" }),
    }];
    let flow = CreateWorkflowInput {
        name: "Kick-off task when a deal is won".into(),
        description: Some("Opens a kick-off task in the delivery project for every won deal.".into()),
        trigger_event: "deal.won".into(),
        conditions: None,
        steps,
    };
    workflows::create(db, owner, flow).await?;
    pending_action(db, org, agent.id, project).await
}

/// A conversation of the owner with the assistant whose reply proposed a task.
async fn pending_action(db: &TxDb, org: &DemoOrg, agent: Uuid, project: Uuid) -> AppResult<()> {
    let owner = &org.owner;
    let o = owner.org_id()?;
    let member = owner.membership_id.ok_or_else(|| AppError::internal("demo owner without membership"))?;
    let start = StartConversationInput {
        agent_id: Id::of::<crate::nodes::Agent>(agent),
        title: Some("Certificate renewal".into()),
        channel: None,
        contact_id: None,
    };
    let c = conversations::start(db, owner, start).await?;
    let ask = "Please add a task to renew the VPN certificate before it expires.";
    let send =
        SendMessageInput { conversation_id: Id::of::<crate::nodes::AgentConversation>(c.id), content: ask.into() };
    let reply = conversations::send(db, owner, send).await?;
    let model = crate::service::providers::local_model(db, o).await?;
    let f = spend::RunFor { agent, model: model.id, member: Some(member), chat: Some((c.id, reply.id)) };
    let run = spend::start(db, o, f, RunTrigger::Chat, json!({ "message": ask })).await?;
    let origin = Origin { run, message: reply.id, agent, member };
    let session = actions::agent_session(db, o, origin).await?;
    let tool = tools::find("create_task").ok_or_else(|| AppError::internal("create_task tool"))?;
    let args = json!({ "projectId": Project::gid(project), "title": "Renew the VPN certificate", "priority": "HIGH" });
    let proposal = tools::propose(db, &session, tool, &args).await?;
    let action = actions::propose(db, &session, origin, (tool, "demo_call_1"), proposal).await?;
    let calls = json!([{ "calls": [{ "id": "demo_call_1", "name": "create_task", "arguments": args.to_string(),
                                     "status": "PROPOSED", "result": null, "actionId": action.to_string() }] }]);
    let sql = "UPDATE agent_messages SET status = 'WAITING', run_id = $2, tool_calls = $3, \
               content = 'I can add that task for you once you approve it.' WHERE id = $1";
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [reply.id.into(), run.into(), calls.into()],
    ))
    .await?;
    spend::set_status(db, run, crate::enums::RunStatus::Waiting, None, None).await
}
