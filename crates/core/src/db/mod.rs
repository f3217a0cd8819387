//! The request's database handle: one transaction, tenant set with transaction-local
//! settings under a role that Row Level Security applies to, every statement counted.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use sea_orm::sqlx::{self, AssertSqlSafe, PgConnection, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement, Values,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{Mutex, oneshot};

use crate::spans;
use txn::PgTxn;
use uuid::Uuid;

mod pipeline;
mod txn;

/// The database role every request runs as (created by the migrations, subject to RLS).
pub const APP_ROLE: &str = "opsgraph_app";

/// Who the transaction acts for; becomes `app.org_id`, `app.user_id`, `app.api_key_prefix`.
#[derive(Debug, Clone, Default)]
pub struct Tenant {
    /// Active organisation (RLS key of every tenant table).
    pub org_id: Option<Uuid>,
    /// Signed-in user (lets a user see their own memberships across organisations).
    pub user_id: Option<Uuid>,
    /// API key prefix being authenticated (lets exactly that key row be read).
    pub api_key_prefix: Option<String>,
    /// For a CLIENT session, its membership: Row Level Security then shows only the
    /// projects it is staffed on (and their tasks and milestones).
    pub client_member: Option<Uuid>,
    /// The caller's membership and role (`app.member_id`, `app.role`), for policies that
    /// depend on who reads (knowledge collections' visibility).
    pub member: Option<(Uuid, &'static str)>,
}

/// One transaction shared by all resolvers of a request. Implements [`ConnectionTrait`],
/// so every service and loader runs on it; counts the statements it executes.
pub struct TxDb {
    txn: Mutex<State>,
    statements: AtomicU32,
    /// Round trips of those statements (several can share one: see [`pipeline`]).
    round_trips: AtomicU32,
    /// Statements waiting to go out together (see [`pipeline`]).
    queue: pipeline::Queue,
    /// Statements running or waiting for the transaction.
    in_flight: AtomicUsize,
    pool: DatabaseConnection,
    /// The tenant last set (durable writes run under it).
    tenant: std::sync::Mutex<Tenant>,
    /// Writes that must persist whatever the request's outcome (see [`TxDb::durable`]).
    durable: std::sync::Mutex<Vec<Statement>>,
}

enum State {
    /// Not begun yet: begins (and sets the tenant) on the first statement.
    Pending,
    Open(PgTxn),
    Done,
}

fn closed() -> DbErr {
    DbErr::Custom("transaction already finished".into())
}

/// The settings (name, value) that make a transaction act for `tenant`, `role` first.
fn tenant_settings(tenant: &Tenant) -> [(&'static str, String); 7] {
    let text = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_default();
    [
        ("role", APP_ROLE.to_owned()),
        ("app.org_id", text(tenant.org_id)),
        ("app.user_id", text(tenant.user_id)),
        ("app.api_key_prefix", tenant.api_key_prefix.clone().unwrap_or_default()),
        ("app.client_member", text(tenant.client_member)),
        ("app.member_id", text(tenant.member.map(|(m, _)| m))),
        ("app.role", tenant.member.map(|(_, r)| r).unwrap_or_default().to_owned()),
    ]
}

/// `SELECT set_config(…)` of every setting of `tenant` (and `app.system` = `system` for a
/// job), values bound as parameters.
fn settings_statement(tenant: &Tenant, system: Option<&str>) -> Statement {
    let mut settings = tenant_settings(tenant).to_vec();
    if let Some(job) = system {
        settings.push(("app.system", job.to_owned()));
    }
    let calls: Vec<String> =
        settings.iter().enumerate().map(|(i, (name, _))| format!("set_config('{name}', ${}, true)", i + 1)).collect();
    let values: Vec<sea_orm::Value> = settings.into_iter().map(|(_, v)| v.into()).collect();
    Statement::from_sql_and_values(DbBackend::Postgres, format!("SELECT {}", calls.join(", ")), values)
}

/// A statement as an sqlx query (prepared and cached per connection, like SeaORM's).
fn query(stmt: &mut Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.take().unwrap_or(Values(Vec::new()));
    sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// [`query`] of a statement that stays with its caller (its values are copied).
fn query_of(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

/// Runs a statement that returns no rows.
async fn exec(c: &mut PgConnection, mut stmt: Statement) -> Result<ExecResult, DbErr> {
    query(&mut stmt).execute(c).await.map(ExecResult::from).map_err(exec_err)
}

/// Runs SQL unprepared (simple protocol: no parameters, several statements allowed).
async fn unprepared(c: &mut PgConnection, sql: &str) -> Result<ExecResult, DbErr> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(c).await.map(ExecResult::from).map_err(exec_err)
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e.into()))
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e.into()))
}

