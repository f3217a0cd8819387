//! The CLIENT role in the database: a client member (`app.client_member`, set per request
//! for CLIENT sessions) sees only the projects they are staffed on, those projects' tasks
//! and milestones, and their own membership and staffing rows — and nothing of any other
//! tenant table. Restrictive policies, so they narrow every permissive tenant policy.
//! Tables created later get the deny-clients policy from `sql::tenant_rls`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE FUNCTION app_client_member() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.client_member', true), '')::uuid $$;

DO $$
DECLARE t text;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity
      AND c.relname NOT IN ('organizations', 'memberships', 'projects', 'tasks', 'milestones', 'project_members',
                            'notifications', 'notification_preferences')
  LOOP
    EXECUTE format('CREATE POLICY client_scope ON %I AS RESTRICTIVE USING (app_client_member() IS NULL)', t);
  END LOOP;
END $$;

CREATE POLICY client_scope ON projects AS RESTRICTIVE USING (app_client_member() IS NULL OR EXISTS (
  SELECT 1 FROM project_members pm WHERE pm.project_id = projects.id AND pm.membership_id = app_client_member()));
CREATE POLICY client_scope ON tasks AS RESTRICTIVE USING (app_client_member() IS NULL OR project_id IN (
  SELECT pm.project_id FROM project_members pm WHERE pm.membership_id = app_client_member()));
CREATE POLICY client_scope ON milestones AS RESTRICTIVE USING (app_client_member() IS NULL OR project_id IN (
  SELECT pm.project_id FROM project_members pm WHERE pm.membership_id = app_client_member()));
CREATE POLICY client_scope ON project_members AS RESTRICTIVE
  USING (app_client_member() IS NULL OR membership_id = app_client_member());
CREATE POLICY client_scope ON memberships AS RESTRICTIVE
  USING (app_client_member() IS NULL OR id = app_client_member());
"#;

const DOWN: &str = r#"
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_policies WHERE schemaname = 'public' AND policyname = 'client_scope' LOOP
    EXECUTE format('DROP POLICY client_scope ON %I', t);
  END LOOP;
END $$;
DROP FUNCTION IF EXISTS app_client_member();
"#;

crate::sql::sql_migration!(UP, DOWN);
