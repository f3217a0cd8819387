//! `notificationAdded`: the viewer's new notifications, live and resumable.

use crate::nodes::Notification;
use std::sync::Arc;

use async_graphql::dynamic::{Object, SubscriptionField, SubscriptionFieldFuture, TypeRef};
use opsgraph_core::gql::{SchemaParts, ref_field_nn};
use opsgraph_core::live::{Hub, LiveSession, after_arg, after_input, follow, seq_field};
use opsgraph_core::{AppError, Permission};

use crate::live::{Inbox, InboxItem, recheck};

/// Registers the notification stream.
pub fn register(parts: &mut SchemaParts) {
    parts.object(
        Object::new("NotificationEvent")
            .description("A notification delivered live.")
            .field(seq_field::<InboxItem>(|n| n.seq))
            .field(ref_field_nn::<Arc<InboxItem>, Notification>(
                "notification",
                "The notification, as in your inbox.",
                |n| n.id,
            )),
    );
    parts.subscription(
        SubscriptionField::new("notificationAdded", TypeRef::named_nn("NotificationEvent"), |ctx| {
            SubscriptionFieldFuture::new(async move {
                let live = LiveSession::of(&ctx)?;
                let session = live.session.clone();
                let org = session.require(Permission::NotificationsOwn)?;
                let me = session
                    .membership_id
                    .ok_or_else(|| AppError::Forbidden("notifications belong to members: sign in as a user".into()))?;
                let after = after_arg(&ctx)?;
                let hub = ctx.data::<Hub<Inbox>>().map_err(|_| AppError::internal("inbox hub missing"))?;
                let cursor = hub.subscribe(live.tenant(), org, after).await?.keep(move |n| n.membership_id == me);
                Ok(follow(&ctx, cursor, move |d| {
                    let session = session.clone();
                    async move { recheck(&d.scope, &session, Permission::NotificationsOwn).await.map(|_| true) }
                })?)
            })
        })
        .argument(after_input())
        .description(
            "Your notifications as the dispatcher creates them, in event order. Each is re-checked \
             against your current membership before it is sent; losing access ends the stream with FORBIDDEN.",
        ),
    );
}
