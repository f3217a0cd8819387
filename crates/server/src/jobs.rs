//! Background jobs the server runs beside HTTP: the notification dispatcher, the scheduled
//! reminders and the outbox pruner. All are safe to run on several instances at once.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Runs the notification dispatcher every `interval_ms` until `stop` turns true (none when
/// the interval is 0). Several server instances may run it at once.
pub fn spawn_dispatcher(
    pool: DatabaseConnection,
    interval_ms: u64,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if interval_ms == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            match opsgraph_org::service::dispatch::run_once(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(notifications = n, "dispatched"),
                Err(e) => tracing::warn!(error = ?e, "notification dispatch failed; retrying next tick"),
            }
        }
    }))
}

/// Emits due/overdue reminders every `interval_secs` until `stop` turns true (none when 0).
pub fn spawn_reminders(
    pool: DatabaseConnection,
    interval_secs: u64,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if interval_secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            let today = chrono::Utc::now().date_naive();
            match opsgraph_work::service::reminders::run(&pool, today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reminders = n, "reminders emitted"),
                Err(e) => tracing::warn!(error = ?e, "reminders failed; retrying next tick"),
            }
        }
    }))
}

/// Prunes dispatched events older than `retention_hours` every `interval_secs` until
/// `stop` turns true (none when 0).
pub fn spawn_pruner(
    pool: DatabaseConnection,
    interval_secs: u64,
    retention_hours: u64,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if interval_secs == 0 {
        return None;
    }
    let retention = Duration::from_secs(retention_hours.saturating_mul(3600));
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => break,
            }
            match opsgraph_core::events::prune(&pool, retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "expired events pruned"),
                Err(e) => tracing::warn!(error = ?e, "event pruning failed; retrying next tick"),
            }
        }
    }))
}
