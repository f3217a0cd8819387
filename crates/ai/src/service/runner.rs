//! The runner: writes the replies `sendMessage` queued (ASSISTANT messages, PENDING),
//! organisation by organisation, safe on several instances. A reply is claimed (STREAMING,
//! `FOR UPDATE SKIP LOCKED`, committed at once: no transaction stays open while a model
//! runs; a reply left STREAMING by a stopped runner is claimed again after [`STALE`]), its
//! run started or resumed, the budget checked, and the agent's model asked: the local one
//! streams a plain answer; a provider's model may call tools ([`super::tool_loop`]), and a
//! reply whose tool proposed a change WAITs for a person. Every model call is priced into
//! the ledger; the finished reply records its tokens, cost, latency and citations.

use std::sync::Arc;
use std::time::Instant;

use opsgraph_core::{AppError, AppResult, Session};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use serde_json::json;
use uuid::Uuid;

use crate::entity::{agent, llm_model};
use crate::enums::{MessageRole, MessageStatus, ModelCapability, RunStatus, RunTrigger};
use crate::llm::openai::Client;
use crate::llm::{Message as Turn, Params, Role};
use crate::service::actions::Origin;
use crate::service::providers::{self, Engine};
use crate::service::stream::{self, Target, session, system_tx};
use crate::service::tool_loop::{self, Loop, Outcome};
use crate::service::{Runtime, actions, agents, conversations, grounding, spend, templates};

/// The instructions of an agent that has none.
pub const DEFAULT_PROMPT: &str = "You are a helpful assistant. Answer briefly.";

/// After how long without a write a STREAMING reply is taken over.
pub const STALE: &str = "5 minutes";

/// Claims the next reply; one left STREAMING by a stopped runner restarts its text (unless
/// tools already ran: their rounds are kept and the loop goes on).
const CLAIM: &str = "WITH c AS (SELECT id, status AS was FROM agent_messages WHERE org_id = $1 AND (status = 'PENDING' \
     OR (status = 'STREAMING' AND updated_at < now() - $2::interval)) ORDER BY created_at, id LIMIT 1 \
     FOR UPDATE SKIP LOCKED) \
  UPDATE agent_messages m SET status = 'STREAMING', attempts = m.attempts + 1, \
    content = CASE WHEN c.was = 'STREAMING' AND m.tool_calls = '[]'::jsonb THEN '' ELSE m.content END \
  FROM c WHERE m.id = c.id RETURNING m.id, m.conversation_id, m.run_id, c.was";

/// One pass over every organisation: expires undecided actions and writes the queued
/// replies; returns the replies written.
pub async fn run_once(pool: &DatabaseConnection, rt: &Runtime) -> AppResult<u64> {
    let mut done = 0;
    for org in opsgraph_org::service::organization::scheduled_ids(pool).await? {
        let db = system_tx(pool, org).await?;
        actions::expire(&db, &session(), org).await?;
        db.commit().await?;
        while let Some((target, run)) = claim(pool, org).await? {
            reply(pool, rt, target, run).await?;
            done += 1;
        }
    }
    Ok(done)
}

async fn claim(pool: &DatabaseConnection, org: Uuid) -> AppResult<Option<(Target, Option<Uuid>)>> {
    let db = system_tx(pool, org).await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, CLAIM, [org.into(), STALE.into()]))
        .await?;
    let claimed = row
        .map(|r| {
            let t = Target { org, message: r.try_get("", "id")?, conversation: r.try_get("", "conversation_id")? };
            let was: String = r.try_get("", "was")?;
            Ok::<_, AppError>((t, r.try_get("", "run_id")?, was))
        })
        .transpose()?;
    if let Some((t, _, was)) = &claimed
        && was == MessageStatus::Streaming.as_str()
    {
        // Subscribers drop the text they had: it is written again.
        let subject = ("message.restarted", t.message, t.conversation);
        conversations::announce(&db, &session(), org, subject, None).await?;
    }
    db.commit().await?;
    Ok(claimed.map(|(t, run, _)| (t, run)))
}

/// What a reply is written from.
struct Prompt {
    agent: agent::Model,
    model: llm_model::Model,
    engine: Engine,
    member: Session,
    turns: Vec<Turn>,
    rounds: Vec<serde_json::Value>,
    run: Uuid,
    /// A team of the agent requires approval for every write.
    team_asks: bool,
}

