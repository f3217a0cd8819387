//! Outgoing webhooks, the admin side: endpoints (an `http(s)` URL that must resolve to a
//! public address unless private hosts are allowed, the event types it wants, a signing
//! secret shown once and kept sealed), secret rotation, enabling and disabling, a replay
//! of one delivery and a test ping. Delivery itself is [`super::webhook_delivery`].

use std::sync::Arc;
use std::time::Duration;

use opsgraph_core::id::new_id;
use opsgraph_core::node::NodeType;
use opsgraph_core::secrets::{Sealer, hint};
use opsgraph_core::write::Write;
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::entity::{webhook_delivery, webhook_endpoint};
use crate::nodes::{WebhookDelivery, WebhookEndpoint};

/// Event types an endpoint may ask for at most.
const MAX_EVENT_TYPES: usize = 50;

/// What webhook delivery needs: the key that seals secrets, the HTTP client, the SSRF
/// switch and the retry policy. Shared by the resolvers (ping) and the delivery job.
#[derive(Clone)]
pub struct Webhooks {
    /// Seals and opens signing secrets.
    pub sealer: Arc<Sealer>,
    /// Client for receivers: 10 s timeout, redirects not followed.
    pub http: reqwest::Client,
    /// Let endpoints use loopback and private addresses (tests, local receivers).
    pub allow_private: bool,
    /// First retry delay; doubles per failed attempt.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Failed attempts in a row after which an endpoint is disabled.
    pub disable_after: i32,
}

impl Webhooks {
    /// The production policy: retries after 1 s doubling up to an hour; disabled after 20
    /// failed attempts in a row (about nine hours of failures).
    pub fn new(sealer: Arc<Sealer>, allow_private: bool) -> Webhooks {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("opsgraph-webhooks/1")
            .build()
            .unwrap_or_default();
        Webhooks {
            sealer,
            http,
            allow_private,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(3600),
            disable_after: 20,
        }
    }

    /// The delay after `attempts` failed attempts of one delivery.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let factor = 1u32 << u32::try_from(attempts.clamp(1, 31) - 1).unwrap_or(0);
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// What a new endpoint or a change says.
#[derive(Debug, Default)]
pub struct EndpointInput {
    /// The receiver's URL.
    pub url: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Event types (`task.updated`, `task.*`; empty: all).
    pub event_types: Option<Vec<String>>,
    /// `true` enables (and clears the failures), `false` disables.
    pub active: Option<bool>,
}

/// The associated data a secret is sealed with: its organisation and endpoint.
fn bound(org: Uuid, id: Uuid) -> Vec<u8> {
    [org.as_bytes().as_slice(), id.as_bytes().as_slice()].concat()
}

/// A new signing secret: `whsec_` and 32 random bytes in base64 (Standard Webhooks).
fn new_secret() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// The secret of `endpoint`, opened.
pub fn secret_of(hooks: &Webhooks, endpoint: &webhook_endpoint::Model) -> AppResult<String> {
    hooks.sealer.open(&endpoint.secret_sealed, &bound(endpoint.org_id, endpoint.id))
}

async fn checked_url(hooks: &Webhooks, url: &str) -> AppResult<String> {
    let url = validate::text("url", url, 1, 2000, false)?;
    opsgraph_core::outbound::check_public(&url, hooks.allow_private)
        .await
        .map_err(|why| AppError::bad_input("url", format!("url: {why}")))?;
    Ok(url)
}

fn checked_types(types: Vec<String>) -> AppResult<Vec<String>> {
    if types.len() > MAX_EVENT_TYPES {
        return Err(AppError::bad_input("eventTypes", format!("at most {MAX_EVENT_TYPES} event types")));
    }
    let ok = |t: &str| {
        t == "*"
            || (!t.is_empty()
                && t.len() <= 100
                && t.split('.')
                    .all(|p| !p.is_empty() && (p == "*" || p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))))
    };
    if let Some(bad) = types.iter().find(|t| !ok(t)) {
        return Err(AppError::bad_input(
            "eventTypes",
            format!("`{bad}` is not an event type (`task.updated`, `task.*`)"),
        ));
    }
    Ok(types)
}

