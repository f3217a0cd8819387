//! Tasks with subtasks and per-project numbers (`ACME-42`); project fields of the work domain.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE projects
  ADD COLUMN kind text NOT NULL DEFAULT 'ENGAGEMENT' CHECK (kind IN ('ENGAGEMENT','INTERNAL','INITIATIVE')),
  ADD COLUMN client_account_id uuid,
  ADD COLUMN owner_id uuid,
  ADD COLUMN deadline date,
  ADD COLUMN budget_amount numeric(18,2) CHECK (budget_amount >= 0),
  ADD COLUMN budget_currency char(3) CHECK (budget_currency ~ '^[A-Z]{3}$'),
  ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
  ADD COLUMN next_task_number integer NOT NULL DEFAULT 1,
  ADD CONSTRAINT projects_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id);
CREATE INDEX projects_tags_idx ON projects USING gin (tags);

CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  parent_id uuid,
  number integer NOT NULL CHECK (number > 0),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  description text CHECK (length(description) <= 50000),
  kind text NOT NULL DEFAULT 'TASK' CHECK (kind IN ('TASK','BUG','FEATURE','CHORE','MEETING','RESEARCH')),
  status text NOT NULL DEFAULT 'TODO' CHECK (status IN ('BACKLOG','TODO','IN_PROGRESS','IN_REVIEW','BLOCKED','DONE','CANCELLED')),
  priority text NOT NULL DEFAULT 'MEDIUM' CHECK (priority IN ('LOW','MEDIUM','HIGH','URGENT')),
  assignee_id uuid,
  reporter_id uuid,
  start_date date,
  due_date date,
  estimate_hours numeric(10,2) CHECK (estimate_hours >= 0),
  position double precision NOT NULL DEFAULT 0,
  labels text[] NOT NULL DEFAULT '{}',
  completed_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, ''))) STORED,
  CONSTRAINT tasks_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT tasks_number_key UNIQUE (project_id, number),
  CONSTRAINT tasks_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
  CONSTRAINT tasks_org_id_parent_id_fkey FOREIGN KEY (org_id, parent_id) REFERENCES tasks (org_id, id),
  CONSTRAINT tasks_org_id_assignee_id_fkey FOREIGN KEY (org_id, assignee_id) REFERENCES memberships (org_id, id),
  CONSTRAINT tasks_org_id_reporter_id_fkey FOREIGN KEY (org_id, reporter_id) REFERENCES memberships (org_id, id),
  CONSTRAINT tasks_parent_id_check CHECK (parent_id IS DISTINCT FROM id),
  CONSTRAINT tasks_due_date_check CHECK (due_date IS NULL OR start_date IS NULL OR due_date >= start_date)
);
CREATE INDEX tasks_board_idx ON tasks (org_id, project_id, status, position) WHERE deleted_at IS NULL;
CREATE INDEX tasks_assignee_idx ON tasks (org_id, assignee_id, status) WHERE deleted_at IS NULL;
CREATE INDEX tasks_due_idx ON tasks (org_id, due_date) WHERE deleted_at IS NULL;
CREATE INDEX tasks_parent_idx ON tasks (org_id, parent_id);
CREATE INDEX tasks_search_idx ON tasks USING gin (search);
CREATE INDEX tasks_title_trgm_idx ON tasks USING gin (title gin_trgm_ops);
CREATE INDEX tasks_labels_idx ON tasks USING gin (labels);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{}{GRANT_APP}", tenant_rls("tasks"), updated_at_trigger("tasks"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS tasks; ALTER TABLE projects DROP COLUMN kind, DROP COLUMN client_account_id, \
                 DROP COLUMN owner_id, DROP COLUMN deadline, DROP COLUMN budget_amount, DROP COLUMN budget_currency, \
                 DROP COLUMN tags, DROP COLUMN next_task_number;",
            )
            .await?;
        Ok(())
    }
}
