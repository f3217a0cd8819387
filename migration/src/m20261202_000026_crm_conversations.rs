//! crm conversations: omnichannel threads with a contact (002 conversations), whose
//! messages are interactions (002 conversationMessages: sender, read and delivery times),
//! and the organisation's phone numbers (002 workspacePhoneNumbers). Participations carry
//! their interaction's time, so a contact's timeline is an index read.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE phone_numbers (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  number text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  friendly_name text CHECK (length(friendly_name) <= 100),
  provider text CHECK (length(provider) <= 50),
  capabilities text[] NOT NULL DEFAULT '{}' CHECK (capabilities <@ ARRAY['VOICE','SMS','MMS']),
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE','RELEASED')),
  monthly_price numeric(18,2) CHECK (monthly_price >= 0),
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT phone_numbers_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT phone_numbers_number_key UNIQUE (org_id, number),
  CONSTRAINT phone_numbers_money_check CHECK ((monthly_price IS NULL) = (currency IS NULL))
);

CREATE TABLE conversations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  contact_id uuid NOT NULL,
  account_id uuid,
  channel text NOT NULL CHECK (channel IN ('EMAIL','SMS','CALL','WHATSAPP','SOCIAL','LIVE_CHAT')),
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE','ARCHIVED','CLOSED','SPAM')),
  subject text CHECK (length(subject) <= 500),
  assignee_id uuid,
  phone_number_id uuid,
  tags text[] NOT NULL DEFAULT '{}',
  last_message_at timestamptz,
  message_count integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
  unread_count integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT conversations_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, assignee_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (assignee_id),
  FOREIGN KEY (org_id, phone_number_id) REFERENCES phone_numbers (org_id, id)
);
CREATE INDEX conversations_inbox_idx ON conversations (org_id, last_message_at DESC NULLS LAST);
CREATE INDEX conversations_contact_idx ON conversations (org_id, contact_id);
CREATE INDEX conversations_assignee_idx ON conversations (org_id, assignee_id) WHERE status = 'ACTIVE';

ALTER TABLE interactions
  ADD COLUMN conversation_id uuid,
  ADD COLUMN sender_type text CHECK (sender_type IN ('CONTACT','MEMBER','AGENT','SYSTEM')),
  ADD COLUMN delivered_at timestamptz,
  ADD COLUMN read_at timestamptz,
  ADD CONSTRAINT interactions_conversation_fkey
    FOREIGN KEY (org_id, conversation_id) REFERENCES conversations (org_id, id) ON DELETE CASCADE;
CREATE INDEX interactions_conversation_idx ON interactions (org_id, conversation_id, occurred_at)
  WHERE conversation_id IS NOT NULL;

ALTER TABLE interaction_participants ADD COLUMN occurred_at timestamptz;
UPDATE interaction_participants p SET occurred_at = i.occurred_at FROM interactions i WHERE i.id = p.interaction_id;
ALTER TABLE interaction_participants ALTER COLUMN occurred_at SET NOT NULL;
DROP INDEX interaction_participants_contact_idx;
CREATE INDEX interaction_participants_timeline_idx ON interaction_participants (contact_id, occurred_at DESC, interaction_id DESC);
"#;

const DOWN: &str = r#"
DROP INDEX IF EXISTS interaction_participants_timeline_idx;
CREATE INDEX IF NOT EXISTS interaction_participants_contact_idx ON interaction_participants (contact_id);
ALTER TABLE interaction_participants DROP COLUMN IF EXISTS occurred_at;
ALTER TABLE interactions DROP COLUMN IF EXISTS conversation_id, DROP COLUMN IF EXISTS sender_type,
  DROP COLUMN IF EXISTS delivered_at, DROP COLUMN IF EXISTS read_at;
DROP TABLE IF EXISTS conversations, phone_numbers;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "{UP}{}{}{}{}{GRANT_APP}",
            tenant_table("phone_numbers"),
            tenant_table("conversations"),
            updated_at_trigger("phone_numbers"),
            updated_at_trigger("conversations")
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
