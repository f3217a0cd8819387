//! The finance domain: the fiscal calendar (years and closable periods), invoices and credit
//! notes with their lines, gapless numbers per organisation, series and year (a locked
//! counter row, never a sequence), payments and refunds, and account credit from
//! over-payments.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE fiscal_years (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  year integer NOT NULL CHECK (year BETWEEN 1900 AND 9999),
  start_date date NOT NULL,
  end_date date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT fiscal_years_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT fiscal_years_year_key UNIQUE (org_id, year),
  CHECK (end_date > start_date)
);

CREATE TABLE fiscal_periods (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  fiscal_year_id uuid NOT NULL,
  number integer NOT NULL CHECK (number BETWEEN 1 AND 12),
  start_date date NOT NULL,
  end_date date NOT NULL,
  closed_at timestamptz,
  closed_by uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT fiscal_periods_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT fiscal_periods_number_key UNIQUE (fiscal_year_id, number),
  FOREIGN KEY (org_id, fiscal_year_id) REFERENCES fiscal_years (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, closed_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (closed_by),
  CHECK (end_date >= start_date)
);
CREATE INDEX fiscal_periods_dates_idx ON fiscal_periods (org_id, start_date, end_date);

CREATE TABLE invoice_counters (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  series text NOT NULL CHECK (series IN ('INV','CN')),
  year integer NOT NULL,
  last_number integer NOT NULL DEFAULT 0 CHECK (last_number >= 0),
  PRIMARY KEY (org_id, series, year)
);

CREATE TABLE invoices (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kind text NOT NULL DEFAULT 'INVOICE' CHECK (kind IN ('INVOICE','CREDIT_NOTE')),
  number text,
  account_id uuid NOT NULL,
  project_id uuid,
  credit_of_id uuid,
  status text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT','ISSUED','SENT','PARTIALLY_PAID','PAID','VOID')),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  issue_date date,
  due_date date,
  subtotal numeric(18,2) NOT NULL DEFAULT 0,
  tax_total numeric(18,2) NOT NULL DEFAULT 0,
  total numeric(18,2) NOT NULL DEFAULT 0,
  paid_total numeric(18,2) NOT NULL DEFAULT 0,
  credited_total numeric(18,2) NOT NULL DEFAULT 0,
  rate_to_org numeric(18,8),
  notes text CHECK (length(notes) <= 5000),
  issued_at timestamptz,
  sent_at timestamptz,
  voided_at timestamptz,
  void_reason text CHECK (length(void_reason) <= 500),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT invoices_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT invoices_number_key UNIQUE (org_id, number),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
  FOREIGN KEY (org_id, credit_of_id) REFERENCES invoices (org_id, id),
  CHECK ((status = 'DRAFT') = (number IS NULL)),
  CHECK ((kind = 'CREDIT_NOTE') = (credit_of_id IS NOT NULL)),
  CHECK (due_date IS NULL OR issue_date IS NULL OR due_date >= issue_date)
);
CREATE INDEX invoices_account_idx ON invoices (org_id, account_id, issue_date DESC);
CREATE INDEX invoices_project_idx ON invoices (org_id, project_id);
CREATE INDEX invoices_due_idx ON invoices (org_id, due_date) WHERE status IN ('ISSUED','SENT','PARTIALLY_PAID');

CREATE TABLE invoice_lines (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  invoice_id uuid NOT NULL,
  position integer NOT NULL,
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
  quantity numeric(14,4) NOT NULL CHECK (quantity > 0),
  unit_price numeric(18,2) NOT NULL,
  tax_rate numeric(7,4) NOT NULL DEFAULT 0 CHECK (tax_rate >= 0 AND tax_rate <= 100),
  amount numeric(18,2) NOT NULL,
  tax_amount numeric(18,2) NOT NULL,
  project_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT invoice_lines_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id, position);

CREATE TABLE payments (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  invoice_id uuid NOT NULL,
  kind text NOT NULL DEFAULT 'PAYMENT' CHECK (kind IN ('PAYMENT','REFUND')),
  refund_of_id uuid,
  amount numeric(18,2) NOT NULL CHECK (amount > 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  applied numeric(18,2) NOT NULL CHECK (applied >= 0 AND applied <= amount),
  method text NOT NULL CHECK (method IN ('BANK_TRANSFER','CARD','CASH','CHECK','OTHER')),
  external_ref text CHECK (length(external_ref) BETWEEN 1 AND 200),
  paid_on date NOT NULL,
  recorded_by uuid,
  note text CHECK (length(note) <= 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT payments_external_ref_key UNIQUE (org_id, external_ref),
  FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id),
  FOREIGN KEY (org_id, refund_of_id) REFERENCES payments (org_id, id),
  FOREIGN KEY (org_id, recorded_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (recorded_by),
  CHECK ((kind = 'REFUND') = (refund_of_id IS NOT NULL))
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id);

CREATE TABLE account_credits (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  account_id uuid NOT NULL,
  payment_id uuid,
  amount numeric(18,2) NOT NULL CHECK (amount <> 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT account_credits_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, account_id) REFERENCES accounts (org_id, id),
  FOREIGN KEY (org_id, payment_id) REFERENCES payments (org_id, id)
);
CREATE INDEX account_credits_account_idx ON account_credits (org_id, account_id);
"#;

/// The client portal reads its own account's issued invoices, their lines and payments.
const PORTAL: &str = r#"
DROP POLICY client_scope ON invoices;
CREATE POLICY client_scope ON invoices AS RESTRICTIVE USING (app_client_member() IS NULL
  OR (status <> 'DRAFT' AND account_id IN (SELECT a.id FROM accounts a WHERE a.deleted_at IS NULL)));
DROP POLICY client_scope ON invoice_lines;
CREATE POLICY client_scope ON invoice_lines AS RESTRICTIVE
  USING (app_client_member() IS NULL OR invoice_id IN (SELECT i.id FROM invoices i));
DROP POLICY client_scope ON payments;
CREATE POLICY client_scope ON payments AS RESTRICTIVE
  USING (app_client_member() IS NULL OR invoice_id IN (SELECT i.id FROM invoices i));
"#;

const TABLES: [&str; 7] =
    ["fiscal_years", "fiscal_periods", "invoice_counters", "invoices", "invoice_lines", "payments", "account_credits"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let rls: String = TABLES.iter().map(|t| tenant_table(t)).collect();
        let sql = format!(
            "{UP}{rls}{PORTAL}{}{}{GRANT_APP}",
            updated_at_trigger("fiscal_periods"),
            updated_at_trigger("invoices")
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("DROP TABLE IF EXISTS {};", TABLES.iter().rev().copied().collect::<Vec<_>>().join(", "));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
