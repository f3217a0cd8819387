//! `documentChanged(collectionId, after)`: a collection's documents as they are saved,
//! indexed (or fail to be), deleted and restored, resumable; each event re-checked against
//! the subscriber's current right to read knowledge.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dynamic::{InputValue, SubscriptionField, SubscriptionFieldFuture, TypeRef};
use opsgraph_core::gql::{SchemaParts, gid, prop, ref_field};
use opsgraph_core::live::{Hub, LiveEvent, LiveSession, Outbox, Scope, after_arg, after_input, event_object, follow};
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, Permission};
use opsgraph_org::nodes::Membership;

use crate::nodes::{Collection, Document};

type E = Arc<LiveEvent>;

/// Registers `DocumentEvent` and `documentChanged`.
pub fn register(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    parts.object(
        event_object(
            "DocumentEvent",
            "Something that happened to a document of a collection: `document.saved` (new content, index PENDING), \
             `document.indexed`, `document.index_failed`, `document.deleted`, `document.restored`.",
        )
        .field(ref_field::<E, Membership>("actor", "Who did it (null for the indexer).", |e| e.actor_membership_id))
        .field(prop::<E>("documentId", nn(TypeRef::ID), "The document's global ID.", |e| gid::<Document>(e.subject_id)))
        .field(ref_field::<E, Document>(
            "document",
            "The document as it is now (its index status and error).",
            |e| Some(e.subject_id),
        )),
    );
    parts.subscription(
        SubscriptionField::new("documentChanged", nn("DocumentEvent"), |ctx| {
            SubscriptionFieldFuture::new(async move {
                let raw = ctx.args.try_get("collectionId")?.string()?.to_owned();
                let collection = Collection::decode(&raw, "collectionId")?;
                let live = LiveSession::of(&ctx)?;
                let session = live.session.clone();
                let org = session.require(Permission::KnowledgeRead)?;
                let after = after_arg(&ctx)?;
                let db = opsgraph_core::TxDb::begin(&live.pool, &live.tenant()).await.map_err(AppError::from)?;
                let found = crate::service::collections::get(&db, org, collection).await;
                db.rollback().await.map_err(AppError::from)?;
                found?;
                let scope = Scope::new(live.pool.clone(), org, Duration::ZERO);
                opsgraph_org::live::recheck(&scope, &session, Permission::KnowledgeRead).await?;
                let hub = ctx.data::<Hub<Outbox>>().map_err(|_| AppError::internal("event hub missing"))?;
                let gid = Collection::gid(collection);
                let cursor = hub.subscribe(live.tenant(), org, after).await?.keep(move |e| {
                    e.subject_type == Document::NAME
                        && e.data.get("collectionId").and_then(|v| v.as_str()) == Some(gid.as_str())
                });
                Ok(follow(&ctx, cursor, move |d| {
                    let session = session.clone();
                    async move {
                        opsgraph_org::live::recheck(&d.scope, &session, Permission::KnowledgeRead).await.map(|_| true)
                    }
                })?)
            })
        })
        .argument(InputValue::new("collectionId", nn(TypeRef::ID)).description("The collection to follow."))
        .argument(after_input())
        .description(
            "Changes to a collection's documents in commit order, including their index status (PENDING on save, \
             INDEXED or FAILED from the background indexer). Losing the right to read ends the stream with FORBIDDEN.",
        ),
    );
}
