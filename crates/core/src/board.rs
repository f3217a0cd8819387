//! Places on ordered boards (a project's task columns, a pipeline's deal stages): a row's
//! `position` is a float between its neighbours', so a move writes one row. When two
//! neighbours get too close the lane is renumbered (1024 apart) and the move retried.
//! Callers serialise moves of one board (a row lock on the board's owner), so concurrent
//! moves never interleave.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The gap between rows after renumbering, and below the top.
pub const GAP: f64 = 1024.0;

/// One lane of a board: the rows of `table` matching `filter` (SQL over `$1..$n`, bound to
/// `values`), each with an `id` and a `position`.
pub struct Lane {
    /// The table.
    pub table: &'static str,
    /// The rows of the lane, e.g. `stage_id = $1 AND deleted_at IS NULL`.
    pub filter: &'static str,
    /// The filter's values.
    pub values: Vec<Value>,
}

impl Lane {
    fn param(&self, k: usize) -> String {
        format!("${}", self.values.len() + k)
    }

    async fn position_of(&self, db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<f64>> {
        let sql = format!("SELECT position FROM {} WHERE {} AND id = {}", self.table, self.filter, self.param(1));
        let mut values = self.values.clone();
        values.push(id.into());
        let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
        Ok(row.map(|r| r.try_get("", "position")).transpose()?)
    }

    /// The position right after `after` (or at the top), between it and its successor;
    /// `None` when the gap is exhausted.
    async fn between(&self, db: &impl ConnectionTrait, moving: Uuid, after: Option<f64>) -> AppResult<Option<f64>> {
        let sql = format!(
            "SELECT min(position) AS next FROM {} WHERE {} AND id <> {} AND ({}::float8 IS NULL OR position > {})",
            self.table,
            self.filter,
            self.param(1),
            self.param(2),
            self.param(2)
        );
        let mut values = self.values.clone();
        values.extend([moving.into(), after.into()]);
        let row = db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
        let next: Option<f64> = row.map(|r| r.try_get("", "next")).transpose()?.flatten();
        let lo = after.unwrap_or(0.0);
        Ok(match next {
            None => Some(lo + GAP),
            Some(hi) if hi - lo > 1e-6 => Some((lo + hi) / 2.0),
            Some(_) => None,
        })
    }

    async fn renumber(&self, db: &impl ConnectionTrait) -> AppResult<()> {
        let sql = format!(
            "UPDATE {t} x SET position = r.rn * {GAP} FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS rn \
             FROM {t} WHERE {f}) r WHERE x.id = r.id",
            t = self.table,
            f = self.filter
        );
        db.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, self.values.clone())).await?;
        Ok(())
    }

    /// Where `moving` goes to sit right after row `after` of this lane (at the top when
    /// `None`). BAD_USER_INPUT on `field` when `after` is not in the lane or is `moving`.
    pub async fn place(
        &self,
        db: &impl ConnectionTrait,
        moving: Uuid,
        after: Option<Uuid>,
        field: &str,
    ) -> AppResult<f64> {
        let not_here = || AppError::bad_input(field, format!("{field} must be another item of the target column"));
        let after_pos = match after {
            Some(a) if a == moving => return Err(not_here()),
            Some(a) => Some(self.position_of(db, a).await?.ok_or_else(not_here)?),
            None => None,
        };
        if let Some(p) = self.between(db, moving, after_pos).await? {
            return Ok(p);
        }
        self.renumber(db).await?;
        let after_pos = match after {
            Some(a) => self.position_of(db, a).await?,
            None => None,
        };
        self.between(db, moving, after_pos).await?.ok_or_else(|| AppError::internal("no room after renumbering"))
    }

    /// The position at the end of the lane (for new rows).
    pub async fn end(&self, db: &impl ConnectionTrait) -> AppResult<f64> {
        let sql = format!("SELECT coalesce(max(position), 0) + {GAP} AS p FROM {} WHERE {}", self.table, self.filter);
        let row =
            db.query_one_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, self.values.clone())).await?;
        Ok(row.map(|r| r.try_get("", "p")).transpose()?.unwrap_or(GAP))
    }
}
