//! Inbox operations beyond reading: archive, mark all read, and notification preferences.

use crate::enums::NotificationKind;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::RequestCtx;
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::{SchemaParts, enum_value, mutation, payload_object, payload_value, prop};

use crate::service::notifications::{self, Preference};

/// Registers archive, mark-all-read and preferences.
pub fn register(parts: &mut SchemaParts) {
    type P = Preference;
    let nn = TypeRef::named_nn;
    let _b = || TypeRef::named(TypeRef::BOOLEAN);
    parts.object(
        Object::new("NotificationPreference")
            .description(
                "Channels of one notification kind for you (e-mail and push are queued as pending deliveries).",
            )
            .field(prop::<P>("kind", NotificationKind::nn(), "The kind.", |p| enum_value(&p.kind)))
            .field(prop::<P>("inApp", nn(TypeRef::BOOLEAN), "In the inbox and on live subscriptions.", |p| {
                p.in_app.into()
            }))
            .field(prop::<P>("email", nn(TypeRef::BOOLEAN), "By e-mail.", |p| p.email.into()))
            .field(prop::<P>("push", nn(TypeRef::BOOLEAN), "By push notification.", |p| p.push.into())),
    );
    parts.extend_named(
        "Viewer",
        Field::new("notificationPreferences", TypeRef::named_nn_list_nn("NotificationPreference"), |ctx| {
            FieldFuture::new(async move {
                let req = &RequestCtx::of(&ctx)?;
                let prefs = notifications::preferences(req).await?;
                Ok(Some(FieldValue::list(prefs.into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("Your channels per notification kind (defaults where you set none)."),
    );
    parts.input::<notifications::ArchiveInput>();
    parts.input::<notifications::SetPreferenceInput>();
    parts.object(payload_object(
        "NotificationPreferencePayload",
        "preference",
        TypeRef::named_nn("NotificationPreference"),
        "Result of `setNotificationPreference`.",
    ));
    parts.mutation(mutation(
        "archiveNotifications",
        "MarkNotificationsPayload",
        "Archive your notifications (archived ones leave the unread count).",
        |req, i| async move { Ok(FieldValue::owned_any(notifications::archive(&req, i).await?)) },
    ));
    parts.mutation(
        Field::new("markAllNotificationsRead", nn("MarkNotificationsPayload"), |ctx| {
            FieldFuture::new(async move {
                let req = &RequestCtx::of(&ctx)?;
                Ok(Some(FieldValue::owned_any(notifications::mark_all_read(req).await?)))
            })
        })
        .description("Mark every unread notification of yours read."),
    );
    parts.mutation(mutation(
        "setNotificationPreference",
        "NotificationPreferencePayload",
        "Choose the channels of one notification kind.",
        |req, i| async move { Ok(payload_value(notifications::set_preference(&req, i).await?)) },
    ));
}
