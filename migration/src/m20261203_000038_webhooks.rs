//! Outgoing webhooks: endpoints an admin registers (URL, event types, a signing secret
//! sealed with the server's key, an outbox cursor), one delivery per matching event and
//! endpoint (unique per event: enqueueing twice delivers once), and every attempt's outcome.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  url text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
  description text,
  event_types text[] NOT NULL DEFAULT '{}',
  secret_sealed bytea NOT NULL,
  secret_hint text NOT NULL,
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
  disabled_reason text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  -- The last outbox event considered (events before the endpoint existed are not sent).
  cursor_seq bigint NOT NULL DEFAULT 0,
  -- One sender at a time per endpoint (deliveries go out in order), across instances.
  lease_until timestamptz,
  created_by uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id)
);

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  endpoint_id uuid NOT NULL,
  event_seq bigint,
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  replay_of uuid,
  -- FAILED: a test ping that did not get a 2xx (pings are not retried).
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (endpoint_id, event_seq),
  FOREIGN KEY (org_id, endpoint_id) REFERENCES webhook_endpoints (org_id, id) ON DELETE CASCADE
);
-- The queue of an endpoint, in the order deliveries were queued (the database's clock).
CREATE INDEX webhook_deliveries_queue_idx ON webhook_deliveries (endpoint_id, created_at, id) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);

CREATE TABLE webhook_attempts (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  delivery_id uuid NOT NULL,
  attempt integer NOT NULL,
  status_code integer,
  latency_ms integer NOT NULL,
  error text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  FOREIGN KEY (org_id, delivery_id) REFERENCES webhook_deliveries (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
"#;

const TABLES: [&str; 3] = ["webhook_endpoints", "webhook_deliveries", "webhook_attempts"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in TABLES {
            sql.push_str(&tenant_table(t));
        }
        sql.push_str(&updated_at_trigger("webhook_endpoints"));
        sql.push_str(&updated_at_trigger("webhook_deliveries"));
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS webhook_attempts, webhook_deliveries, webhook_endpoints;")
            .await?;
        Ok(())
    }
}
