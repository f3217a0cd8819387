//! The live deal board: `dealChanged(pipelineId, after)` follows a pipeline's deals
//! (created, moved, won, lost, changed, converted, deleted), resumable, each event
//! re-checked against the subscriber's current right to read crm.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dynamic::{InputValue, SubscriptionField, SubscriptionFieldFuture, TypeRef};
use opsgraph_core::gql::{SchemaParts, gid, prop, ref_field};
use opsgraph_core::live::{Hub, LiveEvent, LiveSession, Outbox, Scope, after_arg, after_input, event_object, follow};
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, Permission};
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
                let raw = ctx.args.try_get("pipelineId")?.string()?.to_owned();
                let pipeline = Pipeline::decode(&raw, "pipelineId")?;
                let live = LiveSession::of(&ctx)?;
                let session = live.session.clone();
                let org = session.require(Permission::CrmRead)?;
                let after = after_arg(&ctx)?;
                let db = opsgraph_core::TxDb::begin(&live.pool, &live.tenant()).await.map_err(AppError::from)?;
                let found = crate::service::pipelines::resolve(&db, org, Some(&opsgraph_core::input::Id(raw.clone()))).await;
                db.rollback().await.map_err(AppError::from)?;
                found.map_err(|_| AppError::not_found("pipeline"))?;
                let scope = Scope::new(live.pool.clone(), org, Duration::ZERO);
                opsgraph_org::live::recheck(&scope, &session, Permission::CrmRead).await?;
                let hub = ctx.data::<Hub<Outbox>>().map_err(|_| AppError::internal("event hub missing"))?;
                let gid = Pipeline::gid(pipeline);
                let cursor = hub.subscribe(live.tenant(), org, after).await?.keep(move |e| {
                    e.subject_type == Deal::NAME && e.data.get("pipelineId").and_then(|v| v.as_str()) == Some(gid.as_str())
                });
                Ok(follow(&ctx, cursor, move |d| {
                    let session = session.clone();
                    async move { opsgraph_org::live::recheck(&d.scope, &session, Permission::CrmRead).await.map(|_| true) }
                })?)
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
