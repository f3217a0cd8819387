//! Documents: every save of new content is a revision (kept in `document_versions`) and is
//! split into chunks at once, so it is keyword-searchable when the save commits; the
//! indexer embeds the chunks in the background. Saving identical content (same hash) makes
//! no revision and no re-embedding.

use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::chunking;
use crate::entity::{document, document_version, folder};
use crate::enums::{DocumentKind, IndexStatus};
use crate::nodes::{Collection, Document, Folder};
use crate::service::collections;

/// Most tags on a document.
pub const MAX_TAGS: usize = 30;

/// The content hash: SHA-256 of the title, a zero byte and the body.
pub fn content_hash(title: &str, body: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0u8]);
    h.update(body.as_bytes());
    h.finalize().to_vec()
}

fn tags(v: Option<Vec<String>>) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = v.unwrap_or_default().iter().map(|t| t.trim().to_lowercase()).collect();
    out.retain(|t| !t.is_empty());
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS || out.iter().any(|t| t.chars().count() > 50) {
        return Err(AppError::bad_input("tags", format!("at most {MAX_TAGS} tags of up to 50 characters")));
    }
    Ok(out)
}

fn body(v: &str) -> AppResult<String> {
    if v.len() > 1_000_000 {
        return Err(AppError::bad_input("body", "body is limited to 1,000,000 bytes"));
    }
    Ok(v.to_owned())
}

/// Write a new document.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateDocumentInput {
    /// The collection.
    pub collection_id: Id,
    /// A folder of that collection.
    pub folder_id: Option<Id>,
    /// What it is.
    pub kind: DocumentKind,
    /// Title.
    pub title: String,
    /// Body (markdown).
    pub body: String,
    /// Where it came from.
    pub source_url: Option<String>,
    /// Text search language (default: the collection's).
    pub language: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// The titles of the live documents among `ids` the session can read, in one statement.
pub async fn titles(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let rows = document::Entity::find()
        .filter(document::Column::Id.is_in(ids))
        .filter(document::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|d| (d.id, d.title)).collect())
}

/// Loads a live document the session can read.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<document::Model> {
    let d =
        opsgraph_core::db::find_in_org::<document::Entity>(db, document::Column::OrgId, org, id, "document").await?;
    if d.deleted_at.is_some() {
        return Err(AppError::not_found("document"));
    }
    Ok(d)
}

async fn folder_in(db: &impl ConnectionTrait, org: Uuid, collection: Uuid, gid: &Id) -> AppResult<Uuid> {
    let f = opsgraph_core::db::find_in_org::<folder::Entity>(
        db,
        folder::Column::OrgId,
        org,
        Folder::decode(gid, "folderId")?,
        "folder",
    )
    .await?;
    if f.collection_id != collection {
        return Err(AppError::bad_input("folderId", "the folder belongs to another collection"));
    }
    Ok(f.id)
}

/// The event data of a document: its collection, for `documentChanged`.
pub fn event_data(collection: Uuid) -> serde_json::Value {
    serde_json::json!({ "collectionId": Collection::gid(collection) })
}

async fn announce(w: &Write<'_, impl ConnectionTrait>, kind: &'static str, d: &document::Model) -> AppResult<()> {
    let event = opsgraph_core::events::DomainEvent { data: event_data(d.collection_id), ..Default::default() };
    w.emit::<Document>(kind, d.id, event).await?;
    Ok(())
}

