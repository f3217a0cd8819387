//! Loaders of the knowledge crate: a document's link targets, and the documents linked to
//! an entity of another domain (one statement per level each).

use std::collections::HashMap;
use std::sync::Arc;

use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::loader::{LoadError, db_error};
use sea_orm::{FromQueryResult, Statement};
use uuid::Uuid;

use crate::entity::{collection_grant, document};

opsgraph_core::relation!(
    /// The grants of a collection.
    GrantsOf, collection_grant, CollectionId,
    scope = |s| sea_orm::QueryOrder::order_by_asc(s, collection_grant::Column::CreatedAt)
);

/// `(target type, target id)` of each document's links, by document id.
pub struct LinksOf(pub Arc<TxDb>);

impl Loader<Uuid> for LinksOf {
    type Value = Arc<Vec<(String, Uuid)>>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, LoadError> {
        use sea_orm::ConnectionTrait;
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT document_id, target_type, target_id FROM document_links WHERE document_id = ANY($1) \
                 ORDER BY created_at, target_id",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Vec<(String, Uuid)>> = keys.iter().map(|k| (*k, vec![])).collect();
        for r in rows {
            let doc: Uuid = r.try_get("", "document_id").map_err(db_error)?;
            let target =
                (r.try_get("", "target_type").map_err(db_error)?, r.try_get("", "target_id").map_err(db_error)?);
            out.entry(doc).or_default().push(target);
        }
        Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// The live documents linked to each entity id (those the reader may open).
pub struct LinkedDocuments(pub Arc<TxDb>);

impl Loader<Uuid> for LinkedDocuments {
    type Value = Arc<Vec<document::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, LoadError> {
        use sea_orm::ConnectionTrait;
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT l.target_id, d.* FROM document_links l JOIN documents d ON d.id = l.document_id \
                 WHERE l.target_id = ANY($1) AND d.deleted_at IS NULL ORDER BY d.title, d.id",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Vec<document::Model>> = keys.iter().map(|k| (*k, vec![])).collect();
        for r in rows {
            let target: Uuid = r.try_get("", "target_id").map_err(db_error)?;
            out.entry(target).or_default().push(document::Model::from_query_result(&r, "").map_err(db_error)?);
        }
        Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// The documents nearest to each document (by the mean of its chunk embeddings in its
/// collection's model), keyed by (document, how many); one statement per configured model
/// per batch.
pub struct Related(pub Arc<TxDb>, pub crate::embed::Models);

fn related_sql(dims: usize) -> String {
    format!(
        "WITH src AS (SELECT e.document_id AS id, avg(e.embedding::vector({dims})) AS v \
           FROM chunk_embeddings e WHERE e.document_id = ANY($1) AND e.model = $2 AND e.dimensions = {dims} \
             AND e.collection_id IN (SELECT k.id FROM collections k WHERE k.embedding_model = $2) GROUP BY 1) \
         SELECT src.id AS source, n.document_id, n.distance FROM src CROSS JOIN LATERAL ( \
           SELECT x.document_id, min(x.distance) AS distance FROM ( \
             SELECT e.document_id, (e.embedding::vector({dims}) <=> src.v)::float8 AS distance FROM chunk_embeddings e \
             WHERE e.model = $2 AND e.dimensions = {dims} AND e.document_id <> src.id \
               AND e.document_id IN (SELECT d.id FROM documents d WHERE d.deleted_at IS NULL) \
             ORDER BY e.embedding::vector({dims}) <=> src.v LIMIT $3 * 4) x \
           GROUP BY x.document_id ORDER BY 2, 1 LIMIT $3) n"
    )
}

impl Loader<(Uuid, i64)> for Related {
    type Value = Arc<Vec<(Uuid, f64)>>;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, i64)]) -> Result<HashMap<(Uuid, i64), Self::Value>, LoadError> {
        use sea_orm::ConnectionTrait;
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let most = keys.iter().map(|k| k.1).max().unwrap_or(0);
        let mut rows = vec![];
        for model in self.1.all() {
            let values: [sea_orm::Value; 3] = [ids.clone().into(), model.name.clone().into(), most.into()];
            let sql = related_sql(model.dimensions);
            let stmt = Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, values);
            rows.extend(self.0.query_all_raw(stmt).await.map_err(db_error)?);
        }
        let mut near: HashMap<Uuid, Vec<(Uuid, f64)>> = HashMap::new();
        for r in rows {
            let source: Uuid = r.try_get("", "source").map_err(db_error)?;
            let hit = (r.try_get("", "document_id").map_err(db_error)?, r.try_get("", "distance").map_err(db_error)?);
            near.entry(source).or_default().push(hit);
        }
        Ok(keys
            .iter()
            .map(|&(id, k)| {
                let list =
                    near.get(&id).map(|v| v.iter().take(k.max(0) as usize).copied().collect()).unwrap_or_default();
                ((id, k), Arc::new(list))
            })
            .collect())
    }
}
