//! The outbox of domain events: written in the same transaction as the change, numbered
//! per organisation without gaps (a counter row serialises event-writing transactions of
//! one organisation, so sequence order is commit order), announced with NOTIFY on commit.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE event_counters (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  last_seq bigint NOT NULL DEFAULT 0
);

CREATE TABLE domain_events (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  seq bigint NOT NULL CHECK (seq > 0),
  id uuid NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind ~ '^[a-z_]+\.[a-z_]+$'),
  subject_type text NOT NULL,
  subject_id uuid NOT NULL,
  project_id uuid,
  actor_user_id uuid,
  actor_membership_id uuid,
  recipients uuid[] NOT NULL DEFAULT '{}',
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz,
  PRIMARY KEY (org_id, seq)
);
CREATE INDEX domain_events_undispatched_idx ON domain_events (org_id, seq) WHERE dispatched_at IS NULL;
CREATE INDEX domain_events_subject_idx ON domain_events (org_id, subject_id, seq);
CREATE INDEX domain_events_created_idx ON domain_events (created_at);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{}{GRANT_APP}", tenant_rls("event_counters"), tenant_rls("domain_events"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS domain_events, event_counters;").await?;
        Ok(())
    }
}