/// Creates a document (revision 1), its chunks and its first version row.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: CreateDocumentInput,
) -> AppResult<document::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let key = ("createDocument", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    let c = collections::writable(db, session, Collection::decode(&i.collection_id, "collectionId")?).await?;
    let folder = match &i.folder_id {
        Some(g) => Some(folder_in(db, w.org, c.id, g).await?),
        None => None,
    };
    let title = validate::text("title", &i.title, 1, 300, false)?;
    let body = body(&i.body)?;
    let row = document::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        collection_id: Set(c.id),
        folder_id: Set(folder),
        kind: Set(i.kind.as_str().into()),
        content_hash: Set(content_hash(&title, &body)),
        title: Set(title),
        body: Set(body),
        source_url: Set(validate::opt_text("sourceUrl", i.source_url.as_deref(), 2000, false)?),
        language: Set(collections::language("language", i.language.as_deref(), &c.language)?),
        tags: Set(tags(i.tags)?),
        author_id: Set(session.membership_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    save_revision(db, &row, session.membership_id).await?;
    w.created::<Document>("document.create", &row, key).await?;
    announce(&w, "document.saved", &row).await?;
    Ok(row)
}

/// Records `d`'s current content as its revision and replaces its chunks.
async fn save_revision(db: &impl ConnectionTrait, d: &document::Model, author: Option<Uuid>) -> AppResult<()> {
    document_version::ActiveModel {
        id: Set(new_id()),
        org_id: Set(d.org_id),
        document_id: Set(d.id),
        version: Set(d.revision),
        title: Set(d.title.clone()),
        body: Set(d.body.clone()),
        content_hash: Set(d.content_hash.clone()),
        author_id: Set(author),
        ..Default::default()
    }
    .insert(db)
    .await?;
    replace_chunks(db, d).await
}

/// Replaces `d`'s chunks with those of its current body. A new chunk whose text an old
/// chunk had keeps that chunk's embeddings, so an edit re-embeds only what it changed.
pub async fn replace_chunks(db: &impl ConnectionTrait, d: &document::Model) -> AppResult<()> {
    let pieces = chunking::split(&d.body, crate::embed::chunk_tokenizer());
    if !pieces.is_empty() {
        insert_chunks(db, d, &pieces).await?;
        db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, REUSE, [d.id.into(), d.revision.into()]))
            .await?;
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM chunks WHERE document_id = $1 AND document_version <> $2",
        [d.id.into(), d.revision.into()],
    ))
    .await?;
    Ok(())
}

/// Copies the embeddings of a document's old chunks to its new chunks of the same text.
const REUSE: &str = "INSERT INTO chunk_embeddings (chunk_id, org_id, collection_id, document_id, model, dimensions, embedding) \
  SELECT DISTINCT ON (n.id, e.model) n.id, e.org_id, n.collection_id, e.document_id, e.model, e.dimensions, e.embedding \
  FROM chunks n JOIN chunks o ON o.document_id = n.document_id AND o.document_version <> n.document_version \
    AND o.text = n.text \
  JOIN chunk_embeddings e ON e.chunk_id = o.id \
  WHERE n.document_id = $1 AND n.document_version = $2 ORDER BY n.id, e.model, o.document_version DESC \
  ON CONFLICT (chunk_id, model) DO NOTHING";

