//! The ai domain's first tables: agents (configured assistants, optionally grounded in a
//! knowledge collection), conversations of a member
//! with an agent, and their messages (role, content, tokens, cost in micro-units, latency,
//! citations, and the status of a reply being generated). A member reads their own
//! conversations; agents are read by all staff. Clients see none of it.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE agents (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text,
  model text NOT NULL,
  system_prompt text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED')),
  owner_id uuid NOT NULL,
  avatar_url text,
  max_tokens integer NOT NULL DEFAULT 256 CHECK (max_tokens BETWEEN 1 AND 4096),
  temperature double precision NOT NULL DEFAULT 0 CHECK (temperature BETWEEN 0 AND 2),
  knowledge_collection_id uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id),
  FOREIGN KEY (org_id, knowledge_collection_id) REFERENCES collections (org_id, id)
);
CREATE INDEX agents_org_idx ON agents (org_id, name);

CREATE TABLE agent_conversations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  agent_id uuid NOT NULL,
  member_id uuid NOT NULL,
  title text NOT NULL DEFAULT '',
  channel text NOT NULL DEFAULT 'CHAT' CHECK (channel IN ('CHAT', 'VOICE')),
  status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id),
  FOREIGN KEY (org_id, member_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_conversations_member_idx ON agent_conversations (org_id, member_id, updated_at DESC);

CREATE TABLE agent_messages (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL,
  role text NOT NULL CHECK (role IN ('SYSTEM', 'USER', 'ASSISTANT', 'TOOL')),
  content text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'COMPLETE' CHECK (status IN ('PENDING', 'STREAMING', 'COMPLETE', 'FAILED')),
  error text,
  model text,
  tokens_in integer NOT NULL DEFAULT 0,
  tokens_out integer NOT NULL DEFAULT 0,
  cost_micros bigint NOT NULL DEFAULT 0,
  latency_ms integer,
  citations jsonb NOT NULL DEFAULT '[]',
  attempts integer NOT NULL DEFAULT 0,
  -- The clock, not the transaction's start: a message and its reply keep their order.
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, conversation_id) REFERENCES agent_conversations (org_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_messages_conversation_idx ON agent_messages (conversation_id, created_at, id);
CREATE INDEX agent_messages_pending_idx ON agent_messages (org_id, created_at) WHERE status = 'PENDING';
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in ["agents", "agent_conversations", "agent_messages"] {
            sql.push_str(&tenant_table(t));
            sql.push_str(&updated_at_trigger(t));
        }
        // A member reads their own conversations (the runner, as the system, all of them).
        sql.push_str(
            "CREATE POLICY own ON agent_conversations AS RESTRICTIVE USING (current_setting('app.system', true) = 'ai' \
               OR member_id = (SELECT app_member()));\n\
             CREATE POLICY own ON agent_messages AS RESTRICTIVE USING (conversation_id IN (SELECT c.id FROM agent_conversations c));\n",
        );
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS agent_messages, agent_conversations, agents;")
            .await?;
        Ok(())
    }
}
