//! Workflows, prompt templates, insights, MCP servers and call recordings in GraphQL.

use opsgraph_core::gql::json;
use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, datetime, enum_value, gid_named, list_field, node_mutation, node_mutation_with, node_object,
    opt, parent, payload_value, prop, ref_field, ref_field_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, Permission, RequestCtx, node::NodeType};
use opsgraph_crm::nodes::{Account, Contact, Deal};
use opsgraph_org::nodes::{Membership, Organization};
use opsgraph_work::nodes::{Project, Task};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{
    call_recording, insight, mcp_server, prompt_template, prompt_version, step_log, workflow, workflow_run,
};
use crate::enums::{AgentChannel, AgentStatus, ConditionOp, InsightKind, StepKind, WorkflowRunStatus};
use crate::graphql::models::runtime;
use crate::nodes::{AgentConversation, AiInsight, CallRecording, McpServer, PromptTemplate, Workflow, WorkflowRun};
use crate::service::{Runtime, insights, mcp, templates, voice, workflows};

fn text(s: &str) -> Value {
    s.to_owned().into()
}

macro_rules! spec {
    ($name:ident, $entity:ident, $node:ident, $sort:ident, $filters:expr) => {
        /// Lists of the node.
        pub static $name: LazyLock<ListSpec<$entity::Entity>> = LazyLock::new(|| {
            #[allow(unused_imports, reason = "some lists filter on no column")]
            use $entity::Column as C;
            ListSpec {
                node: $node::NAME,
                id: C::Id,
                filters: $filters,
                sorts: vec![sk("CREATED_AT", C::$sort, S::DateTime)],
                default_sort: "CREATED_AT",
                lean: vec![],
                aggregates: vec![],
                groups: vec![],
            }
        });
    };
}

spec!(
    WORKFLOWS,
    workflow,
    Workflow,
    CreatedAt,
    vec![ff("status", workflow::Column::Status, K::Enum(AgentStatus::NAME))]
);
spec!(
    WORKFLOW_RUNS,
    workflow_run,
    WorkflowRun,
    CreatedAt,
    vec![ff("status", workflow_run::Column::Status, K::Enum(WorkflowRunStatus::NAME))]
);
spec!(TEMPLATES, prompt_template, PromptTemplate, CreatedAt, vec![ff("name", prompt_template::Column::Name, K::Text)]);
spec!(
    INSIGHTS,
    insight,
    AiInsight,
    CreatedAt,
    vec![
        ff("kind", insight::Column::Kind, K::Enum(InsightKind::NAME)),
        ff("actionable", insight::Column::Actionable, K::Boolean)
    ]
);
spec!(MCP_SERVERS, mcp_server, McpServer, CreatedAt, vec![ff("name", mcp_server::Column::Name, K::Text)]);
spec!(RECORDINGS, call_recording, CallRecording, StartedAt, vec![]);

opsgraph_core::id_input!(
    /// Names one MCP server.
    McpServerIdInput,
    "The server."
);

fn workflow_object() -> Object {
    type W = workflow::Model;
    let nn = TypeRef::named_nn;
    node_object::<Workflow>("A trigger on a kind of domain event, conditions on it, and ordered steps.")
        .field(prop::<W>("name", nn(TypeRef::STRING), "Name.", |w| text(&w.name)))
        .field(prop::<W>("description", TypeRef::named(TypeRef::STRING), "What it is for.", |w| {
            opt(w.description.clone())
        }))
        .field(prop::<W>("triggerEvent", nn(TypeRef::STRING), "The event kind that starts it.", |w| {
            text(&w.trigger_event)
        }))
        .field(prop::<W>("conditions", nn("JSON"), "All must hold.", |w| json(&w.conditions)))
        .field(prop::<W>("steps", nn("JSON"), "Its steps in order.", |w| json(&w.steps)))
        .field(prop::<W>("status", AgentStatus::nn(), "ACTIVE runs.", |w| enum_value(&w.status)))
        .field(ref_field_nn::<W, Membership>("owner", "Whose rights its steps use.", |w| w.owner_id))
        .field(prop::<W>("runCount", nn(TypeRef::INT), "Runs started.", |w| {
            i32::try_from(w.run_count).unwrap_or(i32::MAX).into()
        }))
        .field(prop::<W>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |w| w.version.into()))
        .field(list_field("runs", &WORKFLOW_RUNS, "Its runs, newest first by default order.", |ctx, req| {
            req.require(Permission::AiManage)?;
            let w = parent::<W>(ctx)?;
            Ok(workflow_run::Entity::find().filter(workflow_run::Column::WorkflowId.eq(w.id)))
        }))
}

