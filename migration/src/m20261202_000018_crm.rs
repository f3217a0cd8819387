//! The crm domain's first tables: the industry catalog, accounts (client companies),
//! contacts, pipelines with ordered stages, deals and their stage history.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE industries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  description text CHECK (length(description) <= 2000),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT industries_org_id_id_key UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX industries_name_key ON industries (org_id, lower(name));

CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  industry_id uuid,
  size text CHECK (size IN ('SOLO','SMALL','MEDIUM','LARGE','ENTERPRISE')),
  website text CHECK (length(website) <= 500),
  address text CHECK (length(address) <= 500),
  city text CHECK (length(city) <= 100),
  country text CHECK (country ~ '^[A-Z]{2}$'),
  status text NOT NULL DEFAULT 'LEAD' CHECK (status IN ('LEAD','ACTIVE','INACTIVE','CHURNED')),
  owner_id uuid,
  tags text[] NOT NULL DEFAULT '{}',
  custom_fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_fields) = 'object'),
  merged_into_id uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT accounts_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, industry_id) REFERENCES industries (org_id, id) ON DELETE SET NULL (industry_id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id),
  FOREIGN KEY (org_id, merged_into_id) REFERENCES accounts (org_id, id)
);
CREATE INDEX accounts_name_trgm_idx ON accounts USING gin ((lower(name)) gin_trgm_ops);
CREATE INDEX accounts_owner_idx ON accounts (org_id, owner_id);

CREATE TABLE contacts (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  account_id uuid,
  first_name text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
  last_name text NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
  email text CHECK (length(email) <= 254),
  phone text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  title text CHECK (length(title) <= 200),
  company text CHECK (length(company) <= 200),
  source text CHECK (length(source) <= 100),
  status text NOT NULL DEFAULT 'LEAD' CHECK (status IN ('LEAD','QUALIFIED','CUSTOMER','INACTIVE','UNSUBSCRIBED')),
  owner_id uuid,
  lead_score integer NOT NULL DEFAULT 0,
  last_contacted_at timestamptz,
  tags text[] NOT NULL DEFAULT '{}',
  custom_fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(custom_fields) = 'object'),
  merged_into_id uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT contacts_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id),
  FOREIGN KEY (org_id, merged_into_id) REFERENCES contacts (org_id, id)
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (org_id, lower(email)) WHERE email IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX contacts_account_idx ON contacts (org_id, account_id);
CREATE INDEX contacts_name_trgm_idx ON contacts USING gin ((lower(first_name || ' ' || last_name)) gin_trgm_ops);
CREATE INDEX contacts_email_trgm_idx ON contacts USING gin ((lower(coalesce(email, ''))) gin_trgm_ops);
CREATE INDEX contacts_company_trgm_idx ON contacts USING gin ((lower(coalesce(company, ''))) gin_trgm_ops);

CREATE TABLE pipelines (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  is_default boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pipelines_org_id_id_key UNIQUE (org_id, id)
);
CREATE UNIQUE INDEX pipelines_name_key ON pipelines (org_id, lower(name));
CREATE UNIQUE INDEX pipelines_default_key ON pipelines (org_id) WHERE is_default;

CREATE TABLE pipeline_stages (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  pipeline_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  position integer NOT NULL,
  probability smallint NOT NULL CHECK (probability BETWEEN 0 AND 100),
  kind text NOT NULL DEFAULT 'OPEN' CHECK (kind IN ('OPEN','WON','LOST')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT pipeline_stages_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT pipeline_stages_pipeline_id_fkey FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id) ON DELETE CASCADE,
  CONSTRAINT pipeline_stages_position_key UNIQUE (pipeline_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX pipeline_stages_name_key ON pipeline_stages (pipeline_id, lower(name));

CREATE TABLE deals (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  pipeline_id uuid NOT NULL,
  stage_id uuid NOT NULL,
  account_id uuid,
  contact_id uuid,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  amount numeric(18,2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  probability smallint CHECK (probability BETWEEN 0 AND 100),
  expected_close_date date,
  actual_close_date date,
  lost_reason text CHECK (length(lost_reason) <= 1000),
  owner_id uuid,
  source text CHECK (length(source) <= 100),
  position double precision NOT NULL,
  stage_entered_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT deals_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id),
  FOREIGN KEY (org_id, stage_id) REFERENCES pipeline_stages (org_id, id),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id),
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX deals_stage_idx ON deals (stage_id, position) WHERE deleted_at IS NULL;
CREATE INDEX deals_account_idx ON deals (org_id, account_id);
CREATE INDEX deals_contact_idx ON deals (org_id, contact_id);

CREATE TABLE deal_stage_history (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  deal_id uuid NOT NULL,
  stage_id uuid NOT NULL,
  entered_at timestamptz NOT NULL,
  left_at timestamptz,
  changed_by uuid,
  FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, stage_id) REFERENCES pipeline_stages (org_id, id) ON DELETE CASCADE
);
CREATE INDEX deal_stage_history_deal_idx ON deal_stage_history (deal_id, entered_at);
"#;

const TABLES: [&str; 7] =
    ["industries", "accounts", "contacts", "pipelines", "pipeline_stages", "deals", "deal_stage_history"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sql = UP.to_owned();
        for t in TABLES {
            sql.push_str(&tenant_table(t));
        }
        for t in ["accounts", "contacts", "pipelines", "deals"] {
            sql.push_str(&updated_at_trigger(t));
        }
        sql.push_str(GRANT_APP);
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("DROP TABLE IF EXISTS {};", TABLES.iter().rev().copied().collect::<Vec<_>>().join(", "));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
