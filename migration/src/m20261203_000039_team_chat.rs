//! Team chat: channels (general, group, announcement, direct; public or private; optionally
//! a project's, whose members are then the project's staff), their members with a role and
//! where they last read, messages (markdown, threads, edits, pins, attachments as metadata,
//! mentions) with full-text search, and reactions.
//!
//! Who sees a channel is decided here, by Row Level Security: a public channel that is not a
//! project's is seen by every staff member; a project channel by those who may follow the
//! project (its manager and staff, and the organisation's owners, admins and managers); any
//! other channel by its members. Messages, members and reactions follow their channel. The
//! live re-check (`app.system = 'chat'`) reads every channel of its organisation.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE channels (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  kind text NOT NULL CHECK (kind IN ('GENERAL', 'GROUP', 'ANNOUNCEMENT', 'DIRECT')),
  is_private boolean NOT NULL DEFAULT false,
  description text CHECK (length(description) <= 1000),
  project_id uuid,
  team_id uuid,
  -- A direct channel's two members, smaller id first (one channel per pair).
  direct_key text,
  created_by uuid,
  last_message_at timestamptz,
  archived_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, direct_key),
  CHECK ((kind = 'DIRECT') = (direct_key IS NOT NULL)),
  CHECK (kind <> 'DIRECT' OR is_private),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE SET NULL (team_id)
);
CREATE UNIQUE INDEX channels_name_key ON channels (org_id, lower(name)) WHERE kind <> 'DIRECT' AND archived_at IS NULL;

CREATE TABLE channel_members (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL,
  membership_id uuid NOT NULL,
  role text NOT NULL DEFAULT 'MEMBER' CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
  last_read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (channel_id, membership_id),
  FOREIGN KEY (org_id, channel_id) REFERENCES channels (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX channel_members_member_idx ON channel_members (membership_id);

CREATE TABLE channel_messages (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL,
  author_id uuid,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 40000),
  -- The thread's first message (replies only).
  parent_id uuid,
  reply_count integer NOT NULL DEFAULT 0,
  last_reply_at timestamptz,
  attachments jsonb NOT NULL DEFAULT '[]',
  mentions uuid[] NOT NULL DEFAULT '{}',
  pinned_at timestamptz,
  pinned_by uuid,
  edited_at timestamptz,
  deleted_at timestamptz,
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, channel_id) REFERENCES channels (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, parent_id) REFERENCES channel_messages (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, author_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (author_id)
);
CREATE INDEX channel_messages_channel_idx ON channel_messages (channel_id, created_at) WHERE parent_id IS NULL;
CREATE INDEX channel_messages_thread_idx ON channel_messages (parent_id, created_at) WHERE parent_id IS NOT NULL;
CREATE INDEX channel_messages_search_idx ON channel_messages USING gin (search);

CREATE TABLE message_reactions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  message_id uuid NOT NULL,
  membership_id uuid NOT NULL,
  emoji text NOT NULL CHECK (length(emoji) BETWEEN 1 AND 64),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (message_id, membership_id, emoji),
  FOREIGN KEY (org_id, message_id) REFERENCES channel_messages (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);

-- The channels the current member belongs to, read past Row Level Security (the channels
-- policy needs it, and channel_members' own policy depends on channels: no recursion).
CREATE FUNCTION app_member_channels() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public
  AS $$ SELECT channel_id FROM channel_members WHERE membership_id = app_member() AND org_id = app_org_id() $$;
"#;

/// Who sees a channel (see the module comment).
const CHANNEL_VISIBLE: &str = r#"
current_setting('app.system', true) = 'chat'
OR (project_id IS NULL AND NOT is_private)
OR id IN (SELECT app_member_channels())
OR (project_id IS NOT NULL AND NOT is_private AND (
     (SELECT app_role()) IN ('OWNER', 'ADMIN', 'MANAGER')
     OR project_id IN (SELECT pm.project_id FROM project_members pm WHERE pm.membership_id = (SELECT app_member()))
     OR project_id IN (SELECT p.id FROM projects p WHERE p.manager_id = (SELECT app_member()))))
"#;

const TABLES: [&str; 4] = ["channels", "channel_members", "channel_messages", "message_reactions"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = String::from(UP);
        for t in TABLES {
            sql.push_str(&tenant_table(t));
        }
        for t in ["channels", "channel_members", "channel_messages"] {
            sql.push_str(&updated_at_trigger(t));
        }
        // A new private channel is not visible until its first member row exists, and that
        // row's channel is not visible before it: writes to both are checked by the tenant
        // policy and in Rust, reads by visibility.
        sql.push_str(&format!(
            "CREATE POLICY visible ON channels AS RESTRICTIVE USING ({CHANNEL_VISIBLE}) WITH CHECK (true);\n"
        ));
        sql.push_str(
            "CREATE POLICY visible ON channel_members AS RESTRICTIVE \
               USING (channel_id IN (SELECT c.id FROM channels c)) WITH CHECK (true);\n",
        );
        sql.push_str(
            "CREATE POLICY visible ON channel_messages AS RESTRICTIVE \
               USING (channel_id IN (SELECT c.id FROM channels c));\n",
        );
        sql.push_str(
            "CREATE POLICY visible ON message_reactions AS RESTRICTIVE \
               USING (message_id IN (SELECT m.id FROM channel_messages m));\n",
        );
        sql.push_str("GRANT EXECUTE ON FUNCTION app_member_channels() TO opsgraph_app;\n");
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS message_reactions, channel_messages, channel_members, channels;\n\
                 DROP FUNCTION IF EXISTS app_member_channels();",
            )
            .await?;
        Ok(())
    }
}
