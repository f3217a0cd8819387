//! Runs, spend and approvals in GraphQL: `AiRun`, `PendingAction` with
//! `approveAction` / `rejectAction`, `Organization.aiUsage` (the ledger grouped by day,
//! model, agent or member), `Organization.aiBudget` and `setAiBudget`.

use opsgraph_core::gql::json;
use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, Money, SchemaParts, datetime, enum_value, gid_named, list_field, money_field, mutation_with,
    node_mutation_with, node_object, opt, payload, payload_object, payload_value, prop, ref_field, ref_field_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, Permission, RequestCtx, node::NodeType, validate};
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::{Membership, Organization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::entity::{pending_action as action, run};
use crate::enums::{ActionRisk, ActionStatus, RunStatus, RunTrigger};
use crate::graphql::models::runtime;
use crate::nodes::{Agent, AgentConversation, AgentMessage, AiRun, LlmModel, PendingAction};
use crate::service::spend::{self, GroupBy, UsageRow, to_money};
use crate::service::{Runtime, actions};

/// `AiRun` lists.
pub static RUNS: LazyLock<ListSpec<run::Entity>> = LazyLock::new(|| {
    use run::Column as C;
    ListSpec {
        node: AiRun::NAME,
        id: C::Id,
        filters: vec![
            ff("status", C::Status, K::Enum(RunStatus::NAME)),
            ff("trigger", C::Trigger, K::Enum(RunTrigger::NAME)),
            ff("agentId", C::AgentId, K::Id(Agent::NAME)),
        ],
        sorts: vec![sk("STARTED_AT", C::StartedAt, S::DateTime)],
        default_sort: "STARTED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `PendingAction` lists.
pub static ACTIONS: LazyLock<ListSpec<action::Entity>> = LazyLock::new(|| {
    use action::Column as C;
    ListSpec {
        node: PendingAction::NAME,
        id: C::Id,
        filters: vec![
            ff("status", C::Status, K::Enum(ActionStatus::NAME)),
            ff("risk", C::Risk, K::Enum(ActionRisk::NAME)),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("EXPIRES_AT", C::ExpiresAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

fn money(micros: i64, currency: &str) -> Option<Money> {
    Some(Money { amount: to_money(micros), currency: currency.trim().to_owned() })
}

fn run_object() -> Object {
    type R = run::Model;
    let nn = TypeRef::named_nn;
    let dt = opsgraph_core::gql::scalar::DATE_TIME;
    node_object::<AiRun>("One execution of an agent: what started it, what it did, its tokens, cost and duration.")
        .field(ref_field_nn::<R, Agent>("agent", "The agent.", |r| r.agent_id))
        .field(ref_field_nn::<R, LlmModel>("model", "Its model.", |r| r.model_id))
        .field(ref_field::<R, Membership>("member", "The member it worked for.", |r| r.member_id))
        .field(ref_field::<R, AgentConversation>("conversation", "Its conversation.", |r| r.conversation_id))
        .field(ref_field::<R, AgentMessage>("message", "The reply it wrote.", |r| r.message_id))
        .field(prop::<R>("trigger", RunTrigger::nn(), "What started it.", |r| enum_value(&r.trigger)))
        .field(prop::<R>("status", RunStatus::nn(), "Where it is.", |r| enum_value(&r.status)))
        .field(prop::<R>("input", nn("JSON"), "What it was given.", |r| json(&r.input)))
        .field(prop::<R>("output", TypeRef::named("JSON"), "What it produced.", |r| {
            r.output.as_ref().map_or(Value::Null, json)
        }))
        .field(prop::<R>("error", TypeRef::named(TypeRef::STRING), "Why it failed.", |r| opt(r.error.clone())))
        .field(prop::<R>("steps", nn(TypeRef::INT), "Model calls.", |r| r.steps.into()))
        .field(prop::<R>("tokensIn", nn("Int64"), "Prompt tokens.", |r| r.tokens_in.to_string().into()))
        .field(prop::<R>("tokensOut", nn("Int64"), "Generated tokens.", |r| r.tokens_out.to_string().into()))
        .field(money_field::<R>("cost", false, "What its model calls cost.", |r| money(r.cost_micros, &r.currency)))
        .field(prop::<R>("startedAt", nn(dt), "Started.", |r| datetime(&r.started_at)))
        .field(prop::<R>("finishedAt", TypeRef::named(dt), "Finished.", |r| opt(r.finished_at.as_ref().map(datetime))))
        .field(prop::<R>("durationMs", TypeRef::named(TypeRef::INT), "Start to finish.", |r| opt(r.duration_ms)))
}

fn action_object() -> Object {
    type A = action::Model;
    let nn = TypeRef::named_nn;
    let dt = opsgraph_core::gql::scalar::DATE_TIME;
    node_object::<PendingAction>(
        "A change an agent's tool proposed instead of making it: approve it to apply it as the agent, or reject it.",
    )
    .field(ref_field_nn::<A, Agent>("agent", "The agent.", |a| a.agent_id))
    .field(ref_field_nn::<A, Membership>("member", "Whom the agent works for (who may decide).", |a| a.member_id))
    .field(ref_field_nn::<A, AiRun>("run", "The run waiting for it.", |a| a.run_id))
    .field(ref_field_nn::<A, AgentMessage>("message", "The reply whose tool proposed it.", |a| a.message_id))
    .field(prop::<A>("tool", nn(TypeRef::STRING), "The tool.", |a| a.tool.clone().into()))
    .field(prop::<A>("arguments", nn("JSON"), "What it would be called with.", |a| json(&a.arguments)))
    .field(prop::<A>("subjectType", nn(TypeRef::STRING), "The kind of record.", |a| a.subject_type.clone().into()))
    .field(prop::<A>("subjectId", TypeRef::named(TypeRef::ID), "The record (none for a creation).", |a| {
        a.subject_id.map_or(Value::Null, |id| gid_named(&a.subject_type, id))
    }))
    .field(prop::<A>("expectedVersion", TypeRef::named(TypeRef::INT), "The record's version when proposed.", |a| {
        opt(a.expected_version)
    }))
    .field(prop::<A>("diff", nn("JSON"), "Each changed field: `{from, to}`.", |a| json(&a.diff)))
    .field(prop::<A>("risk", ActionRisk::nn(), "How much it could hurt.", |a| enum_value(&a.risk)))
    .field(prop::<A>("status", ActionStatus::nn(), "Where it is.", |a| enum_value(&a.status)))
    .field(prop::<A>("expiresAt", nn(dt), "Decide before.", |a| datetime(&a.expires_at)))
    .field(ref_field::<A, Membership>("decidedBy", "Who decided.", |a| a.decided_by))
    .field(prop::<A>("decidedAt", TypeRef::named(dt), "When.", |a| opt(a.decided_at.as_ref().map(datetime))))
    .field(prop::<A>("reason", TypeRef::named(TypeRef::STRING), "Why.", |a| opt(a.reason.clone())))
    .field(prop::<A>("result", TypeRef::named("JSON"), "What applying it returned.", |a| {
        a.result.as_ref().map_or(Value::Null, json)
    }))
    .field(prop::<A>("createdAt", nn(dt), "Proposed.", |a| datetime(&a.created_at)))
}

/// How `aiUsage` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, opsgraph_derive::GqlEnum)]
pub enum UsageGrouping {
    /// Per day.
    Day,
    /// Per model.
    Model,
    /// Per agent.
    Agent,
    /// Per member.
    Member,
}

fn usage_object() -> Object {
    type U = UsageRow;
    let nn = TypeRef::named_nn;
    Object::new("AiUsage")
        .description("A group of the usage ledger: model calls, tokens and cost.")
        .field(prop::<U>("day", TypeRef::named("Date"), "The day (by DAY).", |u| opt(u.day.map(|d| d.to_string()))))
        .field(ref_field::<U, LlmModel>("model", "The model (by MODEL).", |u| u.key.filter(|_| u.by == GroupBy::Model)))
        .field(ref_field::<U, Agent>("agent", "The agent (by AGENT).", |u| u.key.filter(|_| u.by == GroupBy::Agent)))
        .field(ref_field::<U, Membership>("member", "The member (by MEMBER).", |u| {
            u.key.filter(|_| u.by == GroupBy::Member)
        }))
        .field(prop::<U>("calls", nn(TypeRef::INT), "Model calls.", |u| {
            i32::try_from(u.calls).unwrap_or(i32::MAX).into()
        }))
        .field(prop::<U>("tokensIn", nn("Int64"), "Prompt tokens.", |u| u.tokens_in.to_string().into()))
        .field(prop::<U>("tokensOut", nn("Int64"), "Generated tokens.", |u| u.tokens_out.to_string().into()))
        .field(money_field::<U>("cost", false, "Cost.", |u| money(u.cost_micros, &u.currency)))
}

/// The organisation's budget as read.
struct Budget {
    limit: i64,
    spent: i64,
    currency: String,
}

fn budget_object() -> Object {
    type B = Budget;
    Object::new("AiBudget")
        .description("The organisation's monthly AI budget: new runs are refused once it is spent.")
        .field(money_field::<B>("monthlyLimit", false, "The limit per calendar month.", |b| {
            money(b.limit, &b.currency)
        }))
        .field(money_field::<B>("spent", false, "Spent this month (ledger rows in its currency).", |b| {
            money(b.spent, &b.currency)
        }))
        .field(money_field::<B>("remaining", false, "Left this month.", |b| {
            money((b.limit - b.spent).max(0), &b.currency)
        }))
}

/// Set the monthly AI budget.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetAiBudgetInput {
    /// The limit per calendar month (0 or more, at most 6 decimals).
    pub monthly_limit: rust_decimal::Decimal,
    /// ISO 4217 currency (default USD).
    pub currency: Option<String>,
}

fn budget_field() -> Field {
    Field::new("aiBudget", TypeRef::named("AiBudget"), |ctx| {
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let org = req.require(Permission::AiUse)?;
            let b = spend::budget(req.db.as_ref(), org).await?;
            Ok(b.map(|(limit, spent, currency)| FieldValue::owned_any(Budget { limit, spent, currency })))
        })
    })
    .description("The monthly AI budget, if one is set.")
}

fn usage_field() -> Field {
    let nn = TypeRef::named_nn;
    Field::new("aiUsage", TypeRef::named_nn_list_nn("AiUsage"), |ctx| {
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let org = req.require(Permission::AiManage)?;
            let day = |name: &str| -> Result<chrono::NaiveDate, async_graphql::Error> {
                let s = ctx.args.try_get(name)?.string()?;
                validate::date(name, s).map_err(AppError::into_graphql)
            };
            let (from, to) = (day("from")?, day("to")?);
            if to < from || (to - from).num_days() > 366 {
                return Err(AppError::bad_input("to", "to is on or after from, at most 366 days later").into_graphql());
            }
            let by = match ctx.args.try_get("groupBy")?.enum_name()? {
                "MODEL" => GroupBy::Model,
                "AGENT" => GroupBy::Agent,
                "MEMBER" => GroupBy::Member,
                _ => GroupBy::Day,
            };
            let rows = spend::usage(req.db.as_ref(), org, (from, to), by).await?;
            Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
        })
    })
    .argument(InputValue::new("from", nn("Date")).description("First day."))
    .argument(InputValue::new("to", nn("Date")).description("Last day (at most 366 days after `from`)."))
    .argument(InputValue::new("groupBy", nn(UsageGrouping::NAME)).description("How to group."))
    .description("The AI usage ledger grouped by day, model, agent or member (admins).")
}

/// Ask an agent one question.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct AskAgentInput {
    /// The agent.
    pub agent_id: opsgraph_core::input::Id,
    /// The question (1..4,000 characters).
    pub question: String,
}

/// What `askAgent` answers.
struct Asked {
    answer: crate::service::ask::Answer,
}

fn asked_object() -> Object {
    let nn = TypeRef::named_nn;
    Object::new("AskAgentPayload")
        .description("An agent's whole answer; its cost is also in `extensions.aiCost`.")
        .field(prop::<Asked>("answer", nn(TypeRef::STRING), "The answer.", |a| a.answer.text.clone().into()))
        .field(ref_field_nn::<Asked, AiRun>("run", "The run (tokens, cost, duration).", |a| a.answer.run))
}

fn mutations(parts: &mut SchemaParts) {
    parts.object(asked_object()).input::<AskAgentInput>();
    parts.mutation(mutation_with(
        "askAgent",
        "AskAgentPayload",
        "Ask an agent one question and wait for the whole answer (no conversation, no tools); the run and its cost \
         commit with the response, and `extensions.aiCost` reports the cost.",
        |req, rt: Option<Runtime>, i: AskAgentInput| async move {
            let rt = runtime(rt)?;
            req.require(Permission::AiUse)?;
            let agent = Agent::decode(&i.agent_id, "agentId")?;
            let question = validate::text("question", &i.question, 1, 4000, true)?;
            let a = crate::service::ask::ask_on(req.db.as_ref(), &rt, &req.session, agent, &question).await?;
            req.add_ai_cost(a.tokens, a.cost_micros, &a.currency);
            Ok(FieldValue::owned_any(Asked { answer: a }))
        },
    ));
    parts.object(payload::<PendingAction>("action", "Result of a decision on a PendingAction."));
    parts.object(payload_object("SetAiBudgetPayload", "budget", TypeRef::named_nn("AiBudget"), "The budget as set."));
    parts.input::<actions::DecideActionInput>().input::<SetAiBudgetInput>();
    parts.mutation(node_mutation_with(
        PendingAction,
        "approveAction",
        "Apply a proposed change as the agent (CONFLICT if its record changed since; nothing is applied); the run \
         resumes with the outcome.",
        |req, rt: Option<Runtime>, i| async move {
            let rt = runtime(rt)?;
            Ok(payload_value(actions::approve(req.db.as_ref(), &req.session, &rt.models, i).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        PendingAction,
        "rejectAction",
        "Refuse a proposed change, saying why; the run resumes with the refusal.",
        |req, _: Option<Runtime>, i| async move {
            Ok(payload_value(actions::reject(req.db.as_ref(), &req.session, i).await?))
        },
    ));
    parts.mutation(mutation_with(
        "setAiBudget",
        "SetAiBudgetPayload",
        "Set the organisation's monthly AI budget (admins).",
        |req, _: Option<Runtime>, i: SetAiBudgetInput| async move {
            let db = req.db.as_ref();
            let org = req.require(Permission::AiManage)?;
            spend::set_budget(db, &req.session, i.monthly_limit, i.currency.as_deref().unwrap_or("USD")).await?;
            let (limit, spent, currency) =
                spend::budget(db, org).await?.ok_or_else(|| AppError::internal("budget not saved"))?;
            Ok(payload_value(Budget { limit, spent, currency }))
        },
    ));
}

/// Registers runs, actions, usage and the budget.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<RunTrigger>().enumeration::<RunStatus>().enumeration::<ActionStatus>();
    parts.enumeration::<UsageGrouping>();
    parts.list(&*RUNS).list(&*ACTIONS);
    parts.object(run_object()).object(action_object()).object(usage_object()).object(budget_object());
    parts.node::<AiRun>().node::<PendingAction>();
    parts.extend::<Organization>(list_field("aiRuns", &RUNS, "Agents' runs (yours; all for admins).", |_, req| {
        let org = req.require(Permission::AiUse)?;
        Ok(run::Entity::find().filter(run::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(list_field(
        "pendingActions",
        &ACTIONS,
        "Changes agents proposed for you to decide (all for admins).",
        |_, req| {
            let org = req.require(Permission::AiUse)?;
            Ok(action::Entity::find().filter(action::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(usage_field()).extend::<Organization>(budget_field());
    mutations(parts);
}