async fn insert_chunks(db: &impl ConnectionTrait, d: &document::Model, pieces: &[chunking::Piece]) -> AppResult<()> {
    let ids: Vec<Uuid> = pieces.iter().map(|_| new_id()).collect();
    let col = |f: fn(&chunking::Piece) -> i32| -> Vec<i32> { pieces.iter().map(f).collect() };
    let texts: Vec<String> = pieces.iter().map(|p| p.text.clone()).collect();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO chunks (id, org_id, collection_id, document_id, document_version, position, text, token_count, \
           char_start, char_end, tsv) \
         SELECT u.id, $1, $2, $3, $4, u.position, u.text, u.tokens, u.cs, u.ce, \
           setweight(to_tsvector($5::regconfig, $6), 'A') || to_tsvector($5::regconfig, u.text) \
             || to_tsvector('simple', u.text) \
         FROM unnest($7::uuid[], $8::int[], $9::text[], $10::int[], $11::int[], $12::int[]) \
           AS u(id, position, text, tokens, cs, ce)",
        [
            d.org_id.into(),
            d.collection_id.into(),
            d.id.into(),
            d.revision.into(),
            d.language.clone().into(),
            d.title.clone().into(),
            ids.into(),
            col(|p| p.position).into(),
            texts.into(),
            col(|p| p.token_count).into(),
            col(|p| p.char_start).into(),
            col(|p| p.char_end).into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Change a document; omitted fields stay. New content makes a new revision.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDocumentInput {
    /// The document.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Title.
    pub title: Option<String>,
    /// Body (markdown).
    pub body: Option<String>,
    /// What it is.
    pub kind: Option<DocumentKind>,
    /// Tags (replaces the set).
    pub tags: Option<Vec<String>>,
    /// Where it came from (null clears).
    #[serde(default, deserialize_with = "patch")]
    pub source_url: Option<Option<String>>,
    /// Folder of its collection (null: the top).
    #[serde(default, deserialize_with = "patch")]
    pub folder_id: Option<Option<Id>>,
}

/// Saves a document: a new revision when the content changed, else only its metadata.
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateDocumentInput,
) -> AppResult<document::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let current = get(db, w.org, Document::decode(&i.id, "id")?).await?;
    collections::writable(db, session, current.collection_id).await?;
    let title = match &i.title {
        Some(t) => validate::text("title", t, 1, 300, false)?,
        None => current.title.clone(),
    };
    let body = match &i.body {
        Some(b) => body(b)?,
        None => current.body.clone(),
    };
    let hash = content_hash(&title, &body);
    let new_content = hash != current.content_hash;
    let mut am: document::ActiveModel = current.clone().into();
    if new_content {
        am.title = Set(title);
        am.body = Set(body);
        am.content_hash = Set(hash);
        am.revision = Set(current.revision + 1);
        am.index_status = Set(IndexStatus::Pending.as_str().into());
        am.index_error = Set(None);
        am.index_attempts = Set(0);
    }
    if let Some(k) = i.kind {
        am.kind = Set(k.as_str().into());
    }
    if i.tags.is_some() {
        am.tags = Set(tags(i.tags.clone())?);
    }
    if let Some(u) = &i.source_url {
        am.source_url = Set(validate::opt_text("sourceUrl", u.as_deref(), 2000, false)?);
    }
    if let Some(f) = &i.folder_id {
        am.folder_id = Set(match f {
            Some(g) => Some(folder_in(db, w.org, current.collection_id, g).await?),
            None => None,
        });
    }
    let done = w.update::<Document, _>("document.update", current, am, i.expected_version).await?;
    if new_content {
        save_revision(db, &done.after, session.membership_id).await?;
        announce(&w, "document.saved", &done.after).await?;
    }
    Ok(done.after)
}

/// Soft-deletes (`deleted`) or restores a document; a deleted one leaves every search.
pub async fn set_deleted(
    db: &impl ConnectionTrait,
    session: &Session,
    gid: &str,
    deleted: bool,
) -> AppResult<document::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let id = Document::decode(gid, "id")?;
    let current =
        opsgraph_core::db::find_in_org::<document::Entity>(db, document::Column::OrgId, w.org, id, "document").await?;
    collections::writable(db, session, current.collection_id).await?;
    if current.deleted_at.is_some() == deleted {
        return Ok(current);
    }
    let mut am: document::ActiveModel = current.clone().into();
    am.deleted_at = Set(deleted.then(|| chrono::Utc::now().fixed_offset()));
    let version = current.version;
    let action = if deleted { "document.delete" } else { "document.restore" };
    let done = w.update::<Document, _>(action, current, am, version).await?;
    announce(&w, if deleted { "document.deleted" } else { "document.restored" }, &done.after).await?;
    Ok(done.after)
}

/// Bring back an earlier revision's content (as a new revision).
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRevisionInput {
    /// The document.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// The revision to bring back.
    pub revision: i32,
}

