//! The application role (subject to RLS), tenant setting accessors, extensions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsgraph_app') THEN
    CREATE ROLE opsgraph_app NOLOGIN NOBYPASSRLS;
  END IF;
END $$;
DO $$ BEGIN
  IF NOT pg_has_role(current_user, 'opsgraph_app', 'MEMBER') THEN
    EXECUTE format('GRANT opsgraph_app TO %I', current_user);
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO opsgraph_app;
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION app_org_id() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$;
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;
CREATE FUNCTION app_api_key_prefix() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT NULLIF(current_setting('app.api_key_prefix', true), '') $$;
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;
"#;

const DOWN: &str = r#"
DROP FUNCTION IF EXISTS set_updated_at();
DROP FUNCTION IF EXISTS app_api_key_prefix();
DROP FUNCTION IF EXISTS app_user_id();
DROP FUNCTION IF EXISTS app_org_id();
"#;

crate::sql::sql_migration!(UP, DOWN);