/// Reads the reply's agent, model and conversation, checks the budget and starts (or
/// resumes) its run, in one transaction.
async fn prompt(pool: &DatabaseConnection, rt: &Runtime, t: Target, run: Option<Uuid>) -> AppResult<Prompt> {
    let db = system_tx(pool, t.org).await?;
    let c = conversations::get(&db, t.org, t.conversation).await?;
    let agent = agents::get(&db, t.org, c.agent_id).await?;
    let model = providers::model(&db, t.org, agent.model_id).await?;
    let engine = providers::engine(&db, &rt.sealer, &model).await?;
    let member = grounding::member_session(&db, t.org, c.member_id).await?;
    let history = conversations::messages(&db, t.conversation).await?;
    spend::check_budget(&db, t.org).await?;
    let team_asks = crate::service::teams::asks_first(&db, agent.id).await?;
    let run = match run {
        Some(r) => r,
        None => {
            let chat = Some((t.conversation, t.message));
            let f = spend::RunFor { agent: agent.id, model: model.id, member: Some(c.member_id), chat };
            let question = history.iter().rev().find(|m| m.role == MessageRole::User.as_str());
            let input = json!({ "message": question.map(|m| m.content.clone()) });
            let r = spend::start(&db, t.org, f, RunTrigger::Chat, input).await?;
            let sql = "UPDATE agent_messages SET run_id = $2 WHERE id = $1";
            db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [t.message.into(), r.into()]))
                .await?;
            r
        }
    };
    let system = instructions(&db, &agent, run).await?;
    db.commit().await?;
    let mut turns = vec![Turn::new(Role::System, system)];
    let mut rounds = vec![];
    for m in &history {
        if m.id == t.message {
            rounds = m.tool_calls.as_array().cloned().unwrap_or_default();
            break;
        }
        let role = match m.role.as_str() {
            r if r == MessageRole::User.as_str() => Role::User,
            r if r == MessageRole::Assistant.as_str() && m.status == MessageStatus::Complete.as_str() => {
                Role::Assistant
            }
            _ => continue,
        };
        turns.push(Turn::new(role, m.content.clone()));
    }
    Ok(Prompt { agent, model, engine, member, turns, rounds, run, team_asks })
}

/// The agent's instructions: its template's current version rendered (the use counted),
/// else its system prompt.
async fn instructions(db: &impl ConnectionTrait, agent: &agent::Model, run: Uuid) -> AppResult<String> {
    let Some(t) = agent.template_id else {
        let p = agent.system_prompt.trim();
        return Ok(if p.is_empty() { DEFAULT_PROMPT.to_owned() } else { agent.system_prompt.clone() });
    };
    let t = templates::get(db, agent.org_id, t).await?;
    let v = templates::version(db, &t, None).await?;
    let builtins = std::collections::BTreeMap::from([
        ("today", chrono::Utc::now().date_naive().to_string()),
        ("agent_name", agent.name.clone()),
    ]);
    templates::count(db, run, None).await?;
    templates::render(&v, &agent.template_variables, &builtins)
}

/// The passages a grounded reply answers from (none when retrieval fails: logged, and the
/// reply is written without them).
async fn sources(pool: &DatabaseConnection, rt: &Runtime, p: &Prompt) -> Vec<grounding::Source> {
    let Some(question) = p.turns.iter().rev().find(|t| t.role == Role::User) else { return vec![] };
    let mut out = vec![];
    for collection in [p.agent.knowledge_collection_id, p.agent.memory_collection_id].into_iter().flatten() {
        match grounding::retrieve(pool, &rt.models, &p.member, collection, &question.content).await {
            Ok(s) => out.extend(s),
            Err(e) => tracing::warn!(agent = %p.agent.id, error = ?e, "retrieval failed; answering without passages"),
        }
    }
    out
}

/// How a reply ended.
enum End {
    Done,
    Waiting,
    Failed(String),
}

/// Writes reply `t` and records the outcome.
async fn reply(pool: &DatabaseConnection, rt: &Runtime, t: Target, run: Option<Uuid>) -> AppResult<()> {
    let started = Instant::now();
    let mut cited = json!([]);
    let mut run_id = run;
    let end = match prompt(pool, rt, t, run).await {
        Ok(mut p) => {
            run_id = Some(p.run);
            let found = sources(pool, rt, &p).await;
            if let Some(system) = p.turns.first_mut() {
                system.content = grounding::instructions(&system.content, &found);
            }
            cited = grounding::citations(&found);
            generate(pool, rt, t, p).await
        }
        Err(AppError::QuotaExceeded(m)) => End::Failed(m),
        Err(e) => {
            tracing::warn!(org = %t.org, message = %t.message, error = ?e, "reply prompt unreadable");
            End::Failed("the conversation could not be read".to_owned())
        }
    };
    let latency = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    finish(pool, t, run_id, end, (latency, cited)).await
}

