//! The runner: generates the replies `sendMessage` queued (ASSISTANT messages, PENDING),
//! organisation by organisation, safe on several instances. A reply is claimed (STREAMING,
//! `FOR UPDATE SKIP LOCKED`, committed at once: no transaction stays open while the model
//! runs), generated with the agent's model off the async threads, and its text is written as
//! it comes: every [`FLUSH`] the new text is appended to the message and raised as a
//! `message.delta` event in one short transaction, so a subscriber sees it live and a late
//! reader finds the text so far. The finished reply records its tokens and latency
//! (`message.completed`); a failure its reason (`message.failed`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsgraph_core::{AppError, AppResult, Session, Tenant, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::enums::{MessageRole, MessageStatus};
use crate::llm::local::{self, LocalLlm};
use crate::llm::{Completion, Message as Turn, Params, Role};
use crate::service::{agents, conversations, grounding};
use opsgraph_knowledge::embed::Models;

/// How often streamed text is written and announced.
pub const FLUSH: Duration = Duration::from_millis(100);

/// The instructions of an agent that has none.
pub const DEFAULT_PROMPT: &str = "You are a helpful assistant. Answer briefly.";

const CLAIM: &str = "UPDATE agent_messages SET status = 'STREAMING', attempts = attempts + 1 WHERE id = \
  (SELECT id FROM agent_messages WHERE org_id = $1 AND status = 'PENDING' ORDER BY created_at, id LIMIT 1 \
   FOR UPDATE SKIP LOCKED) RETURNING id, conversation_id";

async fn system_tx(pool: &DatabaseConnection, org: Uuid) -> AppResult<TxDb> {
    let db = TxDb::begin(pool, &Tenant { org_id: Some(org), ..Default::default() }).await?;
    db.execute_unprepared("SELECT set_config('app.system', 'ai', true)").await?;
    Ok(db)
}

fn session() -> Session {
    Session::anonymous("ai-runner")
}

/// The local model, loaded once on first use (blocking: call it off the async threads).
pub fn local_model() -> Result<Arc<LocalLlm>, String> {
    static CELL: std::sync::OnceLock<Result<Arc<LocalLlm>, String>> = std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        let path = local::default_path().ok_or("no local language model installed (OPSGRAPH_LLM_MODEL)")?;
        LocalLlm::load(&path).map(Arc::new).map_err(|e| e.to_string())
    })
    .clone()
}

/// One pass over every organisation; returns the replies written. `models` embed the
/// questions of agents grounded in a knowledge collection.
pub async fn run_once(pool: &DatabaseConnection, models: &Models) -> AppResult<u64> {
    let mut done = 0;
    for org in opsgraph_org::service::organization::scheduled_ids(pool).await? {
        while let Some((id, conversation)) = claim(pool, org).await? {
            reply(pool, models, org, id, conversation).await?;
            done += 1;
        }
    }
    Ok(done)
}

async fn claim(pool: &DatabaseConnection, org: Uuid) -> AppResult<Option<(Uuid, Uuid)>> {
    let db = system_tx(pool, org).await?;
    let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, CLAIM, [org.into()])).await?;
    db.commit().await?;
    row.map(|r| Ok((r.try_get("", "id")?, r.try_get("", "conversation_id")?))).transpose()
}

/// What a reply is written from: the turns, the settings, and for a grounded agent where
/// to look (as the member: their session, the collection, the question).
struct Prompt {
    turns: Vec<Turn>,
    params: Params,
    grounding: Option<(Session, Uuid, String)>,
}

/// The prompt of reply `id`: the agent's instructions and the conversation before it.
async fn prompt(pool: &DatabaseConnection, org: Uuid, id: Uuid, conversation: Uuid) -> AppResult<Prompt> {
    let db = system_tx(pool, org).await?;
    let c = conversations::get(&db, org, conversation).await?;
    let agent = agents::get(&db, org, c.agent_id).await?;
    let history = conversations::messages(&db, conversation).await?;
    let member = match agent.knowledge_collection_id {
        Some(_) => Some(grounding::member_session(&db, org, c.member_id).await?),
        None => None,
    };
    db.commit().await?;
    let system = if agent.system_prompt.trim().is_empty() { DEFAULT_PROMPT } else { &agent.system_prompt };
    let mut turns = vec![Turn::new(Role::System, system)];
    for m in history.iter().take_while(|m| m.id != id) {
        let role = match m.role.as_str() {
            r if r == MessageRole::User.as_str() => Role::User,
            r if r == MessageRole::Assistant.as_str() && m.status == MessageStatus::Complete.as_str() => {
                Role::Assistant
            }
            _ => continue,
        };
        turns.push(Turn::new(role, m.content.clone()));
    }
    let params = Params {
        max_tokens: usize::try_from(agent.max_tokens).unwrap_or(256),
        temperature: agent.temperature,
        ..Params::default()
    };
    let question = turns.iter().rev().find(|t| t.role == Role::User).map(|t| t.content.clone());
    let grounding = member.zip(agent.knowledge_collection_id).zip(question).map(|((m, k), q)| (m, k, q));
    Ok(Prompt { turns, params, grounding })
}

