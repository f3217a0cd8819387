//! Folders of a collection, nested: create, rename, move (never into themselves), delete
//! (documents inside move to the top of the collection).

use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::folder;
use crate::nodes::{Collection, Folder};
use crate::service::collections;

/// Create a folder.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateFolderInput {
    /// The collection.
    pub collection_id: Id,
    /// The folder it goes in (none: the top).
    pub parent_id: Option<Id>,
    /// Name.
    pub name: String,
    /// Place among its siblings.
    pub position: Option<i32>,
}

async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid, field: &str) -> AppResult<folder::Model> {
    opsgraph_core::db::find_in_org::<folder::Entity>(db, folder::Column::OrgId, org, id, "folder").await.map_err(|e| {
        match e {
            AppError::NotFound(_) => AppError::not_found(field),
            other => other,
        }
    })
}

/// The parent folder `gid` of a folder in `collection`, checked to be of that collection
/// and, when `moving` is given, not that folder nor inside it.
async fn parent(
    db: &impl ConnectionTrait,
    org: Uuid,
    collection: Uuid,
    gid: &Id,
    moving: Option<Uuid>,
) -> AppResult<Uuid> {
    let mut p = get(db, org, Folder::decode(gid, "parentId")?, "parent folder").await?;
    if p.collection_id != collection {
        return Err(AppError::bad_input("parentId", "the parent folder belongs to another collection"));
    }
    let id = p.id;
    for _ in 0..100 {
        if Some(p.id) == moving {
            return Err(AppError::bad_input("parentId", "a folder cannot move into itself"));
        }
        match p.parent_id {
            Some(up) => p = get(db, org, up, "parent folder").await?,
            None => return Ok(id),
        }
    }
    Err(AppError::bad_input("parentId", "folders nest at most 100 deep"))
}

/// Creates a folder (writers of the collection).
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: CreateFolderInput) -> AppResult<folder::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let c = collections::writable(db, session, Collection::decode(&i.collection_id, "collectionId")?).await?;
    let parent_id = match &i.parent_id {
        Some(g) => Some(parent(db, w.org, c.id, g, None).await?),
        None => None,
    };
    let row = folder::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        collection_id: Set(c.id),
        parent_id: Set(parent_id),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        position: Set(i.position.unwrap_or(0)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.audit::<Folder>("folder.create", row.id, serde_json::json!({ "name": row.name })).await?;
    w.changed::<Folder>("folder.created", row.id, None).await?;
    Ok(row)
}

/// Rename or move a folder; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFolderInput {
    /// The folder.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// The folder it goes in (null: the top).
    #[serde(default, deserialize_with = "patch")]
    pub parent_id: Option<Option<Id>>,
    /// Place among its siblings.
    pub position: Option<i32>,
}

/// Renames or moves a folder.
pub async fn update(db: &impl ConnectionTrait, session: &Session, i: UpdateFolderInput) -> AppResult<folder::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let current = get(db, w.org, Folder::decode(&i.id, "id")?, "folder").await?;
    collections::writable(db, session, current.collection_id).await?;
    let mut am: folder::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(p) = &i.parent_id {
        am.parent_id = Set(match p {
            Some(g) => Some(parent(db, w.org, current.collection_id, g, Some(current.id)).await?),
            None => None,
        });
    }
    if let Some(p) = i.position {
        am.position = Set(p);
    }
    let after = w.update::<Folder, _>("folder.update", current, am, i.expected_version).await?.after;
    w.changed::<Folder>("folder.updated", after.id, None).await?;
    Ok(after)
}
