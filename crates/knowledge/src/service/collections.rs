//! Collections: knowledge bases, wiki spaces and memories, with a visibility and explicit
//! grants. Row Level Security decides what a session reads; writing is decided here.

use opsgraph_core::id::new_id;
use opsgraph_core::input::{Id, patch};
use opsgraph_core::node::NodeType;
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::{Membership, Team};
use opsgraph_work::nodes::Project;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::embed::Models;
use crate::entity::{collection, collection_grant};
use crate::enums::{Access, CollectionKind, Visibility};
use crate::nodes::Collection;

/// Text search configurations a collection or document may use.
pub const LANGUAGES: [&str; 12] = [
    "simple",
    "english",
    "german",
    "french",
    "spanish",
    "italian",
    "portuguese",
    "dutch",
    "swedish",
    "danish",
    "norwegian",
    "finnish",
];

/// Checks a language name against [`LANGUAGES`].
pub fn language(field: &str, v: Option<&str>, default: &str) -> AppResult<String> {
    let l = v.unwrap_or(default).trim().to_lowercase();
    if LANGUAGES.contains(&l.as_str()) {
        Ok(l)
    } else {
        Err(AppError::bad_input(field, format!("{field} must be one of {}", LANGUAGES.join(", "))))
    }
}

/// Create a collection.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct CreateCollectionInput {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// What it holds (default KNOWLEDGE_BASE).
    pub kind: Option<CollectionKind>,
    /// Who reads it (ORGANIZATION needs knowledge management rights).
    pub visibility: Visibility,
    /// Its team (TEAM visibility).
    pub team_id: Option<Id>,
    /// Its project (PROJECT visibility).
    pub project_id: Option<Id>,
    /// Text search language of its documents (default english).
    pub language: Option<String>,
    /// The embedding model of its documents (one of `embeddingModels`; default the
    /// server's default model).
    pub embedding_model: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Loads a collection the session can read (NOT_FOUND otherwise).
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<collection::Model> {
    let c = opsgraph_core::db::find_in_org::<collection::Entity>(db, collection::Column::OrgId, org, id, "collection")
        .await?;
    if c.deleted_at.is_some() {
        return Err(AppError::not_found("collection"));
    }
    Ok(c)
}

/// Whether the session may write documents in `c` whatever its grants say: its owner, or
/// any writer for a shared (non-private) collection, yes; someone without knowledge write
/// rights or without a membership, no; `None` when the grants decide.
pub fn write_without_grants(session: &Session, c: &collection::Model) -> Option<bool> {
    if session.require(Permission::KnowledgeWrite).is_err() || session.membership_id.is_none() {
        return Some(false);
    }
    (session.membership_id == Some(c.owner_id) || c.visibility != Visibility::Private.as_str()).then_some(true)
}

/// Whether `grants` (of `c`) give the session WRITE, to itself or to one of its teams
/// (read only when a WRITE grant names a team).
pub async fn granted_write(
    db: &impl ConnectionTrait,
    session: &Session,
    c: &collection::Model,
    grants: &[collection_grant::Model],
) -> AppResult<bool> {
    let Some(me) = session.membership_id else { return Ok(false) };
    let writes: Vec<_> = grants.iter().filter(|g| g.access == Access::Write.as_str()).collect();
    if writes.iter().any(|g| g.membership_id == Some(me)) {
        return Ok(true);
    }
    if !writes.iter().any(|g| g.team_id.is_some()) {
        return Ok(false);
    }
    let teams = opsgraph_org::service::teams::team_ids_of(db, c.org_id, me).await?;
    Ok(writes.iter().any(|g| g.team_id.is_some_and(|t| teams.contains(&t))))
}

/// Whether the session may write documents in `c` (see [`write_without_grants`] and
/// [`granted_write`]).
pub async fn can_write(db: &impl ConnectionTrait, session: &Session, c: &collection::Model) -> AppResult<bool> {
    if let Some(answer) = write_without_grants(session, c) {
        return Ok(answer);
    }
    let grants =
        collection_grant::Entity::find().filter(collection_grant::Column::CollectionId.eq(c.id)).all(db).await?;
    granted_write(db, session, c, &grants).await
}