/// Whether an endpoint asking for `types` wants an event of `kind` (empty: every event).
pub fn wants(types: &[String], kind: &str) -> bool {
    types.is_empty()
        || types
            .iter()
            .any(|t| t == "*" || t == kind || t.strip_suffix(".*").is_some_and(|p| kind.starts_with(&format!("{p}."))))
}

/// Registers an endpoint; returns it with its secret, shown only this once.
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    hooks: &Webhooks,
    input: EndpointInput,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let w = Write::new(db, session, Permission::WebhooksManage)?;
    let url = checked_url(hooks, input.url.as_deref().unwrap_or_default()).await?;
    let types = checked_types(input.event_types.unwrap_or_default())?;
    let description = input.description.map(|d| validate::text("description", &d, 0, 500, true)).transpose()?;
    let (id, secret) = (new_id(), new_secret());
    // Events from now on: the endpoint starts at the organisation's newest event.
    let head = opsgraph_core::events::latest(db, w.org).await?;
    let row = webhook_endpoint::ActiveModel {
        id: Set(id),
        org_id: Set(w.org),
        url: Set(url),
        description: Set(description),
        event_types: Set(types),
        secret_sealed: Set(hooks.sealer.seal(&secret, &bound(w.org, id))?),
        secret_hint: Set(hint(&secret)),
        status: Set("ACTIVE".into()),
        cursor_seq: Set(head),
        created_by: Set(session.membership_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<WebhookEndpoint>("webhook_endpoint.create", &row, ("createWebhookEndpoint", None)).await?;
    w.changed::<WebhookEndpoint>("webhook_endpoint.created", id, None).await?;
    Ok((row, secret))
}

async fn find(db: &impl ConnectionTrait, org: Uuid, gid: &str) -> AppResult<webhook_endpoint::Model> {
    let id = WebhookEndpoint::decode(gid, "id")?;
    opsgraph_core::db::find_in_org::<webhook_endpoint::Entity>(
        db,
        webhook_endpoint::Column::OrgId,
        org,
        id,
        "webhook endpoint",
    )
    .await
}

/// Changes an endpoint (URL, description, event types, enabled) at version `expected`.
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    hooks: &Webhooks,
    (gid, expected): (&str, i32),
    input: EndpointInput,
) -> AppResult<webhook_endpoint::Model> {
    let w = Write::new(db, session, Permission::WebhooksManage)?;
    let before = find(db, w.org, gid).await?;
    let mut am = <webhook_endpoint::ActiveModel as Default>::default();
    if let Some(url) = input.url {
        am.url = Set(checked_url(hooks, &url).await?);
    }
    if let Some(d) = input.description {
        am.description = Set(Some(validate::text("description", &d, 0, 500, true)?));
    }
    if let Some(t) = input.event_types {
        am.event_types = Set(checked_types(t)?);
    }
    match input.active {
        Some(true) if before.status != "ACTIVE" => {
            am.status = Set("ACTIVE".into());
            am.disabled_reason = Set(None);
            am.consecutive_failures = Set(0);
        }
        Some(false) if before.status != "DISABLED" => {
            am.status = Set("DISABLED".into());
            am.disabled_reason = Set(Some("disabled by an administrator".into()));
        }
        _ => {}
    }
    let after = w.update::<WebhookEndpoint, _>("webhook_endpoint.update", before, am, expected).await?.after;
    w.changed::<WebhookEndpoint>("webhook_endpoint.updated", after.id, None).await?;
    Ok(after)
}

