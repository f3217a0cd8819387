//! Live streams behind subscriptions: ordered, resumable, shared per organisation.
//!
//! A [`Source`] is an ordered per-organisation sequence kept in PostgreSQL (the event
//! outbox, a domain's notifications) and announced on a NOTIFY channel. Each server process
//! keeps one [`Hub`] per source; the hub runs at most one feed per organisation, which reads
//! new items once and broadcasts them to every subscriber of that organisation in the
//! process. [`listener::spawn`] turns NOTIFY payloads (`<org>:<seq>`) into wake-ups, and
//! wakes every feed after a reconnect (notifications sent meanwhile are lost, the rows are
//! not); feeds also poll slowly as a safety net. A [`Cursor`] (one subscriber) replays
//! from the database after its `after` position, then follows the feed, skipping what it
//! has seen. The feed routes: it hands an item only to the subscribers whose filter keeps
//! it (ten thousand subscribers of a hundred projects are not all woken for each event),
//! into each one's own bounded queue; a subscriber whose queue is full is marked lagging
//! and catches up. Feeds keep their recent items: a subscriber resuming (or catching up)
//! within them reads no database, an older position is read from it. So every subscriber
//! sees every item once, in order.

pub mod listener;
mod outbox;
mod scope;
mod stream;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

pub use outbox::{LiveEvent, Outbox, check_resume, read as read_events};
pub use scope::{Counted, Scope, org_rows};
pub use stream::{LiveSession, after_arg, after_input, event_object, follow, seq_field};

use crate::db::{Tenant, TxDb};
use crate::error::{AppError, AppResult};
use crate::queue;

/// An ordered per-organisation sequence of items stored in PostgreSQL.
pub trait Source: Send + Sync + 'static {
    /// One item.
    type Item: Send + Sync + 'static;
    /// The NOTIFY channel announcing new items (payload `<org>:<seq>`).
    const CHANNEL: &'static str;
    /// Whether sequence numbers have no gaps (a gap then means "go back to the database").
    const GAPLESS: bool;
    /// The item's position.
    fn seq(item: &Self::Item) -> i64;
    /// Items of `org` after position `after`, in order; whole positions, about `limit` of them.
    fn fetch(
        &self,
        db: &TxDb,
        org: Uuid,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = AppResult<Vec<Self::Item>>> + Send;
    /// The newest position of `org` now.
    fn head(&self, db: &TxDb, org: Uuid) -> impl Future<Output = AppResult<i64>> + Send;
}

/// Tuning of the live path.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Items a feed queues for one subscriber before it lags (and catches up from the
    /// database); the queue takes memory only for what it holds.
    pub feed_capacity: usize,
    /// How often a feed looks at the database without being woken (safety net).
    pub poll: Duration,
    /// Items read per database round trip.
    pub page: i64,
    /// How long the permission loaders shared by the subscribers of one batch wait for
    /// the other subscribers' tasks to add their keys.
    pub batch_window: Duration,
    /// Items a feed keeps after routing them, so that a subscriber resuming (or catching
    /// up) from a recent position is served from memory instead of the database.
    pub history: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            feed_capacity: 4096,
            poll: Duration::from_secs(10),
            page: 500,
            batch_window: Duration::from_millis(2),
            history: 4096,
        }
    }
}

/// One item as handed to subscribers, with the [`Scope`] shared by everyone receiving the
/// same batch (so their permission checks batch into one statement).
pub struct Delivery<T> {
    /// The item.
    pub item: Arc<T>,
    /// The batch's loader scope.
    pub scope: Arc<Scope>,
}

impl<T> Clone for Delivery<T> {
    fn clone(&self) -> Self {
        Delivery { item: self.item.clone(), scope: self.scope.clone() }
    }
}

/// Something the NOTIFY listener can wake.
pub trait Wake: Send + Sync {
    /// The channel it listens to.
    fn channel(&self) -> &'static str;
    /// New items of `org` were committed.
    fn wake(&self, org: Uuid);
    /// Anything may have been missed (listener reconnected).
    fn wake_all(&self);
}

