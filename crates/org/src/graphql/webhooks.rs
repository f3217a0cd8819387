//! Outgoing webhooks: `WebhookEndpoint`, `WebhookDelivery`, `WebhookAttempt`, the
//! endpoints list and the admin mutations (create, update, rotate the secret, delete,
//! replay a delivery, ping).

use super::common::{S, int_nn, nn, nullable, opt_ts, s_nn, ts};
use crate::entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use crate::enums::{WebhookDeliveryStatus, WebhookEndpointStatus};
use crate::loader::{AttemptsOfDelivery, DeliveriesOfEndpoint};
use crate::nodes::{Membership, Organization, WebhookAttempt, WebhookDelivery, WebhookEndpoint};
use crate::service::webhooks::{self, EndpointInput, Webhooks};
use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::json;
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, list_field, list_of_field, mutation_with, node_mutation_with, node_object, opt,
    page_field, payload, payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, AppResult, Permission};
use opsgraph_derive::GqlInput;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::sync::LazyLock;

/// The webhook settings the server gave the schema.
fn hooks(h: Option<Webhooks>) -> AppResult<Webhooks> {
    h.ok_or_else(|| AppError::internal("webhooks are not configured"))
}

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    parts.object(payload::<WebhookEndpoint>("webhookEndpoint", "Result of a mutation changing a WebhookEndpoint."));
    parts.object(payload::<WebhookDelivery>("webhookDelivery", "Result of a mutation changing a WebhookDelivery."));
    parts.input::<EndpointCreate>();
    parts.input::<EndpointUpdate>();
    parts.input::<WebhookIdInput>();
    parts.enumeration::<WebhookEndpointStatus>();
    parts.enumeration::<WebhookDeliveryStatus>();
    parts.list(&*WEBHOOK_ENDPOINTS);
    parts.list(&*WEBHOOK_DELIVERIES);
    parts.object(endpoint_object());
    parts.object(delivery_object());
    parts.object(attempt_object());
    parts.node::<WebhookEndpoint>();
    parts.node::<WebhookDelivery>();
    parts.node::<WebhookAttempt>();
    parts.extend::<Organization>(list_field(
        "webhookEndpoints",
        &WEBHOOK_ENDPOINTS,
        "Outgoing webhook endpoints (needs WebhooksManage).",
        |_, req| {
            let org = req.require(Permission::WebhooksManage)?;
            Ok(webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::OrgId.eq(org)))
        },
    ));
    parts.object(secret_payload());
    mutations(parts);
}