fn run_object() -> Object {
    type R = workflow_run::Model;
    let nn = TypeRef::named_nn;
    let dt = opsgraph_core::gql::scalar::DATE_TIME;
    node_object::<WorkflowRun>("One execution of a workflow for one event.")
        .field(ref_field_nn::<R, Workflow>("workflow", "The workflow.", |r| r.workflow_id))
        .field(prop::<R>("event", nn("JSON"), "The triggering event.", |r| json(&r.event)))
        .field(prop::<R>("status", WorkflowRunStatus::nn(), "Where it is.", |r| enum_value(&r.status)))
        .field(prop::<R>("stepIndex", nn(TypeRef::INT), "Steps done.", |r| r.step_index.into()))
        .field(prop::<R>("attempts", nn(TypeRef::INT), "Attempts of the current step.", |r| r.attempts.into()))
        .field(prop::<R>("error", TypeRef::named(TypeRef::STRING), "The last failure.", |r| opt(r.error.clone())))
        .field(prop::<R>("startedAt", nn(dt), "Started.", |r| datetime(&r.started_at)))
        .field(prop::<R>("finishedAt", TypeRef::named(dt), "Finished.", |r| opt(r.finished_at.as_ref().map(datetime))))
        .field(
            Field::new("log", TypeRef::named_nn_list_nn("WorkflowStepLog"), |ctx| {
                FieldFuture::new(async move {
                    let req = RequestCtx::of(&ctx)?;
                    req.require(Permission::AiManage)?;
                    let r = parent::<R>(&ctx)?;
                    let rows = step_log::Entity::find()
                        .filter(step_log::Column::RunId.eq(r.id))
                        .order_by_asc(step_log::Column::CreatedAt)
                        .all(req.db.as_ref())
                        .await
                        .map_err(|e| AppError::from(e).into_graphql())?;
                    Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("Every attempt of every step, in order."),
        )
}

fn log_object() -> Object {
    type L = step_log::Model;
    let nn = TypeRef::named_nn;
    Object::new("WorkflowStepLog")
        .description("One attempt of one step.")
        .field(prop::<L>("stepIndex", nn(TypeRef::INT), "The step.", |l| l.step_index.into()))
        .field(prop::<L>("kind", StepKind::nn(), "What it does.", |l| enum_value(&l.kind)))
        .field(prop::<L>("status", nn(TypeRef::STRING), "DONE or FAILED.", |l| text(&l.status)))
        .field(prop::<L>("attempt", nn(TypeRef::INT), "Which attempt.", |l| l.attempt.into()))
        .field(prop::<L>("output", TypeRef::named("JSON"), "What it produced.", |l| {
            l.output.as_ref().map_or(Value::Null, json)
        }))
        .field(prop::<L>("error", TypeRef::named(TypeRef::STRING), "Why it failed.", |l| opt(l.error.clone())))
        .field(prop::<L>("at", nn(opsgraph_core::gql::scalar::DATE_TIME), "When.", |l| datetime(&l.created_at)))
}

fn template_object() -> Object {
    type T = prompt_template::Model;
    let nn = TypeRef::named_nn;
    node_object::<PromptTemplate>("A named, versioned prompt with declared variables and usage statistics.")
        .field(prop::<T>("name", nn(TypeRef::STRING), "Name.", |t| text(&t.name)))
        .field(prop::<T>("category", TypeRef::named(TypeRef::STRING), "Category.", |t| opt(t.category.clone())))
        .field(prop::<T>("currentVersion", nn(TypeRef::INT), "The version agents use.", |t| t.current_version.into()))
        .field(prop::<T>("usageCount", nn("Int64"), "Times used.", |t| t.usage_count.to_string().into()))
        .field(prop::<T>("successRate", TypeRef::named(TypeRef::FLOAT), "Finished runs that succeeded (0..1).", |t| {
            let done = t.success_count + t.failure_count;
            if done == 0 { Value::Null } else { (t.success_count as f64 / done as f64).into() }
        }))
        .field(prop::<T>("lastUsedAt", TypeRef::named(opsgraph_core::gql::scalar::DATE_TIME), "Last used.", |t| {
            opt(t.last_used_at.as_ref().map(datetime))
        }))
        .field(prop::<T>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |t| t.version.into()))
        .field(
            Field::new("versions", TypeRef::named_nn_list_nn("PromptTemplateVersion"), |ctx| {
                FieldFuture::new(async move {
                    let req = RequestCtx::of(&ctx)?;
                    req.require(Permission::AiUse)?;
                    let t = parent::<T>(&ctx)?;
                    let rows = prompt_version::Entity::find()
                        .filter(prompt_version::Column::TemplateId.eq(t.id))
                        .order_by_asc(prompt_version::Column::Number)
                        .all(req.db.as_ref())
                        .await
                        .map_err(|e| AppError::from(e).into_graphql())?;
                    Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
                })
            })
            .description("Its versions, oldest first."),
        )
}

fn version_object() -> Object {
    type V = prompt_version::Model;
    let nn = TypeRef::named_nn;
    Object::new("PromptTemplateVersion")
        .description("One version of a prompt template.")
        .field(prop::<V>("number", nn(TypeRef::INT), "Its number.", |v| v.number.into()))
        .field(prop::<V>("body", nn(TypeRef::STRING), "The prompt.", |v| text(&v.body)))
        .field(prop::<V>("variables", nn("JSON"), "Declared variables: `[{name, description, default}]`.", |v| {
            json(&v.variables)
        }))
        .field(prop::<V>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Written.", |v| {
            datetime(&v.created_at)
        }))
}

fn insight_object() -> Object {
    type I = insight::Model;
    let nn = TypeRef::named_nn;
    node_object::<AiInsight>("An AI finding about a project, task, deal, account or contact.")
        .field(prop::<I>("subjectId", nn(TypeRef::ID), "What it is about.", |i| {
            gid_named(&i.subject_type, i.subject_id)
        }))
        .field(prop::<I>("kind", InsightKind::nn(), "Its kind.", |i| enum_value(&i.kind)))
        .field(prop::<I>("title", nn(TypeRef::STRING), "Headline.", |i| text(&i.title)))
        .field(prop::<I>("body", nn(TypeRef::STRING), "Details.", |i| text(&i.body)))
        .field(prop::<I>("confidence", nn(TypeRef::FLOAT), "How sure (0..1).", |i| i.confidence.into()))
        .field(prop::<I>("sentiment", TypeRef::named(TypeRef::FLOAT), "Sentiment (-1..1).", |i| opt(i.sentiment)))
        .field(prop::<I>("actionable", nn(TypeRef::BOOLEAN), "Someone should act.", |i| i.actionable.into()))
        .field(ref_field::<I, crate::nodes::Agent>("agent", "The agent that found it.", |i| i.agent_id))
        .field(ref_field::<I, crate::nodes::AiRun>("run", "The run that found it.", |i| i.run_id))
        .field(prop::<I>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Found.", |i| datetime(&i.created_at)))
}

fn mcp_object() -> Object {
    type M = mcp_server::Model;
    let nn = TypeRef::named_nn;
    node_object::<McpServer>("A Model Context Protocol server and the tools it listed.")
        .field(prop::<M>("name", nn(TypeRef::STRING), "Name.", |m| text(&m.name)))
        .field(prop::<M>("url", nn(TypeRef::STRING), "Its endpoint.", |m| text(&m.url)))
        .field(prop::<M>("active", nn(TypeRef::BOOLEAN), "In use.", |m| m.active.into()))
        .field(prop::<M>("tools", nn("JSON"), "Its tools as last listed: `[{name, description}]`.", |m| json(&m.tools)))
        .field(prop::<M>("toolsListedAt", TypeRef::named(opsgraph_core::gql::scalar::DATE_TIME), "When.", |m| {
            opt(m.tools_listed_at.as_ref().map(datetime))
        }))
        .field(prop::<M>("lastError", TypeRef::named(TypeRef::STRING), "Why the last listing failed.", |m| {
            opt(m.last_error.clone())
        }))
        .field(prop::<M>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |m| m.version.into()))
}

fn recording_object() -> Object {
    type C = call_recording::Model;
    let nn = TypeRef::named_nn;
    node_object::<CallRecording>("A recorded call of a voice conversation.")
        .field(ref_field_nn::<C, AgentConversation>("conversation", "Its conversation.", |c| c.conversation_id))
        .field(ref_field::<C, Contact>("contact", "The crm contact on the call.", |c| c.contact_id))
        .field(prop::<C>("url", nn(TypeRef::STRING), "Where the audio is.", |c| text(&c.url)))
        .field(prop::<C>("durationSecs", nn(TypeRef::INT), "Length.", |c| c.duration_secs.into()))
        .field(prop::<C>("transcript", TypeRef::named(TypeRef::STRING), "What was said.", |c| {
            opt(c.transcript.clone())
        }))
        .field(prop::<C>("startedAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "When.", |c| datetime(&c.started_at)))
}

fn insights_of<N: NodeType>(parts: &mut SchemaParts) {
    parts.extend::<N>(list_field("aiInsights", &INSIGHTS, "AI findings about it.", |ctx, req| {
        req.require(Permission::AiUse)?;
        let subject = N::id(parent::<opsgraph_core::node::Model<N>>(ctx)?);
        Ok(insight::Entity::find()
            .filter(insight::Column::SubjectId.eq(subject))
            .filter(insight::Column::DismissedAt.is_null()))
    }));
}

fn render_field() -> Field {
    Field::new("renderPromptTemplate", TypeRef::named_nn(TypeRef::STRING), |ctx| {
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let org = req.require(Permission::AiUse)?;
            let gid = ctx.args.try_get("templateId")?.string()?.to_owned();
            let id = PromptTemplate::decode(&gid, "templateId").map_err(AppError::into_graphql)?;
            let number = ctx.args.get("version").map(|v| v.i64()).transpose()?.map(|n| i32::try_from(n).unwrap_or(0));
            let values = ctx.args.get("variables").map(|v| v.deserialize::<serde_json::Value>()).transpose()?;
            let db = req.db.as_ref();
            let t = templates::get(db, org, id).await?;
            let v = templates::version(db, &t, number).await?;
            let builtins = std::collections::BTreeMap::from([
                ("today", chrono::Utc::now().date_naive().to_string()),
                ("agent_name", "the agent".to_owned()),
            ]);
            let text = templates::render(&v, &values.unwrap_or(serde_json::Value::Null), &builtins)?;
            Ok(Some(FieldValue::value(text)))
        })
    })
    .argument(InputValue::new("templateId", TypeRef::named_nn(TypeRef::ID)).description("The template."))
    .argument(InputValue::new("version", TypeRef::named(TypeRef::INT)).description("A version (default current)."))
    .argument(InputValue::new("variables", TypeRef::named("JSON")).description("Values (an object of strings)."))
    .description("A template rendered with values: unknown and missing variables are refused by name.")
}

fn mutations(parts: &mut SchemaParts) {
    for (node, field) in [
        (Workflow::NAME, "workflow"),
        (PromptTemplate::NAME, "template"),
        (AiInsight::NAME, "insight"),
        (McpServer::NAME, "server"),
        (CallRecording::NAME, "recording"),
    ] {
        parts.object(opsgraph_core::gql::payload_object(
            &format!("{node}Payload"),
            field,
            TypeRef::named_nn(node),
            &format!("Result of a mutation changing a {node}."),
        ));
    }
    parts.input::<workflows::WorkflowConditionInput>().input::<workflows::WorkflowStepInput>();
    parts.input::<workflows::CreateWorkflowInput>().input::<workflows::SetWorkflowStatusInput>();
    parts.input::<templates::PromptVariableInput>().input::<templates::CreatePromptTemplateInput>();
    parts.input::<templates::AddPromptVersionInput>().input::<insights::RecordInsightInput>();
    parts.input::<McpServerIdInput>();
    parts
        .input::<mcp::RegisterMcpServerInput>()
        .input::<mcp::BindMcpServerInput>()
        .input::<voice::AddCallRecordingInput>();
    parts.mutation(node_mutation(
        Workflow,
        "createWorkflow",
        "Define a workflow (admins); it sees events from now on.",
        |req, i| async move { Ok(payload_value(workflows::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Workflow,
        "setWorkflowStatus",
        "Pause, resume or archive a workflow (admins).",
        |req, i| async move { Ok(payload_value(workflows::set_status(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        PromptTemplate,
        "createPromptTemplate",
        "Create a prompt template (admins).",
        |req, i| async move { Ok(payload_value(templates::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        PromptTemplate,
        "addPromptTemplateVersion",
        "Add a version; it becomes current (admins).",
        |req, i| async move { Ok(payload_value(templates::add_version(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        AiInsight,
        "recordInsight",
        "Attach an AI finding to a project, task, deal, account or contact.",
        |req, i| async move { Ok(payload_value(insights::record(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        McpServer,
        "registerMcpServer",
        "Register an MCP server (admins).",
        |req, i| async move { Ok(payload_value(mcp::register(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        McpServer,
        "bindMcpServer",
        "Let an agent use an MCP server (admins).",
        |req, i| async move { Ok(payload_value(mcp::bind(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation_with(
        McpServer,
        "refreshMcpServerTools",
        "List a server's tools over the protocol and keep them (or the error) on it (admins).",
        |req, rt: Option<Runtime>, i: McpServerIdInput| async move {
            let rt = runtime(rt)?;
            Ok(payload_value(mcp::refresh(req.db.as_ref(), &req.session, &i.id, rt.allow_private_hosts).await?))
        },
    ));
    parts.mutation(node_mutation(
        CallRecording,
        "addCallRecording",
        "Add a recording to your VOICE conversation.",
        |req, i| async move { Ok(payload_value(voice::add(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

/// Registers workflows, templates, insights, MCP servers and recordings.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<StepKind>().enumeration::<ConditionOp>().enumeration::<WorkflowRunStatus>();
    parts.enumeration::<InsightKind>().enumeration::<AgentChannel>();
    parts
        .list(&*WORKFLOWS)
        .list(&*WORKFLOW_RUNS)
        .list(&*TEMPLATES)
        .list(&*INSIGHTS)
        .list(&*MCP_SERVERS)
        .list(&*RECORDINGS);
    parts.object(workflow_object()).object(run_object()).object(log_object()).object(template_object());
    parts.object(version_object()).object(insight_object()).object(mcp_object()).object(recording_object());
    parts.node::<Workflow>().node::<WorkflowRun>().node::<PromptTemplate>().node::<AiInsight>();
    parts.node::<McpServer>().node::<CallRecording>();
    parts.extend::<Organization>(list_field(
        "workflows",
        &WORKFLOWS,
        "The organisation's workflows (admins).",
        |_, req| {
            let org = req.require(Permission::AiManage)?;
            Ok(workflow::Entity::find().filter(workflow::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(list_field("promptTemplates", &TEMPLATES, "Prompt templates.", |_, req| {
        let org = req.require(Permission::AiUse)?;
        Ok(prompt_template::Entity::find().filter(prompt_template::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(list_field("mcpServers", &MCP_SERVERS, "Registered MCP servers.", |_, req| {
        let org = req.require(Permission::AiUse)?;
        Ok(mcp_server::Entity::find().filter(mcp_server::Column::OrgId.eq(org)))
    }));
    parts.extend::<AgentConversation>(prop::<crate::entity::conversation::Model>(
        "channel",
        AgentChannel::nn(),
        "CHAT or VOICE.",
        |c| enum_value(&c.channel),
    ));
    parts.extend::<AgentConversation>(ref_field::<crate::entity::conversation::Model, Contact>(
        "contact",
        "The crm contact on the call.",
        |c| c.contact_id,
    ));
    parts.extend::<AgentConversation>(list_field("recordings", &RECORDINGS, "Its call recordings.", |ctx, req| {
        req.require(Permission::AiUse)?;
        let c = parent::<crate::entity::conversation::Model>(ctx)?;
        Ok(call_recording::Entity::find().filter(call_recording::Column::ConversationId.eq(c.id)))
    }));
    insights_of::<Project>(parts);
    insights_of::<Task>(parts);
    insights_of::<Deal>(parts);
    insights_of::<Account>(parts);
    insights_of::<Contact>(parts);
    parts.query(render_field());
    mutations(parts);
}
