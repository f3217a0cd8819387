//! Scheduled reminders (task due tomorrow / overdue, milestone due tomorrow): a ledger that
//! makes each reminder happen once however many instances run the job, and the scan policy
//! that lets the job list organisations before entering each tenant.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE reminders_sent (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  subject_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('task.due','task.overdue','milestone.due')),
  due_date date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, subject_id, kind, due_date)
);
CREATE POLICY scheduler_scan ON organizations FOR SELECT
  USING (current_setting('app.system', true) = 'scheduler');
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{GRANT_APP}", tenant_rls("reminders_sent"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP POLICY IF EXISTS scheduler_scan ON organizations; DROP TABLE IF EXISTS reminders_sent;",
            )
            .await?;
        Ok(())
    }
}
