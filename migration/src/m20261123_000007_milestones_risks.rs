//! Project milestones and the risk register (probability x impact -> severity).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE milestones (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 5000),
  due_date date,
  status text NOT NULL DEFAULT 'PLANNED' CHECK (status IN ('PLANNED','IN_PROGRESS','ACHIEVED','MISSED','CANCELLED')),
  achieved_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT milestones_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT milestones_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);
CREATE INDEX milestones_project_idx ON milestones (org_id, project_id, due_date);

CREATE TABLE risks (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text CHECK (length(description) <= 10000),
  probability smallint NOT NULL CHECK (probability BETWEEN 1 AND 5),
  impact smallint NOT NULL CHECK (impact BETWEEN 1 AND 5),
  severity smallint GENERATED ALWAYS AS (probability * impact) STORED,
  mitigation text CHECK (length(mitigation) <= 10000),
  owner_id uuid,
  status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN','MITIGATING','ACCEPTED','CLOSED')),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT risks_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT risks_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  CONSTRAINT risks_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id)
);
CREATE INDEX risks_project_idx ON risks (org_id, project_id, status, severity DESC);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in ["milestones", "risks"] {
            sql.push_str(&tenant_rls(t));
            sql.push_str(&updated_at_trigger(t));
        }
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS risks, milestones;").await?;
        Ok(())
    }
}
