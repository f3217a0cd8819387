//! Work collaboration: project members with allocation, watchers, threaded comments with
//! mentions, task checklists, change requests, feedback and kudos; the client seam of projects.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_rls, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE projects ADD COLUMN client_name text CHECK (length(client_name) BETWEEN 1 AND 200);

CREATE TABLE project_members (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  membership_id uuid NOT NULL,
  role text CHECK (length(role) BETWEEN 1 AND 100),
  allocation_percent smallint NOT NULL DEFAULT 100 CHECK (allocation_percent BETWEEN 0 AND 100),
  start_date date,
  end_date date,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT project_members_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT project_members_membership_id_key UNIQUE (project_id, membership_id),
  CONSTRAINT project_members_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  CONSTRAINT project_members_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT project_members_end_date_check CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX project_members_member_idx ON project_members (org_id, membership_id);

CREATE TABLE watchers (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  project_id uuid,
  task_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT watchers_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT watchers_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  CONSTRAINT watchers_org_id_task_id_fkey FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE,
  CONSTRAINT watchers_subject_check CHECK ((project_id IS NULL) <> (task_id IS NULL))
);
CREATE UNIQUE INDEX watchers_project_uniq ON watchers (project_id, membership_id) WHERE project_id IS NOT NULL;
CREATE UNIQUE INDEX watchers_task_uniq ON watchers (task_id, membership_id) WHERE task_id IS NOT NULL;
CREATE INDEX watchers_member_idx ON watchers (org_id, membership_id);

CREATE TABLE comments (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  task_id uuid,
  parent_id uuid,
  kind text NOT NULL DEFAULT 'COMMENT' CHECK (kind IN ('COMMENT','UPDATE','REPORT')),
  author_id uuid,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  edited_at timestamptz,
  deleted_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT comments_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT comments_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  CONSTRAINT comments_org_id_task_id_fkey FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE,
  CONSTRAINT comments_org_id_parent_id_fkey FOREIGN KEY (org_id, parent_id) REFERENCES comments (org_id, id) ON DELETE CASCADE,
  CONSTRAINT comments_org_id_author_id_fkey FOREIGN KEY (org_id, author_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (author_id)
);
CREATE INDEX comments_task_idx ON comments (org_id, task_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX comments_project_idx ON comments (org_id, project_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX comments_parent_idx ON comments (org_id, parent_id, created_at);

CREATE TABLE comment_mentions (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  comment_id uuid NOT NULL,
  membership_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (comment_id, membership_id),
  CONSTRAINT comment_mentions_org_id_comment_id_fkey FOREIGN KEY (org_id, comment_id) REFERENCES comments (org_id, id) ON DELETE CASCADE,
  CONSTRAINT comment_mentions_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX comment_mentions_member_idx ON comment_mentions (org_id, membership_id);

CREATE TABLE checklist_items (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  task_id uuid NOT NULL,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
  is_done boolean NOT NULL DEFAULT false,
  done_at timestamptz,
  done_by uuid,
  position double precision NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT checklist_items_org_id_task_id_fkey FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE CASCADE,
  CONSTRAINT checklist_items_org_id_done_by_fkey FOREIGN KEY (org_id, done_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (done_by)
);
CREATE INDEX checklist_items_task_idx ON checklist_items (org_id, task_id, position);

CREATE TABLE change_requests (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  description text CHECK (length(description) <= 20000),
  impact text CHECK (length(impact) <= 10000),
  schedule_impact_days integer NOT NULL DEFAULT 0 CHECK (schedule_impact_days BETWEEN -3650 AND 3650),
  cost_impact_amount numeric(18,2),
  cost_impact_currency char(3) CHECK (cost_impact_currency ~ '^[A-Z]{3}$'),
  status text NOT NULL DEFAULT 'PROPOSED' CHECK (status IN ('PROPOSED','APPROVED','REJECTED','WITHDRAWN')),
  requested_by uuid,
  decided_by uuid,
  decided_at timestamptz,
  decision_note text CHECK (length(decision_note) <= 5000),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT change_requests_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  CONSTRAINT change_requests_org_id_requested_by_fkey FOREIGN KEY (org_id, requested_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (requested_by),
  CONSTRAINT change_requests_org_id_decided_by_fkey FOREIGN KEY (org_id, decided_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (decided_by),
  CONSTRAINT change_requests_cost_impact_check CHECK ((cost_impact_amount IS NULL) = (cost_impact_currency IS NULL))
);
CREATE INDEX change_requests_project_idx ON change_requests (org_id, project_id, status);

CREATE TABLE feedback (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  author_id uuid NOT NULL,
  subject_id uuid NOT NULL,
  project_id uuid,
  task_id uuid,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  body text CHECK (length(body) <= 10000),
  is_shared boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT feedback_org_id_author_id_fkey FOREIGN KEY (org_id, author_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT feedback_org_id_subject_id_fkey FOREIGN KEY (org_id, subject_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT feedback_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE SET NULL (project_id),
  CONSTRAINT feedback_org_id_task_id_fkey FOREIGN KEY (org_id, task_id) REFERENCES tasks (org_id, id) ON DELETE SET NULL (task_id),
  CONSTRAINT feedback_subject_id_check CHECK (subject_id <> author_id)
);
CREATE INDEX feedback_subject_idx ON feedback (org_id, subject_id, created_at);
CREATE INDEX feedback_author_idx ON feedback (org_id, author_id, created_at);

CREATE TABLE kudos (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  from_id uuid NOT NULL,
  to_id uuid NOT NULL,
  category text NOT NULL DEFAULT 'TEAMWORK' CHECK (category IN ('TEAMWORK','QUALITY','INNOVATION','CUSTOMER','LEADERSHIP','GOING_EXTRA_MILE')),
  message text NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
  project_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT kudos_org_id_from_id_fkey FOREIGN KEY (org_id, from_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT kudos_org_id_to_id_fkey FOREIGN KEY (org_id, to_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT kudos_org_id_project_id_fkey FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE SET NULL (project_id),
  CONSTRAINT kudos_to_id_check CHECK (to_id <> from_id)
);
CREATE INDEX kudos_to_idx ON kudos (org_id, to_id, created_at);
CREATE INDEX kudos_created_idx ON kudos (org_id, created_at);
"#;

const TABLES: [&str; 8] = [
    "project_members",
    "watchers",
    "comments",
    "comment_mentions",
    "checklist_items",
    "change_requests",
    "feedback",
    "kudos",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in TABLES {
            sql.push_str(&tenant_rls(t));
        }
        for t in ["project_members", "comments", "checklist_items", "change_requests"] {
            sql.push_str(&updated_at_trigger(t));
        }
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = format!("DROP TABLE IF EXISTS {};", TABLES.iter().rev().copied().collect::<Vec<_>>().join(", "));
        sql.push_str("ALTER TABLE projects DROP COLUMN IF EXISTS client_name;");
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