/// The per-process fan-out of one [`Source`].
pub struct Hub<S: Source> {
    inner: Arc<Inner<S>>,
}

impl<S: Source> Clone for Hub<S> {
    fn clone(&self) -> Self {
        Hub { inner: self.inner.clone() }
    }
}

struct Inner<S: Source> {
    pool: DatabaseConnection,
    source: S,
    cfg: LiveConfig,
    feeds: Mutex<HashMap<Uuid, Arc<Feed<S>>>>,
    starts: Mutex<HashMap<Uuid, Arc<Scope>>>,
}

struct Feed<S: Source> {
    org: Uuid,
    subs: Mutex<Subscribers<S::Item>>,
    /// The position the feed has routed up to (written under `subs`' lock, after routing).
    last: AtomicI64,
    wake: Notify,
    started: watch::Sender<bool>,
}

/// A feed's subscribers by id, and the items it routed last.
struct Subscribers<T> {
    next: u64,
    all: HashMap<u64, Route<T>>,
    /// The last items routed, in order (at most [`LiveConfig::history`]).
    recent: VecDeque<Arc<T>>,
    /// Every item after this position is in `recent` or still to come: the feed's start,
    /// then the position of the newest item evicted from `recent`.
    floor: i64,
}

/// Where a feed sends one subscriber's items.
struct Route<T> {
    keep: Arc<Keep<T>>,
    tx: queue::Sender<Delivery<T>>,
    /// Set when its queue was full: the feed sends it nothing until it has caught up
    /// from the database (it clears the flag first, so nothing falls in between).
    lagging: Arc<AtomicBool>,
}

impl<T> Subscribers<T> {
    /// Keeps `item` among the recent ones (evicting the oldest beyond `cap`).
    fn remember(&mut self, item: Arc<T>, cap: usize, seq: fn(&T) -> i64) {
        self.recent.push_back(item);
        while self.recent.len() > cap {
            if let Some(old) = self.recent.pop_front() {
                self.floor = self.floor.max(seq(&old));
            }
        }
    }

    /// The recent items after `after` when memory holds all of them (`after` between
    /// the floor and `last`, the position routed up to), else `None`.
    fn since(&self, after: i64, last: i64, seq: fn(&T) -> i64) -> Option<Vec<Arc<T>>> {
        if after < self.floor || after > last {
            return None;
        }
        let start = self.recent.partition_point(|i| seq(i) <= after);
        Some(self.recent.range(start..).cloned().collect())
    }

