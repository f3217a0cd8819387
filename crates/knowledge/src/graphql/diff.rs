//! `Document.diff(from, to)`: the line diff of two revisions' bodies.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, TypeRef};
use opsgraph_core::RequestCtx;
use opsgraph_core::gql::{SchemaParts, parent};

use crate::entity::document;
use crate::nodes::Document;

/// Registers `DiffLine`, `DiffChange` and `Document.diff`.
pub fn register(parts: &mut SchemaParts) {
    diff_types(parts);
    parts.extend::<Document>(diff_field());
}

/// `Document.diff(from, to)`: the line diff of two revisions.
fn diff_field() -> Field {
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
fn diff_types(parts: &mut SchemaParts) {
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
