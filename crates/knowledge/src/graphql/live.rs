//! `documentChanged(collectionId, after)`: a collection's documents as they are saved,
//! indexed (or fail to be), deleted and restored, resumable; each event re-checked against
//! the subscriber's current right to read knowledge.

use std::sync::Arc;

use async_graphql::dynamic::{InputValue, SubscriptionField, SubscriptionFieldFuture, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::gql::{SchemaParts, gid, prop, ref_field};
use opsgraph_core::live::{LiveEvent, after_input, event_object};
use opsgraph_core::node::NodeType;
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
                opsgraph_org::live::follow_children::<Collection>(
                    &ctx,
                    "collectionId",
                    Permission::KnowledgeRead,
                    Document::NAME,
                    "collectionId",
                )
                .await
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