impl TxDb {
    /// Begins a transaction as [`APP_ROLE`] for `tenant`.
    pub async fn begin(pool: &DatabaseConnection, tenant: &Tenant) -> Result<Self, DbErr> {
        let (txn, _) = PgTxn::begin(pool, tenant, None, None).await?;
        Ok(Self::with_state(pool, tenant.clone(), State::Open(txn)))
    }

    /// Begins a background job's transaction: for organisation `org` (none: the job's
    /// cross-tenant scan), with `app.system` set to `job`, which the policies written for
    /// that job honour (set in the same round trip as the tenant).
    pub async fn begin_system(pool: &DatabaseConnection, org: Option<Uuid>, job: &str) -> Result<Self, DbErr> {
        let tenant = Tenant { org_id: org, ..Default::default() };
        let (txn, _) = PgTxn::begin(pool, &tenant, Some(job), None).await?;
        Ok(Self::with_state(pool, tenant, State::Open(txn)))
    }

    fn with_state(pool: &DatabaseConnection, tenant: Tenant, state: State) -> Self {
        TxDb {
            txn: Mutex::new(state),
            statements: AtomicU32::new(0),
            round_trips: AtomicU32::new(0),
            queue: pipeline::Queue::default(),
            in_flight: AtomicUsize::new(0),
            pool: pool.clone(),
            tenant: std::sync::Mutex::new(tenant),
            durable: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// A transaction for `tenant` that begins only when its first statement runs (live
    /// events whose payload needs no database never take a connection).
    pub fn lazy(pool: &DatabaseConnection, tenant: Tenant) -> Self {
        Self::with_state(pool, tenant, State::Pending)
    }

    /// Re-points the transaction at another tenant (used while authenticating). A
    /// transaction that has not begun only records it: it begins as that tenant.
    pub async fn set_tenant(&self, tenant: &Tenant) -> Result<(), DbErr> {
        let pending = matches!(&*self.txn.lock().await, State::Pending);
        if !pending {
            self.query_one_raw(settings_statement(tenant, None)).await?;
        }
        *self.tenant.lock().unwrap_or_else(|p| p.into_inner()) = tenant.clone();
        Ok(())
    }

    /// Queues a write that must persist even if the request fails (a failed sign-in
    /// attempt, the revocation of a reused refresh token). It runs when the request ends:
    /// in its transaction before the commit, or, when the request rolls back, in a new
    /// transaction taken only after the request's connection went back to the pool, so a
    /// request never holds one connection while waiting for a second.
    pub fn durable(&self, stmt: Statement) {
        self.durable.lock().unwrap_or_else(|p| p.into_inner()).push(stmt);
    }

    /// Marks a savepoint (not counted as a statement of the request).
    pub async fn savepoint(&self, name: &str) -> Result<(), DbErr> {
        self.raw(&format!("SAVEPOINT {name}")).await
    }

    /// Releases a savepoint: what ran since it stays part of the transaction.
    pub async fn release(&self, name: &str) -> Result<(), DbErr> {
        self.raw(&format!("RELEASE SAVEPOINT {name}")).await
    }

    /// Undoes everything since the savepoint (also after a failed statement).
    pub async fn rollback_to(&self, name: &str) -> Result<(), DbErr> {
        self.raw(&format!("ROLLBACK TO SAVEPOINT {name}")).await?;
        self.release(name).await
    }

    async fn raw(&self, sql: &str) -> Result<(), DbErr> {
        let _busy = InFlight::new(&self.in_flight);
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        match &mut *self.opened().await? {
            State::Open(txn) => unprepared(txn.conn()?, sql).await.map(|_| ()),
            _ => Err(closed()),
        }
    }

    /// Runs `stmt` and returns its first row. If the transaction has not begun, `stmt`
    /// travels in the round trip that begins it and sets the tenant (the credential check
    /// of every request).
    pub async fn query_one_first(&self, mut stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        use tracing::Instrument as _;
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let _busy = InFlight::new(&self.in_flight);
        let span = spans::statement(&stmt.sql);
        let run = async {
            let mut guard = self.txn.lock().await;
            let row = match &mut *guard {
                State::Pending => {
                    let (txn, rows) = self.open(Some(stmt)).await?;
                    *guard = State::Open(txn);
                    rows.into_iter().next()
                }
                State::Open(txn) => query(&mut stmt).fetch_optional(txn.conn()?).await.map_err(query_err)?,
                State::Done => return Err(closed()),
            };
            Ok(row.map(QueryResult::from))
        };
        run.instrument(span).await
    }

    /// Whether a statement is running or waiting for the transaction (its result may give
    /// the request more work: see [`crate::batch::Idle`]).
    pub fn in_flight(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) > 0
    }

    /// The state, with the transaction begun if it was still pending.
    async fn opened(&self) -> Result<tokio::sync::MutexGuard<'_, State>, DbErr> {
        let mut guard = self.txn.lock().await;
        if let State::Pending = &*guard {
            *guard = State::Open(self.open(None).await?.0);
        }
        Ok(guard)
    }

