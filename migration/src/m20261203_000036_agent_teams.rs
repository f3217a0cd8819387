//! Agent teams (002 agentTeams, agentTeamMembers): agents grouped under a coordinator, with
//! roles and an order, and a team rule that its members ask before any write; and the
//! global catalog of agent templates (002 agentTemplates) organisations install agents from.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE agent_teams (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  department text,
  description text,
  coordinator_id uuid,
  approval_required boolean NOT NULL DEFAULT true,
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PAUSED', 'ARCHIVED')),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name),
  FOREIGN KEY (org_id, coordinator_id) REFERENCES agents (org_id, id)
);

CREATE TABLE agent_team_members (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  team_id uuid NOT NULL,
  agent_id uuid NOT NULL,
  role text NOT NULL CHECK (role IN ('COORDINATOR', 'SPECIALIST', 'SUPPORT')),
  priority integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (team_id, agent_id),
  FOREIGN KEY (org_id, team_id) REFERENCES agent_teams (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, agent_id) REFERENCES agents (org_id, id) ON DELETE CASCADE
);

-- Global: every organisation reads it; installing copies a template into an agent.
CREATE TABLE agent_templates (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  description text NOT NULL,
  category text NOT NULL,
  system_prompt text NOT NULL,
  tools jsonb NOT NULL DEFAULT '[]',
  max_tokens integer NOT NULL DEFAULT 256,
  install_count bigint NOT NULL DEFAULT 0,
  published boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO agent_templates (id, slug, name, description, category, system_prompt, tools, max_tokens) VALUES
 (gen_random_uuid(), 'handbook-assistant', 'Handbook assistant', 'Answers questions from a knowledge collection, citing it.',
  'knowledge', 'You answer questions about the company from the passages given. Be brief and cite them.',
  '[{"name": "search_knowledge", "requiresApproval": false}]', 256),
 (gen_random_uuid(), 'delivery-coordinator', 'Delivery coordinator', 'Turns requests into tasks and keeps them current.',
  'operations', 'You help a delivery team: create and update tasks when asked, always naming the project.',
  '[{"name": "create_task", "requiresApproval": true}, {"name": "update_task", "requiresApproval": true}]', 256),
 (gen_random_uuid(), 'sales-assistant', 'Sales assistant', 'Moves deals through the pipeline when told what happened.',
  'sales', 'You help account managers keep the pipeline true. Move deals only when the user says what happened.',
  '[{"name": "move_deal", "requiresApproval": true}, {"name": "search_knowledge", "requiresApproval": false}]', 256);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in ["agent_teams", "agent_team_members"] {
            sql.push_str(&tenant_table(t));
            sql.push_str(&updated_at_trigger(t));
        }
        sql.push_str(GRANT_APP);
        // The catalog is read by all and changed only by migrations (installs count up).
        sql.push_str("REVOKE INSERT, DELETE ON agent_templates FROM opsgraph_app;\n");
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS agent_team_members, agent_teams, agent_templates;")
            .await?;
        Ok(())
    }
}
