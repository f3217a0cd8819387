//! Documents linked to entities both ways: `Document.linkedTo` and `documents` on tasks,
//! projects, deals, accounts and contacts; `linkDocument`.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
use opsgraph_core::gql::{SchemaParts, fetch_nodes, node_mutation, parent, payload_value};
use opsgraph_core::id;
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
            let ids: Vec<String> = links.iter().map(|(ty, id)| id::encode(ty, *id)).collect();
            let found = fetch_nodes(&ctx, ids, |_| "linkedTo".to_owned()).await?;
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
    parts.extend::<Document>(diff_field());
    diff_types(parts);
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
            let near = req.loader(crate::loader::Related).load_one((d.id, first)).await.map_err(|e| failed(&e))?;
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

/// `Document.diff(from, to)`: the line diff of two revisions.
pub fn diff_field() -> Field {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    Field::new("diff", TypeRef::named_nn_list_nn("DiffLine"), |ctx| {
        FieldFuture::new(async move {
            let d = parent::<document::Model>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let (from, to) = (ctx.args.try_get("from")?.i64()?, ctx.args.try_get("to")?.i64()?);
            let revs = crate::entity::document_version::Entity::find()
                .filter(crate::entity::document_version::Column::DocumentId.eq(d.id))
                .filter(crate::entity::document_version::Column::Version.is_in([from, to]))
                .all(req.db.as_ref())
                .await?;
            let body = |n: i64, arg: &str| {
                revs.iter()
                    .find(|v| i64::from(v.version) == n)
                    .map(|v| v.body.clone())
                    .ok_or_else(|| opsgraph_core::AppError::bad_input(arg, format!("no revision {n}")))
            };
            let lines = crate::diff::lines(&body(from, "from")?, &body(to, "to")?);
            Ok(Some(FieldValue::list(lines.into_iter().map(FieldValue::owned_any))))
        })
    })
    .argument(
        async_graphql::dynamic::InputValue::new("from", TypeRef::named_nn(TypeRef::INT))
            .description("The older revision."),
    )
    .argument(
        async_graphql::dynamic::InputValue::new("to", TypeRef::named_nn(TypeRef::INT))
            .description("The newer revision."),
    )
    .description("The line diff of two revisions' bodies.")
}

/// The `DiffLine` type and `DiffChange` enum.
pub fn diff_types(parts: &mut SchemaParts) {
    use crate::diff::{Change, Line};
    use async_graphql::dynamic::{Enum, Object};
    use opsgraph_core::gql::{enum_value, opt, prop};
    parts.ty(Enum::new("DiffChange")
        .description("What happened to a line between two revisions.")
        .item(async_graphql::dynamic::EnumItem::new("EQUAL").description("In both."))
        .item(async_graphql::dynamic::EnumItem::new("INSERT").description("Added in the newer one."))
        .item(async_graphql::dynamic::EnumItem::new("DELETE").description("Removed from the older one.")));
    parts.object(
        Object::new("DiffLine")
            .description("One line of a diff.")
            .field(prop::<Line>("change", TypeRef::named_nn("DiffChange"), "What happened to it.", |l| {
                enum_value(match l.change {
                    Change::Equal => "EQUAL",
                    Change::Insert => "INSERT",
                    Change::Delete => "DELETE",
                })
            }))
            .field(prop::<Line>("text", TypeRef::named_nn(TypeRef::STRING), "The line.", |l| l.text.clone().into()))
            .field(prop::<Line>("oldLine", TypeRef::named(TypeRef::INT), "Its number in the older revision.", |l| {
                opt(l.old.map(|n| n as i64))
            }))
            .field(prop::<Line>("newLine", TypeRef::named(TypeRef::INT), "Its number in the newer revision.", |l| {
                opt(l.new.map(|n| n as i64))
            })),
    );
}