    /// A new transaction on the pool, set to the current tenant; `then` travels with its
    /// `BEGIN` and its rows are returned.
    async fn open(&self, then: Option<Statement>) -> Result<(PgTxn, Vec<sqlx::postgres::PgRow>), DbErr> {
        let tenant = self.tenant.lock().unwrap_or_else(|p| p.into_inner()).clone();
        PgTxn::begin(&self.pool, &tenant, None, then).await
    }

    /// Ends the request: commits (durable writes first) when `commit`, else rolls back
    /// and then writes the durable statements in a transaction of their own.
    pub async fn finish(&self, commit: bool) -> Result<(), DbErr> {
        let durable = std::mem::take(&mut *self.durable.lock().unwrap_or_else(|p| p.into_inner()));
        if commit {
            for stmt in durable {
                self.execute_raw(stmt).await?;
            }
            return self.commit().await;
        }
        self.rollback().await?;
        if durable.is_empty() {
            return Ok(());
        }
        let (mut txn, _) = self.open(None).await?;
        for stmt in durable {
            exec(txn.conn()?, stmt).await?;
        }
        txn.commit().await
    }

    /// Statements executed so far (excluding the tenant set-up).
    pub fn statement_count(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Round trips of those statements so far: fewer than statements when some went
    /// out together ([`pipeline`]).
    pub fn round_trip_count(&self) -> u32 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// Commits. Later use of this handle fails.
    pub async fn commit(&self) -> Result<(), DbErr> {
        match std::mem::replace(&mut *self.txn.lock().await, State::Done) {
            State::Open(txn) => txn.commit().await,
            State::Pending => Ok(()),
            State::Done => Err(closed()),
        }
    }

    /// Rolls back. Later use of this handle fails.
    pub async fn rollback(&self) -> Result<(), DbErr> {
        match std::mem::replace(&mut *self.txn.lock().await, State::Done) {
            State::Open(txn) => txn.rollback().await,
            State::Pending | State::Done => Ok(()),
        }
    }

    /// Queues `stmt`, lets concurrent fields queue theirs, then sends what is queued
    /// (unless an earlier round trip carried it) and returns its rows. A statement whose
    /// round trip was lost (the caller that sent it was cancelled) is queued again: only
    /// reads come here ([`pipeline::pipelined`]), so running one twice changes nothing.
    async fn pipelined(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let stmt = std::sync::Arc::new(stmt);
        let mut rows = self.queue.push(stmt.clone());
        pipeline::yield_once().await;
        let mut guard = match self.opened().await {
            Ok(guard) => guard,
            Err(e) => {
                pipeline::fail(self.queue.take(), &e);
                return Err(e);
            }
        };
        loop {
            match rows.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => rows = self.queue.push(stmt.clone()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch = self.queue.take();
            match &mut *guard {
                State::Open(txn) => {
                    self.round_trips.fetch_add(1, Ordering::Relaxed);
                    pipeline::run(txn.conn()?, batch).await;
                }
                _ => pipeline::fail(batch, &closed()),
            }
        }
    }

    /// Runs a statement (by `f`) on the open transaction, beginning it first if it is
    /// still pending, in its [`crate::spans::statement`] span.
    async fn with_txn<T>(
        &self,
        span: tracing::Span,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        use tracing::Instrument as _;
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let _busy = InFlight::new(&self.in_flight);
        let run = async {
            match &mut *self.opened().await? {
                State::Open(txn) => f(txn.conn()?).await,
                _ => Err(closed()),
            }
        };
        run.instrument(span).await
    }
}

/// Counts a statement in flight while it lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for TxDb {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.with_txn(spans::statement(&stmt.sql), async |c| exec(c, stmt).await).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.with_txn(spans::statement(sql), async |c| unprepared(c, sql).await).await
    }

