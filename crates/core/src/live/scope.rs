//! The loader scope one batch of live items shares among all its subscribers.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::batch::{Batcher, Gate, Loader};

/// Loaders shared by every subscriber receiving one batch of an organisation's items: the
/// per-event permission checks of a thousand subscribers become one statement per loader.
/// Loaders read in their own short tenant transactions (`pool`, `org_id`).
pub struct Scope {
    pool: DatabaseConnection,
    org_id: Uuid,
    delay: Duration,
    loaders: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Scope {
    /// A scope for `org_id`'s batch; loaders wait `delay` for keys to gather.
    pub fn new(pool: DatabaseConnection, org_id: Uuid, delay: Duration) -> Self {
        Scope { pool, org_id, delay, loaders: Mutex::new(HashMap::new()) }
    }

    /// The organisation of the batch.
    pub fn org_id(&self) -> Uuid {
        self.org_id
    }

    /// The batch's [`Batcher`] of loader `L`, created on first use with `make(pool, org)`.
    pub fn loader<K, L>(&self, make: impl FnOnce(DatabaseConnection, Uuid) -> L) -> Arc<Batcher<K, L>>
    where
        K: Clone + Eq + std::hash::Hash + Send + Sync + 'static,
        L: Loader<K>,
    {
        let mut map = self.loaders.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry(TypeId::of::<Batcher<K, L>>())
            .or_insert_with(|| Arc::new(Batcher::new(make(self.pool.clone(), self.org_id), Gate::Window(self.delay))));
        match entry.clone().downcast::<Batcher<K, L>>() {
            Ok(l) => l,
            Err(_) => unreachable!("loader map is keyed by the batcher's TypeId"),
        }
    }
}
