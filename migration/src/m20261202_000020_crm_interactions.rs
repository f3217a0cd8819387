//! crm interactions: calls (with their recording), e-mails, meetings, notes and messages,
//! with the contacts who took part.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE interactions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('CALL','EMAIL','MEETING','NOTE','MESSAGE')),
  direction text CHECK (direction IN ('INBOUND','OUTBOUND')),
  channel text CHECK (length(channel) <= 50),
  subject text CHECK (length(subject) <= 500),
  body text CHECK (length(body) <= 50000),
  outcome text CHECK (length(outcome) <= 500),
  duration_minutes integer CHECK (duration_minutes BETWEEN 0 AND 1440),
  occurred_at timestamptz NOT NULL,
  account_id uuid,
  deal_id uuid,
  member_id uuid,
  recording_url text CHECK (length(recording_url) <= 1000),
  recording_seconds integer CHECK (recording_seconds >= 0),
  transcript text CHECK (length(transcript) <= 200000),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT interactions_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, id),
  FOREIGN KEY (org_id, member_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (member_id)
);
CREATE INDEX interactions_account_idx ON interactions (org_id, account_id, occurred_at DESC);
CREATE INDEX interactions_deal_idx ON interactions (org_id, deal_id);

CREATE TABLE interaction_participants (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  interaction_id uuid NOT NULL,
  contact_id uuid NOT NULL,
  PRIMARY KEY (interaction_id, contact_id),
  FOREIGN KEY (org_id, interaction_id) REFERENCES interactions (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id)
);
CREATE INDEX interaction_participants_contact_idx ON interaction_participants (contact_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "{UP}{}{}{}{GRANT_APP}",
            tenant_table("interactions"),
            tenant_table("interaction_participants"),
            updated_at_trigger("interactions")
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS interaction_participants, interactions;")
            .await?;
        Ok(())
    }
}
