//! The rest of the ai domain: prompt templates with versions and usage statistics (agents
//! may run on one), insights attached to any entity, workflows triggered by domain events
//! with their runs and a log per step, MCP servers with agent bindings, and the call
//! recordings of voice conversations linked to a crm contact.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE prompt_templates (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  category text,
  description text,
  current_version integer NOT NULL DEFAULT 1,
  usage_count bigint NOT NULL DEFAULT 0,
  success_count bigint NOT NULL DEFAULT 0,
  failure_count bigint NOT NULL DEFAULT 0,
  last_used_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name)
);

CREATE TABLE prompt_template_versions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  template_id uuid NOT NULL,
  number integer NOT NULL CHECK (number > 0),
  body text NOT NULL,
  variables jsonb NOT NULL DEFAULT '[]',
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (template_id, number),
  FOREIGN KEY (org_id, template_id) REFERENCES prompt_templates (org_id, id) ON DELETE CASCADE
);

ALTER TABLE agents ADD COLUMN template_id uuid, ADD COLUMN template_variables jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN memory_collection_id uuid,
  ADD FOREIGN KEY (org_id, template_id) REFERENCES prompt_templates (org_id, id),
  ADD FOREIGN KEY (org_id, memory_collection_id) REFERENCES collections (org_id, id);

CREATE TABLE ai_insights (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  subject_type text NOT NULL,
  subject_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('SENTIMENT', 'RISK', 'SUMMARY', 'SUGGESTION', 'ANOMALY')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  body text NOT NULL DEFAULT '',
  confidence double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
  sentiment double precision CHECK (sentiment BETWEEN -1 AND 1),
  actionable boolean NOT NULL DEFAULT false,
  agent_id uuid,
  run_id uuid,
  created_by uuid,
  dismissed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id)
);
CREATE INDEX ai_insights_subject_idx ON ai_insights (org_id, subject_id, created_at DESC);

CREATE TABLE workflows (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text,
  trigger_event text NOT NULL,
  conditions jsonb NOT NULL DEFAULT '[]',
  steps jsonb NOT NULL,
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED')),
  owner_id uuid NOT NULL,
  -- The last outbox event considered (events before the workflow existed are not replayed).
  cursor_seq bigint NOT NULL DEFAULT 0,
  run_count bigint NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id)
);

CREATE TABLE workflow_runs (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  workflow_id uuid NOT NULL,
  event_seq bigint NOT NULL,
  event jsonb NOT NULL,
  status text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'COMPLETE', 'FAILED')),
  step_index integer NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (workflow_id, event_seq),
  FOREIGN KEY (org_id, workflow_id) REFERENCES workflows (org_id, id) ON DELETE CASCADE
);
CREATE INDEX workflow_runs_due_idx ON workflow_runs (org_id, next_attempt_at) WHERE status = 'RUNNING';

CREATE TABLE workflow_step_logs (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  run_id uuid NOT NULL,
  step_index integer NOT NULL,
  kind text NOT NULL,
  status text NOT NULL CHECK (status IN ('DONE', 'FAILED', 'SKIPPED')),
  attempt integer NOT NULL,
  output jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  FOREIGN KEY (org_id, run_id) REFERENCES workflow_runs (org_id, id) ON DELETE CASCADE
);
CREATE INDEX workflow_step_logs_run_idx ON workflow_step_logs (run_id, created_at);

CREATE TABLE mcp_servers (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  url text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  tools jsonb NOT NULL DEFAULT '[]',
  tools_listed_at timestamptz,
  last_error text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name)
);

CREATE TABLE agent_mcp_servers (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  agent_id uuid NOT NULL,
  server_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (agent_id, server_id),
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, server_id) REFERENCES mcp_servers (org_id, id) ON DELETE CASCADE
);

ALTER TABLE agent_conversations ADD COLUMN contact_id uuid,
  ADD FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id);

CREATE TABLE call_recordings (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL,
  contact_id uuid,
  url text NOT NULL,
  duration_secs integer NOT NULL CHECK (duration_secs >= 0),
  transcript text,
  started_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, conversation_id) REFERENCES agent_conversations (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id)
);
CREATE INDEX call_recordings_conversation_idx ON call_recordings (conversation_id, started_at);
"#;

const TABLES: [&str; 9] = [
    "prompt_templates",
    "prompt_template_versions",
    "ai_insights",
    "workflows",
    "workflow_runs",
    "workflow_step_logs",
    "mcp_servers",
    "agent_mcp_servers",
    "call_recordings",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in TABLES {
            sql.push_str(&tenant_table(t));
            if !matches!(t, "prompt_template_versions" | "workflow_step_logs") {
                sql.push_str(&updated_at_trigger(t));
            }
        }
        // A voice conversation's recordings are read with it: its member only.
        sql.push_str(
            "CREATE POLICY own ON call_recordings AS RESTRICTIVE \
               USING (conversation_id IN (SELECT c.id FROM agent_conversations c));\n",
        );
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS call_recordings, agent_mcp_servers, mcp_servers, workflow_step_logs, \
                   workflow_runs, workflows, ai_insights;\n\
                 ALTER TABLE agent_conversations DROP COLUMN contact_id;\n\
                 ALTER TABLE agents DROP COLUMN template_id, DROP COLUMN template_variables, \
                   DROP COLUMN memory_collection_id;\n\
                 DROP TABLE IF EXISTS prompt_template_versions, prompt_templates;",
            )
            .await?;
        Ok(())
    }
}