/// Loads a collection the session may write in (FORBIDDEN when it may only read it).
pub async fn writable(db: &impl ConnectionTrait, session: &Session, id: Uuid) -> AppResult<collection::Model> {
    let org = session.require(Permission::KnowledgeWrite)?;
    let c = get(db, org, id).await?;
    if !can_write(db, session, &c).await? {
        return Err(AppError::Forbidden("you may read this collection but not write in it".into()));
    }
    Ok(c)
}

async fn scope(
    db: &impl ConnectionTrait,
    org: Uuid,
    visibility: Visibility,
    team: Option<&Id>,
    project: Option<&Id>,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    let team = match team {
        Some(g) => Some(opsgraph_org::service::teams::get(db, org, Team::decode(g, "teamId")?).await?.id),
        None => None,
    };
    let project = match project {
        Some(g) => Some(opsgraph_work::service::projects::get(db, org, Project::decode(g, "projectId")?).await?.id),
        None => None,
    };
    match visibility {
        Visibility::Team if team.is_none() => Err(AppError::bad_input("teamId", "a TEAM collection needs its team")),
        Visibility::Project if project.is_none() => {
            Err(AppError::bad_input("projectId", "a PROJECT collection needs its project"))
        }
        Visibility::Team => Ok((team, None)),
        Visibility::Project => Ok((None, project)),
        _ => Ok((None, None)),
    }
}

/// Checks a model name against the models the server offers.
pub fn embedding_model(models: &Models, name: Option<&str>) -> AppResult<String> {
    match name.map(str::trim) {
        None => Ok(models.default_model().name.clone()),
        Some(n) if models.get(n).is_some() => Ok(n.to_owned()),
        Some(_) => {
            Err(AppError::bad_input("embeddingModel", format!("embeddingModel must be one of {}", models.names())))
        }
    }
}

/// Creates a collection owned by the caller.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    models: &Models,
    i: CreateCollectionInput,
) -> AppResult<collection::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let key = ("createCollection", i.idempotency_key.as_deref());
    if let Some(id) = w.replay(key.0, key.1).await? {
        return get(db, w.org, id).await;
    }
    if i.visibility == Visibility::Organization {
        session.require(Permission::KnowledgeManage)?;
    }
    let owner = session.membership_id.ok_or_else(|| AppError::Forbidden("collections belong to a member".into()))?;
    let (team, project) = scope(db, w.org, i.visibility, i.team_id.as_ref(), i.project_id.as_ref()).await?;
    let row = collection::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        name: Set(validate::text("name", &i.name, 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.as_deref(), 2000, false)?),
        kind: Set(i.kind.unwrap_or(CollectionKind::KnowledgeBase).as_str().into()),
        visibility: Set(i.visibility.as_str().into()),
        team_id: Set(team),
        project_id: Set(project),
        owner_id: Set(owner),
        language: Set(language("language", i.language.as_deref(), "english")?),
        embedding_model: Set(embedding_model(models, i.embedding_model.as_deref())?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Collection>("collection.create", &row, key).await?;
    w.changed::<Collection>("collection.created", row.id, None).await?;
    Ok(row)
}

/// Change a collection; omitted fields stay.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCollectionInput {
    /// The collection.
    pub id: Id,
    /// The version you last read (stale = CONFLICT).
    pub expected_version: i32,
    /// Name.
    pub name: Option<String>,
    /// What it is for (null clears).
    #[serde(default, deserialize_with = "patch")]
    pub description: Option<Option<String>>,
    /// Who reads it.
    pub visibility: Option<Visibility>,
    /// Its team (TEAM visibility).
    pub team_id: Option<Id>,
    /// Its project (PROJECT visibility).
    pub project_id: Option<Id>,
    /// Another embedding model: every document is embedded again with it in the background
    /// (semantic search uses the new model once a document is INDEXED again).
    pub embedding_model: Option<String>,
}

/// Only its owner or a knowledge manager (for a shared one) changes a collection itself.
fn may_manage(session: &Session, c: &collection::Model) -> AppResult<()> {
    if session.membership_id == Some(c.owner_id) {
        return Ok(());
    }
    if c.visibility != Visibility::Private.as_str() && session.require(Permission::KnowledgeManage).is_ok() {
        return Ok(());
    }
    Err(AppError::Forbidden("only the collection's owner or a knowledge admin may change it".into()))
}

