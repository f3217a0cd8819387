//! Exchange rates an organisation's admins keep: one unit of `currency` is `rate` units of
//! the organisation's currency from `valid_from` on (until a later row). Used to sum money
//! in several currencies (pipeline numbers; finance later).

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE exchange_rates (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  rate numeric(20,10) NOT NULL CHECK (rate > 0),
  valid_from date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT exchange_rates_key UNIQUE (org_id, currency, valid_from)
);
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{GRANT_APP}", tenant_table("exchange_rates"));
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS exchange_rates;").await?;
        Ok(())
    }
}
