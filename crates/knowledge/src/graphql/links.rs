//! Documents linked to entities both ways (`Document.linkedTo` and `documents` on tasks,
//! projects, deals, accounts and contacts; `linkDocument`) and to each other by meaning
//! (`Document.related`).

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
use opsgraph_core::gql::{NodeRegistry, SchemaParts, node_mutation, parent, payload_value};
use opsgraph_core::loader::failed;
use opsgraph_core::node::{Model, NodeType};
use opsgraph_core::{Permission, RequestCtx};
use opsgraph_crm::nodes::{Account, Contact, Deal};
use opsgraph_work::nodes::{Project, Task};

use crate::entity::document;
use crate::loader::{LinkedDocuments, LinksOf};
use crate::nodes::Document;
use crate::service::documents::{self, LinkDocumentInput};

fn linked_to() -> Field {
    Field::new("linkedTo", TypeRef::named_nn_list_nn("Node"), |ctx| {
        FieldFuture::new(async move {
            let d = parent::<document::Model>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let links = req.loader(LinksOf).load_one(d.id).await.map_err(|e| failed(&e))?.unwrap_or_default();
            let found = NodeRegistry::of(&ctx)?.fetch_nodes(req.clone(), links.as_ref().clone()).await?;
            // Entities the reader may not see are left out.
            Ok(Some(FieldValue::list(found.into_iter().flatten())))
        })
    })
    .description("The tasks, projects, deals, accounts and contacts it is linked to (those you can see).")
}

fn documents_of<N: NodeType>() -> Field
where
    Model<N>: Send + Sync + 'static,
{
    Field::new("documents", TypeRef::named_nn_list_nn(Document::NAME), |ctx| {
        FieldFuture::new(async move {
            let parent = parent::<Model<N>>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            if req.require(Permission::KnowledgeRead).is_err() {
                return Ok(Some(FieldValue::list(Vec::<FieldValue<'static>>::new())));
            }
            let docs =
                req.loader(LinkedDocuments).load_one(N::id(parent)).await.map_err(|e| failed(&e))?.unwrap_or_default();
            Ok(Some(FieldValue::list(docs.iter().map(|d| FieldValue::owned_any(d.clone())))))
        })
    })
    .description("Knowledge documents linked to it (those you can read).")
}

/// Registers the link fields and `linkDocument`.
pub fn register(parts: &mut SchemaParts) {
    parts.input::<LinkDocumentInput>();
    parts.extend::<Document>(linked_to());
    parts.extend::<Document>(related());
    parts.extend::<Task>(documents_of::<Task>());
    parts.extend::<Project>(documents_of::<Project>());
    parts.extend::<Deal>(documents_of::<Deal>());
    parts.extend::<Account>(documents_of::<Account>());
    parts.extend::<Contact>(documents_of::<Contact>());
    parts.mutation(node_mutation(
        Document,
        "linkDocument",
        "Link a document to a task, project, deal, account or contact you can see (linked: false unlinks).",
        |req, i| async move { Ok(payload_value(documents::link(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

/// `Document.related`: the nearest documents the reader can open.
pub fn related() -> Field {
    Field::new("related", TypeRef::named_nn_list_nn(Document::NAME), |ctx| {
        FieldFuture::new(async move {
            let d = parent::<document::Model>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let first = match ctx.args.get("first") {
                Some(v) => v.i64()?,
                None => 5,
            };
            if !(1..=20).contains(&first) {
                return Err(opsgraph_core::AppError::bad_input("first", "first is 1..20").into());
            }
            let models = ctx.data_opt::<crate::embed::Models>().cloned().unwrap_or_default();
            let near = req
                .loader(|db| crate::loader::Related(db, models))
                .load_one((d.id, first))
                .await
                .map_err(|e| failed(&e))?;
            let ids: Vec<uuid::Uuid> = near.unwrap_or_default().iter().map(|(id, _)| *id).collect();
            let docs = opsgraph_core::loader::many_by_id::<document::Entity>(&req, ids).await?;
            let out: Vec<FieldValue<'static>> =
                docs.iter().map(|d| FieldValue::owned_any(d.as_ref().clone())).collect();
            Ok(Some(FieldValue::list(out)))
        })
    })
    .argument(
        async_graphql::dynamic::InputValue::new("first", TypeRef::named(TypeRef::INT))
            .description("How many (1..20, default 5)."),
    )
    .description("The documents nearest in meaning (once indexed), nearest first.")
}