fn mutations(parts: &mut SchemaParts) {
    parts.mutation(mutation_with(
        "createWebhookEndpoint",
        "WebhookSecretPayload",
        "Register a webhook endpoint (admins); its signing secret is returned only here.",
        |req, h: Option<Webhooks>, i: EndpointCreate| async move {
            let input = EndpointInput {
                url: Some(i.url),
                description: i.description,
                event_types: i.event_types,
                active: None,
            };
            let (row, secret) = webhooks::create(req.db.as_ref(), &req.session, &hooks(h)?, input).await?;
            Ok(FieldValue::owned_any(WithSecret(row, secret)))
        },
    ));
    parts.mutation(node_mutation_with(
        WebhookEndpoint,
        "updateWebhookEndpoint",
        "Change an endpoint's URL, description or event types, or enable or disable it (enabling resumes its queue).",
        |req, h: Option<Webhooks>, i: EndpointUpdate| async move {
            let input =
                EndpointInput { url: i.url, description: i.description, event_types: i.event_types, active: i.active };
            let key = (&*i.id, i.expected_version);
            Ok(payload_value(webhooks::update(req.db.as_ref(), &req.session, &hooks(h)?, key, input).await?))
        },
    ));
    parts.mutation(mutation_with(
        "rotateWebhookSecret",
        "WebhookSecretPayload",
        "Give an endpoint a new signing secret (the old one stops at once); returned only here.",
        |req, h: Option<Webhooks>, i: WebhookIdInput| async move {
            let (row, secret) = webhooks::rotate_secret(req.db.as_ref(), &req.session, &hooks(h)?, &i.id).await?;
            Ok(FieldValue::owned_any(WithSecret(row, secret)))
        },
    ));
    parts.mutation(node_mutation_with(
        WebhookEndpoint,
        "deleteWebhookEndpoint",
        "Delete an endpoint and its delivery log.",
        |req, _h: Option<Webhooks>, i: WebhookIdInput| async move {
            Ok(payload_value(webhooks::delete(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        WebhookDelivery,
        "replayWebhookDelivery",
        "Send a delivery again: a new delivery (its own id) with the same payload, at the end of the queue.",
        |req, _h: Option<Webhooks>, i: WebhookIdInput| async move {
            Ok(payload_value(webhooks::replay(req.db.as_ref(), &req.session, &i.id).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        WebhookDelivery,
        "pingWebhookEndpoint",
        "Send a signed `webhook.ping` to an endpoint now; the delivery tells what the receiver answered.",
        |req, h: Option<Webhooks>, i: WebhookIdInput| async move {
            let row = webhooks::ping(req.db.as_ref(), &req.session, &hooks(h)?, &i.id).await?;
            Ok(payload_value(row))
        },
    ));
}

fn secret_payload() -> Object {
    Object::new("WebhookSecretPayload")
        .description("An endpoint and its signing secret, shown only this once.")
        .field(
            Field::new("webhookEndpoint", WebhookEndpoint::nn(), |ctx| {
                FieldFuture::new(async move {
                    Ok(Some(FieldValue::borrowed_any(&opsgraph_core::gql::parent::<WithSecret>(&ctx)?.0)))
                })
            })
            .description("The endpoint."),
        )
        .field(prop::<WithSecret>(
            "secret",
            s_nn(),
            "The signing secret (`whsec_…`, Standard Webhooks); store it now.",
            |k| k.1.clone().into(),
        ))
}

fn endpoint_object() -> Object {
    type E = webhook_endpoint::Model;
    node_object::<WebhookEndpoint>("A receiver of outgoing webhooks: signed POSTs of the events it asks for, in order.")
        .field(prop::<E>("url", nn(S), "Where events are POSTed.", |e| e.url.clone().into()))
        .field(prop::<E>("description", nullable(S), "What it is for.", |e| opt(e.description.clone())))
        .field(prop::<E>("eventTypes", TypeRef::named_nn_list_nn(S), "Event types sent (`task.*`; empty: all).", |e| {
            Value::List(e.event_types.iter().map(|t| Value::from(t.as_str())).collect())
        }))
        .field(prop::<E>("secretHint", nn(S), "The signing secret's last characters.", |e| {
            e.secret_hint.clone().into()
        }))
        .field(prop::<E>("status", WebhookEndpointStatus::nn(), "Whether it receives events.", |e| {
            enum_value(&e.status)
        }))
        .field(prop::<E>("disabledReason", nullable(S), "Why it was disabled.", |e| opt(e.disabled_reason.clone())))
        .field(prop::<E>("consecutiveFailures", int_nn(), "Failed attempts in a row.", |e| {
            e.consecutive_failures.into()
        }))
        .field(page_field::<E, DeliveriesOfEndpoint>(
            "deliveries",
            "What was queued for it, newest first by default.",
            |e| e.id,
        ))
        .field(ref_field::<E, Membership>("createdBy", "Who registered it.", |e| e.created_by))
        .field(prop::<E>("version", int_nn(), "Optimistic-concurrency version.", |e| e.version.into()))
        .field(prop::<E>("createdAt", nn(scalar::DATE_TIME), "When it was registered.", |e| ts(&e.created_at)))
        .field(prop::<E>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |e| ts(&e.updated_at)))
}

fn delivery_object() -> Object {
    type D = webhook_delivery::Model;
    node_object::<WebhookDelivery>("One message for a webhook endpoint; its `id` is the `webhook-id` header.")
        .field(ref_field_nn::<D, WebhookEndpoint>("endpoint", "The endpoint.", |d| d.endpoint_id))
        .field(prop::<D>("eventType", nn(S), "The event type (`webhook.ping` for a ping).", |d| {
            d.event_type.clone().into()
        }))
        .field(prop::<D>(
            "eventSeq",
            nullable(scalar::EVENT_SEQ),
            "The event's position (none for pings and replays).",
            |d| d.event_seq.map_or(Value::Null, |s| s.to_string().into()),
        ))
        .field(prop::<D>("payload", nn(scalar::JSON), "The body sent.", |d| json(&d.payload)))
        .field(ref_field::<D, WebhookDelivery>("replayOf", "The delivery this one replays.", |d| d.replay_of))
        .field(prop::<D>("status", WebhookDeliveryStatus::nn(), "Where it stands.", |d| enum_value(&d.status)))
        .field(prop::<D>("attemptCount", int_nn(), "Attempts so far.", |d| d.attempts.into()))
        .field(prop::<D>("nextAttemptAt", nn(scalar::DATE_TIME), "When it is tried next (while PENDING).", |d| {
            ts(&d.next_attempt_at)
        }))
        .field(prop::<D>("lastStatusCode", nullable(TypeRef::INT), "The receiver's last answer.", |d| {
            d.last_status_code.map_or(Value::Null, Value::from)
        }))
        .field(prop::<D>("lastError", nullable(S), "Why the last attempt failed.", |d| opt(d.last_error.clone())))
        .field(prop::<D>("deliveredAt", nullable(scalar::DATE_TIME), "When the receiver acknowledged it.", |d| {
            opt_ts(&d.delivered_at)
        }))
        .field(list_of_field::<D, AttemptsOfDelivery, WebhookAttempt>("attempts", "Every attempt, first first.", |d| {
            d.id
        }))
        .field(prop::<D>("createdAt", nn(scalar::DATE_TIME), "When it was queued.", |d| ts(&d.created_at)))
}

fn attempt_object() -> Object {
    type A = webhook_attempt::Model;
    node_object::<WebhookAttempt>("One attempt to send a webhook delivery.")
        .field(prop::<A>("attempt", int_nn(), "1 for the first.", |a| a.attempt.into()))
        .field(prop::<A>("statusCode", nullable(TypeRef::INT), "The receiver's status, if it answered.", |a| {
            a.status_code.map_or(Value::Null, Value::from)
        }))
        .field(prop::<A>("latencyMs", int_nn(), "Milliseconds to the answer or the failure.", |a| a.latency_ms.into()))
        .field(prop::<A>("error", nullable(S), "Why it failed.", |a| opt(a.error.clone())))
        .field(prop::<A>("createdAt", nn(scalar::DATE_TIME), "When it was made.", |a| ts(&a.created_at)))
}

/// Register a webhook endpoint.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "CreateWebhookEndpointInput")]
struct EndpointCreate {
    /// The receiver's `http(s)` URL (public addresses only, unless the server allows private ones).
    url: String,
    /// What it is for.
    description: Option<String>,
    /// Event types to send (`task.updated`, `task.*`, `*`); empty or omitted: all.
    event_types: Option<Vec<String>>,
}

/// Change a webhook endpoint; omitted fields stay.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "UpdateWebhookEndpointInput")]
struct EndpointUpdate {
    /// The endpoint.
    id: Id,
    /// The version you last read.
    expected_version: i32,
    /// The receiver's URL.
    url: Option<String>,
    /// What it is for.
    description: Option<String>,
    /// Event types to send.
    event_types: Option<Vec<String>>,
    /// `true` enables it (clearing its failures), `false` disables it.
    active: Option<bool>,
}

opsgraph_core::id_input!(
    /// A webhook endpoint or delivery.
    WebhookIdInput,
    "The endpoint (or, to replay, the delivery)."
);

/// The parent of `WebhookSecretPayload`.
struct WithSecret(webhook_endpoint::Model, String);

/// `WebhookEndpoint` lists.
pub static WEBHOOK_ENDPOINTS: LazyLock<ListSpec<webhook_endpoint::Entity>> = LazyLock::new(|| {
    use webhook_endpoint::Column as C;
    ListSpec {
        node: WebhookEndpoint::NAME,
        id: C::Id,
        filters: vec![ff("url", C::Url, K::Text), ff("status", C::Status, K::Enum(WebhookEndpointStatus::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("URL", C::Url, S::Text)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `WebhookDelivery` lists.
pub static WEBHOOK_DELIVERIES: LazyLock<ListSpec<webhook_delivery::Entity>> = LazyLock::new(|| {
    use webhook_delivery::Column as C;
    ListSpec {
        node: WebhookDelivery::NAME,
        id: C::Id,
        filters: vec![
            ff("eventType", C::EventType, K::Text),
            ff("status", C::Status, K::Enum(WebhookDeliveryStatus::NAME)),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
