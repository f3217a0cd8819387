//! Importing vectors made elsewhere (000's `document_embeddings`: one 1536-dimension
//! vector per document, e.g. OpenAI's text-embedding-ada-002) as another model beside ours.
//! A document-level vector is stored on the document's lead chunk (position 0 of its
//! current revision) under the given model name; the model's HNSW index serves it when that
//! model is configured, and a collection switched to it embeds only the chunks still missing.

use std::collections::HashSet;

use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, Permission, Session};
use opsgraph_derive::GqlInput;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value};
use serde::Deserialize;
use uuid::Uuid;

use crate::embed::{Model, Models};
use crate::entity::document;
use crate::nodes::Document;
use crate::service::collections;
use crate::service::search::vector_literal;

/// Most vectors one call imports.
pub const MAX_ITEMS: usize = 100;

/// One document's vector.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct ImportedEmbedding {
    /// The document.
    pub document_id: Id,
    /// Its vector.
    pub embedding: Vec<f64>,
}

/// Vectors of one model.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct ImportEmbeddingsInput {
    /// The model that made them (stored with them; a configured model of that name must
    /// have the same dimensions).
    pub model: String,
    /// Up to 100 documents' vectors, all of one length (1..2000).
    pub vectors: Vec<ImportedEmbedding>,
}

/// What an import stored.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The model.
    pub model: String,
    /// Its dimensions.
    pub dimensions: usize,
    /// Vectors stored (new or replaced).
    pub count: usize,
}

fn checked(models: &Models, i: &ImportEmbeddingsInput) -> AppResult<(String, usize)> {
    let model = opsgraph_core::validate::text("model", &i.model, 1, 200, false)?;
    if i.vectors.is_empty() || i.vectors.len() > MAX_ITEMS {
        return Err(AppError::bad_input("vectors", format!("give 1..{MAX_ITEMS} vectors")));
    }
    let dims = i.vectors[0].embedding.len();
    if !(1..=Model::MAX_INDEXED_DIMENSIONS).contains(&dims) {
        return Err(AppError::bad_input("vectors", "a vector has 1..2000 dimensions"));
    }
    if let Some(m) = models.get(&model).filter(|m| m.dimensions != dims) {
        return Err(AppError::bad_input("model", format!("{} has {} dimensions, not {dims}", m.name, m.dimensions)));
    }
    for v in &i.vectors {
        let finite = v.embedding.iter().all(|x| x.is_finite() && x.abs() <= f64::from(f32::MAX));
        if v.embedding.len() != dims || !finite || v.embedding.iter().all(|x| *x == 0.0) {
            return Err(AppError::bad_input("vectors", format!("every vector has {dims} finite values, not all zero")));
        }
    }
    Ok((model, dims))
}

const STORE: &str = "INSERT INTO chunk_embeddings (chunk_id, org_id, collection_id, document_id, model, dimensions, embedding) \
  SELECT c.id, c.org_id, c.collection_id, c.document_id, $2, $3, u.v::vector \
  FROM unnest($4::uuid[], $5::text[]) AS u(doc, v) \
  JOIN documents d ON d.id = u.doc AND d.org_id = $1 \
  JOIN chunks c ON c.document_id = d.id AND c.document_version = d.revision AND c.position = 0 \
  ON CONFLICT (chunk_id, model) DO UPDATE SET embedding = EXCLUDED.embedding, dimensions = EXCLUDED.dimensions";

/// Stores document-level vectors of `model` on the documents' lead chunks (knowledge
/// managers, in collections they may write in); all or nothing.
pub async fn import(
    db: &impl ConnectionTrait,
    session: &Session,
    models: &Models,
    i: ImportEmbeddingsInput,
) -> AppResult<Imported> {
    let org = session.require(Permission::KnowledgeManage)?;
    let (model, dims) = checked(models, &i)?;
    let ids: Vec<Uuid> =
        i.vectors.iter().map(|v| Document::decode(&v.document_id, "vectors.documentId")).collect::<AppResult<_>>()?;
    if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        return Err(AppError::bad_input("vectors", "a document appears twice"));
    }
    // The documents in one statement, then each of their collections checked once.
    let docs = document::Entity::find()
        .filter(document::Column::OrgId.eq(org))
        .filter(document::Column::Id.is_in(ids.clone()))
        .filter(document::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    if docs.len() != ids.len() {
        return Err(AppError::not_found("document"));
    }
    for collection in docs.iter().map(|d| d.collection_id).collect::<HashSet<_>>() {
        collections::writable(db, session, collection).await?;
    }
    let literals: Vec<String> = i
        .vectors
        .iter()
        .map(|v| vector_literal(&v.embedding.iter().map(|x| *x as f32).collect::<Vec<f32>>()))
        .collect();
    let values: Vec<Value> =
        vec![org.into(), model.clone().into(), (dims as i32).into(), ids.clone().into(), literals.into()];
    let stored = db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, STORE, values)).await?;
    if stored.rows_affected() as usize != ids.len() {
        return Err(AppError::bad_input("vectors", "a document has no text to attach its vector to"));
    }
    Ok(Imported { model, dimensions: dims, count: ids.len() })
}
