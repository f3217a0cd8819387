//! Inbox operations beyond reading: archive, mark all read, and notification preferences.

use super::common::{S, int_nn, nn, nullable, opt_ts, ts};
use crate::entity::notification;
use crate::enums::NotificationKind;
use crate::nodes::Notification;
use crate::service::notifications::{self, Preference};
use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::RequestCtx;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, mutation, node_object, opt, payload_object, payload_value, prop, scalar,
};
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use std::sync::LazyLock;

/// Registers archive, mark-all-read and preferences.
pub fn register(parts: &mut SchemaParts) {
    notification_types(parts);
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

/// The `Notification` type, its list and `markNotifications`.
fn notification_types(parts: &mut SchemaParts) {
    parts.input::<notifications::MarkInput>();
    parts.enumeration::<NotificationKind>();
    parts.list(&*NOTIFICATIONS);
    parts.object(notification_object());
    parts.object(
        Object::new("MarkNotificationsPayload").description("Result of marking notifications.").field(prop::<u64>(
            "updatedCount",
            int_nn(),
            "How many notifications changed.",
            |n| (*n as i64).into(),
        )),
    );
    parts.mutation(mutation(
        "markNotifications",
        "MarkNotificationsPayload",
        "Mark your notifications read or unread.",
        |req, i: notifications::MarkInput| async move {
            Ok(FieldValue::owned_any(notifications::mark(&req, i).await?))
        },
    ));
}

fn notification_object() -> Object {
    type N = notification::Model;
    node_object::<Notification>("An item in a member's inbox.")
        .field(prop::<N>("kind", NotificationKind::nn(), "Kind.", |n| enum_value(&n.kind)))
        .field(prop::<N>("title", nn(S), "Title.", |n| n.title.clone().into()))
        .field(prop::<N>("body", nullable(S), "Body text.", |n| opt(n.body.clone())))
        .field(prop::<N>("link", nullable(S), "Where to go.", |n| opt(n.link.clone())))
        .field(prop::<N>("subjectId", nullable(TypeRef::ID), "Global ID of the object it is about.", |n| {
            match (&n.subject_type, n.subject_id) {
                (Some(t), Some(id)) => opsgraph_core::gql::gid_named(t, id),
                _ => Value::Null,
            }
        }))
        .field(prop::<N>("data", nn(scalar::JSON), "Extra structured data.", |n| {
            Value::from_json(n.data.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<N>("isRead", nn(TypeRef::BOOLEAN), "Whether it has been read.", |n| n.read_at.is_some().into()))
        .field(prop::<N>("readAt", nullable(scalar::DATE_TIME), "When it was read.", |n| opt_ts(&n.read_at)))
        .field(prop::<N>("archivedAt", nullable(scalar::DATE_TIME), "When it was archived.", |n| {
            opt_ts(&n.archived_at)
        }))
        .field(prop::<N>("createdAt", nn(scalar::DATE_TIME), "When it arrived.", |n| ts(&n.created_at)))
}

/// `Notification` lists.
pub static NOTIFICATIONS: LazyLock<ListSpec<notification::Entity>> = LazyLock::new(|| {
    use notification::Column as C;
    ListSpec {
        node: Notification::NAME,
        id: C::Id,
        filters: vec![
            ff("kind", C::Kind, K::Enum(NotificationKind::NAME)),
            ff("readAt", C::ReadAt, K::DateTime),
            ff("archivedAt", C::ArchivedAt, K::DateTime),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
