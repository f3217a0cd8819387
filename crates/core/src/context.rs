//! The per-request context every resolver reads: session, transaction, loaders.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dynamic::ResolverContext;

use crate::auth::{Permission, Session};
use crate::batch::{Batcher, Gate, Idle, Loader};
use crate::db::TxDb;
use crate::error::{AppError, AppResult};

/// Everything one GraphQL request runs with. Created by the server per request (and per
/// subscription event), shared by all resolvers of that request.
pub struct RequestCtx {
    /// The authenticated caller.
    pub session: Session,
    /// The request's transaction (tenant already set).
    pub db: Arc<TxDb>,
    /// When its loaders' batches dispatch.
    gate: Gate,
    loaders: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// Whether the response's `data` must be null (a mutation field could not be rolled
    /// back to its savepoint: see [`crate::exec`]).
    data_null: std::sync::atomic::AtomicBool,
    /// The user a sign-in mutation of this request authenticated (the session is still
    /// the anonymous caller's).
    signed_in: Mutex<Option<uuid::Uuid>>,
    /// What language models cost this request (see [`AiCost`]).
    ai_cost: Mutex<Option<AiCost>>,
    /// A stored document run inside another request (see [`Self::nested`]).
    nested: bool,
    /// Root mutation fields begun so far: what a read earlier in the request saw may have
    /// changed since (memos of reads key on it).
    writes: std::sync::atomic::AtomicU32,
}

/// The language-model spend of one request, told to the client in `extensions.aiCost`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AiCost {
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Cost in micro-units of `currency`.
    pub cost_micros: i64,
    /// ISO 4217 code (the first priced model's).
    pub currency: String,
}

impl RequestCtx {
    /// A context for `session` on `db` whose batches dispatch when a round of yielding adds
    /// no key (a subscription event's payload: nothing drives it).
    pub fn new(session: Session, db: Arc<TxDb>) -> Arc<Self> {
        Self::with_gate(session, db, Gate::Yield)
    }

    /// A context whose batches dispatch when its execution, run through [`Self::drive`],
    /// can make no more progress.
    pub fn driven(session: Session, db: Arc<TxDb>) -> Arc<Self> {
        let busy = db.clone();
        Self::with_gate(session, db, Gate::Driven(Idle::new(move || busy.in_flight())))
    }

    /// Runs the request's execution `fut`, releasing its loaders' batches whenever it is
    /// idle (see [`crate::batch::drive`]). Only for a [`Self::driven`] context.
    pub async fn drive<F: Future>(&self, fut: F) -> F::Output {
        match &self.gate {
            Gate::Driven(idle) => crate::batch::drive(idle.clone(), fut).await,
            Gate::Yield | Gate::Window(_) => fut.await,
        }
    }

    /// Loader batches a [`Self::driven`] request dispatched so far (0 for other contexts).
    pub fn loader_batches(&self) -> u64 {
        match &self.gate {
            Gate::Driven(idle) => idle.batches(),
            Gate::Yield | Gate::Window(_) => 0,
        }
    }

    /// A context whose batches dispatch as `gate` says.
    pub fn with_gate(session: Session, db: Arc<TxDb>, gate: Gate) -> Arc<Self> {
        Arc::new(RequestCtx {
            session,
            db,
            gate,
            loaders: Mutex::new(HashMap::new()),
            data_null: Default::default(),
            signed_in: Mutex::default(),
            ai_cost: Mutex::default(),
            nested: false,
            writes: Default::default(),
        })
    }

    /// A context for a stored document run inside this request (see
    /// [`crate::query_runner`]): the same caller, transaction and batch gate (this
    /// request's driver releases its batches too), its own loaders.
    pub fn nested(&self) -> Arc<Self> {
        Arc::new(RequestCtx {
            session: self.session.clone(),
            db: self.db.clone(),
            gate: self.gate.clone(),
            loaders: Mutex::new(HashMap::new()),
            data_null: Default::default(),
            signed_in: Mutex::default(),
            ai_cost: Mutex::default(),
            nested: true,
            writes: Default::default(),
        })
    }

