//! Outgoing webhooks, delivery: at least once, in order per endpoint, signed.
//!
//! Each pass, per organisation: every ACTIVE endpoint (row locked, `SKIP LOCKED`) reads the
//! outbox after its cursor and queues one delivery per event it wants (unique per endpoint
//! and event: queueing twice delivers once), moving its cursor in the same transaction.
//! Then each endpoint whose oldest pending delivery is due is leased (one sender per
//! endpoint across instances) and drained in order: the POST happens with no connection
//! held, then its attempt, the delivery's state and the endpoint's failure count commit
//! together. A failure stops the endpoint's queue (later deliveries wait: order is kept)
//! and retries after a doubling delay; after [`Webhooks::disable_after`] failures in a row
//! the endpoint is DISABLED (enabling it again resumes its queue where it stopped).
//!
//! Messages follow Standard Webhooks: headers `webhook-id` (the delivery's id: receivers
//! deduplicate by it), `webhook-timestamp` and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the secret's bytes),
//! body `{"type", "timestamp", "data"}`.

use std::time::Instant;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use opsgraph_core::id::new_id;
use opsgraph_core::live::LiveEvent;
use opsgraph_core::{AppError, AppResult, TxDb};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, Statement, Value as SqlValue,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::entity::{webhook_delivery, webhook_endpoint};
use crate::service::webhooks::{Webhooks, secret_of, wants};

/// Events read per endpoint and pass.
const BATCH: i64 = 500;

/// Deliveries sent per endpoint and pass (the rest wait for the next pass).
const DRAIN: usize = 200;

fn stmt(sql: &str, values: Vec<SqlValue>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

async fn system_tx(pool: &DatabaseConnection, org: Uuid) -> AppResult<TxDb> {
    Ok(TxDb::begin_system(pool, Some(org), "webhooks").await?)
}

/// One pass over every organisation; returns the deliveries sent.
pub async fn run_once(pool: &DatabaseConnection, hooks: &Webhooks) -> AppResult<u64> {
    let mut sent = 0;
    for org in super::organization::scheduled_ids(pool).await? {
        enqueue(pool, org).await?;
        for endpoint in lease(pool, org).await? {
            sent += drain(pool, hooks, org, &endpoint).await?;
        }
    }
    Ok(sent)
}

/// Whether an event may leave the organisation by webhook: not changes to the webhooks
/// themselves, and never an event its domain marked `private` (a private or direct chat
/// channel's messages: only their members may read them, not whoever registers a webhook).
pub fn sendable(event: &LiveEvent) -> bool {
    !event.kind.starts_with("webhook_") && event.data.get("private").and_then(Value::as_bool) != Some(true)
}

/// The message body of `event` (Standard Webhooks: type, timestamp, data).
pub fn message(event: &LiveEvent) -> Value {
    json!({
        "type": event.kind,
        "timestamp": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "seq": event.seq,
            "subjectType": event.subject_type,
            "subjectId": opsgraph_core::id::encode(&event.subject_type, event.subject_id),
            "projectId": event.project_id.map(|p| opsgraph_core::id::encode("Project", p)),
            "actorId": event.actor_membership_id.map(|m| opsgraph_core::id::encode("Membership", m)),
            "details": event.data,
        }
    })
}

