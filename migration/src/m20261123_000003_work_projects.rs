//! The first `work` table: projects (grown by the work domain's own migrations).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE projects (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  key text NOT NULL CHECK (key ~ '^[A-Z][A-Z0-9]{1,9}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 20000),
  status text NOT NULL DEFAULT 'PLANNING' CHECK (status IN ('PLANNING','ACTIVE','ON_HOLD','COMPLETED','CANCELLED')),
  manager_id uuid,
  team_id uuid,
  start_date date,
  end_date date,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT projects_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT projects_key_key UNIQUE (org_id, key),
  CONSTRAINT projects_org_id_manager_id_fkey FOREIGN KEY (org_id, manager_id) REFERENCES memberships (org_id, id),
  CONSTRAINT projects_org_id_team_id_fkey FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id),
  CONSTRAINT projects_end_date_check CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX projects_manager_idx ON projects (org_id, manager_id);
CREATE INDEX projects_team_idx ON projects (org_id, team_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{}{GRANT_APP}", tenant_rls("projects"), updated_at_trigger("projects"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS projects;").await?;
        Ok(())
    }
}
