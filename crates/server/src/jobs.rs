//! Background jobs the server runs beside HTTP: the notification dispatcher, the scheduled
//! reminders, the knowledge indexer, the KPI measurements and the outbox pruner. All are safe to run on several instances at once.

use std::sync::Arc;
use std::time::Duration;

use opsgraph_core::AppResult;
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Runs `pass` every `every` until `stop` turns true (none when `every` is zero); `what`
/// names the job in logs. A failed pass is logged and retried at the next tick.
fn spawn_every<F, Fut>(
    what: &'static str,
    every: Duration,
    pool: DatabaseConnection,
    stop: watch::Receiver<bool>,
    pass: F,
) -> Option<JoinHandle<()>>
where
    F: Fn(DatabaseConnection) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<u64>> + Send,
{
    spawn_woken(what, (every, None), pool, stop, pass)
}

/// [`spawn_every`] that also runs a pass as soon as `wake` is notified.
fn spawn_woken<F, Fut>(
    what: &'static str,
    (every, wake): (Duration, Option<Arc<Notify>>),
    pool: DatabaseConnection,
    mut stop: watch::Receiver<bool>,
    pass: F,
) -> Option<JoinHandle<()>>
where
    F: Fn(DatabaseConnection) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<u64>> + Send,
{
    if every.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let never = Notify::new();
        loop {
            let woken = wake.as_deref().unwrap_or(&never);
            tokio::select! {
                _ = tick.tick() => {}
                _ = woken.notified() => {}
                _ = stop.changed() => break,
            }
            let outcome = pass(pool.clone()).await;
            crate::metrics::global().job(what, outcome.is_ok());
            match outcome {
                Ok(0) => {}
                Ok(n) => tracing::debug!(job = what, items = n, "background pass"),
                Err(e) => tracing::warn!(job = what, error = ?e, "background pass failed; retrying next tick"),
            }
        }
    }))
}

/// Runs the notification dispatcher every `interval_ms` (none when 0).
pub fn spawn_dispatcher(
    pool: DatabaseConnection,
    interval_ms: u64,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    spawn_every("dispatch", Duration::from_millis(interval_ms), pool, stop, |pool| async move {
        Ok(opsgraph_org::service::dispatch::run_once(&pool).await? as u64)
    })
}

/// Embeds new knowledge chunks every `interval_ms` (none when 0).
pub fn spawn_indexer(
    pool: DatabaseConnection,
    models: opsgraph_knowledge::embed::Models,
    interval_ms: u64,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    spawn_every("index", Duration::from_millis(interval_ms), pool, stop, move |pool| {
        let models = models.clone();
        async move { opsgraph_knowledge::service::indexer::run(&pool, &models).await }
    })
}

/// Writes the agents' queued replies and runs due workflow steps every `interval_ms` (none when 0).
pub fn spawn_ai_runner(
    pool: DatabaseConnection,
    rt: opsgraph_ai::service::Runtime,
    interval_ms: u64,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    spawn_every("ai", Duration::from_millis(interval_ms), pool, stop, move |pool| {
        let rt = rt.clone();
        async move {
            let replies = opsgraph_ai::service::runner::run_once(&pool, &rt).await?;
            Ok(replies + opsgraph_ai::service::automation::run_once(&pool, &rt).await?)
        }
    })
}

/// Queues and sends outgoing webhooks when `wake` says events were committed, and every
/// `interval_ms` (retries, and a safety net for lost notifications; none when 0).
pub fn spawn_webhooks(
    pool: DatabaseConnection,
    hooks: opsgraph_org::service::webhooks::Webhooks,
    (interval_ms, wake): (u64, Arc<Notify>),
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    spawn_woken("webhooks", (Duration::from_millis(interval_ms), Some(wake)), pool, stop, move |pool| {
        let hooks = hooks.clone();
        async move { opsgraph_org::service::webhook_delivery::run_once(&pool, &hooks).await }
    })
}

/// Measures the KPIs not measured for `interval_ms` every `interval_ms` (none when 0).
pub fn spawn_kpis(
    pool: DatabaseConnection,
    metrics: opsgraph_core::kpi::Metrics,
    interval_ms: u64,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let every = Duration::from_millis(interval_ms);
    spawn_every("kpis", every, pool, stop, move |pool| {
        let metrics = metrics.clone();
        async move { opsgraph_org::service::kpis::run_due(&pool, &metrics, every).await }
    })
}

/// Emits due/overdue reminders and overdue invoices every `interval_secs` (none when 0).
pub fn spawn_reminders(
    pool: DatabaseConnection,
    interval_secs: u64,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    spawn_every("reminders", Duration::from_secs(interval_secs), pool, stop, |pool| async move {
        let today = chrono::Utc::now().date_naive();
        let reminders = opsgraph_work::service::reminders::run(&pool, today).await?;
        let overdue = opsgraph_finance::service::overdue::run(&pool, today).await?;
        Ok((reminders + overdue) as u64)
    })
}

/// Prunes dispatched events older than `retention_hours` every `interval_secs` (none when 0).
pub fn spawn_pruner(
    pool: DatabaseConnection,
    interval_secs: u64,
    retention_hours: u64,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let retention = Duration::from_secs(retention_hours.saturating_mul(3600));
    spawn_every("prune", Duration::from_secs(interval_secs), pool, stop, move |pool| async move {
        opsgraph_core::events::prune(&pool, retention).await
    })
}
