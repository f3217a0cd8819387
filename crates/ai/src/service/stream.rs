//! Streaming a model's reply into its message: the model runs in a task of its own (the
//! local one off the async threads) and sends its text as it comes; every [`FLUSH`] the
//! new text is appended to the message and raised as a `message.delta` event in one short
//! transaction, so a subscriber sees it live and a late reader finds the text so far.

use std::sync::Arc;
use std::time::Duration;

use opsgraph_core::{AppError, AppResult, Session, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

use crate::llm::local::{self, LocalLlm};
use crate::llm::openai::{Client, Delta, Reply, Tool, WireMessage};
use crate::llm::{Completion, Message as Turn, Params};
use crate::service::conversations;

/// How often streamed text is written and announced.
pub const FLUSH: Duration = Duration::from_millis(100);

/// The reply being written: organisation, message, conversation.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Organisation.
    pub org: Uuid,
    /// The reply.
    pub message: Uuid,
    /// Its conversation.
    pub conversation: Uuid,
}

/// A transaction of the runner in `org` (it may read every conversation: `app.system`).
pub async fn system_tx(pool: &DatabaseConnection, org: Uuid) -> AppResult<TxDb> {
    Ok(TxDb::begin_system(pool, Some(org), "ai").await?)
}

/// The runner's own session (events it raises name no user).
pub fn session() -> Session {
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

/// Appends `text` to the reply and announces it, in one transaction.
async fn flush(pool: &DatabaseConnection, t: Target, text: &str) -> AppResult<()> {
    let db = system_tx(pool, t.org).await?;
    let sql = "UPDATE agent_messages SET content = content || $2 WHERE id = $1";
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [t.message.into(), text.into()])).await?;
    conversations::announce(&db, &session(), t.org, ("message.delta", t.message, t.conversation), Some(text)).await?;
    db.commit().await?;
    Ok(())
}

/// A failed write of streamed text: logged, and told to the member without details.
fn unsaved(e: AppError) -> String {
    tracing::warn!(error = ?e, "streamed text not saved");
    "the reply could not be saved".to_owned()
}

/// Writes what `task` sends every [`FLUSH`] until it ends; returns its outcome.
async fn pump<T: Send + 'static>(
    pool: &DatabaseConnection,
    t: Target,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<Result<T, String>>,
) -> Result<T, String> {
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
                    flush(pool, t, &pending).await.map_err(unsaved)?;
                    pending.clear();
                }
            }
        }
    }
    if !pending.is_empty() {
        flush(pool, t, &pending).await.map_err(unsaved)?;
    }
    task.await.map_err(|e| format!("generation stopped: {e}"))?
}

/// Streams the local model's reply to `turns`.
pub async fn local(
    pool: &DatabaseConnection,
    t: Target,
    turns: Vec<Turn>,
    params: Params,
) -> Result<Completion, String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let task = tokio::task::spawn_blocking(move || {
        let model = local_model()?;
        model.generate(&turns, &params, |piece| tx.send(piece.to_owned()).is_ok()).map_err(|e| e.to_string())
    });
    pump(pool, t, rx, task).await
}

/// Streams a provider's reply to `wire` (offering `tools`).
pub async fn remote(
    pool: &DatabaseConnection,
    t: Target,
    client: Arc<Client>,
    wire: Vec<WireMessage>,
    tools: Vec<Tool>,
    max_tokens: u32,
) -> Result<Reply, String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let task = tokio::spawn(async move { client.chat(&wire, &tools, max_tokens, text_to(tx)).await });
    pump(pool, t, rx, task).await
}

fn text_to(tx: UnboundedSender<String>) -> impl FnMut(Delta) {
    move |d| {
        if let Delta::Text(s) = d {
            let _ = tx.send(s);
        }
    }
}
