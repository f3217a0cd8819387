//! Batched keyed loads (the dataloader pattern) that dispatch when the request can make
//! no more progress, not after a timer.
//!
//! The first caller of a batch leads it: it yields to the executor until a full round of
//! yielding adds no key (every sibling future that can reach this loader has done so),
//! then runs one [`Loader::load`] for all keys and hands each waiter its values. All
//! fields of one request run in one task, so a level of a query is one batch however
//! wide it is, with no idle wait. Loads shared by several tasks (the subscribers of a
//! live batch) add a short `window` before the rounds. A leader dropped before it
//! finishes (its field was cancelled) closes its batch; the waiters then start a new one.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

/// Loads values for a batch of keys (missing keys are simply absent from the map).
pub trait Loader<K>: Send + Sync + 'static {
    /// The value of one key.
    type Value: Clone + Send + Sync + 'static;
    /// The error of a failed batch (shared by all its waiters).
    type Error: Clone + Send + Sync + 'static;
    /// Loads `keys` (distinct) in one go.
    fn load(&self, keys: &[K]) -> impl Future<Output = Result<HashMap<K, Self::Value>, Self::Error>> + Send;
}

type Outcome<K, L> = Arc<Result<HashMap<K, <L as Loader<K>>::Value>, <L as Loader<K>>::Error>>;
type Slot<K, L> = watch::Receiver<Option<Outcome<K, L>>>;

/// The batch being gathered.
struct Open<K, L: Loader<K>> {
    id: u64,
    keys: Vec<K>,
    done: Slot<K, L>,
}

struct State<K, L: Loader<K>> {
    open: Option<Open<K, L>>,
    next_id: u64,
}

/// One loader's batching within one scope (a request, or a live batch).
pub struct Batcher<K, L: Loader<K>> {
    loader: L,
    window: Duration,
    state: Mutex<State<K, L>>,
}

/// Closes the led batch if its leader is dropped before it dispatched, so that waiters
/// (who then see the result channel closed) start a new one instead of joining it.
struct Lead<'a, K, L: Loader<K>> {
    batcher: &'a Batcher<K, L>,
    id: u64,
    tx: watch::Sender<Option<Outcome<K, L>>>,
}

impl<K, L: Loader<K>> Drop for Lead<'_, K, L> {
    fn drop(&mut self) {
        let mut state = self.batcher.lock();
        if state.open.as_ref().is_some_and(|o| o.id == self.id) {
            state.open = None;
        }
    }
}

