//! crm proposals (revised until sent; accepting one can win its deal) and client feedback
//! (a rating and comment per account or project, with our response).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE proposals (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  account_id uuid NOT NULL,
  deal_id uuid,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  content text CHECK (length(content) <= 100000),
  amount numeric(18,2) CHECK (amount >= 0),
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  valid_until date,
  status text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT','SENT','ACCEPTED','REJECTED')),
  revision integer NOT NULL DEFAULT 1,
  sent_at timestamptz,
  decided_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT proposals_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT proposals_money_check CHECK ((amount IS NULL) = (currency IS NULL)),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, id)
);
CREATE INDEX proposals_account_idx ON proposals (org_id, account_id);
CREATE INDEX proposals_deal_idx ON proposals (org_id, deal_id);

CREATE TABLE client_feedback (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  account_id uuid NOT NULL,
  project_id uuid,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment text CHECK (length(comment) <= 5000),
  response text CHECK (length(response) <= 5000),
  responded_at timestamptz,
  responded_by uuid,
  given_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT client_feedback_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
  FOREIGN KEY (org_id, responded_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (responded_by),
  FOREIGN KEY (org_id, given_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (given_by)
);
CREATE INDEX client_feedback_account_idx ON client_feedback (org_id, account_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "{UP}{}{}{}{GRANT_APP}",
            tenant_table("proposals"),
            tenant_table("client_feedback"),
            updated_at_trigger("proposals")
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS client_feedback, proposals;").await?;
        Ok(())
    }
}
