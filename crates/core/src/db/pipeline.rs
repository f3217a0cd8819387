//! The statements that concurrent fields send at the same moment, in one round trip.
//!
//! A batch round releases its loaders together (a project's `tasks`, `milestones` and
//! `risks` pages), and each sends one statement. A statement is queued, and its caller
//! yields once, so every loader released by the same poll queues its own before any is
//! sent. The first caller to hold the transaction then sends everything queued behind one
//! `Sync` ([`PgConnection::fetch_all_pipelined`], a patch of sqlx-postgres, see
//! `vendor/README.md`) and hands each caller its rows; a caller whose rows came with an
//! earlier round trip takes them without sending anything.
//!
//! Statements run in the order they were queued, one after another, in the request's
//! transaction, exactly as they would one round trip each. When one fails, PostgreSQL
//! skips the rest of its round trip; in a transaction they would have failed anyway
//! (it is aborted), and their callers get an error saying so.

use std::sync::{Arc, Mutex};
use std::task::Poll;

use sea_orm::sqlx::PgConnection;
use sea_orm::{DbErr, QueryResult, Statement};
use tokio::sync::oneshot;

/// What a queued statement's caller receives.
pub(super) type Rows = Result<Vec<QueryResult>, DbErr>;

/// Most statements in one round trip (each is prepared on the connection beforehand, so
/// a round trip stays well within sqlx's per-connection statement cache).
const MAX_STATEMENTS: usize = 16;

/// A statement waiting for the transaction, and where its rows go.
type Queued = (Arc<Statement>, oneshot::Sender<Rows>);

/// Whether `sql` may share a round trip: a plain read, which a caller may also run again
/// if the round trip that carried it was lost (see `TxDb::pipelined`).
pub(super) fn pipelined(sql: &str) -> bool {
    sql.get(..7).is_some_and(|head| head.eq_ignore_ascii_case("SELECT ")) && !sql.contains(" FOR UPDATE")
}

/// Statements waiting for the transaction.
#[derive(Default)]
pub(super) struct Queue(Mutex<Vec<Queued>>);

impl Queue {
    /// Queues `stmt`; its rows arrive on the receiver.
    pub(super) fn push(&self, stmt: Arc<Statement>) -> oneshot::Receiver<Rows> {
        let (tx, rx) = oneshot::channel();
        self.lock().push((stmt, tx));
        rx
    }

    /// Takes the statements of the next round trip, oldest first.
    pub(super) fn take(&self) -> Vec<Queued> {
        let mut queued = self.lock();
        let n = queued.len().min(MAX_STATEMENTS);
        queued.drain(..n).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Returns `Pending` once, waking itself: the futures polled after it in the same poll
/// (its siblings) run up to their own statement before it goes on.
pub(super) async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// Sends `batch` on `conn` in one round trip and hands each caller its rows.
pub(super) async fn run(conn: &mut PgConnection, batch: Vec<Queued>) {
    let (stmts, senders): (Vec<Arc<Statement>>, Vec<oneshot::Sender<Rows>>) = batch.into_iter().unzip();
    let queries: Vec<_> = stmts.iter().map(|s| super::query_of(s)).collect();
    let mut results = match conn.fetch_all_pipelined(queries).await {
        Ok(results) => results.into_iter(),
        Err(e) => {
            let e = super::query_err(e);
            for tx in senders {
                let _ = tx.send(Err(DbErr::Custom(format!("the statement's round trip failed: {e}"))));
            }
            return;
        }
    };
    for tx in senders {
        let rows = match results.next() {
            Some(Ok(rows)) => Ok(rows.into_iter().map(QueryResult::from).collect()),
            Some(Err(e)) => Err(super::query_err(e)),
            None => Err(DbErr::Custom("not run: an earlier statement of its round trip failed".into())),
        };
        // A caller that went away (its field was cancelled) no longer needs its rows.
        let _ = tx.send(rows);
    }
}

/// Sends an error to every caller of `batch`.
pub(super) fn fail(batch: Vec<Queued>, e: &DbErr) {
    for (_, tx) in batch {
        let _ = tx.send(Err(DbErr::Custom(e.to_string())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    #[test]
    fn only_plain_reads_share_a_round_trip() {
        assert!(pipelined(r#"SELECT "tasks"."id" FROM "tasks" WHERE "tasks"."id" = ANY($1)"#));
        assert!(pipelined("select 1"));
        assert!(!pipelined("SELECT id FROM pipelines WHERE id = $1 FOR UPDATE"));
        assert!(!pipelined("UPDATE tasks SET title = $1 RETURNING *"));
        assert!(!pipelined("WITH c AS (SELECT 1) UPDATE t SET x = 1 FROM c RETURNING *"));
        assert!(!pipelined("INSERT INTO t VALUES ($1) RETURNING id"));
        assert!(!pipelined("SEL"));
    }

    #[test]
    fn a_round_trip_takes_the_oldest_statements_up_to_its_limit() {
        let queue = Queue::default();
        let stmt = |i: usize| Arc::new(Statement::from_string(DbBackend::Postgres, format!("SELECT {i}")));
        let _rx: Vec<_> = (0..MAX_STATEMENTS + 3).map(|i| queue.push(stmt(i))).collect();
        let first: Vec<String> = queue.take().iter().map(|(s, _)| s.sql.clone()).collect();
        assert_eq!(first.len(), MAX_STATEMENTS);
        assert_eq!(first[0], "SELECT 0");
        let rest: Vec<String> = queue.take().iter().map(|(s, _)| s.sql.clone()).collect();
        assert_eq!(rest, ["SELECT 16", "SELECT 17", "SELECT 18"]);
        assert!(queue.take().is_empty());
    }

    #[test]
    fn yield_once_is_pending_once_and_wakes_itself() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(0.into()));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let mut fut = std::pin::pin!(yield_once());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(fut.as_mut().poll(&mut cx).is_ready());
    }
}
