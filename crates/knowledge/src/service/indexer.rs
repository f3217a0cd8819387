//! The background indexer: embeds the chunks of documents not yet indexed, in batches,
//! organisation by organisation, each batch in its own transaction that locks its chunks
//! (`FOR UPDATE SKIP LOCKED`), so several instances share the work and a chunk is
//! embedded once per model (the embeddings' primary key is chunk and model). A failed
//! batch marks its documents FAILED with the reason and is retried on later passes (up to
//! [`MAX_ATTEMPTS`]); a document whose chunks are all embedded becomes INDEXED and raises
//! `document.indexed`. A batch takes chunks of similar length (by token count), so little of
//! it is padding.

use opsgraph_core::events::DomainEvent;
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppResult, Session, Tenant, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::embed::minilm;
use crate::service::search::vector_literal;

/// Chunks embedded per batch.
pub const BATCH: i64 = 32;
/// Passes a failing document is tried before it stays FAILED.
pub const MAX_ATTEMPTS: i32 = 5;

const PENDING: &str = "SELECT c.id, c.text, c.document_id, c.collection_id FROM chunks c \
  WHERE c.document_id IN (SELECT d.id FROM documents d WHERE d.org_id = $1 AND d.index_status <> 'INDEXED' \
    AND d.deleted_at IS NULL AND d.index_attempts < $4) \
  AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = c.id AND e.model = $2) \
  ORDER BY c.token_count, c.id LIMIT $3 FOR UPDATE OF c SKIP LOCKED";

const INSERT: &str = "INSERT INTO chunk_embeddings (chunk_id, org_id, collection_id, document_id, model, dimensions, embedding) \
  SELECT u.id, $1, u.collection_id, u.document_id, $2, $3, u.v::vector \
  FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::text[]) AS u(id, collection_id, document_id, v) \
  ON CONFLICT (chunk_id, model) DO NOTHING";

const DONE: &str = "UPDATE documents d SET index_status = 'INDEXED', index_error = NULL \
  WHERE d.org_id = $1 AND d.index_status <> 'INDEXED' AND d.deleted_at IS NULL \
    AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id \
      AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = c.id AND e.model = $2)) \
  RETURNING d.id, d.collection_id";

const FAILED: &str = "UPDATE documents SET index_status = 'FAILED', index_error = $2, \
  index_attempts = index_attempts + 1 WHERE id = ANY($1) RETURNING id, collection_id";

async fn system_tx(pool: &DatabaseConnection, org: Uuid) -> AppResult<TxDb> {
    let db = TxDb::begin(pool, &Tenant { org_id: Some(org), ..Default::default() }).await?;
    db.execute_unprepared("SELECT set_config('app.system', 'indexer', true)").await?;
    Ok(db)
}

/// One pass over every organisation; returns the chunks embedded.
pub async fn run(pool: &DatabaseConnection) -> AppResult<u64> {
    let mut total = 0;
    for org in opsgraph_org::service::organization::scheduled_ids(pool).await? {
        total += run_org(pool, org).await?;
    }
    Ok(total)
}

/// Embeds one organisation's pending chunks, batch after batch.
pub async fn run_org(pool: &DatabaseConnection, org: Uuid) -> AppResult<u64> {
    let mut total = 0;
    loop {
        let db = system_tx(pool, org).await?;
        let values: Vec<Value> = vec![org.into(), minilm::MODEL.into(), BATCH.into(), MAX_ATTEMPTS.into()];
        let rows = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, PENDING, values)).await?;
        if rows.is_empty() {
            finish(&db, org).await?;
            db.commit().await?;
            return Ok(total);
        }
        let mut ids = vec![];
        let mut docs = vec![];
        let mut colls = vec![];
        let mut texts = vec![];
        for r in &rows {
            ids.push(r.try_get::<Uuid>("", "id")?);
            docs.push(r.try_get::<Uuid>("", "document_id")?);
            colls.push(r.try_get::<Uuid>("", "collection_id")?);
            texts.push(r.try_get::<String>("", "text")?);
        }
        match embed(texts).await {
            Ok(vectors) => {
                let literals: Vec<String> = vectors.iter().map(|v| vector_literal(v)).collect();
                let values: Vec<Value> = vec![
                    org.into(),
                    minilm::MODEL.into(),
                    (minilm::DIMENSIONS as i32).into(),
                    ids.clone().into(),
                    colls.into(),
                    docs.into(),
                    literals.into(),
                ];
                db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, INSERT, values)).await?;
                db.commit().await?;
                total += ids.len() as u64;
            }
            Err(reason) => {
                tracing::warn!(%org, error = %reason, "embedding failed; the documents are retried");
                docs.dedup();
                let values: Vec<Value> = vec![docs.into(), reason.into()];
                let failed =
                    db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, FAILED, values)).await?;
                announce(&db, org, "document.index_failed", &failed).await?;
                db.commit().await?;
                return Ok(total);
            }
        }
    }
}

/// Marks fully embedded documents INDEXED and announces them.
async fn finish(db: &TxDb, org: Uuid) -> AppResult<()> {
    let values: Vec<Value> = vec![org.into(), minilm::MODEL.into()];
    let done = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, DONE, values)).await?;
    announce(db, org, "document.indexed", &done).await
}

/// Raises `kind` for each returned document (`id`, `collection_id`).
async fn announce(db: &TxDb, org: Uuid, kind: &'static str, rows: &[sea_orm::QueryResult]) -> AppResult<()> {
    for r in rows {
        let id: Uuid = r.try_get("", "id")?;
        let event = DomainEvent {
            kind,
            subject_type: <crate::nodes::Document as NodeType>::NAME,
            subject_id: id,
            data: crate::service::documents::event_data(r.try_get("", "collection_id")?),
            ..DomainEvent::default()
        };
        opsgraph_core::events::emit(db, &Session::anonymous("indexer"), org, event).await?;
    }
    Ok(())
}

async fn embed(texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
    tokio::task::spawn_blocking(move || {
        let model = crate::embed::local_model()?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        model.embed(&refs).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("embedding task: {e}"))?
}
