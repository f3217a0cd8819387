//! The knowledge domain's GraphQL: collections, folders, documents and their versions, the
//! lists over them and the mutations; `search` lives in [`search`].

pub mod diff;
pub mod links;
pub mod live;
pub mod models;
pub mod search;

use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::aggregate::{GroupKind as G, gf};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, datetime, enum_value, list_field, node_mutation, node_mutation_with, node_object, opt,
    parent, payload, payload_value, prop, ref_field, ref_field_nn,
};
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{Permission, RequestCtx};
use opsgraph_org::nodes::{Membership, Organization, Team};
use opsgraph_work::nodes::Project;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::embed::Models;
use crate::entity::{collection, collection_grant, document, document_version, folder};
use crate::enums::{Access, CollectionKind, DocumentKind, IndexStatus, SearchMode, Visibility};
use crate::loader::GrantsOf;
use crate::nodes::{Collection, Document, DocumentVersion, Folder};
use crate::service::{collections, documents, folders};
use opsgraph_core::loader::list_of;

/// `Collection` lists.
pub static COLLECTIONS: LazyLock<ListSpec<collection::Entity>> = LazyLock::new(|| {
    use collection::Column as C;
    ListSpec {
        node: Collection::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("kind", C::Kind, K::Enum(CollectionKind::NAME)),
            ff("visibility", C::Visibility, K::Enum(Visibility::NAME)),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
        ],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![gf("KIND", C::Kind, G::Enum(&CollectionKind::VALUES))],
    }
});

/// `Document` lists.
pub static DOCUMENTS: LazyLock<ListSpec<document::Entity>> = LazyLock::new(|| {
    use document::Column as C;
    ListSpec {
        node: Document::NAME,
        id: C::Id,
        filters: vec![
            ff("title", C::Title, K::Text),
            ff("kind", C::Kind, K::Enum(DocumentKind::NAME)),
            ff("tags", C::Tags, K::Tags),
            ff("folderId", C::FolderId, K::Id(Folder::NAME)),
            ff("authorId", C::AuthorId, K::Id(Membership::NAME)),
            ff("indexStatus", C::IndexStatus, K::Enum(IndexStatus::NAME)),
            ff("updatedAt", C::UpdatedAt, K::DateTime),
        ],
        sorts: vec![
            sk("UPDATED_AT", C::UpdatedAt, S::DateTime),
            sk("TITLE", C::Title, S::Text),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
        ],
        default_sort: "UPDATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![
            gf("KIND", C::Kind, G::Enum(&DocumentKind::VALUES)),
            gf("INDEX_STATUS", C::IndexStatus, G::Enum(&IndexStatus::VALUES)),
        ],
    }
});