    /// Hands `d` to every subscriber that keeps it; a full queue marks its owner lagging.
    fn route(&self, d: &Delivery<T>) {
        for r in self.all.values() {
            if r.lagging.load(Ordering::Acquire) || !(r.keep)(&d.item) {
                continue;
            }
            if let Err(queue::TrySendError::Full(_)) = r.tx.try_send(d.clone()) {
                r.lagging.store(true, Ordering::Release);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<S: Source> Hub<S> {
    /// A hub reading `source` from `pool`.
    pub fn new(pool: DatabaseConnection, source: S, cfg: LiveConfig) -> Self {
        let (feeds, starts) = (Mutex::new(HashMap::new()), Mutex::new(HashMap::new()));
        Hub { inner: Arc::new(Inner { pool, source, cfg, feeds, starts }) }
    }

    /// The loader scope the subscription starts of `org` share: their access checks batch
    /// as deliveries' do, so a reconnect storm of thousands makes a few statements, not
    /// thousands of transactions. (Batchers keep no results: nothing is reused.)
    pub fn start_scope(&self, org: Uuid) -> Arc<Scope> {
        self.inner.start_scope(org)
    }

    /// Subscribers following a feed in this process (subscriptions that have started).
    pub fn followers(&self) -> usize {
        let feeds: Vec<_> = lock(&self.inner.feeds).values().cloned().collect();
        feeds.iter().map(|f| lock(&f.subs).all.len()).sum()
    }

    /// Organisations with a running feed in this process.
    pub fn active_feeds(&self) -> usize {
        lock(&self.inner.feeds).len()
    }

    /// Follows `org` for a subscriber acting as `tenant`: from `after` (replaying what was
    /// missed; it must lie within the retention window) or from now.
    pub async fn subscribe(&self, tenant: Tenant, org: Uuid, after: Option<i64>) -> AppResult<Cursor<S>> {
        if tenant.org_id != Some(org) {
            return Err(AppError::Forbidden("not a member of this organisation".into()));
        }
        let keep: Arc<Keep<S::Item>> = Arc::new(Box::new(|_| true));
        let lagging = Arc::new(AtomicBool::new(false));
        let (tx, rx) = queue::bounded(self.inner.cfg.feed_capacity);
        let (feed, id) = {
            let mut feeds = lock(&self.inner.feeds);
            let feed = feeds
                .entry(org)
                .or_insert_with(|| {
                    let feed = Arc::new(Feed {
                        org,
                        subs: Mutex::new(Subscribers {
                            next: 0,
                            all: HashMap::new(),
                            recent: VecDeque::new(),
                            floor: 0,
                        }),
                        last: AtomicI64::new(0),
                        wake: Notify::new(),
                        started: watch::channel(false).0,
                    });
                    tokio::spawn(run_feed(self.inner.clone(), feed.clone()));
                    feed
                })
                .clone();
            let mut subs = lock(&feed.subs);
            let id = subs.next;
            subs.next += 1;
            subs.all.insert(id, Route { keep: keep.clone(), tx, lagging: lagging.clone() });
            drop(subs);
            (feed, id)
        };
        // Unregisters on every early return below, and when the cursor is dropped.
        let registration = Registration { feed: feed.clone(), id };
        // Positions are read only once the feed knows where it starts, so nothing committed
        // in between can fall between the replay and the feed.
        let mut started = feed.started.subscribe();
        if started.wait_for(|s| *s).await.is_err() {
            return Err(AppError::internal("live feed stopped"));
        }
        // A recent `after` is served from the feed's memory: no database read at all.
        let recent = after.and_then(|a| self.inner.recent(&feed, a));
        let pos = match after {
            Some(after) if recent.is_some() => after,
            Some(after) => {
                let db = TxDb::begin(&self.inner.pool, &tenant).await?;
                check_resume(&db, org, after, "after").await?;
                db.commit().await?;
                after
            }
            // "From now" is from where the feed is: everything it routes from here on
            // comes after, and costs a subscriber no database read.
            None => feed.last.load(Ordering::Acquire),
        };
        Ok(Cursor {
            hub: self.inner.clone(),
            org,
            tenant,
            rx,
            lagging,
            registration,
            pos,
            replay: after.is_some() && recent.is_none(),
            backlog: recent.unwrap_or_default(),
            keep,
        })
    }
}

impl<S: Source> Inner<S> {
    fn start_scope(&self, org: Uuid) -> Arc<Scope> {
        let (pool, window) = (&self.pool, self.cfg.batch_window);
        lock(&self.starts).entry(org).or_insert_with(|| Arc::new(Scope::new(pool.clone(), org, window))).clone()
    }

    /// `feed`'s items after `after`, from memory, as deliveries sharing the organisation's
    /// start scope (so resuming subscribers' re-checks batch together); `None` when
    /// memory does not hold all of them.
    fn recent(&self, feed: &Feed<S>, after: i64) -> Option<VecDeque<Delivery<S::Item>>> {
        let items = {
            let subs = lock(&feed.subs);
            subs.since(after, feed.last.load(Ordering::Acquire), S::seq)?
        };
        let scope = self.start_scope(feed.org);
        Some(items.into_iter().map(|item| Delivery { item, scope: scope.clone() }).collect())
    }
}

impl<S: Source> Wake for Hub<S> {
    fn channel(&self) -> &'static str {
        S::CHANNEL
    }

    fn wake(&self, org: Uuid) {
        if let Some(feed) = lock(&self.inner.feeds).get(&org) {
            feed.wake.notify_one();
        }
    }

    fn wake_all(&self) {
        for feed in lock(&self.inner.feeds).values() {
            feed.wake.notify_one();
        }
    }
}

/// Reads `org`'s new items whenever woken (or every `poll`) and broadcasts them; retires
/// when nobody listens any more.
async fn run_feed<S: Source>(inner: Arc<Inner<S>>, feed: Arc<Feed<S>>) {
    let org = feed.org;
    let tenant = Tenant { org_id: Some(org), ..Default::default() };
    let mut last = loop {
        let head = async {
            let db = TxDb::begin(&inner.pool, &tenant).await?;
            let head = inner.source.head(&db, org).await?;
            db.commit().await?;
            AppResult::Ok(head)
        };
        match head.await {
            Ok(h) => break h,
            Err(e) => {
                tracing::warn!(error = ?e, %org, "live feed cannot start; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    lock(&feed.subs).floor = last;
    feed.last.store(last, Ordering::Release);
    feed.started.send_replace(true);
    loop {
        loop {
            let page = async {
                let db = TxDb::begin(&inner.pool, &tenant).await?;
                let items = inner.source.fetch(&db, org, last, inner.cfg.page).await?;
                db.commit().await?;
                AppResult::Ok(items)
            };
            match page.await {
                Ok(items) if items.is_empty() => break,
                Ok(items) => {
                    let scope = Arc::new(Scope::new(inner.pool.clone(), org, inner.cfg.batch_window));
                    let mut subs = lock(&feed.subs);
                    for item in items {
                        last = last.max(S::seq(&item));
                        let d = Delivery { item: Arc::new(item), scope: scope.clone() };
                        subs.route(&d);
                        subs.remember(d.item, inner.cfg.history, S::seq);
                    }
                    feed.last.store(last, Ordering::Release);
                }
                Err(e) => {
                    tracing::warn!(error = ?e, %org, "live feed read failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            }
        }
        {
            let mut feeds = lock(&inner.feeds);
            if lock(&feed.subs).all.is_empty() {
                feeds.remove(&org);
                return;
            }
        }
        tokio::select! {
            _ = feed.wake.notified() => {}
            _ = tokio::time::sleep(inner.cfg.poll) => {}
        }
    }
}

static CATCH_UPS: AtomicU64 = AtomicU64::new(0);

/// How many times, in this process, a subscriber's queue was full and it caught up from
/// the database instead (a slow subscriber, or a burst larger than its queue).
pub fn catch_ups() -> u64 {
    CATCH_UPS.load(Ordering::Relaxed)
}

/// How long live reads wait before retrying while the database is unreachable.
pub const UNAVAILABLE_RETRY: Duration = Duration::from_millis(500);

/// One subscriber's position in an organisation's sequence.
pub struct Cursor<S: Source> {
    hub: Arc<Inner<S>>,
    org: Uuid,
    tenant: Tenant,
    rx: queue::Receiver<Delivery<S::Item>>,
    lagging: Arc<AtomicBool>,
    registration: Registration<S>,
    pos: i64,
    backlog: VecDeque<Delivery<S::Item>>,
    replay: bool,
    keep: Arc<Keep<S::Item>>,
}

/// A subscriber's place in its feed's routing table, removed on drop.
struct Registration<S: Source> {
    feed: Arc<Feed<S>>,
    id: u64,
}

impl<S: Source> Drop for Registration<S> {
    fn drop(&mut self) {
        lock(&self.feed.subs).all.remove(&self.id);
    }
}

/// A subscriber's synchronous item filter.
type Keep<T> = Box<dyn Fn(&T) -> bool + Send + Sync>;

enum Step {
    Deliver,
    Skip,
    Gap,
}

impl<S: Source> Cursor<S> {
    /// Only items for which `keep` holds are delivered (a cheap, synchronous filter:
    /// the subscriber's member, project, …).
    pub fn keep(mut self, keep: impl Fn(&S::Item) -> bool + Send + Sync + 'static) -> Self {
        let keep: Arc<Keep<S::Item>> = Arc::new(Box::new(keep));
        let reg = &self.registration;
        if let Some(route) = lock(&reg.feed.subs).all.get_mut(&reg.id) {
            route.keep = keep.clone();
        }
        self.keep = keep;
        self
    }

    /// The position of the last item seen.
    pub fn position(&self) -> i64 {
        self.pos
    }

    fn step(&mut self, item: &S::Item) -> Step {
        let seq = S::seq(item);
        if S::GAPLESS {
            if seq <= self.pos {
                return Step::Skip;
            }
            if seq > self.pos + 1 {
                return Step::Gap;
            }
            self.pos = seq;
            if (self.keep)(item) { Step::Deliver } else { Step::Skip }
        } else {
            // Not gapless (several items may share a position): filter first, then skip
            // what was seen; the kept items of one subscriber have increasing positions.
            if !(self.keep)(item) || seq <= self.pos {
                return Step::Skip;
            }
            self.pos = seq;
            Step::Deliver
        }
    }

    /// The next item, waiting for it if need be.
    pub async fn next(&mut self) -> AppResult<Delivery<S::Item>> {
        loop {
            if let Some(d) = self.backlog.pop_front() {
                match self.step(&d.item) {
                    Step::Deliver => return Ok(d),
                    Step::Skip => continue,
                    Step::Gap => {
                        // Cannot happen within one ordered read; re-read rather than guess.
                        self.backlog.clear();
                        self.replay = true;
                        continue;
                    }
                }
            }
            if self.replay
                && let Some(recent) = self.hub.recent(&self.registration.feed, self.pos)
            {
                // Everything the feed routed since our position is in memory; what it
                // routes from now on reaches our queue (seen items are skipped there).
                self.backlog = recent;
                self.replay = false;
                continue;
            }
            if self.replay {
                let read = async {
                    let db = TxDb::begin(&self.hub.pool, &self.tenant).await?;
                    let items = self.hub.source.fetch(&db, self.org, self.pos, self.hub.cfg.page).await?;
                    db.commit().await?;
                    AppResult::Ok(items)
                };
                // Boxed: a waiting subscriber does not carry a database read's state.
                let items = match Box::pin(read).await {
                    Ok(items) => items,
                    // The database is restarting: wait and read again from the outbox,
                    // which is the truth; the subscriber loses nothing.
                    Err(AppError::Unavailable(e)) => {
                        tracing::warn!(error = %e, org = %self.org, "live replay waits for the database");
                        tokio::time::sleep(UNAVAILABLE_RETRY).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                self.replay = !items.is_empty();
                // Subscribers replaying at the same time share their re-checks' batches.
                let scope = self.hub.start_scope(self.org);
                self.backlog.extend(items.into_iter().map(|i| Delivery { item: Arc::new(i), scope: scope.clone() }));
                continue;
            }
            // What the queue holds was routed before any lag: deliver it, then catch up.
            let d = match self.rx.try_recv() {
                Ok(d) => d,
                Err(_) if self.lagging.swap(false, Ordering::AcqRel) => {
                    CATCH_UPS.fetch_add(1, Ordering::Relaxed);
                    self.replay = true;
                    continue;
                }
                Err(queue::TryRecvError::Disconnected) => return Err(AppError::internal("live feed closed")),
                Err(queue::TryRecvError::Empty) => match self.rx.recv().await {
                    Some(d) => d,
                    None => return Err(AppError::internal("live feed closed")),
                },
            };
            // Routed items are only this subscriber's: positions in between are others'.
            let seq = S::seq(&d.item);
            if seq > self.pos && (self.keep)(&d.item) {
                self.pos = seq;
                return Ok(d);
            }
        }
    }
}
