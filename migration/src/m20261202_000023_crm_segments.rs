//! crm segments (a saved contact filter; members computed on read) and campaigns (their
//! recipients frozen from a segment when created, each with a delivery status).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE segments (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 2000),
  filter jsonb NOT NULL CHECK (jsonb_typeof(filter) = 'object'),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT segments_org_id_id_key UNIQUE (org_id, id)
);

CREATE TABLE campaigns (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  segment_id uuid,
  subject text CHECK (length(subject) <= 500),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT campaigns_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, segment_id) REFERENCES segments (org_id, id) ON DELETE SET NULL (segment_id)
);

CREATE TABLE campaign_recipients (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  campaign_id uuid NOT NULL,
  contact_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','SENT','DELIVERED','OPENED','CLICKED','BOUNCED','UNSUBSCRIBED')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, contact_id),
  FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id)
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "{UP}{}{}{}{}{GRANT_APP}",
            tenant_table("segments"),
            tenant_table("campaigns"),
            tenant_table("campaign_recipients"),
            updated_at_trigger("segments")
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS campaign_recipients, campaigns, segments;")
            .await?;
        Ok(())
    }
}