/// Queues the new events each active endpoint wants and moves its cursor.
async fn enqueue(pool: &DatabaseConnection, org: Uuid) -> AppResult<()> {
    let db = system_tx(pool, org).await?;
    let sql = "SELECT * FROM webhook_endpoints WHERE org_id = $1 AND status = 'ACTIVE' FOR UPDATE SKIP LOCKED";
    let endpoints = webhook_endpoint::Model::find_by_statement(stmt(sql, vec![org.into()])).all(&db).await?;
    for ep in endpoints {
        let events = opsgraph_core::live::read_events(&db, org, ep.cursor_seq, None, BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else { continue };
        let wanted: Vec<&LiveEvent> =
            events.iter().filter(|e| sendable(e) && wants(&ep.event_types, &e.kind)).collect();
        if !wanted.is_empty() {
            db.execute_raw(queue(org, ep.id, &wanted)).await?;
        }
        db.execute_raw(stmt(
            "UPDATE webhook_endpoints SET cursor_seq = $2 WHERE id = $1",
            vec![ep.id.into(), last.into()],
        ))
        .await?;
    }
    db.commit().await?;
    Ok(())
}

/// One statement queueing `events` for endpoint `ep`, in their order (the queue's order is
/// the database clock at insert, row by row, then the time-ordered id).
fn queue(org: Uuid, ep: Uuid, events: &[&LiveEvent]) -> Statement {
    let ids: Vec<Uuid> = events.iter().map(|_| new_id()).collect();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let kinds: Vec<String> = events.iter().map(|e| e.kind.clone()).collect();
    let bodies = Value::Array(events.iter().map(|e| message(e)).collect());
    let sql = "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_seq, event_type, payload) \
               SELECT k.id, $1, $2, k.seq, k.kind, p.body \
               FROM unnest($3::uuid[], $4::bigint[], $5::text[]) WITH ORDINALITY AS k(id, seq, kind, n) \
               JOIN jsonb_array_elements($6::jsonb) WITH ORDINALITY AS p(body, n) USING (n) ORDER BY k.n \
               ON CONFLICT (endpoint_id, event_seq) DO NOTHING";
    stmt(sql, vec![org.into(), ep.into(), ids.into(), seqs.into(), kinds.into(), bodies.into()])
}

/// Leases (for a minute) the active endpoints whose oldest pending delivery is due.
async fn lease(pool: &DatabaseConnection, org: Uuid) -> AppResult<Vec<webhook_endpoint::Model>> {
    let db = system_tx(pool, org).await?;
    let sql = "UPDATE webhook_endpoints SET lease_until = now() + interval '1 minute' WHERE id IN ( \
                 SELECT e.id FROM webhook_endpoints e WHERE e.org_id = $1 AND e.status = 'ACTIVE' \
                   AND (e.lease_until IS NULL OR e.lease_until < now()) \
                   AND (SELECT d.next_attempt_at FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
                          AND d.status = 'PENDING' ORDER BY d.created_at, d.id LIMIT 1) <= now() \
                 FOR UPDATE SKIP LOCKED) RETURNING *";
    let leased = webhook_endpoint::Model::find_by_statement(stmt(sql, vec![org.into()])).all(&db).await?;
    db.commit().await?;
    Ok(leased)
}

/// Sends `endpoint`'s due deliveries in order until one fails; returns how many went out.
async fn drain(
    pool: &DatabaseConnection,
    hooks: &Webhooks,
    org: Uuid,
    endpoint: &webhook_endpoint::Model,
) -> AppResult<u64> {
    let secret = secret_of(hooks, endpoint)?;
    let mut sent = 0;
    for _ in 0..DRAIN {
        let db = system_tx(pool, org).await?;
        let sql = "SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                   WHERE d.endpoint_id = $1 AND d.status = 'PENDING' AND e.status = 'ACTIVE' \
                   ORDER BY d.created_at, d.id LIMIT 1";
        let head = webhook_delivery::Model::find_by_statement(stmt(sql, vec![endpoint.id.into()])).one(&db).await?;
        db.commit().await?;
        let Some(d) = head.filter(|d| d.next_attempt_at <= chrono::Utc::now()) else { break };
        let outcome = send(hooks, &endpoint.url, &secret, d.id, &d.payload).await;
        let ok = outcome.ok();
        record(pool, hooks, org, &d, &outcome).await?;
        if !ok {
            break;
        }
        sent += 1;
    }
    let db = system_tx(pool, org).await?;
    db.execute_raw(stmt("UPDATE webhook_endpoints SET lease_until = NULL WHERE id = $1", vec![endpoint.id.into()]))
        .await?;
    db.commit().await?;
    Ok(sent)
}

/// What one POST got.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The receiver's status, if it answered.
    pub status_code: Option<i32>,
    /// Time to the answer (or the failure).
    pub latency_ms: i32,
    /// Why it failed, if it did (never the URL or the secret).
    pub error: Option<String>,
}

impl Outcome {
    /// Whether the receiver acknowledged (2xx).
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// `v1,<signature>` of a message (Standard Webhooks).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| AppError::internal("a webhook secret is not base64"))?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|_| AppError::internal("bad HMAC key"))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// POSTs one signed message to `url` (checked against private addresses again: a name
/// may resolve elsewhere than when it was registered).
pub async fn send(hooks: &Webhooks, url: &str, secret: &str, id: Uuid, payload: &Value) -> Outcome {
    let started = Instant::now();
    let latency = |s: Instant| i32::try_from(s.elapsed().as_millis()).unwrap_or(i32::MAX);
    let failed = |error: String, status_code| Outcome { status_code, latency_ms: latency(started), error: Some(error) };
    if let Err(why) = opsgraph_core::outbound::check_public(url, hooks.allow_private).await {
        return failed(why, None);
    }
    let body = payload.to_string();
    let ts = chrono::Utc::now().timestamp();
    let sig = match signature(secret, &id.to_string(), ts, &body) {
        Ok(s) => s,
        Err(e) => return failed(e.message(), None),
    };
    let req = hooks
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id.to_string())
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body);
    match req.send().await {
        Ok(resp) if resp.status().is_success() => {
            Outcome { status_code: Some(i32::from(resp.status().as_u16())), latency_ms: latency(started), error: None }
        }
        Ok(resp) => {
            let code = resp.status().as_u16();
            failed(format!("the receiver answered {code}"), Some(i32::from(code)))
        }
        Err(e) if e.is_timeout() => failed("the receiver did not answer in time".into(), None),
        Err(e) => failed(format!("the receiver is unreachable: {}", e.without_url()), None),
    }
}

