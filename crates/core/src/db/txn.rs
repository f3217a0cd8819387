//! A transaction on a pooled connection, begun by ONE simple-protocol message that also
//! sets the tenant and may carry the request's first statement, whose rows come back.
//!
//! sqlx's `Transaction` reads its `BEGIN` message without its rows, so the first statement
//! of a request (the credential check) took a round trip of its own. This type begins with
//! `sqlx::raw_sql`, which returns every row of the message, and ends with `COMMIT` or
//! `ROLLBACK` as sqlx's does; dropped while open, it rolls back before the connection is
//! used again.

use futures_util::TryStreamExt as _;
use sea_orm::sqlx::{self, AssertSqlSafe, Either, PgConnection, Postgres, pool::PoolConnection, postgres::PgRow};
use sea_orm::{ConnAcquireErr, DatabaseConnection, DbErr, RuntimeErr};

use super::{Tenant, tenant_settings};

/// An open transaction; rolled back if dropped while open.
pub(super) struct PgTxn {
    conn: Option<PoolConnection<Postgres>>,
}

impl PgTxn {
    /// Begins a transaction on `pool` for `tenant` (and `app.system` = `system` for a job)
    /// in one round trip. `then`, a statement whose values are written as literals
    /// ([`literal`]), travels in the same message; its rows are returned.
    pub(super) async fn begin(
        pool: &DatabaseConnection,
        tenant: &Tenant,
        system: Option<&str>,
        then: Option<&str>,
    ) -> Result<(Self, Vec<PgRow>), DbErr> {
        let conn = pool.get_postgres_connection_pool().acquire().await.map_err(begin_err)?;
        // From here on a failure rolls back whatever the message began (see `Drop`).
        let mut txn = PgTxn { conn: Some(conn) };
        let mut sql = begin_sql(tenant, system);
        if let Some(then) = then {
            sql.push_str("; ");
            sql.push_str(then);
        }
        let mut results = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_many(txn.conn()?);
        // `BEGIN` and the settings complete first; rows after them are `then`'s.
        let (mut done, mut rows) = (0, Vec::new());
        while let Some(item) = results.try_next().await.map_err(begin_err)? {
            match item {
                Either::Left(_) => done += 1,
                Either::Right(row) if done >= 2 => rows.push(row),
                Either::Right(_) => {}
            }
        }
        drop(results);
        Ok((txn, rows))
    }

    /// The connection, while the transaction is open.
    pub(super) fn conn(&mut self) -> Result<&mut PgConnection, DbErr> {
        self.conn.as_deref_mut().ok_or_else(super::closed)
    }

    /// Commits; the connection goes back to the pool.
    pub(super) async fn commit(mut self) -> Result<(), DbErr> {
        self.end("COMMIT").await
    }

    /// Rolls back; the connection goes back to the pool.
    pub(super) async fn rollback(mut self) -> Result<(), DbErr> {
        self.end("ROLLBACK").await
    }

    /// Ends the transaction with `sql`. Once that has completed the connection is known to
    /// be idle and alive, so it goes straight back to the pool, without the test round trip
    /// (a `Sync` message) that sqlx sends for a connection dropped in an unknown state.
    async fn end(&mut self, sql: &'static str) -> Result<(), DbErr> {
        super::unprepared(self.conn()?, sql).await?;
        if let Some(conn) = self.conn.take() {
            conn.release_idle();
        }
        Ok(())
    }
}

impl Drop for PgTxn {
    /// Rolls back on the runtime before the connection returns to the pool; without a
    /// runtime, or if that fails, the connection is closed (which also ends the transaction).
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    match super::unprepared(&mut conn, "ROLLBACK").await {
                        Ok(_) => conn.release_idle(),
                        Err(_) => conn.close_on_drop(),
                    }
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

/// `BEGIN` followed by the settings of `tenant` (and `app.system` for a job) in ONE
/// simple-protocol message, so a transaction starts in one round trip. The simple
/// protocol takes no parameters: values are written as escaped literals ([`literal`]).
pub(super) fn begin_sql(tenant: &Tenant, system: Option<&str>) -> String {
    let mut settings = tenant_settings(tenant).to_vec();
    if let Some(job) = system {
        settings.push(("app.system", job.to_owned()));
    }
    let calls: Vec<String> =
        settings.iter().map(|(name, value)| format!("set_config('{name}', {}, true)", literal(value))).collect();
    format!("BEGIN; SELECT {}", calls.join(", "))
}

/// `value` as a PostgreSQL escape-string literal (`E'…'`, backslash and quote doubled):
/// read the same whatever `standard_conforming_strings` says.
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    out.push_str("E'");
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A failed `BEGIN`: no connection within the pool's timeout is [`DbErr::ConnectionAcquire`],
/// as SeaORM reports it.
fn begin_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}
