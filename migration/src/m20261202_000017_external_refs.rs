//! Sync with outside systems: external references on any node (one table for every node
//! type of every domain), and an index for "projects due soon".

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE external_refs (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  system text NOT NULL CHECK (system ~ '^[a-z0-9][a-z0-9_.-]{0,49}$'),
  external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
  node_type text NOT NULL,
  node_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, system, node_type, external_id),
  UNIQUE (org_id, node_id, system)
);
CREATE INDEX external_refs_node_idx ON external_refs (node_id);
CREATE INDEX projects_deadline_idx ON projects (org_id, deadline) WHERE deleted_at IS NULL;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{}{GRANT_APP}", tenant_table("external_refs"), updated_at_trigger("external_refs"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS projects_deadline_idx; DROP TABLE IF EXISTS external_refs;")
            .await?;
        Ok(())
    }
}