/// Updates a collection (visibility changes apply to every read at once).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    models: &Models,
    i: UpdateCollectionInput,
) -> AppResult<collection::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let current = get(db, w.org, Collection::decode(&i.id, "id")?).await?;
    may_manage(session, &current)?;
    let mut am: collection::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 2000, false)?);
    }
    if let Some(v) = i.visibility {
        if v == Visibility::Organization {
            session.require(Permission::KnowledgeManage)?;
        }
        let (team, project) = scope(db, w.org, v, i.team_id.as_ref(), i.project_id.as_ref()).await?;
        am.visibility = Set(v.as_str().into());
        am.team_id = Set(team);
        am.project_id = Set(project);
    }
    let model = i.embedding_model.as_deref().map(|m| embedding_model(models, Some(m))).transpose()?;
    let remodel = model.as_ref().is_some_and(|m| *m != current.embedding_model);
    if let Some(m) = model {
        am.embedding_model = Set(m);
    }
    let done = w.update::<Collection, _>("collection.update", current, am, i.expected_version).await?;
    if remodel {
        crate::service::documents::reindex_collection(db, done.after.id).await?;
    }
    w.changed::<Collection>("collection.updated", done.after.id, None).await?;
    Ok(done.after)
}

/// Soft-deletes a collection (its documents leave every search with it).
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<collection::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let current = get(db, w.org, Collection::decode(gid, "id")?).await?;
    may_manage(session, &current)?;
    let mut am: collection::ActiveModel = current.clone().into();
    am.deleted_at = Set(Some(chrono::Utc::now().fixed_offset()));
    let version = current.version;
    let done = w.update::<Collection, _>("collection.delete", current, am, version).await?;
    w.changed::<Collection>("collection.deleted", done.after.id, None).await?;
    Ok(done.after)
}

/// Grant or change access to a collection for a member or a team.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct GrantCollectionInput {
    /// The collection.
    pub collection_id: Id,
    /// A member (or give a team).
    pub membership_id: Option<Id>,
    /// A team (or give a member).
    pub team_id: Option<Id>,
    /// READ or WRITE; omit to revoke.
    pub access: Option<Access>,
}

/// Grants, changes or (without `access`) revokes access; returns the collection.
pub async fn grant(
    db: &impl ConnectionTrait,
    session: &Session,
    i: GrantCollectionInput,
) -> AppResult<collection::Model> {
    let w = Write::new(db, session, Permission::KnowledgeWrite)?;
    let c = get(db, w.org, Collection::decode(&i.collection_id, "collectionId")?).await?;
    may_manage(session, &c)?;
    let (member, team) = match (&i.membership_id, &i.team_id) {
        (Some(m), None) => (
            Some(opsgraph_org::service::members::get(db, w.org, Membership::decode(m, "membershipId")?).await?.id),
            None,
        ),
        (None, Some(t)) => {
            (None, Some(opsgraph_org::service::teams::get(db, w.org, Team::decode(t, "teamId")?).await?.id))
        }
        _ => return Err(AppError::bad_input("membershipId", "give exactly one of membershipId and teamId")),
    };
    let existing = collection_grant::Entity::find()
        .filter(collection_grant::Column::CollectionId.eq(c.id))
        .filter(match member {
            Some(m) => collection_grant::Column::MembershipId.eq(m),
            None => collection_grant::Column::MembershipId.is_null(),
        })
        .filter(match team {
            Some(t) => collection_grant::Column::TeamId.eq(t),
            None => collection_grant::Column::TeamId.is_null(),
        })
        .one(db)
        .await?;
    if let Some(g) = &existing {
        collection_grant::Entity::delete_by_id(g.id).exec(db).await?;
    }
    if let Some(access) = i.access {
        collection_grant::ActiveModel {
            id: Set(new_id()),
            org_id: Set(w.org),
            collection_id: Set(c.id),
            membership_id: Set(member),
            team_id: Set(team),
            access: Set(access.as_str().into()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    let audit = serde_json::json!({ "member": member, "team": team, "access": i.access.map(|a| a.as_str()) });
    w.audit::<Collection>("collection.grant", c.id, audit).await?;
    w.changed::<Collection>("collection.access_changed", c.id, None).await?;
    Ok(c)
}
