//! One question to an agent outside a conversation, answered whole (no streaming, no
//! tools): a run priced into the ledger. A workflow step asks in short transactions of its
//! own ([`ask`]); the `askAgent` mutation asks in the request's transaction ([`ask_on`]),
//! so the run and its cost commit with the response and no second connection is taken.

use opsgraph_core::{AppError, AppResult, Session};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use uuid::Uuid;

use crate::entity::agent;
use crate::enums::{RunStatus, RunTrigger};
use crate::llm::openai::{Client, WireMessage};
use crate::llm::{Message as Turn, Params, Role};
use crate::service::providers::{self, Engine};
use crate::service::runner::DEFAULT_PROMPT;
use crate::service::stream::{self, system_tx};
use crate::service::{Runtime, agents, spend};

/// An answer and what it cost.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The run.
    pub run: Uuid,
    /// The text.
    pub text: String,
    /// Prompt and generated tokens.
    pub tokens: (u64, u64),
    /// Cost in micro-units of `currency`.
    pub cost_micros: i64,
    /// The model's currency.
    pub currency: String,
}

/// Checks the budget and starts the run; the agent and its engine.
async fn prepare(
    db: &impl ConnectionTrait,
    rt: &Runtime,
    member: &Session,
    (agent, trigger, question): (Uuid, RunTrigger, &str),
) -> AppResult<(agent::Model, Engine, Uuid, String)> {
    let org = member.org_id()?;
    let a = agents::get(db, org, agent).await?;
    let model = providers::model(db, org, a.model_id).await?;
    let engine = providers::engine(db, &rt.sealer, &model).await?;
    spend::check_budget(db, org).await?;
    let f = spend::RunFor { agent: a.id, model: model.id, member: member.membership_id, chat: None };
    let run = spend::start(db, org, f, trigger, json!({ "prompt": question })).await?;
    Ok((a, engine, run, model.currency.trim().to_owned()))
}

/// Records the outcome of run `run`; the cost.
async fn conclude(
    db: &impl ConnectionTrait,
    org: Uuid,
    run: Uuid,
    answer: &Result<(String, (u64, u64)), String>,
) -> AppResult<i64> {
    let (status, output, error) = match answer {
        Ok((text, _)) => (RunStatus::Complete, Some(json!({ "text": text })), None),
        Err(e) => (RunStatus::Failed, None, Some(e.as_str())),
    };
    let cost = match answer {
        Ok((_, tokens)) => spend::record(db, org, run, *tokens).await?,
        Err(_) => 0,
    };
    spend::set_status(db, run, status, output, error).await?;
    Ok(cost)
}

fn turns(a: &agent::Model, question: &str) -> (Vec<Turn>, Params) {
    let system = if a.system_prompt.trim().is_empty() { DEFAULT_PROMPT } else { &a.system_prompt };
    let max_tokens = usize::try_from(a.max_tokens).unwrap_or(256);
    let params = Params { max_tokens, temperature: a.temperature, ..Params::default() };
    (vec![Turn::new(Role::System, system), Turn::new(Role::User, question)], params)
}

/// Asks as `member` for a workflow (trigger WORKFLOW), in short transactions of the pool.
pub async fn ask(
    pool: &DatabaseConnection,
    rt: &Runtime,
    member: &Session,
    agent: Uuid,
    question: &str,
) -> Result<Answer, String> {
    let org = member.org_id().map_err(|e| e.message())?;
    let start = async {
        let db = system_tx(pool, org).await?;
        let p = prepare(&db, rt, member, (agent, RunTrigger::Workflow, question)).await?;
        db.commit().await?;
        Ok::<_, AppError>(p)
    };
    let (a, engine, run, currency) = start.await.map_err(|e| e.message())?;
    let (t, params) = turns(&a, question);
    let answer = answer(engine, t, params).await;
    let finish = async {
        let db = system_tx(pool, org).await?;
        let cost = conclude(&db, org, run, &answer).await?;
        db.commit().await?;
        Ok::<i64, AppError>(cost)
    };
    let cost_micros = finish.await.map_err(|e| e.message())?;
    answer.map(|(text, tokens)| Answer { run, text, tokens, cost_micros, currency })
}

/// Asks as `member` in `db` (the request's transaction, trigger CHAT); a failed answer is
/// recorded on its run and returned as the error.
pub async fn ask_on(
    db: &impl ConnectionTrait,
    rt: &Runtime,
    member: &Session,
    agent: Uuid,
    question: &str,
) -> AppResult<Answer> {
    let org = member.org_id()?;
    let (a, engine, run, currency) = prepare(db, rt, member, (agent, RunTrigger::Chat, question)).await?;
    let (t, params) = turns(&a, question);
    let answer = answer(engine, t, params).await;
    let cost_micros = conclude(db, org, run, &answer).await?;
    match answer {
        Ok((text, tokens)) => Ok(Answer { run, text, tokens, cost_micros, currency }),
        Err(e) => Err(AppError::Unavailable(format!("the agent's model failed: {e}"))),
    }
}

/// A whole answer from `engine` and its tokens.
async fn answer(engine: Engine, turns: Vec<Turn>, params: Params) -> Result<(String, (u64, u64)), String> {
    match engine {
        Engine::Local => tokio::task::spawn_blocking(move || {
            let model = stream::local_model()?;
            let done = model.generate(&turns, &params, |_| true).map_err(|e| e.to_string())?;
            Ok((done.text, (done.tokens_in as u64, done.tokens_out as u64)))
        })
        .await
        .map_err(|e| format!("generation stopped: {e}"))?,
        Engine::Remote(settings) => {
            let client = Client::new((*settings).clone())?;
            let wire: Vec<_> = turns.into_iter().map(WireMessage::Plain).collect();
            let max = u32::try_from(params.max_tokens).unwrap_or(256);
            let reply = client.chat(&wire, &[], max, |_| {}).await?;
            let usage = reply.usage.map_or((0, 0), |u| (u.prompt, u.completion));
            Ok((reply.text, usage))
        }
    }
}
