//! Invitations: a one-time token (stored as SHA-256) lets an added person set a password.

use sea_orm_migration::prelude::*;

use crate::sql::GRANT_APP;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  token_hash bytea NOT NULL,
  invited_by uuid REFERENCES users (id),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT invitations_org_id_membership_id_fkey FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
CREATE INDEX invitations_membership_idx ON invitations (org_id, membership_id);
CREATE FUNCTION app_invite_hash() RETURNS bytea LANGUAGE sql STABLE
  AS $$ SELECT decode(NULLIF(current_setting('app.invite_token_hash', true), ''), 'hex') $$;
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
-- Tenant rows, plus exactly the invitation whose token is being redeemed.
CREATE POLICY tenant_isolation ON invitations
  USING (org_id = app_org_id() OR token_hash = app_invite_hash())
  WITH CHECK (org_id = app_org_id());
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("{UP}{GRANT_APP}")).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS invitations; DROP FUNCTION IF EXISTS app_invite_hash();")
            .await?;
        Ok(())
    }
}
