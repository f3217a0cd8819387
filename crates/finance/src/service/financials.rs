//! Project financials, derived live (000 engagement_financials): what a project was
//! invoiced (net of credit notes), paid and still owes, its approved expenses, its labour
//! cost (hours x the member's cost rate on each day), margin and burn against budget, over an optional
//! date range, in the organisation's currency. Invoices and expenses convert with the rate
//! snapshot of their date; documents in another currency without a rate are counted, not
//! summed.
//! A level of a query is four statements however many projects it asks for.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use opsgraph_core::TxDb;
use opsgraph_core::batch::Loader;
use opsgraph_core::loader::{LoadError, app_error, db_error};
use opsgraph_core::money::cents;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// One project's figures, in `currency`.
#[derive(Debug, Clone, Default)]
pub struct Financials {
    /// The organisation's currency.
    pub currency: String,
    /// Invoiced, net of credit notes.
    pub invoiced: Decimal,
    /// Paid on its invoices.
    pub paid: Decimal,
    /// Still open on its invoices.
    pub outstanding: Decimal,
    /// Approved and reimbursed expenses.
    pub expenses: Decimal,
    /// Hours logged.
    pub hours: Decimal,
    /// Hours x each member's cost rate on the entry's day.
    pub labour_cost: Decimal,
    /// Invoices and expenses left out for want of a rate (another currency).
    pub unconverted: i64,
}

impl Financials {
    /// Invoiced - labour - expenses.
    pub fn margin(&self) -> Decimal {
        self.invoiced - self.labour_cost - self.expenses
    }

    /// Margin as a percentage of invoiced (none while nothing is invoiced).
    pub fn margin_percent(&self) -> Option<Decimal> {
        (!self.invoiced.is_zero()).then(|| (self.margin() * Decimal::ONE_HUNDRED / self.invoiced).round_dp(1))
    }

    /// (Labour + expenses) / budget, as a percentage (none without a budget).
    pub fn burn_percent(&self, budget: Option<Decimal>) -> Option<Decimal> {
        budget
            .filter(|b| !b.is_zero())
            .map(|b| ((self.labour_cost + self.expenses) * Decimal::ONE_HUNDRED / b).round_dp(1))
    }
}

/// Financials by (project, organisation currency, from, to).
pub struct FinancialsLoader(pub Arc<TxDb>);

/// The loader's key: (project, organisation, its currency, from, to).
pub type Key = (Uuid, Uuid, String, Option<NaiveDate>, Option<NaiveDate>);

/// A batch's group: (organisation, currency, from, to).
type Range = (Uuid, String, Option<NaiveDate>, Option<NaiveDate>);

const INVOICES: &str = "SELECT project_id, \
   sum(CASE WHEN kind = 'INVOICE' THEN total ELSE -total END * rate_to_org) AS invoiced, \
   sum(paid_total * rate_to_org) FILTER (WHERE kind = 'INVOICE') AS paid, \
   sum((total - paid_total - credited_total) * rate_to_org) \
     FILTER (WHERE kind = 'INVOICE' AND status IN ('ISSUED','SENT','PARTIALLY_PAID')) AS outstanding, \
   count(*) FILTER (WHERE rate_to_org IS NULL) AS unconverted \
 FROM invoices WHERE org_id = $1 AND project_id = ANY($2) AND status NOT IN ('DRAFT','VOID') \
   AND ($3::date IS NULL OR issue_date >= $3) AND ($4::date IS NULL OR issue_date <= $4) GROUP BY project_id";

const EXPENSES: &str = "SELECT project_id, sum(amount * rate_to_org) AS amount, \
   count(*) FILTER (WHERE rate_to_org IS NULL) AS unconverted \
 FROM expenses WHERE org_id = $1 AND project_id = ANY($2) AND status IN ('APPROVED','REIMBURSED') \
   AND ($3::date IS NULL OR spent_on >= $3) AND ($4::date IS NULL OR spent_on <= $4) GROUP BY project_id";

fn dec(r: &sea_orm::QueryResult, c: &str) -> Result<Decimal, LoadError> {
    Ok(r.try_get::<Option<Decimal>>("", c).map_err(db_error)?.unwrap_or_default())
}

impl FinancialsLoader {
    async fn one_range(
        &self,
        org: Uuid,
        currency: &str,
        (from, to): (Option<NaiveDate>, Option<NaiveDate>),
        projects: &[Uuid],
    ) -> Result<HashMap<Uuid, Financials>, LoadError> {
        let db = self.0.as_ref();
        let zero = Financials { currency: currency.to_owned(), ..Financials::default() };
        let mut out: HashMap<Uuid, Financials> = projects.iter().map(|p| (*p, zero.clone())).collect();
        let values = || -> Vec<sea_orm::Value> {
            vec![org.into(), opsgraph_core::loader::keys_array(projects), from.into(), to.into()]
        };
        for r in db
            .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, INVOICES, values()))
            .await
            .map_err(db_error)?
        {
            let Some(f) = out.get_mut(&r.try_get::<Uuid>("", "project_id").map_err(db_error)?) else { continue };
            (f.invoiced, f.paid, f.outstanding) = (dec(&r, "invoiced")?, dec(&r, "paid")?, dec(&r, "outstanding")?);
            f.unconverted += r.try_get::<i64>("", "unconverted").map_err(db_error)?;
        }
        for r in db
            .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, EXPENSES, values()))
            .await
            .map_err(db_error)?
        {
            let Some(f) = out.get_mut(&r.try_get::<Uuid>("", "project_id").map_err(db_error)?) else { continue };
            f.expenses = dec(&r, "amount")?;
            f.unconverted += r.try_get::<i64>("", "unconverted").map_err(db_error)?;
        }
        for (project, l) in
            opsgraph_work::service::time::labour_by_project(db, org, projects, from, to).await.map_err(app_error)?
        {
            let Some(f) = out.get_mut(&project) else { continue };
            (f.hours, f.labour_cost) = (l.hours, l.cost);
        }
        for f in out.values_mut() {
            for v in [&mut f.invoiced, &mut f.paid, &mut f.outstanding, &mut f.expenses, &mut f.labour_cost] {
                *v = cents(*v);
                v.rescale(2);
            }
        }
        Ok(out)
    }
}

impl Loader<Key> for FinancialsLoader {
    type Value = Arc<Financials>;
    type Error = LoadError;

    /// Three statements per distinct (organisation, currency, range) of the batch.
    async fn load(&self, keys: &[Key]) -> Result<HashMap<Key, Arc<Financials>>, LoadError> {
        let mut groups: HashMap<Range, Vec<Uuid>> = HashMap::new();
        for (project, org, currency, from, to) in keys {
            groups.entry((*org, currency.clone(), *from, *to)).or_default().push(*project);
        }
        let mut out = HashMap::new();
        for ((org, currency, from, to), projects) in groups {
            let figures = self.one_range(org, &currency, (from, to), &projects).await?;
            for (p, f) in figures {
                out.insert((p, org, currency.clone(), from, to), Arc::new(f));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_and_burn() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        let f = Financials { invoiced: d("1000"), labour_cost: d("600"), expenses: d("100"), ..Default::default() };
        assert_eq!(f.margin(), d("300"));
        assert_eq!(f.margin_percent(), Some(d("30.0")));
        assert_eq!(f.burn_percent(Some(d("2000"))), Some(d("35.0")));
        assert_eq!(f.burn_percent(None), None);
        assert_eq!(Financials::default().margin_percent(), None);
    }
}
