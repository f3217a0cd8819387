//! The tool loop of a provider's model (OpenAI function calling): the model is offered
//! the agent's tools; each call it asks for runs through the domain's services as the
//! agent (the member's rights), or, for a tool that must ask first, becomes a pending
//! action and the reply WAITs; results go back to the model until it answers in text.
//! Every round (calls, statuses, results) is kept on the reply, so a run resumed after a
//! decision continues where it stopped.

use std::sync::Arc;

use opsgraph_core::{AppError, AppResult, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::llm::openai::{Client, ToolCall, WireMessage};
use crate::service::actions::{self, Origin};
use crate::service::stream::{self, Target, system_tx};
use crate::service::tools::{self, ToolDef};
use crate::service::{Runtime, conversations, spend};

/// Most model calls in one run.
pub const MAX_STEPS: usize = 8;

/// One run of the loop.
pub struct Loop<'a> {
    /// The pool.
    pub pool: &'a DatabaseConnection,
    /// Models and keys.
    pub rt: &'a Runtime,
    /// The reply.
    pub target: Target,
    /// Run, agent, member.
    pub origin: Origin,
    /// The agent's session for `origin` (the member's rights, actor AGENT).
    pub session: opsgraph_core::Session,
    /// The agent's knowledge collection.
    pub collection: Option<Uuid>,
    /// The provider.
    pub client: Arc<Client>,
    /// The tools offered and whether each must ask first.
    pub offered: Vec<(&'static ToolDef, bool)>,
    /// Longest answer.
    pub max_tokens: u32,
}

/// How a loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The model answered.
    Done,
    /// A proposed change waits for a person.
    Waiting,
}

/// The conversation in the protocol's shape: `turns` then the kept rounds.
pub fn wire(turns: &[crate::llm::Message], rounds: &[Value]) -> Vec<WireMessage> {
    let mut out: Vec<WireMessage> = turns.iter().cloned().map(WireMessage::Plain).collect();
    for r in rounds {
        let calls: Vec<&Value> = r["calls"].as_array().into_iter().flatten().collect();
        out.push(WireMessage::Calls(
            calls
                .iter()
                .map(|c| ToolCall {
                    id: c["id"].as_str().unwrap_or_default().into(),
                    name: c["name"].as_str().unwrap_or_default().into(),
                    arguments: c["arguments"].as_str().unwrap_or_default().into(),
                })
                .collect(),
        ));
        for c in calls.iter().filter(|c| c["status"] != "PROPOSED") {
            let id = c["id"].as_str().unwrap_or_default().into();
            out.push(WireMessage::Result { id, content: c["result"].to_string() });
        }
    }
    out
}

/// Runs the loop from `rounds` on; tokens and cost go to the ledger as each call ends.
pub async fn run(l: &Loop<'_>, mut wire: Vec<WireMessage>, rounds: &mut Vec<Value>) -> Result<Outcome, String> {
    let functions: Vec<_> = l.offered.iter().map(|(d, _)| d.function()).collect();
    for _ in 0..MAX_STEPS {
        let reply =
            stream::remote(l.pool, l.target, l.client.clone(), wire.clone(), functions.clone(), l.max_tokens).await?;
        let usage = reply.usage.map(|u| (u.prompt, u.completion)).unwrap_or_else(|| estimate(&wire, &reply.text));
        spend::record_now(l.pool, l.target.org, l.origin.run, usage).await.map_err(|e| saved_not(&e))?;
        if reply.tool_calls.is_empty() {
            return Ok(Outcome::Done);
        }
        let mut calls = vec![];
        for call in &reply.tool_calls {
            calls.push(handle(l, call).await);
        }
        let waiting = calls.iter().any(|c| c["status"] == "PROPOSED");
        rounds.push(json!({ "calls": calls }));
        keep(l, rounds).await.map_err(|e| saved_not(&e))?;
        if waiting {
            return Ok(Outcome::Waiting);
        }
        wire.extend(self::wire(&[], &rounds[rounds.len() - 1..]));
    }
    Err(format!("the agent asked for tools more than {MAX_STEPS} times without answering"))
}

fn saved_not(e: &AppError) -> String {
    tracing::warn!(error = ?e, "tool loop state not saved");
    "the reply could not be saved".to_owned()
}

/// Tokens when a provider sends no usage: about four characters a token.
fn estimate(wire: &[WireMessage], text: &str) -> (u64, u64) {
    let chars: usize = wire.iter().map(|m| format!("{m:?}").len()).sum();
    ((chars / 4) as u64, (text.len() / 4) as u64)
}

/// Saves the rounds on the reply and announces the latest.
async fn keep(l: &Loop<'_>, rounds: &[Value]) -> AppResult<()> {
    let db = system_tx(l.pool, l.target.org).await?;
    let sql = "UPDATE agent_messages SET tool_calls = $2 WHERE id = $1";
    let all = Value::Array(rounds.to_vec());
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [l.target.message.into(), all.into()]))
        .await?;
    let latest = rounds.last().cloned().unwrap_or(Value::Null);
    let t = l.target;
    conversations::announce_with(
        &db,
        &stream::session(),
        t.org,
        ("message.tool_calls", t.message, t.conversation),
        json!({ "toolCalls": latest["calls"] }),
    )
    .await?;
    db.commit().await?;
    Ok(())
}

/// One call: run it, propose it, or refuse it; the round entry.
async fn handle(l: &Loop<'_>, call: &ToolCall) -> Value {
    let mut entry = json!({ "id": call.id, "name": call.name, "arguments": call.arguments });
    let (status, result) = match outcome(l, call).await {
        Ok(Handled::Done(v)) => ("DONE", v),
        Ok(Handled::Proposed(id)) => {
            entry["actionId"] = id.to_string().into();
            ("PROPOSED", Value::Null)
        }
        Err(e) => ("FAILED", json!({ "error": e.message() })),
    };
    entry["status"] = status.into();
    entry["result"] = result;
    entry
}

enum Handled {
    Done(Value),
    Proposed(Uuid),
}

async fn outcome(l: &Loop<'_>, call: &ToolCall) -> AppResult<Handled> {
    let (def, ask) = l
        .offered
        .iter()
        .find(|(d, _)| d.name == call.name)
        .copied()
        .ok_or_else(|| AppError::bad_input("tool", format!("no tool {:?} is available", call.name)))?;
    let args: Value = serde_json::from_str(if call.arguments.trim().is_empty() { "{}" } else { &call.arguments })
        .map_err(|e| AppError::bad_input("arguments", format!("arguments are not JSON: {e}")))?;
    let session = &l.session;
    let db = TxDb::begin(l.pool, &session.tenant()).await?;
    let handled = if def.writes && ask {
        let p = tools::propose(&db, session, def, &args).await?;
        Handled::Proposed(actions::propose(&db, session, l.origin, (def, &call.id), p).await?)
    } else {
        let c = tools::Call { session, models: &l.rt.models, collection: l.collection };
        Handled::Done(tools::execute(&db, &c, def, &args).await?)
    };
    db.commit().await?;
    Ok(handled)
}
