//! The background indexer: embeds the chunks of documents not yet indexed with their
//! collection's embedding model, in batches, organisation by organisation and model by model, each batch in its own transaction that locks its chunks
//! (`FOR UPDATE SKIP LOCKED`), so several instances share the work and a chunk is
//! embedded once per model (the embeddings' primary key is chunk and model). A failed
//! batch marks its documents FAILED with the reason and is retried on later passes (up to
//! [`MAX_ATTEMPTS`]); a document whose chunks are all embedded becomes INDEXED and raises
//! `document.indexed`; a document whose collection's model this server does not offer becomes
//! FAILED with that reason (and is embedded once the model is configured). A batch takes chunks of similar length (by token count), so little of
//! it is padding.

use opsgraph_core::events::DomainEvent;
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppResult, Session, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::embed::{Model, Models};
use crate::service::search::vector_literal;

/// Chunks embedded per batch.
pub const BATCH: i64 = 32;
/// Passes a failing document is tried before it stays FAILED.
pub const MAX_ATTEMPTS: i32 = 5;

const PENDING: &str = "SELECT c.id, c.text, c.document_id, c.collection_id FROM chunks c \
  WHERE c.document_id IN (SELECT d.id FROM documents d WHERE d.org_id = $1 AND d.index_status <> 'INDEXED' \
    AND d.deleted_at IS NULL AND d.index_attempts < $4) \
  AND c.collection_id IN (SELECT k.id FROM collections k WHERE k.org_id = $1 AND k.embedding_model = $2) \
  AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = c.id AND e.model = $2) \
  ORDER BY c.token_count, c.id LIMIT $3 FOR UPDATE OF c SKIP LOCKED";

const INSERT: &str = "INSERT INTO chunk_embeddings (chunk_id, org_id, collection_id, document_id, model, dimensions, embedding) \
  SELECT u.id, $1, u.collection_id, u.document_id, $2, $3, u.v::vector \
  FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::text[]) AS u(id, collection_id, document_id, v) \
  ON CONFLICT (chunk_id, model) DO NOTHING";

const DONE: &str = "UPDATE documents d SET index_status = 'INDEXED', index_error = NULL FROM collections k \
  WHERE d.org_id = $1 AND d.index_status <> 'INDEXED' AND d.deleted_at IS NULL AND k.id = d.collection_id \
    AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id \
      AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = c.id AND e.model = k.embedding_model)) \
  RETURNING d.id, d.collection_id";

const UNOFFERED: &str = "UPDATE documents d SET index_status = 'FAILED', \
    index_error = 'embedding model ' || k.embedding_model || ' is not configured on this server' FROM collections k \
  WHERE d.org_id = $1 AND d.index_status = 'PENDING' AND d.deleted_at IS NULL AND k.id = d.collection_id \
    AND NOT k.embedding_model = ANY($2) \
  RETURNING d.id, d.collection_id";

const FAILED: &str = "UPDATE documents SET index_status = 'FAILED', index_error = $2, \
  index_attempts = index_attempts + 1 WHERE id = ANY($1) RETURNING id, collection_id";

async fn system_tx(pool: &DatabaseConnection, org: Uuid) -> AppResult<TxDb> {
    Ok(TxDb::begin_system(pool, Some(org), "indexer").await?)
}

/// One pass over every organisation; returns the chunks embedded.
pub async fn run(pool: &DatabaseConnection, models: &Models) -> AppResult<u64> {
    let mut total = 0;
    for org in opsgraph_org::service::organization::scheduled_ids(pool).await? {
        total += run_org(pool, models, org).await?;
    }
    Ok(total)
}

/// Embeds one organisation's pending chunks, model by model, then settles the documents.
pub async fn run_org(pool: &DatabaseConnection, models: &Models, org: Uuid) -> AppResult<u64> {
    let mut total = 0;
    for model in models.all() {
        total += run_model(pool, org, model).await?;
    }
    let db = system_tx(pool, org).await?;
    finish(&db, org, models).await?;
    db.commit().await?;
    Ok(total)
}

/// Embeds the pending chunks of the collections using `model`, batch after batch.
async fn run_model(pool: &DatabaseConnection, org: Uuid, model: &Model) -> AppResult<u64> {
    let mut total = 0;
    loop {
        let db = system_tx(pool, org).await?;
        let values: Vec<Value> = vec![org.into(), model.name.clone().into(), BATCH.into(), MAX_ATTEMPTS.into()];
        let rows = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, PENDING, values)).await?;
        if rows.is_empty() {
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
        match model.embed(texts).await {
            Ok(vectors) => {
                let literals: Vec<String> = vectors.iter().map(|v| vector_literal(v)).collect();
                let values: Vec<Value> = vec![
                    org.into(),
                    model.name.clone().into(),
                    (model.dimensions as i32).into(),
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
                tracing::warn!(%org, model = %model.name, error = %reason, "embedding failed; the documents are retried");
                docs.sort_unstable();
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

/// Marks fully embedded documents INDEXED, and those whose model is not offered FAILED,
/// and announces them.
async fn finish(db: &TxDb, org: Uuid, models: &Models) -> AppResult<()> {
    let done = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, DONE, [org.into()])).await?;
    announce(db, org, "document.indexed", &done).await?;
    let names: Vec<String> = models.all().iter().map(|m| m.name.clone()).collect();
    let values: Vec<Value> = vec![org.into(), names.into()];
    let unoffered = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, UNOFFERED, values)).await?;
    announce(db, org, "document.index_failed", &unoffered).await
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

/// Creates the HNSW index of each offered remote model that has none (the local model's
/// comes with the migrations; vectors over 2,000 dimensions are searched exactly).
pub async fn ensure_indexes(pool: &DatabaseConnection, models: &Models) -> AppResult<()> {
    use sha2::Digest;
    for m in models.all() {
        if matches!(m.provider, crate::embed::Provider::Local) || m.dimensions > Model::MAX_INDEXED_DIMENSIONS {
            continue;
        }
        let hash = sha2::Sha256::digest(m.name.as_bytes());
        let tag: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS chunk_embeddings_{tag}_idx ON chunk_embeddings \
             USING hnsw ((embedding::vector({d})) vector_cosine_ops) WHERE model = '{name}'",
            d = m.dimensions,
            name = m.name.replace('\'', "''"),
        );
        pool.execute_unprepared(&sql).await?;
    }
    Ok(())
}
