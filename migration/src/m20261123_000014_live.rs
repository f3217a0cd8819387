//! Live subscriptions: the inbox read in event order (index), and the policy that lets the
//! retention job prune dispatched events of every organisation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE INDEX notifications_event_seq_idx ON notifications (org_id, event_seq) WHERE event_seq IS NOT NULL;
CREATE POLICY event_pruner ON domain_events
  USING (current_setting('app.system', true) = 'pruner');
"#;

crate::sql::sql_migration!(
    UP,
    "DROP POLICY IF EXISTS event_pruner ON domain_events; DROP INDEX IF EXISTS notifications_event_seq_idx;",
);
