//! Task dependencies: a task depends on another (no cycles; checked by the service).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE task_dependencies (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  task_id uuid NOT NULL,
  depends_on_id uuid NOT NULL,
  kind text NOT NULL DEFAULT 'FINISH_TO_START' CHECK (kind IN ('FINISH_TO_START','START_TO_START','FINISH_TO_FINISH','START_TO_FINISH')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT task_dependencies_depends_on_id_key UNIQUE (org_id, task_id, depends_on_id),
  CONSTRAINT task_dependencies_depends_on_id_check CHECK (task_id <> depends_on_id),
  CONSTRAINT task_dependencies_org_id_task_id_fkey FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE,
  CONSTRAINT task_dependencies_org_id_depends_on_id_fkey FOREIGN KEY (org_id, depends_on_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX task_dependencies_depends_on_idx ON task_dependencies (org_id, depends_on_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{GRANT_APP}", tenant_rls("task_dependencies"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS task_dependencies;").await?;
        Ok(())
    }
}