/// The passages a grounded reply answers from (none when retrieval fails: logged, and the
/// reply is written without them).
async fn sources(pool: &DatabaseConnection, models: &Models, org: Uuid, p: &Prompt) -> Vec<grounding::Source> {
    let Some((member, collection, question)) = &p.grounding else { return vec![] };
    match grounding::retrieve(pool, models, member, *collection, question).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%org, error = ?e, "retrieval failed; answering without passages");
            vec![]
        }
    }
}

/// Generates reply `id`, streaming its text, and records the outcome.
async fn reply(pool: &DatabaseConnection, models: &Models, org: Uuid, id: Uuid, conversation: Uuid) -> AppResult<()> {
    let started = Instant::now();
    let mut cited = serde_json::json!([]);
    let outcome = match prompt(pool, org, id, conversation).await {
        Ok(mut p) => {
            let found = sources(pool, models, org, &p).await;
            if let Some(system) = p.turns.first_mut() {
                system.content = grounding::instructions(&system.content, &found);
            }
            cited = grounding::citations(&found);
            generate(pool, org, id, conversation, p.turns, p.params).await
        }
        Err(e) => {
            tracing::warn!(%org, message = %id, error = ?e, "reply prompt unreadable");
            Err("the conversation could not be read".to_owned())
        }
    };
    let latency = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let db = system_tx(pool, org).await?;
    let kind = match outcome {
        Ok(done) => {
            let sql = "UPDATE agent_messages SET status = 'COMPLETE', content = $2, tokens_in = $3, tokens_out = $4, \
                       latency_ms = $5, citations = $6 WHERE id = $1";
            let values: Vec<Value> = vec![
                id.into(),
                done.text.into(),
                (done.tokens_in as i32).into(),
                (done.tokens_out as i32).into(),
                latency.into(),
                cited.into(),
            ];
            db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
            "message.completed"
        }
        Err(reason) => {
            tracing::warn!(%org, message = %id, error = %reason, "reply failed");
            let sql = "UPDATE agent_messages SET status = 'FAILED', error = $2, latency_ms = $3 WHERE id = $1";
            let values: Vec<Value> = vec![id.into(), reason.into(), latency.into()];
            db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
            "message.failed"
        }
    };
    conversations::announce(&db, &session(), org, (kind, id, conversation), None).await?;
    db.commit().await?;
    Ok(())
}

/// Appends `text` to the reply and announces it, in one transaction.
async fn flush(pool: &DatabaseConnection, org: Uuid, id: Uuid, conversation: Uuid, text: &str) -> AppResult<()> {
    let db = system_tx(pool, org).await?;
    let sql = "UPDATE agent_messages SET content = content || $2 WHERE id = $1";
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [id.into(), text.into()])).await?;
    conversations::announce(&db, &session(), org, ("message.delta", id, conversation), Some(text)).await?;
    db.commit().await?;
    Ok(())
}

/// A failed write of streamed text: logged, and told to the member without details.
fn unsaved(e: AppError) -> String {
    tracing::warn!(error = ?e, "streamed text not saved");
    "the reply could not be saved".to_owned()
}

/// Runs the model off the async threads; its pieces are written every [`FLUSH`].
async fn generate(
    pool: &DatabaseConnection,
    org: Uuid,
    id: Uuid,
    conversation: Uuid,
    turns: Vec<Turn>,
    params: Params,
) -> Result<Completion, String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let task = tokio::task::spawn_blocking(move || {
        let model = local_model()?;
        model.generate(&turns, &params, |piece| tx.send(piece.to_owned()).is_ok()).map_err(|e| e.to_string())
    });
    let mut pending = String::new();
    let mut tick = tokio::time::interval(FLUSH);
    loop {
        tokio::select! {
            piece = rx.recv() => match piece {
                Some(p) => pending.push_str(&p),
                None => break,
            },
            _ = tick.tick() => {
                if !pending.is_empty() {
                    flush(pool, org, id, conversation, &pending).await.map_err(unsaved)?;
                    pending.clear();
                }
            }
        }
    }
    if !pending.is_empty() {
        flush(pool, org, id, conversation, &pending).await.map_err(unsaved)?;
    }
    task.await.map_err(|e| format!("generation stopped: {e}"))?
}
