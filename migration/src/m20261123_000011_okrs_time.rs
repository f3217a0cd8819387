//! OKRs (objectives, key results, links to projects and tasks), time entries, time off and
//! weekly availability: the inputs of progress, hours and capacity.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE objectives (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  parent_id uuid,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text CHECK (length(description) <= 10000),
  owner_id uuid,
  team_id uuid,
  period_start date NOT NULL,
  period_end date NOT NULL,
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('DRAFT','ACTIVE','ACHIEVED','MISSED','CANCELLED')),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT objectives_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT objectives_org_id_parent_id_fkey FOREIGN KEY (org_id, parent_id) REFERENCES objectives (org_id, id) ON DELETE SET NULL (parent_id),
  CONSTRAINT objectives_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id),
  CONSTRAINT objectives_org_id_team_id_fkey FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE SET NULL (team_id),
  CONSTRAINT objectives_period_end_check CHECK (period_end >= period_start),
  CONSTRAINT objectives_parent_id_check CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX objectives_period_idx ON objectives (org_id, period_start, period_end);

CREATE TABLE key_results (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  objective_id uuid NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  unit text CHECK (length(unit) BETWEEN 1 AND 30),
  start_value numeric(18,4) NOT NULL DEFAULT 0,
  target_value numeric(18,4) NOT NULL,
  current_value numeric(18,4) NOT NULL DEFAULT 0,
  weight numeric(6,3) NOT NULL DEFAULT 1 CHECK (weight > 0 AND weight <= 100),
  owner_id uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT key_results_org_id_objective_id_fkey FOREIGN KEY (org_id, objective_id) REFERENCES objectives (org_id, id) ON DELETE CASCADE,
  CONSTRAINT key_results_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id),
  CONSTRAINT key_results_target_value_check CHECK (target_value <> start_value)
);
CREATE INDEX key_results_objective_idx ON key_results (org_id, objective_id);

CREATE TABLE objective_links (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  objective_id uuid NOT NULL,
  project_id uuid,
  task_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT objective_links_org_id_objective_id_fkey FOREIGN KEY (org_id, objective_id) REFERENCES objectives (org_id, id) ON DELETE CASCADE,
  CONSTRAINT objective_links_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  CONSTRAINT objective_links_org_id_task_id_fkey FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE,
  CONSTRAINT objective_links_subject_check CHECK ((project_id IS NULL) <> (task_id IS NULL))
);
CREATE UNIQUE INDEX objective_links_project_uniq ON objective_links (objective_id, project_id) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX objective_links_task_uniq ON objective_links (objective_id, task_id) WHERE task_id IS NOT NULL;
CREATE INDEX objective_links_project_idx ON objective_links (org_id, project_id);
CREATE INDEX objective_links_task_idx ON objective_links (org_id, task_id);

CREATE TABLE time_entries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  project_id uuid NOT NULL,
  task_id uuid,
  entry_date date NOT NULL,
  hours numeric(5,2) NOT NULL CHECK (hours > 0 AND hours <= 24),
  is_billable boolean NOT NULL DEFAULT true,
  note text CHECK (length(note) <= 2000),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT time_entries_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT time_entries_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  CONSTRAINT time_entries_org_id_task_id_fkey FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE SET NULL (task_id)
);
CREATE INDEX time_entries_member_idx ON time_entries (org_id, membership_id, entry_date);
CREATE INDEX time_entries_project_idx ON time_entries (org_id, project_id, entry_date);
CREATE INDEX time_entries_task_idx ON time_entries (org_id, task_id);

CREATE TABLE time_off (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  kind text NOT NULL DEFAULT 'VACATION' CHECK (kind IN ('VACATION','SICK','PERSONAL','PUBLIC_HOLIDAY','PARENTAL','OTHER')),
  start_date date NOT NULL,
  end_date date NOT NULL,
  hours_per_day numeric(4,2) CHECK (hours_per_day > 0 AND hours_per_day <= 24),
  status text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN ('REQUESTED','APPROVED','REJECTED','CANCELLED')),
  note text CHECK (length(note) <= 2000),
  decided_by uuid,
  decided_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT time_off_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT time_off_org_id_decided_by_fkey FOREIGN KEY (org_id, decided_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (decided_by),
  CONSTRAINT time_off_end_date_check CHECK (end_date >= start_date AND end_date - start_date <= 366),
  CONSTRAINT time_off_dates_excl EXCLUDE USING gist (
    membership_id WITH =, daterange(start_date, end_date, '[]') WITH &&
  ) WHERE (status IN ('REQUESTED','APPROVED'))
);
CREATE INDEX time_off_member_idx ON time_off (org_id, membership_id, start_date);

CREATE TABLE availability (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  hours numeric(4,2) NOT NULL CHECK (hours >= 0 AND hours <= 24),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (membership_id, weekday),
  CONSTRAINT availability_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
"#;

const TABLES: [&str; 6] = ["objectives", "key_results", "objective_links", "time_entries", "time_off", "availability"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in TABLES {
            sql.push_str(&tenant_rls(t));
        }
        for t in ["objectives", "key_results", "time_entries", "time_off", "availability"] {
            sql.push_str(&updated_at_trigger(t));
        }
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("DROP TABLE IF EXISTS {};", TABLES.iter().rev().copied().collect::<Vec<_>>().join(", "));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
