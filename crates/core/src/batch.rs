//! Batched keyed loads (the dataloader pattern) that dispatch when the request can make
//! no more progress, never after a timer.
//!
//! The first caller of a batch leads it; the others join and wait for its outcome. When the
//! leader dispatches depends on the [`Gate`]:
//! - [`Gate::Driven`]: a request's execution runs inside [`drive`], which polls it and,
//!   whenever a poll ends with nothing woken and no statement in flight (every field that
//!   can reach a loader has done so), releases all gathered batches at once. A level of a
//!   query is then one statement per loader whatever the data, the load or the timing.
//! - [`Gate::Yield`]: without a driver (a subscription event's payload), the leader yields
//!   until a round of yielding adds no key.
//! - [`Gate::Window`]: keys come from several tasks (the subscribers of one live batch):
//!   the leader waits windows until one adds no key (bounded), so a thousand subscriber
//!   tasks on a busy runtime still make one statement, not hundreds.
//!
//! A leader dropped before it finishes (its field was cancelled) closes its batch; the
//! waiters then start a new one.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::sync::watch;
use tracing::Instrument as _;

/// Loads values for a batch of keys (missing keys are simply absent from the map).
pub trait Loader<K>: Send + Sync + 'static {
    /// The value of one key.
    type Value: Clone + Send + Sync + 'static;
    /// The error of a failed batch (shared by all its waiters).
    type Error: Clone + Send + Sync + 'static;
    /// Loads `keys` (distinct) in one go.
    fn load(&self, keys: &[K]) -> impl Future<Output = Result<HashMap<K, Self::Value>, Self::Error>> + Send;
}

/// When a led batch dispatches (see the module documentation).
#[derive(Clone)]
pub enum Gate {
    /// When the request's [`drive`]r finds it idle.
    Driven(Arc<Idle>),
    /// When a round of yielding adds no key.
    Yield,
    /// After a window that added no key.
    Window(Duration),
}

/// Most windows a [`Gate::Window`] batch waits for keys that are still arriving.
const QUIET_ROUNDS: usize = 20;

/// Closes a led batch to new keys (run by the driver when it releases the leader).
type Seal = Box<dyn FnOnce() + Send>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A leader waiting for its request to go idle.
struct Ticket {
    released: AtomicBool,
    waker: Mutex<Option<Waker>>,
    seal: Mutex<Option<Seal>>,
}

/// What a [`drive`]r knows of its request: the leaders waiting for it to go idle, and
/// whether a statement is in flight (then it is not idle: its result brings more keys).
pub struct Idle {
    waiting: Mutex<Vec<Arc<Ticket>>>,
    busy: Box<dyn Fn() -> bool + Send + Sync>,
    /// Batches dispatched for the request so far.
    batches: AtomicU64,
}

impl Idle {
    /// For a request whose statements in flight `busy` tells.
    pub fn new(busy: impl Fn() -> bool + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Idle { waiting: Mutex::new(Vec::new()), busy: Box::new(busy), batches: AtomicU64::new(0) })
    }

    /// Loader batches the request dispatched so far.
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::Relaxed)
    }

    async fn released(&self, seal: Seal) {
        let ticket = Arc::new(Ticket {
            released: AtomicBool::new(false),
            waker: Mutex::new(None),
            seal: Mutex::new(Some(seal)),
        });
        lock(&self.waiting).push(ticket.clone());
        std::future::poll_fn(|cx| {
            if ticket.released.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            *lock(&ticket.waker) = Some(cx.waker().clone());
            if ticket.released.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
    }

    /// Releases every waiting leader; whether there was one.
    fn release_all(&self) -> bool {
        let tickets = std::mem::take(&mut *lock(&self.waiting));
        for t in &tickets {
            if let Some(seal) = lock(&t.seal).take() {
                seal();
            }
        }
        for t in &tickets {
            t.released.store(true, Ordering::Release);
            if let Some(w) = lock(&t.waker).take() {
                w.wake();
            }
        }
        !tickets.is_empty()
    }
}

/// Forwards wakes to the driver's task, counting them. A wake that arrives while the
/// driver is polling is only counted: the driver polls again itself. Forwarding it would
/// make tokio reschedule the running task as a yield, at the back of the queue, where the
/// other worker thread is woken to steal it (a thread hop per batch round).
struct Relay {
    wakes: AtomicU64,
    polling: AtomicBool,
    parent: Mutex<Option<Waker>>,
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if !self.polling.load(Ordering::SeqCst)
            && let Some(w) = lock(&self.parent).as_ref()
        {
            w.wake_by_ref();
        }
    }
}

/// Most polls in a row that [`poll_driven`] makes for wakes during its own poll before it
/// hands them to the runtime (a future that wakes itself on every poll still yields).
const REPOLLS: usize = 64;

