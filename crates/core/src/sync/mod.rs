//! What integrations with outside systems use, once for every domain: external references
//! on any node ([`refs`]), upsert by reference ([`upsert`]) and the change feed
//! ([`changes`]). All of it needs [`Permission::Integrate`]; what an upsert writes also
//! needs the domain's own permission (adding members needs MembersManage, and so on).

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use serde::Deserialize;
use std::any::Any;
use std::sync::Arc;

use crate::audit::{self, AuditEntry};
use crate::auth::Permission;
use crate::context::RequestCtx;
use crate::error::{AppError, AppResult};
use crate::gql::{NodeRegistry, SchemaParts, parent, prop};
use crate::input::Id;
use crate::loader::failed;
use crate::node::{Model, NodeType};

pub mod changes;
pub mod refs;
pub mod upsert;

pub use refs::{ExternalRef, ExternalRefInput};
pub use upsert::{Upsert, UpsertStatus};

/// The `externalRefs` field of node type `N` (added to every node type by
/// [`SchemaParts::node`]).
pub fn external_refs_field<N: NodeType>() -> Field
where
    Model<N>: Any + Send + Sync,
{
    Field::new("externalRefs", TypeRef::named_nn_list_nn("ExternalRef"), |ctx| {
        FieldFuture::new(async move {
            let id = N::id(parent::<Model<N>>(&ctx)?);
            let req = RequestCtx::of(&ctx)?;
            let refs = req.loader(refs::RefsOf::new).load_one(id).await.map_err(|e| failed(&e))?;
            let list = refs.map(|r| r.iter().map(|x| FieldValue::owned_any(x.clone())).collect::<Vec<_>>());
            Ok(Some(FieldValue::list(list.unwrap_or_default())))
        })
    })
    .description("What outside systems call this node (set by integrations; see `setExternalRef`).")
}

/// Set or remove one external reference of a node.
#[derive(Deserialize, opsgraph_derive::GqlInput)]
#[serde(rename_all = "camelCase")]
struct SetExternalRefInput {
    /// The node.
    node_id: Id,
    /// The outside system.
    system: String,
    /// The node's id there; null removes the node's reference in that system.
    external_id: Option<String>,
}

/// The node a reference was set on (the `SetExternalRefPayload`).
struct RefTarget {
    ty: String,
    id: uuid::Uuid,
}

async fn set_external_ref(
    req: Arc<RequestCtx>,
    registry: &NodeRegistry,
    i: SetExternalRefInput,
) -> AppResult<RefTarget> {
    let org = req.require(Permission::Integrate)?;
    let (ty, id) = crate::id::decode(&i.node_id).map_err(|_| AppError::bad_input("nodeId", "not a valid ID"))?;
    if registry.fetch_node(req.clone(), &ty, id).await?.is_none() {
        return Err(AppError::not_found(format!("node {}", i.node_id.0)));
    }
    let db = req.db.as_ref();
    let changes = match &i.external_id {
        Some(ext) => {
            let input = ExternalRefInput { system: i.system.clone(), external_id: ext.clone() };
            let key = refs::RefKey::new(&ty, &input, "")?;
            refs::lock(db, org, std::slice::from_ref(&key)).await?;
            refs::set(db, org, &key, id, "externalId").await?;
            serde_json::json!({ "system": key.system, "externalId": key.external_id })
        }
        None => {
            let system = i.system.trim().to_ascii_lowercase();
            if !refs::remove(db, org, id, &system).await? {
                return Err(AppError::not_found(format!("{system} reference of node {}", i.node_id.0)));
            }
            serde_json::json!({ "system": system, "externalId": null })
        }
    };
    let entry = AuditEntry { action: "external_ref.set", entity_type: &ty, entity_id: id, changes };
    audit::record(db, &req.session, org, entry).await?;
    Ok(RefTarget { ty, id })
}

fn node_by_external_ref() -> Field {
    Field::new("nodeByExternalRef", TypeRef::named("Node"), |ctx| {
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let org = req.require(Permission::Integrate)?;
            let registry = NodeRegistry::of(&ctx)?;
            let ty = ctx.args.try_get("type")?.string()?.to_owned();
            if !registry.has(&ty) {
                return Err(AppError::bad_input("type", format!("`{ty}` is not a node type")).into());
            }
            let input = ExternalRefInput {
                system: ctx.args.try_get("system")?.string()?.to_owned(),
                external_id: ctx.args.try_get("externalId")?.string()?.to_owned(),
            };
            let key = refs::RefKey::new(&ty, &input, "")?;
            let found = refs::find(req.db.as_ref(), org, &ty, &key.system, vec![key.external_id.clone()]).await?;
            let Some(id) = found.get(&key.external_id).copied() else { return Ok(None) };
            Ok(registry.fetch_node(req, &ty, id).await?)
        })
    })
    .argument(InputValue::new("system", TypeRef::named_nn(TypeRef::STRING)).description("The outside system."))
    .argument(InputValue::new("externalId", TypeRef::named_nn(TypeRef::STRING)).description("The id there."))
    .argument(InputValue::new("type", TypeRef::named_nn(TypeRef::STRING)).description("The node type (`Task`)."))
    .description("The node an outside system's reference names; null when none does (or it is not visible).")
}

/// Adds the shared sync types, `nodeByExternalRef`, `setExternalRef` and `changes`.
pub fn register(parts: &mut SchemaParts) {
    upsert::shared_types(parts);
    parts.object(
        Object::new("ExternalRef")
            .description("A node's id in an outside system.")
            .field(prop::<ExternalRef>("system", TypeRef::named_nn(TypeRef::STRING), "The outside system.", |r| {
                r.system.clone().into()
            }))
            .field(prop::<ExternalRef>("externalId", TypeRef::named_nn(TypeRef::STRING), "The id there.", |r| {
                r.external_id.clone().into()
            })),
    );
    parts.input::<SetExternalRefInput>();
    parts.object(
        Object::new("SetExternalRefPayload").description("Result of setExternalRef.").field(
            Field::new("node", TypeRef::named_nn("Node"), |ctx| {
                FieldFuture::new(async move {
                    let t = parent::<RefTarget>(&ctx)?;
                    let node = NodeRegistry::of(&ctx)?.fetch_node(RequestCtx::of(&ctx)?, &t.ty, t.id).await?;
                    Ok(Some(node.ok_or_else(|| AppError::not_found("node"))?))
                })
            })
            .description("The node, with its references."),
        ),
    );
    parts.mutation(
        Field::new("setExternalRef", TypeRef::named("SetExternalRefPayload"), |ctx| {
            FieldFuture::new(async move {
                let req = RequestCtx::of(&ctx)?;
                let input: SetExternalRefInput = ctx
                    .args
                    .try_get("input")?
                    .deserialize()
                    .map_err(|e| AppError::bad_input("input", format!("invalid input: {}", e.message)))?;
                let target = set_external_ref(req, &NodeRegistry::of(&ctx)?, input).await?;
                Ok(Some(FieldValue::owned_any(target)))
            })
        })
        .argument(
            InputValue::new("input", TypeRef::named_nn("SetExternalRefInput")).description("The mutation's input."),
        )
        .description("Give a node its id in an outside system (replacing its previous one there), or remove it."),
    );
    parts.query(node_by_external_ref());
    changes::register(parts);
}
