//! A transaction on a pooled connection, begun in ONE round trip that also sets the tenant
//! and may carry the request's first statement, whose rows come back.
//!
//! `BEGIN`, the settings and that statement are prepared statements sent together behind
//! one `Sync` ([`PgConnection::fetch_all_pipelined`], see `vendor/README.md`): PostgreSQL
//! plans each once per connection instead of parsing and planning a simple-protocol message
//! on every request. The transaction ends with `COMMIT` or `ROLLBACK` as sqlx's does;
//! dropped while open, it rolls back before the connection is used again.

use sea_orm::sqlx::{self, PgConnection, Postgres, pool::PoolConnection, postgres::PgRow};
use sea_orm::{ConnAcquireErr, DatabaseConnection, DbBackend, DbErr, RuntimeErr, Statement};

use super::{Tenant, settings_statement};

/// An open transaction; rolled back if dropped while open.
pub(super) struct PgTxn {
    conn: Option<PoolConnection<Postgres>>,
}

impl PgTxn {
    /// Begins a transaction on `pool` for `tenant` (and `app.system` = `system` for a job)
    /// in one round trip. `then`, a statement sent in the same round trip, runs after the
    /// settings; its rows are returned.
    pub(super) async fn begin(
        pool: &DatabaseConnection,
        tenant: &Tenant,
        system: Option<&str>,
        then: Option<Statement>,
    ) -> Result<(Self, Vec<PgRow>), DbErr> {
        let conn = pool.get_postgres_connection_pool().acquire().await.map_err(begin_err)?;
        // From here on a failure rolls back whatever the round trip began (see `Drop`).
        let mut txn = PgTxn { conn: Some(conn) };
        let mut stmts = vec![Statement::from_string(DbBackend::Postgres, "BEGIN"), settings_statement(tenant, system)];
        stmts.extend(then);
        let expected = stmts.len();
        let queries: Vec<_> = stmts.iter().map(super::query_of).collect();
        let results = txn.conn()?.fetch_all_pipelined(queries).await.map_err(begin_err)?;
        if results.len() != expected {
            return Err(DbErr::Custom(format!("BEGIN: {} of {expected} statements ran", results.len())));
        }
        // Every statement must have run; the rows after `BEGIN` and the settings are `then`'s.
        let mut rows = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            let result = result.map_err(begin_err)?;
            if i == 2 {
                rows = result;
            }
        }
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

/// A failed `BEGIN`: no connection within the pool's timeout is [`DbErr::ConnectionAcquire`],
/// as SeaORM reports it.
fn begin_err(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}
