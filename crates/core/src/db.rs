//! The request's database handle: one transaction, tenant set with transaction-local
//! settings under a role that Row Level Security applies to, every statement counted.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
    TransactionTrait,
};
use tokio::sync::Mutex;

use crate::spans;
use uuid::Uuid;

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
    Open(DatabaseTransaction),
    Done,
}

fn closed() -> DbErr {
    DbErr::Custom("transaction already finished".into())
}

fn tenant_statement(tenant: &Tenant) -> Statement {
    let opt = |v: Option<String>| v.unwrap_or_default();
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('role', $1, true), set_config('app.org_id', $2, true), \
         set_config('app.user_id', $3, true), set_config('app.api_key_prefix', $4, true), \
         set_config('app.client_member', $5, true), set_config('app.member_id', $6, true), \
         set_config('app.role', $7, true)",
        [
            APP_ROLE.into(),
            opt(tenant.org_id.map(|u| u.to_string())).into(),
            opt(tenant.user_id.map(|u| u.to_string())).into(),
            opt(tenant.api_key_prefix.clone()).into(),
            opt(tenant.client_member.map(|u| u.to_string())).into(),
            opt(tenant.member.map(|(m, _)| m.to_string())).into(),
            tenant.member.map(|(_, r)| r).unwrap_or_default().into(),
        ],
    )
}

impl TxDb {
    /// Begins a transaction as [`APP_ROLE`] for `tenant`.
    pub async fn begin(pool: &DatabaseConnection, tenant: &Tenant) -> Result<Self, DbErr> {
        let txn = pool.begin().await?;
        txn.query_one_raw(tenant_statement(tenant)).await?;
        Ok(Self::with_state(pool, tenant.clone(), State::Open(txn)))
    }

    /// Begins a background job's transaction: for organisation `org` (none: the job's
    /// cross-tenant scan), with `app.system` set to `job`, which the policies written for
    /// that job honour (set in the same round trip as the tenant).
    pub async fn begin_system(pool: &DatabaseConnection, org: Option<Uuid>, job: &str) -> Result<Self, DbErr> {
        let tenant = Tenant { org_id: org, ..Default::default() };
        let txn = pool.begin().await?;
        let mut stmt = tenant_statement(&tenant);
        stmt.sql.push_str(", set_config('app.system', $8, true)");
        if let Some(values) = stmt.values.as_mut() {
            values.0.push(job.into());
        }
        txn.query_one_raw(stmt).await?;
        Ok(Self::with_state(pool, tenant, State::Open(txn)))
    }

    fn with_state(pool: &DatabaseConnection, tenant: Tenant, state: State) -> Self {
        TxDb {
            txn: Mutex::new(state),
            statements: AtomicU32::new(0),
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
            self.query_one_raw(tenant_statement(tenant)).await?;
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
        match &*self.opened().await? {
            State::Open(txn) => txn.execute_unprepared(sql).await.map(|_| ()),
            _ => Err(closed()),
        }
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
            *guard = State::Open(self.open().await?);
        }
        Ok(guard)
    }

    /// A new transaction on the pool, set to the current tenant.
    async fn open(&self) -> Result<DatabaseTransaction, DbErr> {
        let tenant = self.tenant.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let txn = self.pool.begin().await?;
        txn.query_one_raw(tenant_statement(&tenant)).await?;
        Ok(txn)
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
        let txn = self.open().await?;
        for stmt in durable {
            txn.execute_raw(stmt).await?;
        }
        txn.commit().await
    }

    /// Statements executed so far (excluding the tenant set-up).
    pub fn statement_count(&self) -> u32 {
        self.statements.load(Ordering::Relaxed)
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

    /// Runs a statement (by `f`) on the open transaction, beginning it first if it is
    /// still pending, in its [`crate::spans::statement`] span.
    async fn with_txn<T>(
        &self,
        span: tracing::Span,
        f: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        use tracing::Instrument as _;
        self.statements.fetch_add(1, Ordering::Relaxed);
        let _busy = InFlight::new(&self.in_flight);
        let run = async {
            match &*self.opened().await? {
                State::Open(txn) => f(txn).await,
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
        self.with_txn(spans::statement(&stmt.sql), async |t| t.execute_raw(stmt).await).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.with_txn(spans::statement(sql), async |t| t.execute_unprepared(sql).await).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.with_txn(spans::statement(&stmt.sql), async |t| t.query_one_raw(stmt).await).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.with_txn(spans::statement(&stmt.sql), async |t| t.query_all_raw(stmt).await).await
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
