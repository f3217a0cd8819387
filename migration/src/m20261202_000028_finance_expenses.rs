//! finance expenses (submitted by a member, decided by someone else, reimbursed) and the
//! record of what an invoice bills: each time entry and each expense on at most one live
//! invoice (voiding the invoice deletes its rows, releasing them).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE time_entries ADD CONSTRAINT time_entries_org_id_id_key UNIQUE (org_id, id);
-- Invoiced time is frozen: work refuses to change or delete it (finance sets the flag
-- through work's service when it bills an entry and clears it when the invoice is voided).
ALTER TABLE time_entries ADD COLUMN billed boolean NOT NULL DEFAULT false;
-- The day the overdue job announced an invoice (once per invoice, whatever the instances).
ALTER TABLE invoices ADD COLUMN overdue_notified_on date;

CREATE TABLE expenses (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  member_id uuid NOT NULL,
  project_id uuid,
  category text NOT NULL CHECK (category IN ('TRAVEL','MEALS','LODGING','SOFTWARE','HARDWARE','MARKETING','OFFICE','OTHER')),
  vendor text CHECK (length(vendor) <= 200),
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
  amount numeric(18,2) NOT NULL CHECK (amount > 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  spent_on date NOT NULL,
  receipt_url text CHECK (length(receipt_url) <= 1000),
  billable boolean NOT NULL DEFAULT false,
  rate_to_org numeric(18,8),
  status text NOT NULL DEFAULT 'SUBMITTED' CHECK (status IN ('SUBMITTED','APPROVED','REJECTED','REIMBURSED')),
  decided_by uuid,
  decided_at timestamptz,
  decision_note text CHECK (length(decision_note) <= 1000),
  reimbursed_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT expenses_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, member_id) REFERENCES memberships (org_id, id),
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
  FOREIGN KEY (org_id, decided_by) REFERENCES memberships (org_id, id) ON DELETE SET NULL (decided_by),
  CHECK (decided_by IS NULL OR decided_by <> member_id)
);
CREATE INDEX expenses_member_idx ON expenses (org_id, member_id, spent_on DESC);
CREATE INDEX expenses_project_idx ON expenses (org_id, project_id, spent_on);

CREATE TABLE billed_items (
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  invoice_id uuid NOT NULL,
  line_id uuid NOT NULL,
  time_entry_id uuid UNIQUE,
  expense_id uuid UNIQUE,
  FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, line_id) REFERENCES invoice_lines (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, time_entry_id) REFERENCES time_entries (org_id, id),
  FOREIGN KEY (org_id, expense_id) REFERENCES expenses (org_id, id),
  CHECK ((time_entry_id IS NULL) <> (expense_id IS NULL))
);
CREATE INDEX billed_items_invoice_idx ON billed_items (invoice_id);
CREATE INDEX billed_items_line_idx ON billed_items (line_id);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "{UP}{}{}{}{GRANT_APP}",
            tenant_table("expenses"),
            tenant_table("billed_items"),
            updated_at_trigger("expenses")
        );
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS billed_items, expenses; \
                 ALTER TABLE time_entries DROP CONSTRAINT IF EXISTS time_entries_org_id_id_key; \
                 ALTER TABLE time_entries DROP COLUMN IF EXISTS billed; \
                 ALTER TABLE invoices DROP COLUMN IF EXISTS overdue_notified_on;",
            )
            .await?;
        Ok(())
    }
}
