//! The client portal in the database. A CLIENT membership is linked to one contact
//! (`contacts.membership_id`), and through it to that contact's account. A CLIENT session
//! (`app_client_member()` set) then reads:
//! - its own contact row and its account (unless soft-deleted);
//! - the account's projects, and any project it is explicitly staffed on (as before);
//! - of those projects, the milestones and only the tasks marked `client_visible`;
//! - the account's proposals once sent (never drafts) and its client feedback.
//!
//! Everything else stays invisible: every other tenant table keeps its deny-clients
//! policy. The bookkeeping of the writes a client may make (feedback, answering a
//! proposal), namely audit rows, outbox events and idempotency keys, can be inserted but
//! not read back, except the client's own events and keys. Policies read other tables
//! through subqueries that are themselves under Row Level Security, so the chain
//! contacts -> accounts -> projects -> tasks narrows once, in one place.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE contacts ADD COLUMN membership_id uuid;
ALTER TABLE contacts ADD CONSTRAINT contacts_membership_fkey
  FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (membership_id);
CREATE UNIQUE INDEX contacts_membership_key ON contacts (org_id, membership_id) WHERE membership_id IS NOT NULL;
ALTER TABLE tasks ADD COLUMN client_visible boolean NOT NULL DEFAULT false;

DROP POLICY client_scope ON contacts;
CREATE POLICY client_scope ON contacts AS RESTRICTIVE
  USING (app_client_member() IS NULL OR (membership_id = app_client_member() AND deleted_at IS NULL));
DROP POLICY client_scope ON accounts;
CREATE POLICY client_scope ON accounts AS RESTRICTIVE
  USING (app_client_member() IS NULL OR id IN (SELECT c.account_id FROM contacts c));

DROP POLICY client_scope ON projects;
CREATE POLICY client_scope ON projects AS RESTRICTIVE USING (app_client_member() IS NULL
  OR client_account_id IN (SELECT a.id FROM accounts a WHERE a.deleted_at IS NULL)
  OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = projects.id AND pm.membership_id = app_client_member()));
DROP POLICY client_scope ON tasks;
CREATE POLICY client_scope ON tasks AS RESTRICTIVE
  USING (app_client_member() IS NULL OR (client_visible AND project_id IN (SELECT p.id FROM projects p)));
DROP POLICY client_scope ON milestones;
CREATE POLICY client_scope ON milestones AS RESTRICTIVE
  USING (app_client_member() IS NULL OR project_id IN (SELECT p.id FROM projects p));

DROP POLICY client_scope ON proposals;
CREATE POLICY client_scope ON proposals AS RESTRICTIVE USING (app_client_member() IS NULL
  OR (status <> 'DRAFT' AND account_id IN (SELECT a.id FROM accounts a WHERE a.deleted_at IS NULL)));
DROP POLICY client_scope ON client_feedback;
CREATE POLICY client_scope ON client_feedback AS RESTRICTIVE USING (app_client_member() IS NULL
  OR account_id IN (SELECT a.id FROM accounts a WHERE a.deleted_at IS NULL));

DROP POLICY client_scope ON audit_log;
CREATE POLICY client_scope ON audit_log AS RESTRICTIVE FOR SELECT USING (app_client_member() IS NULL);
CREATE POLICY client_scope_update ON audit_log AS RESTRICTIVE FOR UPDATE USING (app_client_member() IS NULL);
CREATE POLICY client_scope_delete ON audit_log AS RESTRICTIVE FOR DELETE USING (app_client_member() IS NULL);

DROP POLICY client_scope ON domain_events;
CREATE POLICY client_scope ON domain_events AS RESTRICTIVE FOR SELECT
  USING (app_client_member() IS NULL OR actor_membership_id = app_client_member());
CREATE POLICY client_scope_update ON domain_events AS RESTRICTIVE FOR UPDATE USING (app_client_member() IS NULL);
CREATE POLICY client_scope_delete ON domain_events AS RESTRICTIVE FOR DELETE USING (app_client_member() IS NULL);

DROP POLICY client_scope ON event_counters;
CREATE POLICY client_scope ON event_counters AS RESTRICTIVE USING (true);

DROP POLICY client_scope ON idempotency_keys;
CREATE POLICY client_scope ON idempotency_keys AS RESTRICTIVE
  USING (app_client_member() IS NULL OR operation LIKE '%@' || app_client_member()::text);
"#;

const DOWN: &str = r#"
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT unnest(ARRAY['contacts','accounts','proposals','client_feedback','event_counters','idempotency_keys']) LOOP
    EXECUTE format('DROP POLICY client_scope ON %I', t);
    EXECUTE format('CREATE POLICY client_scope ON %I AS RESTRICTIVE USING (app_client_member() IS NULL)', t);
  END LOOP;
  FOR t IN SELECT unnest(ARRAY['audit_log','domain_events']) LOOP
    EXECUTE format('DROP POLICY client_scope ON %I', t);
    EXECUTE format('DROP POLICY client_scope_update ON %I', t);
    EXECUTE format('DROP POLICY client_scope_delete ON %I', t);
    EXECUTE format('CREATE POLICY client_scope ON %I AS RESTRICTIVE USING (app_client_member() IS NULL)', t);
  END LOOP;
END $$;
DROP POLICY client_scope ON projects;
CREATE POLICY client_scope ON projects AS RESTRICTIVE USING (app_client_member() IS NULL OR EXISTS (
  SELECT 1 FROM project_members pm WHERE pm.project_id = projects.id AND pm.membership_id = app_client_member()));
DROP POLICY client_scope ON tasks;
CREATE POLICY client_scope ON tasks AS RESTRICTIVE USING (app_client_member() IS NULL OR project_id IN (
  SELECT pm.project_id FROM project_members pm WHERE pm.membership_id = app_client_member()));
DROP POLICY client_scope ON milestones;
CREATE POLICY client_scope ON milestones AS RESTRICTIVE USING (app_client_member() IS NULL OR project_id IN (
  SELECT pm.project_id FROM project_members pm WHERE pm.membership_id = app_client_member()));
ALTER TABLE tasks DROP COLUMN IF EXISTS client_visible;
DROP INDEX IF EXISTS contacts_membership_key;
ALTER TABLE contacts DROP COLUMN IF EXISTS membership_id;
"#;

crate::sql::sql_migration!(UP, DOWN);
