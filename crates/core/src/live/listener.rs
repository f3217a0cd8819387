//! The process's one LISTEN connection: NOTIFY payloads `<org>:<seq>` wake the matching
//! hub's feed; after a (re)connect every feed is woken, since notifications sent while the
//! connection was down are gone (the rows they announce are not).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::Wake;

/// Listens for every hub's channel until `stop` turns true.
pub fn spawn(pool: DatabaseConnection, hubs: Vec<Arc<dyn Wake>>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let channels: Vec<&'static str> = hubs.iter().map(|h| h.channel()).collect();
        loop {
            let mut listener = match PgListener::connect_with(pool.get_postgres_connection_pool()).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = stop.changed() => return,
                    }
                }
            };
            if let Err(e) = listener.listen_all(channels.iter().copied()).await {
                tracing::warn!(error = %e, "LISTEN failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            for hub in &hubs {
                hub.wake_all();
            }
            loop {
                let next = tokio::select! {
                    n = listener.try_recv() => n,
                    _ = stop.changed() => return,
                };
                match next {
                    Ok(Some(n)) => {
                        let org = n.payload().split_once(':').and_then(|(org, _)| org.parse::<Uuid>().ok());
                        for hub in hubs.iter().filter(|h| h.channel() == n.channel()) {
                            match org {
                                Some(org) => hub.wake(org),
                                None => hub.wake_all(),
                            }
                        }
                    }
                    // Reconnected underneath: wake everyone, anything may have been missed.
                    Ok(None) => {
                        for hub in &hubs {
                            hub.wake_all();
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                        break;
                    }
                }
            }
        }
    })
}

/// Wakes a background job when its channel is notified: the job runs a pass at once
/// instead of at its next tick (passes coalesce: one wake-up stands for any number).
pub struct Nudge {
    channel: &'static str,
    notify: Arc<tokio::sync::Notify>,
}

impl Nudge {
    /// A nudge on `channel`, and what the job waits on.
    pub fn new(channel: &'static str) -> (Arc<Nudge>, Arc<tokio::sync::Notify>) {
        let notify = Arc::new(tokio::sync::Notify::new());
        (Arc::new(Nudge { channel, notify: notify.clone() }), notify)
    }
}

impl Wake for Nudge {
    fn channel(&self) -> &'static str {
        self.channel
    }

    fn wake(&self, _org: Uuid) {
        self.notify.notify_one();
    }

    fn wake_all(&self) {
        self.notify.notify_one();
    }
}
