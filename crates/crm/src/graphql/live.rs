//! The live deal board: `dealChanged(pipelineId, after)` follows a pipeline's deals
//! (created, moved, won, lost, changed, converted, deleted), resumable, each event
//! re-checked against the subscriber's current right to read crm.

use std::sync::Arc;

use async_graphql::dynamic::{InputValue, SubscriptionField, SubscriptionFieldFuture, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::gql::{SchemaParts, gid, prop, ref_field};
use opsgraph_core::live::{LiveEvent, after_input, event_object};
use opsgraph_core::node::NodeType;
use opsgraph_org::nodes::Membership;

use crate::nodes::{Deal, Pipeline};

type E = Arc<LiveEvent>;

/// Registers `DealEvent` and `dealChanged`.
pub fn register(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    parts.object(
        event_object("DealEvent", "Something that happened to a deal of a pipeline.")
            .field(ref_field::<E, Membership>("actor", "Who did it (null for the system).", |e| e.actor_membership_id))
            .field(prop::<E>("dealId", nn(TypeRef::ID), "The deal's global ID (also when it was deleted).", |e| {
                gid::<Deal>(e.subject_id)
            }))
            .field(ref_field::<E, Deal>("deal", "The deal as it is now.", |e| Some(e.subject_id))),
    );
    parts.subscription(
        SubscriptionField::new("dealChanged", nn("DealEvent"), |ctx| {
            SubscriptionFieldFuture::new(async move {
                opsgraph_org::live::follow_children::<Pipeline>(
                    &ctx,
                    "pipelineId",
                    Permission::CrmRead,
                    Deal::NAME,
                    "pipelineId",
                )
                .await
            })
        })
        .argument(InputValue::new("pipelineId", nn(TypeRef::ID)).description("The pipeline whose board to follow."))
        .argument(after_input())
        .description(
            "Changes to the deals of a pipeline (created, moved, stage changed, won, lost, updated, converted, \
             deleted), in commit order: a live board. Each event is re-checked; losing access ends the stream with \
             FORBIDDEN.",
        ),
    );
}
