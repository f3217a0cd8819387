//! Member rates with a history: a member's cost and bill rate are periods of dates, so
//! time logged in March is priced at March's rates even after a raise in July. Periods of
//! one member never overlap (an exclusion constraint); a period without a lower bound holds
//! the rate known from the start. The rates on `memberships` move here and are dropped.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE member_rates (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  valid daterange NOT NULL CHECK (NOT isempty(valid)),
  cost_rate numeric(18,2) CHECK (cost_rate >= 0),
  bill_rate numeric(18,2) CHECK (bill_rate >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  CONSTRAINT member_rates_no_overlap EXCLUDE USING gist (membership_id WITH =, valid WITH &&)
);
INSERT INTO member_rates (id, org_id, membership_id, valid, cost_rate, bill_rate)
SELECT gen_random_uuid(), org_id, id, daterange(NULL, NULL), cost_rate, bill_rate
FROM memberships WHERE cost_rate IS NOT NULL OR bill_rate IS NOT NULL;
ALTER TABLE memberships DROP COLUMN cost_rate, DROP COLUMN bill_rate;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{GRANT_APP}", tenant_table("member_rates"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = "ALTER TABLE memberships ADD COLUMN IF NOT EXISTS cost_rate numeric(18,2), \
                   ADD COLUMN IF NOT EXISTS bill_rate numeric(18,2); \
                   UPDATE memberships m SET cost_rate = r.cost_rate, bill_rate = r.bill_rate \
                   FROM member_rates r WHERE r.membership_id = m.id AND r.valid @> current_date; \
                   DROP TABLE IF EXISTS member_rates;";
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}