/// Records an attempt of `d`: the log row, the delivery's state and the endpoint's failure
/// count (disabling it after too many), in one transaction.
async fn record(
    pool: &DatabaseConnection,
    hooks: &Webhooks,
    org: Uuid,
    d: &webhook_delivery::Model,
    o: &Outcome,
) -> AppResult<()> {
    let db = system_tx(pool, org).await?;
    let attempt = d.attempts + 1;
    let sql = "INSERT INTO webhook_attempts (id, org_id, delivery_id, attempt, status_code, latency_ms, error) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let v = vec![
        new_id().into(),
        org.into(),
        d.id.into(),
        attempt.into(),
        o.status_code.into(),
        o.latency_ms.into(),
        o.error.clone().into(),
    ];
    db.execute_raw(stmt(sql, v)).await?;
    let retry_ms = i64::try_from(hooks.backoff(attempt).as_millis()).unwrap_or(i64::MAX);
    let sql = "UPDATE webhook_deliveries SET attempts = $2, last_status_code = $3, last_error = $4, \
                 status = CASE WHEN $4 IS NULL THEN 'SUCCEEDED' ELSE 'PENDING' END, \
                 delivered_at = CASE WHEN $4 IS NULL THEN now() END, \
                 next_attempt_at = now() + make_interval(secs => $5::float8 / 1000.0) WHERE id = $1";
    let v = vec![d.id.into(), attempt.into(), o.status_code.into(), o.error.clone().into(), retry_ms.into()];
    db.execute_raw(stmt(sql, v)).await?;
    let sql = "UPDATE webhook_endpoints SET \
                 consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END, \
                 status = CASE WHEN NOT $2 AND consecutive_failures + 1 >= $3 THEN 'DISABLED' ELSE status END, \
                 disabled_reason = CASE WHEN NOT $2 AND consecutive_failures + 1 >= $3 \
                   THEN 'disabled after ' || $3 || ' failed attempts in a row: ' || $4 ELSE disabled_reason END, \
                 lease_until = now() + interval '1 minute' WHERE id = $1";
    let v = vec![
        d.endpoint_id.into(),
        o.ok().into(),
        hooks.disable_after.into(),
        o.error.clone().unwrap_or_default().into(),
    ];
    db.execute_raw(stmt(sql, v)).await?;
    db.commit().await?;
    Ok(())
}

/// Sends a signed `webhook.ping` to an endpoint now and records it as a delivery
/// (SUCCEEDED or FAILED; a ping is not retried). Runs inside the caller's request.
pub async fn ping(
    db: &impl ConnectionTrait,
    hooks: &Webhooks,
    endpoint: &webhook_endpoint::Model,
) -> AppResult<webhook_delivery::Model> {
    let secret = secret_of(hooks, endpoint)?;
    let id = new_id();
    let payload = json!({ "type": "webhook.ping", "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                          "data": { "endpointId": opsgraph_core::id::encode("WebhookEndpoint", endpoint.id) } });
    let o = send(hooks, &endpoint.url, &secret, id, &payload).await;
    let sql = "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_type, payload, status, attempts, \
                 last_status_code, last_error, delivered_at) \
               VALUES ($1, $2, $3, 'webhook.ping', $4, $5, 1, $6, $7, CASE WHEN $7 IS NULL THEN now() END)";
    let status = if o.ok() { "SUCCEEDED" } else { "FAILED" };
    let v = vec![
        id.into(),
        endpoint.org_id.into(),
        endpoint.id.into(),
        payload.into(),
        status.into(),
        o.status_code.into(),
        o.error.clone().into(),
    ];
    db.execute_raw(stmt(sql, v)).await?;
    let sql = "INSERT INTO webhook_attempts (id, org_id, delivery_id, attempt, status_code, latency_ms, error) \
               VALUES ($1, $2, $3, 1, $4, $5, $6)";
    let v = vec![
        new_id().into(),
        endpoint.org_id.into(),
        id.into(),
        o.status_code.into(),
        o.latency_ms.into(),
        o.error.into(),
    ];
    db.execute_raw(stmt(sql, v)).await?;
    webhook_delivery::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::internal("ping not recorded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference implementations.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).expect("sign");
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
