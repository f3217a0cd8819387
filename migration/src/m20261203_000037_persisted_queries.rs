//! Persisted queries: documents by their SHA-256 (Apollo's automatic persisted queries keep
//! them as a shared, content-addressed cache: `org_id` NULL, not allowed), and the
//! registered operations of the allow-list mode, global (`org_id` NULL) or for one
//! organisation. Nothing here is tenant data, but registrations for an organisation are
//! seen only by it.

use sea_orm_migration::prelude::*;

use crate::sql::GRANT_APP;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE persisted_queries (
  id uuid PRIMARY KEY,
  hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  org_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
  document text NOT NULL,
  allowed boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (hash, org_id)
);
ALTER TABLE persisted_queries ENABLE ROW LEVEL SECURITY;
ALTER TABLE persisted_queries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON persisted_queries
  USING (org_id IS NULL OR org_id = app_org_id()) WITH CHECK (org_id IS NULL OR org_id = app_org_id());
-- Operations are not client data: a CLIENT's allow-listed queries must be found too.
CREATE POLICY client_scope ON persisted_queries AS RESTRICTIVE USING (true);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("{UP}{GRANT_APP}")).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS persisted_queries;").await?;
        Ok(())
    }
}
