//! crm lead rules: scoring rules add points to a contact's lead score when they match;
//! routing rules give a new contact an owner (002 leadScoringRules, leadRoutingRules).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE lead_rules (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('SCORING','ROUTING')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  field text NOT NULL CHECK (field IN ('SOURCE','TITLE','COMPANY','STATUS','EMAIL','TAG')),
  operator text NOT NULL CHECK (operator IN ('EQUALS','CONTAINS','ENDS_WITH')),
  value text NOT NULL CHECK (length(value) BETWEEN 1 AND 200),
  points integer NOT NULL DEFAULT 0 CHECK (points BETWEEN -1000 AND 1000),
  assign_to uuid,
  position integer NOT NULL DEFAULT 0,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_rules_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT lead_rules_routing_check CHECK (kind <> 'ROUTING' OR assign_to IS NOT NULL),
  FOREIGN KEY (org_id, assign_to) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{GRANT_APP}", tenant_table("lead_rules"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS lead_rules;").await?;
        Ok(())
    }
}