/// A new secret for an endpoint (the old one stops signing at once); shown only here.
pub async fn rotate_secret(
    db: &impl ConnectionTrait,
    session: &Session,
    hooks: &Webhooks,
    gid: &str,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let w = Write::new(db, session, Permission::WebhooksManage)?;
    let before = find(db, w.org, gid).await?;
    let secret = new_secret();
    let version = before.version;
    let am = webhook_endpoint::ActiveModel {
        secret_sealed: Set(hooks.sealer.seal(&secret, &bound(w.org, before.id))?),
        secret_hint: Set(hint(&secret)),
        ..Default::default()
    };
    let after = w.update::<WebhookEndpoint, _>("webhook_endpoint.rotate_secret", before, am, version).await?.after;
    w.changed::<WebhookEndpoint>("webhook_endpoint.updated", after.id, None).await?;
    Ok((after, secret))
}

/// Deletes an endpoint and its delivery log.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<webhook_endpoint::Model> {
    let w = Write::new(db, session, Permission::WebhooksManage)?;
    let row = find(db, w.org, gid).await?;
    w.changed::<WebhookEndpoint>("webhook_endpoint.deleted", row.id, None).await?;
    w.delete::<WebhookEndpoint>("webhook_endpoint.delete", row).await
}

/// Queues one delivery again, as a new delivery (its own id) at the end of its endpoint's
/// queue, with the same payload.
pub async fn replay(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<webhook_delivery::Model> {
    let w = Write::new(db, session, Permission::WebhooksManage)?;
    let id = WebhookDelivery::decode(gid, "id")?;
    let original = opsgraph_core::db::find_in_org::<webhook_delivery::Entity>(
        db,
        webhook_delivery::Column::OrgId,
        w.org,
        id,
        "webhook delivery",
    )
    .await?;
    let row = webhook_delivery::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        endpoint_id: Set(original.endpoint_id),
        event_seq: Set(None),
        event_type: Set(original.event_type.clone()),
        payload: Set(original.payload.clone()),
        replay_of: Set(Some(original.id)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.audit::<WebhookDelivery>("webhook_delivery.replay", row.id, serde_json::json!({ "replayOf": original.id }))
        .await?;
    w.changed::<WebhookDelivery>("webhook_delivery.created", row.id, None).await?;
    Ok(row)
}

/// Sends a signed `webhook.ping` to an endpoint now (see [`super::webhook_delivery::ping`]).
pub async fn ping(
    db: &impl ConnectionTrait,
    session: &Session,
    hooks: &Webhooks,
    gid: &str,
) -> AppResult<webhook_delivery::Model> {
    let w = Write::new(db, session, Permission::WebhooksManage)?;
    let endpoint = find(db, w.org, gid).await?;
    let row = super::webhook_delivery::ping(db, hooks, &endpoint).await?;
    w.audit::<WebhookDelivery>("webhook_endpoint.ping", row.id, serde_json::json!({ "status": row.status })).await?;
    w.changed::<WebhookDelivery>("webhook_delivery.created", row.id, None).await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_match_exactly_or_by_prefix() {
        let t = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(wants(&[], "task.updated"));
        assert!(wants(&t(&["task.*"]), "task.updated") && !wants(&t(&["task.*"]), "taskx.updated"));
        assert!(
            wants(&t(&["deal.won", "task.created"]), "task.created") && !wants(&t(&["task.created"]), "task.updated")
        );
        assert!(checked_types(t(&["task.*", "*", "deal.stage_changed"])).is_ok());
        assert!(checked_types(t(&["Task.Updated"])).is_err() && checked_types(t(&["task..x"])).is_err());
    }

    #[test]
    fn retries_double_up_to_the_cap() {
        let sealer = Arc::new(Sealer::from_hex(opsgraph_core::secrets::DEV_KEY).expect("key"));
        let h = Webhooks {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(1),
            ..Webhooks::new(sealer, false)
        };
        assert_eq!(h.backoff(1), Duration::from_millis(100));
        assert_eq!(h.backoff(3), Duration::from_millis(400));
        assert_eq!(h.backoff(30), Duration::from_secs(1));
    }
}
