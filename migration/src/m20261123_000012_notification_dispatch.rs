//! Turning domain events into notifications: each event's audience (watchers, project
//! manager) recorded at emit time, per-member notification preferences, pending e-mail/push
//! deliveries, and the bookkeeping a dispatcher needs to run on several instances at once.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE domain_events ADD COLUMN audience uuid[] NOT NULL DEFAULT '{}';
ALTER TABLE event_counters ADD COLUMN dispatched_seq bigint NOT NULL DEFAULT 0;
-- The dispatcher finds organisations with undispatched events before it enters one tenant;
-- only that scan (a transaction that sets app.system = 'dispatcher') sees every counter row.
CREATE POLICY dispatcher_scan ON event_counters FOR SELECT
  USING (current_setting('app.system', true) = 'dispatcher');

ALTER TABLE notifications ADD COLUMN event_seq bigint;
ALTER TABLE notifications ADD CONSTRAINT notifications_event_seq_key UNIQUE (org_id, membership_id, event_seq);
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
  CHECK (kind IN ('INFO','SUCCESS','WARNING','ERROR','MENTION','ASSIGNMENT','REMINDER','STATUS_CHANGE','COMMENT','RECOGNITION'));

CREATE TABLE notification_preferences (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('INFO','SUCCESS','WARNING','ERROR','MENTION','ASSIGNMENT','REMINDER','STATUS_CHANGE','COMMENT','RECOGNITION')),
  in_app boolean NOT NULL DEFAULT true,
  email boolean NOT NULL DEFAULT false,
  push boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (membership_id, kind),
  CONSTRAINT notification_preferences_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);

CREATE TABLE notification_deliveries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  event_seq bigint NOT NULL,
  channel text NOT NULL CHECK (channel IN ('EMAIL','PUSH')),
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','SENT','FAILED')),
  kind text NOT NULL,
  title text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT notification_deliveries_channel_key UNIQUE (org_id, membership_id, event_seq, channel),
  CONSTRAINT notification_deliveries_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX notification_deliveries_pending_idx ON notification_deliveries (org_id, created_at) WHERE status = 'PENDING';
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "{UP}{}{}{GRANT_APP}",
            tenant_rls("notification_preferences"),
            tenant_rls("notification_deliveries")
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS notification_deliveries, notification_preferences; \
                 ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_event_seq_key, DROP COLUMN IF EXISTS event_seq; \
                 DROP POLICY IF EXISTS dispatcher_scan ON event_counters; \
                 ALTER TABLE event_counters DROP COLUMN IF EXISTS dispatched_seq; \
                 ALTER TABLE domain_events DROP COLUMN IF EXISTS audience;",
            )
            .await?;
        Ok(())
    }
}
