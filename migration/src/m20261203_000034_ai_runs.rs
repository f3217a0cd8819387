//! The ai domain's providers, models, runs and spend: language-model providers (the local
//! model or an OpenAI-compatible endpoint, its API key encrypted by the server), models with
//! context window, capabilities and prices per million tokens, agents bound to a model and
//! to the tools they may use, runs (every execution with its outcome, tokens and cost), the
//! usage ledger in integer micro-units, monthly budgets, and pending actions (a tool's
//! proposed change waiting for a person). The audit log records an agent's writes with
//! their run and message.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE llm_providers (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('LOCAL', 'OPENAI_COMPATIBLE')),
  base_url text,
  -- AES-256-GCM: 12-byte nonce then ciphertext and tag, under the server's key.
  api_key_sealed bytea,
  api_key_hint text,
  timeout_secs integer NOT NULL DEFAULT 120 CHECK (timeout_secs BETWEEN 1 AND 3600),
  max_retries integer NOT NULL DEFAULT 2 CHECK (max_retries BETWEEN 0 AND 10),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name),
  CHECK ((kind = 'LOCAL') = (base_url IS NULL))
);

CREATE TABLE llm_models (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  provider_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  display_name text NOT NULL,
  context_window integer NOT NULL CHECK (context_window > 0),
  capabilities text[] NOT NULL DEFAULT '{}',
  -- Currency units per million tokens.
  input_price numeric(20, 6) NOT NULL DEFAULT 0 CHECK (input_price >= 0),
  output_price numeric(20, 6) NOT NULL DEFAULT 0 CHECK (output_price >= 0),
  currency char(3) NOT NULL DEFAULT 'USD',
  active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, provider_id, name),
  FOREIGN KEY (org_id, provider_id) REFERENCES llm_providers (org_id, id) ON DELETE CASCADE
);

ALTER TABLE agents ADD COLUMN model_id uuid,
  ADD COLUMN tools jsonb NOT NULL DEFAULT '[]',
  ADD FOREIGN KEY (org_id, model_id) REFERENCES llm_models (org_id, id);

CREATE TABLE ai_runs (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  agent_id uuid NOT NULL,
  model_id uuid NOT NULL,
  member_id uuid,
  conversation_id uuid,
  message_id uuid,
  trigger text NOT NULL CHECK (trigger IN ('CHAT', 'TOOL', 'SCHEDULED', 'WORKFLOW')),
  status text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'WAITING', 'COMPLETE', 'FAILED')),
  input jsonb NOT NULL DEFAULT '{}',
  output jsonb,
  error text,
  steps integer NOT NULL DEFAULT 0,
  tokens_in bigint NOT NULL DEFAULT 0,
  tokens_out bigint NOT NULL DEFAULT 0,
  cost_micros bigint NOT NULL DEFAULT 0,
  currency char(3) NOT NULL DEFAULT 'USD',
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  duration_ms integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id),
  FOREIGN KEY (org_id, model_id) REFERENCES llm_models (org_id, id),
  FOREIGN KEY (org_id, conversation_id) REFERENCES agent_conversations (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ai_runs_org_idx ON ai_runs (org_id, started_at DESC);
CREATE INDEX ai_runs_message_idx ON ai_runs (message_id);

CREATE TABLE ai_usage (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  day date NOT NULL,
  model_id uuid NOT NULL,
  agent_id uuid NOT NULL,
  member_id uuid,
  run_id uuid NOT NULL,
  tokens_in bigint NOT NULL CHECK (tokens_in >= 0),
  tokens_out bigint NOT NULL CHECK (tokens_out >= 0),
  cost_micros bigint NOT NULL CHECK (cost_micros >= 0),
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, run_id) REFERENCES ai_runs (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, model_id) REFERENCES llm_models (org_id, id),
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id)
);
CREATE INDEX ai_usage_day_idx ON ai_usage (org_id, day);