impl<K, L: Loader<K>> Batcher<K, L> {
    fn lock(&self) -> MutexGuard<'_, State<K, L>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<K, L> Batcher<K, L>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
    L: Loader<K>,
{
    /// Batches `loader`; `window` is waited before the rounds (zero within one task).
    pub fn new(loader: L, window: Duration) -> Self {
        Batcher { loader, window, state: Mutex::new(State { open: None, next_id: 0 }) }
    }

    /// The value of `key`, if there is one.
    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, L::Error> {
        match &*self.outcome(std::slice::from_ref(&key)).await {
            Ok(values) => Ok(values.get(&key).cloned()),
            Err(e) => Err(e.clone()),
        }
    }

    /// The values of `keys` that exist.
    pub async fn load_many(&self, keys: impl IntoIterator<Item = K>) -> Result<HashMap<K, L::Value>, L::Error> {
        let keys: Vec<K> = keys.into_iter().collect();
        match &*self.outcome(&keys).await {
            Ok(values) => Ok(keys.into_iter().filter_map(|k| values.get(&k).cloned().map(|v| (k, v))).collect()),
            Err(e) => Err(e.clone()),
        }
    }

    /// The outcome of the batch that loads `keys` (joined, or led when none is open).
    async fn outcome(&self, keys: &[K]) -> Outcome<K, L> {
        loop {
            let (lead, mut done) = self.join(keys);
            if let Some(lead) = lead {
                return self.dispatch(lead).await;
            }
            match done.wait_for(Option::is_some).await {
                Ok(v) => {
                    if let Some(outcome) = v.as_ref() {
                        return outcome.clone();
                    }
                }
                // The leader was dropped before it finished: gather again.
                Err(_) => continue,
            }
        }
    }

    /// Adds `keys` to the open batch, opening (and then leading) one if there is none.
    fn join(&self, keys: &[K]) -> (Option<Lead<'_, K, L>>, Slot<K, L>) {
        let mut state = self.lock();
        if let Some(open) = &mut state.open {
            open.keys.extend_from_slice(keys);
            return (None, open.done.clone());
        }
        let (tx, rx) = watch::channel(None);
        let id = state.next_id;
        state.next_id += 1;
        state.open = Some(Open { id, keys: keys.to_vec(), done: rx.clone() });
        (Some(Lead { batcher: self, id, tx }), rx)
    }

    /// Keys gathered so far by batch `id`.
    fn gathered(&self, id: u64) -> usize {
        self.lock().open.as_ref().filter(|o| o.id == id).map_or(0, |o| o.keys.len())
    }

    /// Waits until no more keys join, then loads the batch and publishes the outcome.
    async fn dispatch(&self, lead: Lead<'_, K, L>) -> Outcome<K, L> {
        if !self.window.is_zero() {
            tokio::time::sleep(self.window).await;
        }
        let mut seen = self.gathered(lead.id);
        loop {
            tokio::task::yield_now().await;
            let now = self.gathered(lead.id);
            if now == seen {
                break;
            }
            seen = now;
        }
        let mut keys = self.lock().open.take().map(|o| o.keys).unwrap_or_default();
        let mut distinct = HashSet::with_capacity(keys.len());
        keys.retain(|k| distinct.insert(k.clone()));
        let outcome = Arc::new(self.loader.load(&keys).await);
        lead.tx.send_replace(Some(outcome.clone()));
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Doubles keys; counts batches and remembers their sizes.
    #[derive(Default)]
    struct Double {
        batches: Mutex<Vec<usize>>,
    }

    impl Loader<u32> for Arc<Double> {
        type Value = u32;
        type Error = String;
        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, String> {
            self.batches.lock().unwrap_or_else(|p| p.into_inner()).push(keys.len());
            if keys.contains(&1000) {
                return Err("unlucky".into());
            }
            Ok(keys.iter().filter(|k| **k != 0).map(|k| (*k, k * 2)).collect())
        }
    }

    fn batches(d: &Double) -> Vec<usize> {
        d.batches.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    #[tokio::test]
    async fn a_level_of_siblings_is_one_batch_without_a_timer() {
        let d = Arc::new(Double::default());
        let b = Batcher::new(d.clone(), Duration::ZERO);
        // 100 siblings, half of them arriving after an extra await of their own.
        let got = futures_util::future::join_all((1..=100u32).map(|k| {
            let b = &b;
            async move {
                if k % 2 == 0 {
                    tokio::task::yield_now().await;
                }
                b.load_one(k).await
            }
        }))
        .await;
        assert_eq!(batches(&d), vec![100]);
        assert!(got.iter().enumerate().all(|(i, v)| *v == Ok(Some(2 * (i as u32 + 1)))));
        // The next level (after the first resolved) is a batch of its own.
        let again = futures_util::future::join_all([b.load_one(0), b.load_one(7), b.load_one(7)]).await;
        assert_eq!(again, vec![Ok(None), Ok(Some(14)), Ok(Some(14))]);
        assert_eq!(batches(&d), vec![100, 2], "duplicates load once");
    }

    #[tokio::test]
    async fn an_error_reaches_every_waiter_of_its_batch() {
        let d = Arc::new(Double::default());
        let b = Batcher::new(d.clone(), Duration::ZERO);
        let got = futures_util::future::join_all([b.load_one(1), b.load_one(1000)]).await;
        assert_eq!(got, vec![Err("unlucky".to_owned()), Err("unlucky".to_owned())]);
        let many = b.load_many([2, 3]).await;
        assert_eq!(many, Ok(HashMap::from([(2, 4), (3, 6)])));
    }

    #[tokio::test]
    async fn waiters_of_a_dropped_leader_start_a_new_batch() {
        let d = Arc::new(Double::default());
        let b = Arc::new(Batcher::new(d.clone(), Duration::from_millis(50)));
        let polled = Arc::new(AtomicUsize::new(0));
        // The leader is cancelled while it waits for its window.
        let leader = {
            let (b, polled) = (b.clone(), polled.clone());
            tokio::spawn(async move {
                polled.fetch_add(1, Ordering::SeqCst);
                b.load_one(1).await
            })
        };
        while polled.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        tokio::task::yield_now().await;
        let follower = {
            let b = b.clone();
            tokio::spawn(async move { b.load_one(2).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        leader.abort();
        let got = tokio::time::timeout(Duration::from_secs(5), follower).await;
        assert!(matches!(got, Ok(Ok(Ok(Some(4))))), "{got:?}");
        assert_eq!(batches(&d), vec![1], "only the follower's key was loaded");
    }
}
