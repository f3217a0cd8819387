//! The loader scope one batch of live items shares among all its subscribers.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};
use uuid::Uuid;

use crate::batch::{Batcher, Gate, Loader};
use crate::db::{Tenant, TxDb};
use crate::loader::{LoadError, db_error};

/// Loaders shared by every subscriber receiving one batch of an organisation's items: the
/// per-event permission checks of a thousand subscribers become one statement per loader.
/// Loaders read in their own short tenant transactions (`pool`, `org_id`).
pub struct Scope {
    pool: DatabaseConnection,
    org_id: Uuid,
    delay: Duration,
    loaders: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    batches: Arc<AtomicU64>,
}

impl Scope {
    /// A scope for `org_id`'s batch; loaders wait `delay` for keys to gather.
    pub fn new(pool: DatabaseConnection, org_id: Uuid, delay: Duration) -> Self {
        Scope { pool, org_id, delay, loaders: Mutex::new(HashMap::new()), batches: Arc::default() }
    }

    /// How many batches its loaders have run (each one statement in one transaction).
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    /// The pool its loaders read from.
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// The organisation of the batch.
    pub fn org_id(&self) -> Uuid {
        self.org_id
    }

    /// The batch's [`Batcher`] of loader `L`, created on first use with `make(pool, org)`.
    pub fn loader<K, L>(&self, make: impl FnOnce(DatabaseConnection, Uuid) -> L) -> Arc<Batcher<K, Counted<L>>>
    where
        K: Clone + Eq + std::hash::Hash + Send + Sync + 'static,
        L: Loader<K>,
    {
        let mut map = self.loaders.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(TypeId::of::<Batcher<K, Counted<L>>>()).or_insert_with(|| {
            let loader = Counted { inner: make(self.pool.clone(), self.org_id), batches: self.batches.clone() };
            Arc::new(Batcher::new(loader, Gate::Window(self.delay)))
        });
        match entry.clone().downcast::<Batcher<K, Counted<L>>>() {
            Ok(l) => l,
            Err(_) => unreachable!("loader map is keyed by the batcher's TypeId"),
        }
    }
}

/// A scope's loader, counting the batches it runs.
pub struct Counted<L> {
    inner: L,
    batches: Arc<AtomicU64>,
}

impl<K, L: Loader<K>> Loader<K> for Counted<L> {
    type Value = L::Value;
    type Error = L::Error;

    fn load(&self, keys: &[K]) -> impl Future<Output = Result<HashMap<K, L::Value>, L::Error>> + Send {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.inner.load(keys)
    }
}

/// The read of one scope loader's batch: `sql` with `values` in one short transaction of
/// organisation `org` (as system job `system` when given, else as the organisation).
pub async fn org_rows(
    pool: &DatabaseConnection,
    org: Uuid,
    system: Option<&str>,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<QueryResult>, LoadError> {
    let db = match system {
        Some(job) => TxDb::begin_system(pool, Some(org), job).await,
        None => TxDb::begin(pool, &Tenant { org_id: Some(org), ..Default::default() }).await,
    }
    .map_err(db_error)?;
    let rows =
        db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await.map_err(db_error)?;
    db.commit().await.map_err(db_error)?;
    Ok(rows)
}
