//! finance forecasts: a project's expected revenue and cost per month, with a confidence
//! (000 engagement_forecasts).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE forecasts (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  month date NOT NULL CHECK (extract(day FROM month) = 1),
  revenue numeric(18,2) NOT NULL CHECK (revenue >= 0),
  cost numeric(18,2) NOT NULL CHECK (cost >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  confidence numeric(3,2) NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  note text CHECK (length(note) <= 1000),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT forecasts_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT forecasts_month_key UNIQUE (project_id, month),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{}{GRANT_APP}", tenant_table("forecasts"), updated_at_trigger("forecasts"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS forecasts;").await?;
        Ok(())
    }
}