    /// Marks the start of a root mutation field (see `writes`).
    pub fn begin_write(&self) {
        self.writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Root mutation fields begun so far in this request.
    pub fn writes(&self) -> u32 {
        self.writes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether this runs a stored document inside another request.
    pub fn is_nested(&self) -> bool {
        self.nested
    }

    /// The context of the request a resolver runs in: the request's, or for a subscription
    /// the one of the event being resolved.
    pub fn of(ctx: &ResolverContext<'_>) -> AppResult<Arc<RequestCtx>> {
        if let Some(req) = ctx.data_opt::<Arc<RequestCtx>>() {
            return Ok(req.clone());
        }
        ctx.data_opt::<EventSlot>()
            .and_then(EventSlot::current)
            .ok_or_else(|| AppError::internal("request context missing"))
    }

    /// Adds a language model's tokens and cost to this request's spend.
    pub fn add_ai_cost(&self, tokens: (u64, u64), cost_micros: i64, currency: &str) {
        let mut c = self.ai_cost.lock().unwrap_or_else(|p| p.into_inner());
        let c = c.get_or_insert_with(|| AiCost { currency: currency.to_owned(), ..AiCost::default() });
        c.tokens_in += tokens.0;
        c.tokens_out += tokens.1;
        c.cost_micros = c.cost_micros.saturating_add(cost_micros);
    }

    /// What language models cost this request, if anything ran.
    pub fn ai_cost(&self) -> Option<AiCost> {
        self.ai_cost.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records that a sign-in in this request authenticated `user`: what this request
    /// returns about that user is then shown as to the user themself.
    pub fn mark_signed_in(&self, user: uuid::Uuid) {
        *self.signed_in.lock().unwrap_or_else(|p| p.into_inner()) = Some(user);
    }

    /// Whether `user` is the caller (by the session, or by a sign-in of this request).
    pub fn is_self(&self, user: uuid::Uuid) -> bool {
        self.session.user_id().ok() == Some(user)
            || *self.signed_in.lock().unwrap_or_else(|p| p.into_inner()) == Some(user)
    }

    /// The response's `data` must be null: nothing of this request may be committed.
    pub fn set_data_null(&self) {
        self.data_null.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`RequestCtx::set_data_null`] was called.
    pub fn data_null(&self) -> bool {
        self.data_null.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks `perm`; returns the active organisation's id.
    pub fn require(&self, perm: Permission) -> AppResult<uuid::Uuid> {
        self.session.require(perm)
    }

    /// The request's one value of type `T` (created on first use): per-request state a
    /// domain or the server keeps beside the loaders, e.g. a memo of saved-query answers.
    pub fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = self.loaders.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        match entry.clone().downcast::<T>() {
            Ok(v) => v,
            Err(_) => unreachable!("the map is keyed by the value's TypeId"),
        }
    }

    /// The request's [`Batcher`] of loader `L`, created on first use with `make`. A level of
    /// a query is one batch (see [`crate::batch`]).
    pub fn loader<K, L>(&self, make: impl FnOnce(Arc<TxDb>) -> L) -> Arc<Batcher<K, L>>
    where
        K: Clone + Eq + std::hash::Hash + Send + Sync + 'static,
        L: Loader<K>,
    {
        let mut map = self.loaders.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry(TypeId::of::<Batcher<K, L>>())
            .or_insert_with(|| Arc::new(Batcher::new(make(self.db.clone()), self.gate.clone())));
        match entry.clone().downcast::<Batcher<K, L>>() {
            Ok(l) => l,
            Err(_) => unreachable!("loader map is keyed by the batcher's TypeId"),
        }
    }
}

/// Where a subscription keeps the context of the event being resolved: each event runs
/// with a fresh context (its own tenant transaction and loaders), swapped in before the
/// event's payload is resolved (async-graphql resolves one event at a time).
#[derive(Clone, Default)]
pub struct EventSlot(Arc<Mutex<Option<Arc<RequestCtx>>>>);

impl EventSlot {
    /// The current event's context.
    pub fn current(&self) -> Option<Arc<RequestCtx>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Installs `next` and returns the previous event's context (to be closed).
    pub fn replace(&self, next: Option<Arc<RequestCtx>>) -> Option<Arc<RequestCtx>> {
        std::mem::replace(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()), next)
    }
}
