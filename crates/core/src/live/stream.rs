//! Turning a [`Cursor`] into a subscription field's stream: each admitted item is resolved
//! with a fresh per-event context (the subscriber's tenant, its own lazy transaction and
//! loaders).

use std::sync::Arc;

use async_graphql::dynamic::{FieldValue, ResolverContext};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sea_orm::DatabaseConnection;

use super::{Cursor, Delivery, Source};
use crate::auth::Session;
use crate::context::{EventSlot, RequestCtx};
use crate::db::{Tenant, TxDb};
use crate::error::{AppError, AppResult};

/// What a subscription runs with; the server puts it into the operation's data.
#[derive(Clone)]
pub struct LiveSession {
    /// The connection's authenticated session (shared by the subscription's stream and
    /// its re-checks).
    pub session: Arc<Session>,
    /// The pool per-event transactions come from.
    pub pool: DatabaseConnection,
    /// The subscription's driver state: each event's payload is resolved under
    /// [`crate::batch::drive_stream`], so its loaders batch like a request's.
    pub idle: Arc<crate::batch::Idle>,
}

impl LiveSession {
    /// The subscription's live session.
    pub fn of<'a>(ctx: &ResolverContext<'a>) -> AppResult<&'a LiveSession> {
        ctx.data::<LiveSession>()
            .map_err(|_| AppError::BadUserInput { field: None, message: "subscriptions run over /graphql/ws".into() })
    }

    /// The tenant the subscriber's reads run as.
    pub fn tenant(&self) -> Tenant {
        self.session.tenant()
    }

    /// A fresh context for one event (its transaction begins only if the payload reads).
    pub fn event_ctx(&self) -> Arc<RequestCtx> {
        let db = Arc::new(TxDb::lazy(&self.pool, self.tenant()));
        RequestCtx::with_gate(Session::clone(&self.session), db, crate::batch::Gate::Driven(self.idle.clone()))
    }
}

struct Follow<S: Source, A> {
    cursor: Cursor<S>,
    live: LiveSession,
    slot: EventSlot,
    admit: A,
    done: bool,
}

async fn close_previous(slot: &EventSlot) {
    if let Some(prev) = slot.replace(None) {
        let _ = prev.db.rollback().await;
    }
}

/// The stream of a subscription field: items of `cursor` that `admit` lets through
/// (`Ok(false)` skips one; an error — e.g. FORBIDDEN once access was lost — ends the
/// stream with it). Each item is the field's value as `Arc<S::Item>`, resolved in a fresh
/// per-event context installed in the operation's [`EventSlot`].
pub fn follow<'a, S, A, F>(
    ctx: &ResolverContext<'_>,
    cursor: Cursor<S>,
    admit: A,
) -> AppResult<BoxStream<'a, async_graphql::Result<FieldValue<'a>>>>
where
    S: Source,
    A: FnMut(Delivery<S::Item>) -> F + Send + 'static,
    F: Future<Output = AppResult<bool>> + Send,
{
    let live = LiveSession::of(ctx)?.clone();
    let slot = ctx.data::<EventSlot>().map_err(|_| AppError::internal("event slot missing"))?.clone();
    let state = Follow { cursor, live, slot, admit, done: false };
    Ok(futures_util::stream::unfold(state, move |mut st| async move {
        // Rare or short-lived steps are boxed: an idle subscription's state is only what
        // waiting for the next item needs (ten thousand of them add up).
        Box::pin(close_previous(&st.slot)).await;
        if st.done {
            return None;
        }
        loop {
            let d = match st.cursor.next().await {
                Ok(d) => d,
                Err(e) => {
                    st.done = true;
                    return Some((Err(e.into_graphql()), st));
                }
            };
            let mut admitted = Box::pin((st.admit)(d.clone())).await;
            // A database restart must not end the subscription: re-check once it is back.
            while let Err(AppError::Unavailable(_)) = admitted {
                tokio::time::sleep(super::UNAVAILABLE_RETRY).await;
                admitted = Box::pin((st.admit)(d.clone())).await;
            }
            match admitted {
                Ok(true) => {
                    st.slot.replace(Some(st.live.event_ctx()));
                    return Some((Ok(FieldValue::owned_any(d.item)), st));
                }
                Ok(false) => continue,
                Err(e) => {
                    st.done = true;
                    return Some((Err(e.into_graphql()), st));
                }
            }
        }
    })
    .boxed())
}

/// The optional `after: EventSeq` argument of a subscription field.
pub fn after_arg(ctx: &ResolverContext<'_>) -> AppResult<Option<i64>> {
    match ctx.args.get("after") {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => {
            let s = v.string().map_err(|_| AppError::bad_input("after", "must be an EventSeq string"))?;
            s.parse::<i64>().map(Some).map_err(|_| AppError::bad_input("after", "must be a decimal event sequence"))
        }
    }
}

/// The `after` argument every resumable subscription field takes.
pub fn after_input() -> async_graphql::dynamic::InputValue {
    async_graphql::dynamic::InputValue::new("after", async_graphql::dynamic::TypeRef::named("EventSeq")).description(
        "Resume after this event (the last `seq` you received): what you missed is replayed first, in order, \
         without duplicates. It must lie within the event retention window. Omit it to start from now.",
    )
}

/// The `seq` field of a live payload `T` (the stream yields `Arc<T>`).
pub fn seq_field<T: std::any::Any + Send + Sync>(get: fn(&T) -> i64) -> async_graphql::dynamic::Field {
    use async_graphql::dynamic::{Field, FieldFuture, TypeRef};
    Field::new("seq", TypeRef::named_nn("EventSeq"), move |ctx| {
        FieldFuture::new(async move {
            let t = crate::gql::parent::<Arc<T>>(&ctx)?;
            Ok(Some(FieldValue::value(get(t).to_string())))
        })
    })
    .description("Its position in the organisation's event sequence (pass it as `after` to resume).")
}

/// An object type for events of the outbox with the fields every stream shares: `seq`,
/// `kind`, `occurredAt` and `data` (domains add `actor` and their subject).
pub fn event_object(name: &str, desc: &str) -> async_graphql::dynamic::Object {
    use crate::gql::{datetime, prop, scalar};
    use async_graphql::Value;
    use async_graphql::dynamic::{Object, TypeRef};
    type E = Arc<super::LiveEvent>;
    let nn = TypeRef::named_nn;
    Object::new(name)
        .description(desc)
        .field(seq_field::<super::LiveEvent>(|e| e.seq))
        .field(prop::<E>(
            "kind",
            nn(TypeRef::STRING),
            "What happened, `<entity>.<verb>` (e.g. `task.assigned`).",
            |e| Value::String(e.kind.clone()),
        ))
        .field(prop::<E>("occurredAt", nn(scalar::DATE_TIME), "When it was committed.", |e| {
            datetime(&e.occurred_at.fixed_offset())
        }))
        .field(prop::<E>("data", nn(scalar::JSON), "Details of the change (titles, from/to values, …).", |e| {
            Value::from_json(e.data.clone()).unwrap_or(Value::Null)
        }))
}