/// Restores revision `revision`'s title and body as a new revision.
pub async fn restore_revision(
    db: &impl ConnectionTrait,
    session: &Session,
    i: RestoreRevisionInput,
) -> AppResult<document::Model> {
    let org = session.require(Permission::KnowledgeWrite)?;
    let id = Document::decode(&i.id, "id")?;
    let old = document_version::Entity::find()
        .filter(document_version::Column::OrgId.eq(org))
        .filter(document_version::Column::DocumentId.eq(id))
        .filter(document_version::Column::Version.eq(i.revision))
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input("revision", "no such revision"))?;
    let input = UpdateDocumentInput {
        id: i.id,
        expected_version: i.expected_version,
        title: Some(old.title),
        body: Some(old.body),
        kind: None,
        tags: None,
        source_url: None,
        folder_id: None,
    };
    update(db, session, input).await
}

/// Node types a document can be linked to.
pub const LINKABLE: [&str; 5] = ["Task", "Project", "Deal", "Account", "Contact"];

/// The entity `gid` names, checked to exist and be visible to the session (NOT_FOUND).
async fn target(db: &impl ConnectionTrait, org: Uuid, gid: &str) -> AppResult<(&'static str, Uuid)> {
    let (ty, id) = opsgraph_core::id::decode(gid).map_err(|_| AppError::bad_input("targetId", "not an ID"))?;
    let ty = LINKABLE
        .into_iter()
        .find(|t| *t == ty)
        .ok_or_else(|| AppError::bad_input("targetId", format!("documents link to {}", LINKABLE.join(", "))))?;
    match ty {
        "Task" => opsgraph_work::service::tasks::get(db, org, id).await.map(|_| ())?,
        "Project" => opsgraph_work::service::projects::get(db, org, id).await.map(|_| ())?,
        "Deal" => opsgraph_crm::service::deals::get(db, org, id).await.map(|_| ())?,
        "Account" => opsgraph_crm::service::accounts::get(db, org, id).await.map(|_| ())?,
        _ => opsgraph_crm::service::contacts::get(db, org, id).await.map(|_| ())?,
    }
    Ok((ty, id))
}

/// Link a document to a task, project, deal, account or contact, or unlink it.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct LinkDocumentInput {
    /// The document.
    pub document_id: Id,
    /// The entity.
    pub target_id: Id,
    /// False unlinks (default true).
    pub linked: Option<bool>,
}

/// Links or unlinks a document and an entity the session can see.
pub async fn link(db: &impl ConnectionTrait, session: &Session, i: LinkDocumentInput) -> AppResult<document::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let d = get(db, w.org, Document::decode(&i.document_id, "documentId")?).await?;
    collections::writable(db, session, d.collection_id).await?;
    let (ty, id) = target(db, w.org, &i.target_id).await?;
    let linked = i.linked.unwrap_or(true);
    let sql = if linked {
        "INSERT INTO document_links (id, org_id, document_id, target_type, target_id) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (document_id, target_type, target_id) DO NOTHING"
    } else {
        "DELETE FROM document_links WHERE $1::uuid IS NOT NULL AND org_id = $2 AND document_id = $3 \
         AND target_type = $4 AND target_id = $5"
    };
    let values = [new_id().into(), w.org.into(), d.id.into(), ty.into(), id.into()];
    let done = db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    if done.rows_affected() > 0 {
        let action = if linked { "document.link" } else { "document.unlink" };
        w.audit::<Document>(action, d.id, serde_json::json!({ "type": ty, "id": id })).await?;
    }
    Ok(d)
}

/// Puts every live document of a collection back to PENDING (its embedding model changed):
/// the indexer embeds them again with the collection's model.
pub async fn reindex_collection(db: &impl ConnectionTrait, collection: Uuid) -> AppResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE documents SET index_status = 'PENDING', index_error = NULL, index_attempts = 0 \
         WHERE collection_id = $1 AND deleted_at IS NULL",
        [collection.into()],
    ))
    .await?;
    Ok(())
}