/// Polls through `relay` until `poll` is ready or idle: a poll that ends with nothing
/// woken and no statement in flight releases `idle`'s leaders and polls again; so does a
/// poll during which something woke it.
fn poll_driven<T>(
    idle: &Idle,
    relay: &Arc<Relay>,
    cx: &Context<'_>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    {
        let mut parent = lock(&relay.parent);
        if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *parent = Some(cx.waker().clone());
        }
    }
    let waker = Waker::from(relay.clone());
    let mut inner = Context::from_waker(&waker);
    let mut repolls = 0;
    loop {
        relay.polling.store(true, Ordering::SeqCst);
        let before = relay.wakes.load(Ordering::SeqCst);
        let outcome = poll(&mut inner);
        if outcome.is_ready() {
            relay.polling.store(false, Ordering::SeqCst);
            return outcome;
        }
        if relay.wakes.load(Ordering::SeqCst) != before {
            repolls += 1;
            if repolls < REPOLLS {
                continue;
            }
            relay.polling.store(false, Ordering::SeqCst);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if !(idle.busy)() && idle.release_all() {
            continue;
        }
        relay.polling.store(false, Ordering::SeqCst);
        // A wake between the check above and the store was counted but not forwarded.
        if relay.wakes.load(Ordering::SeqCst) == before {
            return Poll::Pending;
        }
    }
}

fn relay() -> Arc<Relay> {
    Arc::new(Relay { wakes: AtomicU64::new(0), polling: AtomicBool::new(false), parent: Mutex::new(None) })
}

/// A request's execution under its [`Idle`] driver (see [`drive`]).
pub struct Drive<F> {
    fut: Pin<Box<tokio::task::coop::Unconstrained<F>>>,
    idle: Arc<Idle>,
    relay: Arc<Relay>,
}

/// Runs `fut` releasing the batches of `idle`'s leaders whenever a poll of it ends with
/// nothing woken and no statement in flight. It runs without tokio's cooperative budget,
/// whose deferred wake-ups would look like idleness.
pub fn drive<F: Future>(idle: Arc<Idle>, fut: F) -> Drive<F> {
    Drive { fut: Box::pin(tokio::task::coop::unconstrained(fut)), idle, relay: relay() }
}

impl<F: Future> Future for Drive<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        poll_driven(&this.idle, &this.relay, cx, |inner| this.fut.as_mut().poll(inner))
    }
}

/// A subscription's event stream under its [`Idle`] driver (see [`drive_stream`]).
pub struct DriveStream<S> {
    stream: Pin<Box<S>>,
    idle: Arc<Idle>,
    relay: Arc<Relay>,
}

/// [`drive`] for a stream (each event's payload is resolved inside `poll_next`). A
/// cooperative-budget yield inside can release a batch early: more statements, never a
/// wrong answer.
pub fn drive_stream<S: futures_util::Stream>(idle: Arc<Idle>, stream: S) -> DriveStream<S> {
    DriveStream { stream: Box::pin(stream), idle, relay: relay() }
}

impl<S: futures_util::Stream> futures_util::Stream for DriveStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        poll_driven(&this.idle, &this.relay, cx, |inner| this.stream.as_mut().poll_next(inner))
    }
}

/// Takes the keys of the open batch if it is still batch `id`.
fn take_open<K, L: Loader<K>>(state: &Mutex<State<K, L>>, id: u64) -> Option<Vec<K>> {
    let mut state = lock(state);
    if state.open.as_ref().is_some_and(|o| o.id == id) { state.open.take().map(|o| o.keys) } else { None }
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
    gate: Gate,
    state: Arc<Mutex<State<K, L>>>,
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
        lock(&self.state)
    }
}