/// Asks the agent's model.
async fn generate(pool: &DatabaseConnection, rt: &Runtime, t: Target, p: Prompt) -> End {
    let max_tokens = usize::try_from(p.agent.max_tokens).unwrap_or(256);
    match &p.engine {
        Engine::Local => {
            let params = Params { max_tokens, temperature: p.agent.temperature, ..Params::default() };
            match stream::local(pool, t, p.turns, params).await {
                Ok(done) => match record(pool, t.org, p.run, (done.tokens_in as u64, done.tokens_out as u64)).await {
                    Ok(()) => End::Done,
                    Err(e) => End::Failed(e),
                },
                Err(e) => End::Failed(e),
            }
        }
        Engine::Remote(settings) => {
            let client = match Client::new((**settings).clone()) {
                Ok(c) => Arc::new(c),
                Err(e) => return End::Failed(e),
            };
            let offered = if p.model.capabilities.iter().any(|c| c == ModelCapability::Tools.as_str()) {
                agents::tools_of(&p.agent)
                    .into_iter()
                    .filter_map(|t| {
                        let ask = p.team_asks || t.requires_approval.unwrap_or(true);
                        Some((crate::service::tools::find(&t.name)?, ask))
                    })
                    .collect()
            } else {
                vec![]
            };
            let member = p.member.membership_id.unwrap_or_default();
            let origin = Origin { run: p.run, message: t.message, agent: p.agent.id, member };
            let session = match actions::as_agent(p.member.clone(), origin) {
                Ok(s) => s,
                Err(e) => return End::Failed(e.message()),
            };
            let l = Loop {
                pool,
                rt,
                target: t,
                origin,
                session,
                collection: p.agent.knowledge_collection_id,
                client,
                offered,
                max_tokens: u32::try_from(max_tokens).unwrap_or(256),
            };
            let mut rounds = p.rounds;
            match tool_loop::run(&l, tool_loop::wire(&p.turns, &rounds), &mut rounds).await {
                Ok(Outcome::Done) => End::Done,
                Ok(Outcome::Waiting) => End::Waiting,
                Err(e) => End::Failed(e),
            }
        }
    }
}

async fn record(pool: &DatabaseConnection, org: Uuid, run: Uuid, tokens: (u64, u64)) -> Result<(), String> {
    spend::record_now(pool, org, run, tokens).await.map(|_| ()).map_err(|e| {
        tracing::warn!(error = ?e, "usage not recorded");
        "the reply's usage could not be recorded".to_owned()
    })
}

/// Records the end of reply `t`: its status, the run's totals copied onto it, latency and
/// citations, and the event.
async fn finish(
    pool: &DatabaseConnection,
    t: Target,
    run: Option<Uuid>,
    end: End,
    (latency, cited): (i32, serde_json::Value),
) -> AppResult<()> {
    let db = system_tx(pool, t.org).await?;
    let (status, run_status, error) = match &end {
        End::Done => (MessageStatus::Complete, RunStatus::Complete, None),
        End::Waiting => (MessageStatus::Waiting, RunStatus::Waiting, None),
        End::Failed(reason) => {
            tracing::warn!(org = %t.org, message = %t.message, error = %reason, "reply failed");
            (MessageStatus::Failed, RunStatus::Failed, Some(reason.clone()))
        }
    };
    let sql = "UPDATE agent_messages m SET status = $2, error = $3, latency_ms = coalesce(m.latency_ms, 0) + $4, \
                 citations = $5, tokens_in = coalesce(r.tokens_in, 0), tokens_out = coalesce(r.tokens_out, 0), \
                 cost_micros = coalesce(r.cost_micros, 0) \
               FROM (SELECT 1) one LEFT JOIN ai_runs r ON r.id = $6 WHERE m.id = $1 \
               RETURNING m.content, m.tokens_in, m.tokens_out, m.cost_micros";
    let values: Vec<Value> =
        vec![t.message.into(), status.as_str().into(), error.clone().into(), latency.into(), cited.into(), run.into()];
    let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    if let Some(r) = run
        && !matches!(end, End::Waiting)
    {
        templates::count(&db, r, Some(matches!(end, End::Done))).await?;
    }
    if let Some(r) = run {
        let output =
            row.as_ref().map(|row| json!({ "text": row.try_get::<String>("", "content").unwrap_or_default() }));
        spend::set_status(&db, r, run_status, output, error.as_deref()).await?;
    }
    let (kind, data) = match end {
        End::Done => {
            let usage = row.map(|row| {
                json!({ "tokensIn": row.try_get::<i32>("", "tokens_in").unwrap_or(0),
                        "tokensOut": row.try_get::<i32>("", "tokens_out").unwrap_or(0),
                        "costMicros": row.try_get::<i64>("", "cost_micros").unwrap_or(0) })
            });
            ("message.completed", json!({ "usage": usage }))
        }
        End::Waiting => ("message.waiting", json!({})),
        End::Failed(_) => ("message.failed", json!({})),
    };
    conversations::announce_with(&db, &session(), t.org, (kind, t.message, t.conversation), data).await?;
    db.commit().await?;
    Ok(())
}
