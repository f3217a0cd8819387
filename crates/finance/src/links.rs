//! Batched lookups for the edges finance adds to other domains' types:
//! `Account.outstanding` (open amounts per currency) and `TimeEntry.invoiceLine` (the line
//! that bills an entry). One statement per query level each.

use std::collections::HashMap;
use std::sync::Arc;

use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::loader::{LoadError, db_error};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// Open amounts of accounts' issued invoices, per currency.
pub struct Outstanding(pub Arc<TxDb>);

impl Loader<Uuid> for Outstanding {
    type Value = Arc<Vec<(String, Decimal)>>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT account_id, currency, sum(total - paid_total - credited_total) AS open FROM invoices \
                 WHERE account_id = ANY($1) AND kind = 'INVOICE' AND status IN ('ISSUED','SENT','PARTIALLY_PAID') \
                 GROUP BY account_id, currency ORDER BY account_id, currency",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Vec<(String, Decimal)>> = keys.iter().map(|k| (*k, vec![])).collect();
        for r in rows {
            let account: Uuid = r.try_get("", "account_id").map_err(db_error)?;
            let open = (r.try_get("", "currency").map_err(db_error)?, r.try_get("", "open").map_err(db_error)?);
            out.entry(account).or_default().push(open);
        }
        Ok(out.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// The invoice line billing each time entry, if any.
pub struct LineOfEntry(pub Arc<TxDb>);

impl Loader<Uuid> for LineOfEntry {
    type Value = Option<Uuid>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Option<Uuid>>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT time_entry_id, line_id FROM billed_items WHERE time_entry_id = ANY($1)",
                [opsgraph_core::loader::keys_array(keys)],
            ))
            .await
            .map_err(db_error)?;
        let mut out: HashMap<Uuid, Option<Uuid>> = keys.iter().map(|k| (*k, None)).collect();
        for r in rows {
            out.insert(
                r.try_get("", "time_entry_id").map_err(db_error)?,
                Some(r.try_get("", "line_id").map_err(db_error)?),
            );
        }
        Ok(out)
    }
}