impl<K, L> Batcher<K, L>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
    L: Loader<K>,
{
    /// Batches `loader`, dispatching as `gate` says.
    pub fn new(loader: L, gate: Gate) -> Self {
        Batcher { loader, gate, state: Arc::new(Mutex::new(State { open: None, next_id: 0 })) }
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
                // Boxed: only the leader carries the loading future; inline, its size made
                // every caller's future (a field's, moved into its box) as large.
                return Box::pin(self.dispatch(lead)).await;
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

    /// Pauses (at most `rounds` times) until a pause adds no key to batch `id`.
    async fn until_quiet<P: Future<Output = ()>>(&self, id: u64, rounds: usize, mut pause: impl FnMut() -> P) {
        let mut seen = self.gathered(id);
        for _ in 0..rounds {
            pause().await;
            let now = self.gathered(id);
            if now == seen {
                break;
            }
            seen = now;
        }
    }

    /// Keys gathered so far by batch `id`.
    fn gathered(&self, id: u64) -> usize {
        self.lock().open.as_ref().filter(|o| o.id == id).map_or(0, |o| o.keys.len())
    }

    /// Waits until no more keys join, then loads the batch and publishes the outcome.
    async fn dispatch(&self, lead: Lead<'_, K, L>) -> Outcome<K, L> {
        let id = lead.id;
        let keys = match &self.gate {
            // Sealed at the moment of release: keys arriving before the leader runs again
            // start the next batch.
            Gate::Driven(idle) => {
                let sealed = Arc::new(Mutex::new(None));
                let (state, slot) = (self.state.clone(), sealed.clone());
                idle.released(Box::new(move || *lock(&slot) = take_open(&state, id))).await;
                idle.batches.fetch_add(1, Ordering::Relaxed);
                lock(&sealed).take()
            }
            // Keys from other tasks (a busy runtime may run them late): windows until one
            // adds no key, at most `QUIET_ROUNDS` of them.
            Gate::Window(d) => {
                self.until_quiet(id, QUIET_ROUNDS, || tokio::time::sleep(*d)).await;
                take_open(&self.state, id)
            }
            // Within one task: yield until a round adds no key.
            Gate::Yield => {
                self.until_quiet(id, usize::MAX, tokio::task::yield_now).await;
                take_open(&self.state, id)
            }
        };
        let mut keys = keys.unwrap_or_default();
        let mut distinct = HashSet::with_capacity(keys.len());
        keys.retain(|k| distinct.insert(k.clone()));
        let outcome = Arc::new(self.loader.load(&keys).instrument(crate::spans::batch::<L>(keys.len())).await);
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
        let b = Batcher::new(d.clone(), Gate::Yield);
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

    /// Half the siblings first wait for a "statement" (a timer counted as in flight).
    async fn staggered(b: &Batcher<u32, Arc<Double>>, busy: &AtomicUsize) -> Vec<Result<Option<u32>, String>> {
        futures_util::future::join_all((1..=20u32).map(|k| async move {
            if k % 2 == 1 {
                busy.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                busy.fetch_sub(1, Ordering::SeqCst);
            }
            b.load_one(k).await
        }))
        .await
    }

    #[tokio::test]
    async fn a_driven_batch_waits_for_statements_in_flight() {
        let busy = Arc::new(AtomicUsize::new(0));
        let d = Arc::new(Double::default());
        let flag = busy.clone();
        let idle = Idle::new(move || flag.load(Ordering::SeqCst) > 0);
        let b = Batcher::new(d.clone(), Gate::Driven(idle.clone()));
        let got = drive(idle, staggered(&b, &busy)).await;
        assert_eq!(batches(&d), vec![20], "one batch once nothing is in flight");
        assert_eq!(got[19], Ok(Some(40)));
        // Without a driver, the keys known before the timers fire go alone.
        let d = Arc::new(Double::default());
        let b = Batcher::new(d.clone(), Gate::Yield);
        staggered(&b, &busy).await;
        assert_eq!(batches(&d), vec![10, 10]);
    }

    /// Counts the wakes the runtime would get.
    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Pending `n` times, waking itself during each of those polls.
    fn wakes_itself(n: usize) -> impl Future<Output = usize> {
        let mut left = n;
        std::future::poll_fn(move |cx| {
            if left == 0 {
                return Poll::Ready(n);
            }
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
    }

    #[test]
    fn wakes_during_the_drivers_own_poll_are_polled_again_not_sent_to_the_runtime() {
        let runtime = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(runtime.clone());
        let mut cx = Context::from_waker(&waker);
        let mut driven = std::pin::pin!(drive(Idle::new(|| false), wakes_itself(3)));
        assert_eq!(driven.as_mut().poll(&mut cx), Poll::Ready(3), "finished within one poll");
        assert_eq!(runtime.0.load(Ordering::SeqCst), 0, "no reschedule (a thread hop) for its own wakes");
        // A future that keeps waking itself still hands its turn back to the runtime.
        let mut busy = std::pin::pin!(drive(Idle::new(|| false), wakes_itself(REPOLLS + 10)));
        assert_eq!(busy.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(runtime.0.load(Ordering::SeqCst), 1, "woken once to be polled again");
        assert_eq!(busy.as_mut().poll(&mut cx), Poll::Ready(REPOLLS + 10));
    }

    #[tokio::test]
    async fn an_error_reaches_every_waiter_of_its_batch() {
        let d = Arc::new(Double::default());
        let b = Batcher::new(d.clone(), Gate::Yield);
        let got = futures_util::future::join_all([b.load_one(1), b.load_one(1000)]).await;
        assert_eq!(got, vec![Err("unlucky".to_owned()), Err("unlucky".to_owned())]);
        let many = b.load_many([2, 3]).await;
        assert_eq!(many, Ok(HashMap::from([(2, 4), (3, 6)])));
    }

    #[tokio::test]
    async fn waiters_of_a_dropped_leader_start_a_new_batch() {
        let d = Arc::new(Double::default());
        let b = Arc::new(Batcher::new(d.clone(), Gate::Window(Duration::from_millis(50))));
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
