//! Gapless document numbers: one counter row per organisation, series and year, taken with
//! an upsert in the issuing transaction. The row stays locked until that transaction ends,
//! so concurrent issuers queue behind it, and a rolled-back issue (or savepoint) gives its
//! number back: no sequence, which would leak numbers on rollback.

use opsgraph_core::AppResult;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// The next number of `series` (`INV`, `CN`) in `year` for `org`: `INV-2026-0001`.
pub async fn next(db: &impl ConnectionTrait, org: Uuid, series: &str, year: i32) -> AppResult<String> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO invoice_counters (org_id, series, year, last_number) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (org_id, series, year) DO UPDATE SET last_number = invoice_counters.last_number + 1 \
             RETURNING last_number",
            [org.into(), series.into(), year.into()],
        ))
        .await?
        .ok_or_else(|| opsgraph_core::AppError::internal("numbering returned no row"))?;
    let n: i32 = row.try_get("", "last_number")?;
    Ok(format(series, year, n))
}

/// `SERIES-YEAR-NNNN` (at least four digits).
pub fn format(series: &str, year: i32, n: i32) -> String {
    format!("{series}-{year}-{n:04}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_well() {
        assert_eq!(super::format("INV", 2026, 1), "INV-2026-0001");
        assert_eq!(super::format("CN", 2026, 12345), "CN-2026-12345");
    }
}