/// `DocumentVersion` lists.
pub static VERSIONS: LazyLock<ListSpec<document_version::Entity>> = LazyLock::new(|| {
    use document_version::Column as C;
    ListSpec {
        node: DocumentVersion::NAME,
        id: C::Id,
        filters: vec![ff("authorId", C::AuthorId, K::Id(Membership::NAME))],
        sorts: vec![sk("REVISION", C::Version, S::Int)],
        default_sort: "REVISION",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Folder` lists.
pub static FOLDERS: LazyLock<ListSpec<folder::Entity>> = LazyLock::new(|| {
    use folder::Column as C;
    ListSpec {
        node: Folder::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("parentId", C::ParentId, K::Id(Folder::NAME))],
        sorts: vec![sk("POSITION", C::Position, S::Int), sk("NAME", C::Name, S::Text)],
        default_sort: "POSITION",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

opsgraph_core::id_input!(
    /// Names one collection.
    CollectionIdInput,
    "The collection."
);
opsgraph_core::id_input!(
    /// Names one document.
    DocumentIdInput,
    "The document."
);

fn text(s: &str) -> Value {
    s.to_owned().into()
}

fn grants_field() -> Field {
    Field::new("grants", TypeRef::named_nn_list_nn("CollectionGrant"), |ctx| {
        FieldFuture::new(async move {
            let c = parent::<collection::Model>(&ctx)?;
            let rows = list_of::<GrantsOf>(RequestCtx::of(&ctx)?.as_ref(), c.id).await?;
            Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
        })
    })
    .description("Explicit access granted to members and teams.")
}

fn can_write_field() -> Field {
    Field::new("viewerCanWrite", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
        FieldFuture::new(async move {
            let c = parent::<collection::Model>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let answer = match collections::write_without_grants(&req.session, c) {
                Some(answer) => answer,
                None => {
                    let grants = list_of::<GrantsOf>(req.as_ref(), c.id).await?;
                    collections::granted_write(req.db.as_ref(), &req.session, c, &grants).await?
                }
            };
            Ok(Some(FieldValue::value(answer)))
        })
    })
    .description("Whether you may write documents here.")
}

fn collection_object() -> Object {
    type C = collection::Model;
    let nn = TypeRef::named_nn;
    node_object::<Collection>("A knowledge base, wiki space or memory, with who may read it.")
        .field(prop::<C>("name", nn(TypeRef::STRING), "Name.", |c| text(&c.name)))
        .field(prop::<C>("description", TypeRef::named(TypeRef::STRING), "What it is for.", |c| {
            opt(c.description.clone())
        }))
        .field(prop::<C>("kind", CollectionKind::nn(), "What it holds.", |c| enum_value(&c.kind)))
        .field(prop::<C>("visibility", Visibility::nn(), "Who reads it (besides grants).", |c| {
            enum_value(&c.visibility)
        }))
        .field(ref_field::<C, Team>("team", "Its team (TEAM visibility).", |c| c.team_id))
        .field(ref_field::<C, Project>("project", "Its project (PROJECT visibility).", |c| c.project_id))
        .field(ref_field_nn::<C, Membership>("owner", "Who owns it.", |c| c.owner_id))
        .field(prop::<C>("language", nn(TypeRef::STRING), "Text search language.", |c| text(&c.language)))
        .field(prop::<C>(
            "embeddingModel",
            nn(TypeRef::STRING),
            "The model that embeds its documents (one of `embeddingModels`).",
            |c| text(&c.embedding_model),
        ))
        .field(prop::<C>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |c| c.version.into()))
        .field(prop::<C>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Created.", |c| {
            datetime(&c.created_at)
        }))
        .field(grants_field())
        .field(can_write_field())
        .field(list_field("documents", &DOCUMENTS, "Its live documents.", |ctx, req| {
            req.require(Permission::KnowledgeRead)?;
            let c = parent::<C>(ctx)?;
            Ok(document::Entity::find()
                .filter(document::Column::CollectionId.eq(c.id))
                .filter(document::Column::DeletedAt.is_null()))
        }))
        .field(list_field("folders", &FOLDERS, "Its folders.", |ctx, req| {
            req.require(Permission::KnowledgeRead)?;
            let c = parent::<C>(ctx)?;
            Ok(folder::Entity::find().filter(folder::Column::CollectionId.eq(c.id)))
        }))
}

fn document_object() -> Object {
    type D = document::Model;
    let nn = TypeRef::named_nn;
    let dt = opsgraph_core::gql::scalar::DATE_TIME;
    node_object::<Document>("A wiki page, article, note, file, memory, blog post or idea.")
        .field(ref_field_nn::<D, Collection>("collection", "Its collection.", |d| d.collection_id))
        .field(ref_field::<D, Folder>("folder", "Its folder.", |d| d.folder_id))
        .field(prop::<D>("kind", DocumentKind::nn(), "What it is.", |d| enum_value(&d.kind)))
        .field(prop::<D>("title", nn(TypeRef::STRING), "Title.", |d| text(&d.title)))
        .field(prop::<D>("body", nn(TypeRef::STRING), "Body (markdown).", |d| text(&d.body)))
        .field(prop::<D>("sourceUrl", TypeRef::named(TypeRef::STRING), "Where it came from.", |d| {
            opt(d.source_url.clone())
        }))
        .field(prop::<D>("language", nn(TypeRef::STRING), "Text search language.", |d| text(&d.language)))
        .field(prop::<D>("tags", TypeRef::named_nn_list_nn(TypeRef::STRING), "Tags.", |d| {
            Value::List(d.tags.iter().map(|t| text(t)).collect())
        }))
        .field(ref_field::<D, Membership>("author", "Who wrote it.", |d| d.author_id))
        .field(prop::<D>("revision", nn(TypeRef::INT), "Its content revision (see versions).", |d| d.revision.into()))
        .field(prop::<D>("indexStatus", IndexStatus::nn(), "Semantic index: PENDING, INDEXED or FAILED.", |d| {
            enum_value(&d.index_status)
        }))
        .field(prop::<D>("indexError", TypeRef::named(TypeRef::STRING), "Why indexing failed.", |d| {
            opt(d.index_error.clone())
        }))
        .field(prop::<D>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |d| d.version.into()))
        .field(prop::<D>("createdAt", nn(dt), "Created.", |d| datetime(&d.created_at)))
        .field(prop::<D>("updatedAt", nn(dt), "Last changed.", |d| datetime(&d.updated_at)))
        .field(list_field("versions", &VERSIONS, "Every saved revision.", |ctx, req| {
            req.require(Permission::KnowledgeRead)?;
            let d = parent::<D>(ctx)?;
            Ok(document_version::Entity::find().filter(document_version::Column::DocumentId.eq(d.id)))
        }))
}

fn other_objects(parts: &mut SchemaParts) {
    type V = document_version::Model;
    type F = folder::Model;
    type G = collection_grant::Model;
    let nn = TypeRef::named_nn;
    parts.object(
        node_object::<DocumentVersion>("One saved revision of a document.")
            .field(ref_field_nn::<V, Document>("document", "The document.", |v| v.document_id))
            .field(prop::<V>("revision", nn(TypeRef::INT), "Its number, from 1.", |v| v.version.into()))
            .field(prop::<V>("title", nn(TypeRef::STRING), "Title then.", |v| text(&v.title)))
            .field(prop::<V>("body", nn(TypeRef::STRING), "Body then.", |v| text(&v.body)))
            .field(ref_field::<V, Membership>("author", "Who saved it.", |v| v.author_id))
            .field(prop::<V>("createdAt", nn(opsgraph_core::gql::scalar::DATE_TIME), "Saved.", |v| {
                datetime(&v.created_at)
            })),
    );
    parts.object(
        node_object::<Folder>("A folder of a collection.")
            .field(prop::<F>("name", nn(TypeRef::STRING), "Name.", |f| text(&f.name)))
            .field(ref_field_nn::<F, Collection>("collection", "Its collection.", |f| f.collection_id))
            .field(ref_field::<F, Folder>("parent", "The folder it is in.", |f| f.parent_id))
            .field(prop::<F>("position", nn(TypeRef::INT), "Place among its siblings.", |f| f.position.into()))
            .field(prop::<F>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |f| f.version.into())),
    );
    parts.object(
        Object::new("CollectionGrant")
            .description("Access to a collection for a member or a team.")
            .field(ref_field::<G, Membership>("member", "The member.", |g| g.membership_id))
            .field(ref_field::<G, Team>("team", "The team.", |g| g.team_id))
            .field(prop::<G>("access", Access::nn(), "READ or WRITE.", |g| enum_value(&g.access))),
    );
}

/// The mutations of collections.
fn collection_mutations(parts: &mut SchemaParts) {
    parts.object(payload::<Collection>("collection", "Result of a mutation changing a Collection."));
    parts.object(payload::<Document>("document", "Result of a mutation changing a Document."));
    parts.input::<collections::CreateCollectionInput>().input::<collections::UpdateCollectionInput>();
    parts.input::<collections::GrantCollectionInput>().input::<CollectionIdInput>();
    parts.input::<documents::CreateDocumentInput>().input::<documents::UpdateDocumentInput>();
    parts.input::<documents::RestoreRevisionInput>().input::<DocumentIdInput>();
    parts.mutation(node_mutation_with(
        Collection,
        "createCollection",
        "Create a collection you own.",
        |req, models: Models, i| async move {
            Ok(payload_value(collections::create(req.db.as_ref(), &req.session, &models, i).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        Collection,
        "updateCollection",
        "Rename a collection, change who reads it or the model that embeds its documents.",
        |req, models: Models, i| async move {
            Ok(payload_value(collections::update(req.db.as_ref(), &req.session, &models, i).await?))
        },
    ));
    parts.mutation(node_mutation(
        Collection,
        "deleteCollection",
        "Delete a collection (soft).",
        |req, i: CollectionIdInput| async move {
            Ok(payload_value(collections::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation(
        Collection,
        "setCollectionAccess",
        "Grant READ or WRITE on a collection to a member or team, or revoke it (no access).",
        |req, i| async move { Ok(payload_value(collections::grant(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

fn mutations(parts: &mut SchemaParts) {
    collection_mutations(parts);
    parts.object(payload::<Folder>("folder", "Result of a mutation changing a Folder."));
    parts.input::<folders::CreateFolderInput>().input::<folders::UpdateFolderInput>();
    parts.mutation(node_mutation(
        Folder,
        "createFolder",
        "Create a folder in a collection you may write in.",
        |req, i| async move { Ok(payload_value(folders::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Folder,
        "updateFolder",
        "Rename a folder or move it (never into itself; null parent: the top).",
        |req, i| async move { Ok(payload_value(folders::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Document,
        "createDocument",
        "Write a document (searchable by keyword at once).",
        |req, i| async move { Ok(payload_value(documents::create(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Document,
        "updateDocument",
        "Save a document: new content makes a revision and is re-indexed; identical content changes nothing.",
        |req, i| async move { Ok(payload_value(documents::update(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Document,
        "restoreDocumentRevision",
        "Bring back an earlier revision's title and body as a new revision.",
        |req, i| async move { Ok(payload_value(documents::restore_revision(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Document,
        "deleteDocument",
        "Delete a document (soft; restorable).",
        |req, i: DocumentIdInput| async move {
            Ok(payload_value(documents::set_deleted(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
    parts.mutation(node_mutation(
        Document,
        "restoreDocument",
        "Bring a deleted document back.",
        |req, i: DocumentIdInput| async move {
            Ok(payload_value(documents::set_deleted(req.db.as_ref(), &req.session, &i.id, false).await?))
        },
    ));
}

/// Registers the knowledge domain.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<Visibility>().enumeration::<CollectionKind>().enumeration::<DocumentKind>();
    parts.enumeration::<IndexStatus>().enumeration::<Access>().enum_only::<SearchMode>();
    parts.enum_only::<crate::enums::EmbeddingProvider>();
    parts.list(&*COLLECTIONS).list(&*DOCUMENTS).list(&*VERSIONS).list(&*FOLDERS);
    parts.object(collection_object()).object(document_object());
    other_objects(parts);
    parts.node::<Collection>().node::<Document>().node::<DocumentVersion>().node::<Folder>();
    parts.extend::<Organization>(list_field(
        "collections",
        &COLLECTIONS,
        "The knowledge collections you can read.",
        |_, req| {
            let org = req.require(Permission::KnowledgeRead)?;
            Ok(collection::Entity::find()
                .filter(collection::Column::OrgId.eq(org))
                .filter(collection::Column::DeletedAt.is_null()))
        },
    ));
    mutations(parts);
    search::register(parts);
    models::register(parts);
    links::register(parts);
    diff::register(parts);
    live::register(parts);
}