CREATE TABLE ai_budgets (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL UNIQUE REFERENCES organizations (id) ON DELETE CASCADE,
  monthly_limit_micros bigint NOT NULL CHECK (monthly_limit_micros >= 0),
  currency char(3) NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ai_pending_actions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  run_id uuid NOT NULL,
  message_id uuid NOT NULL,
  agent_id uuid NOT NULL,
  member_id uuid NOT NULL,
  tool text NOT NULL,
  call_id text NOT NULL,
  arguments jsonb NOT NULL,
  subject_type text NOT NULL,
  subject_id uuid,
  expected_version integer,
  diff jsonb NOT NULL,
  risk text NOT NULL CHECK (risk IN ('LOW', 'MEDIUM', 'HIGH')),
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED')),
  expires_at timestamptz NOT NULL,
  decided_by uuid,
  decided_at timestamptz,
  reason text,
  result jsonb,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, run_id) REFERENCES ai_runs (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id),
  FOREIGN KEY (org_id, member_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX ai_pending_actions_open_idx ON ai_pending_actions (org_id, expires_at) WHERE status = 'PENDING';

-- A reply waiting for a person's decision on a tool's proposed change; the tool calls of
-- a reply (asked, answered) kept on it for the next turn of the loop.
ALTER TABLE agent_messages DROP CONSTRAINT agent_messages_status_check,
  ADD CONSTRAINT agent_messages_status_check CHECK (status IN ('PENDING', 'STREAMING', 'WAITING', 'COMPLETE', 'FAILED')),
  ADD COLUMN run_id uuid,
  ADD COLUMN tool_calls jsonb NOT NULL DEFAULT '[]';

ALTER TABLE audit_log ADD COLUMN agent_id uuid, ADD COLUMN agent_run_id uuid, ADD COLUMN agent_message_id uuid;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in ["llm_providers", "llm_models", "ai_runs", "ai_usage", "ai_budgets", "ai_pending_actions"] {
            sql.push_str(&tenant_table(t));
            if t != "ai_usage" {
                sql.push_str(&updated_at_trigger(t));
            }
        }
        // A member sees the actions proposed for them and the runs they started; owners and
        // admins see all (the runner, as the system, too).
        for t in ["ai_pending_actions", "ai_runs"] {
            sql.push_str(&format!(
                "CREATE POLICY own ON {t} AS RESTRICTIVE USING (current_setting('app.system', true) = 'ai' \
                   OR member_id = (SELECT app_member()) OR (SELECT app_role()) IN ('OWNER', 'ADMIN'));\n"
            ));
        }
        // Agents move from a model name to a model row: the organisation's local provider.
        sql.push_str(
            "INSERT INTO llm_providers (id, org_id, name, kind) \
               SELECT gen_random_uuid(), org_id, 'Local', 'LOCAL' FROM agents GROUP BY org_id;\n\
             INSERT INTO llm_models (id, org_id, provider_id, name, display_name, context_window, capabilities) \
               SELECT gen_random_uuid(), p.org_id, p.id, 'SmolLM2-135M-Instruct', 'SmolLM2 135M Instruct (local)', 8192, \
                 '{CHAT}' FROM llm_providers p;\n\
             UPDATE agents a SET model_id = m.id FROM llm_models m WHERE m.org_id = a.org_id;\n\
             ALTER TABLE agents ALTER COLUMN model_id SET NOT NULL, DROP COLUMN model;\n",
        );
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE audit_log DROP COLUMN agent_id, DROP COLUMN agent_run_id, DROP COLUMN agent_message_id;\n\
                 DELETE FROM agent_messages WHERE status = 'WAITING';\n\
                 ALTER TABLE agent_messages DROP COLUMN run_id, DROP COLUMN tool_calls, \
                   DROP CONSTRAINT agent_messages_status_check, ADD CONSTRAINT agent_messages_status_check \
                   CHECK (status IN ('PENDING', 'STREAMING', 'COMPLETE', 'FAILED'));\n\
                 ALTER TABLE agents ADD COLUMN model text NOT NULL DEFAULT 'SmolLM2-135M-Instruct';\n\
                 ALTER TABLE agents DROP COLUMN model_id, DROP COLUMN tools;\n\
                 DROP TABLE IF EXISTS ai_pending_actions, ai_budgets, ai_usage, ai_runs, llm_models, llm_providers;",
            )
            .await?;
        Ok(())
    }
}