    async fn query_one_raw(&self, mut stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let span = spans::statement(&stmt.sql);
        self.with_txn(span, async |c| {
            query(&mut stmt).fetch_optional(c).await.map(|r| r.map(QueryResult::from)).map_err(query_err)
        })
        .await
    }

    /// A read is queued, and sent in one round trip with the statements of concurrent
    /// fields ([`pipeline`]); anything else runs alone.
    async fn query_all_raw(&self, mut stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        use tracing::Instrument as _;
        let span = spans::statement(&stmt.sql);
        if pipeline::pipelined(&stmt.sql) {
            self.statements.fetch_add(1, Ordering::Relaxed);
            let _busy = InFlight::new(&self.in_flight);
            return self.pipelined(stmt).instrument(span).await;
        }
        self.with_txn(span, async |c| {
            query(&mut stmt)
                .fetch_all(c)
                .await
                .map(|rows| rows.into_iter().map(QueryResult::from).collect())
                .map_err(query_err)
        })
        .await
    }
}

/// Optimistic concurrency, once for every long-lived record: saves the changed fields of
/// `am` on row `id` only if its `version` is still `expected` (bumping it), else CONFLICT
/// naming `what`. Returns the stored row.
pub async fn update_versioned<E, A>(
    db: &impl ConnectionTrait,
    id_col: E::Column,
    version_col: E::Column,
    id: Uuid,
    mut am: A,
    expected: i32,
    what: &str,
) -> crate::error::AppResult<E::Model>
where
    E: sea_orm::EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    am.not_set(id_col);
    // `expected` comes from the client: no version can be i32::MAX (it could never be
    // bumped), so that is a stale version, not an overflow.
    let Some(next) = expected.checked_add(1) else {
        return Err(crate::error::AppError::Conflict(format!("{what} was changed by someone else; reload and retry")));
    };
    am.set(version_col, next.into());
    E::update_many()
        .set(am)
        .filter(id_col.eq(id))
        .filter(version_col.eq(expected))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            crate::error::AppError::Conflict(format!("{what} was changed by someone else; reload and retry"))
        })
}

/// Row `id` of `E` in organisation `org_id` (the Rust-side tenant wall behind RLS), or
/// NOT_FOUND naming `what`.
pub async fn find_in_org<E>(
    db: &impl ConnectionTrait,
    org_col: E::Column,
    org_id: Uuid,
    id: Uuid,
    what: &str,
) -> crate::error::AppResult<E::Model>
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    E::find_by_id(id).filter(org_col.eq(org_id)).one(db).await?.ok_or_else(|| crate::error::AppError::not_found(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_are_one_statement_with_bound_values() {
        let org = Uuid::nil();
        let job = settings_statement(&Tenant { org_id: Some(org), ..Default::default() }, Some("kpi"));
        assert!(job.sql.starts_with("SELECT set_config('role', $1, true), "), "{}", job.sql);
        assert!(job.sql.ends_with("set_config('app.system', $8, true)"), "{}", job.sql);
        let values = job.values.map(|v| v.0).unwrap_or_default();
        assert_eq!(values.len(), 8);
        assert_eq!(values[1], sea_orm::Value::from(org.to_string()));
        let request = settings_statement(&Tenant::default(), None);
        assert_eq!(request.sql.matches("set_config(").count(), 7);
        assert_eq!(request.values.map(|v| v.0.len()), Some(7));
    }
}
