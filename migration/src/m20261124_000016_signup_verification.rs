//! Sign-up by e-mail verification (sign-up never tells whether an address is registered):
//! pending sign-ups, and the outbox of e-mails a mailer sends.

use sea_orm_migration::prelude::*;

use crate::sql::GRANT_APP;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE signup_requests (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  token_hash bytea NOT NULL UNIQUE,
  password_hash text NOT NULL,
  first_name text NOT NULL,
  last_name text NOT NULL,
  organization_name text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signup_requests_expires_idx ON signup_requests (expires_at);

CREATE TABLE outbound_emails (
  id uuid PRIMARY KEY,
  to_address text NOT NULL,
  kind text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX outbound_emails_pending_idx ON outbound_emails (created_at) WHERE sent_at IS NULL;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("{UP}{GRANT_APP}")).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS outbound_emails, signup_requests;").await?;
        Ok(())
    }
}
