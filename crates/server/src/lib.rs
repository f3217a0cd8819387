//! The opsgraph server: configuration, HTTP routes, request authentication into a
//! tenant-scoped transaction, telemetry and the CLI. It only wires the domain crates.

pub mod admin;
pub mod config;
pub mod cors;
pub mod cost;
pub mod db;
pub mod documents;
pub mod graphiql;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod persisted;
pub mod prepared;
pub mod runner;
pub mod seed;
pub mod state;
pub mod telemetry;
pub mod wire;
pub mod ws;

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Serves `state` on `listener` until `shutdown` resolves, with the background jobs and
/// the LISTEN connection of the live hubs; then drains HTTP, sends every WebSocket its
/// close frame and stops the jobs.
pub async fn serve(
    listener: TcpListener,
    state: state::AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use std::sync::Arc;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let cfg = state.config.clone();
    let dispatcher = jobs::spawn_dispatcher(state.pool.clone(), cfg.dispatch_interval_ms, stopped.clone());
    let reminders = jobs::spawn_reminders(state.pool.clone(), cfg.reminder_interval_secs, stopped.clone());
    let (pool, models) = (state.pool.clone(), state.models.clone());
    tokio::spawn(async move {
        if let Err(e) = opsgraph_knowledge::service::indexer::ensure_indexes(&pool, &models).await {
            tracing::error!(error = ?e, "could not create the embedding models' indexes");
        }
    });
    let indexer = jobs::spawn_indexer(state.pool.clone(), state.models.clone(), cfg.index_interval_ms, stopped.clone());
    let ai = jobs::spawn_ai_runner(state.pool.clone(), state.ai.clone(), cfg.ai_interval_ms, stopped.clone());
    // Webhooks wake on the outbox's NOTIFY; their interval is the retry and safety-net tick.
    let (nudge, wake) = opsgraph_core::live::listener::Nudge::new(opsgraph_core::events::CHANNEL);
    let hooks = jobs::spawn_webhooks(
        state.pool.clone(),
        state.webhooks.clone(),
        (cfg.webhook_interval_ms, wake),
        stopped.clone(),
    );
    let kpis = jobs::spawn_kpis(state.pool.clone(), state.metrics.clone(), cfg.kpi_interval_ms, stopped.clone());
    let pruner =
        jobs::spawn_pruner(state.pool.clone(), cfg.prune_interval_secs, cfg.event_retention_hours, stopped.clone());
    let hubs: Vec<Arc<dyn opsgraph_core::live::Wake>> =
        vec![Arc::new(state.events.clone()), Arc::new(state.inbox.clone()), nudge];
    let listen = opsgraph_core::live::listener::spawn(state.live_pool.clone(), hubs, stopped);
    let sockets = state.sockets.clone();
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let closing = sockets.clone();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Upgraded sockets are not part of HTTP draining: close them ourselves.
            closing.close_all(std::time::Duration::from_secs(5)).await;
        })
        .await;
    sockets.close_all(std::time::Duration::from_secs(5)).await;
    let _ = stop.send(true);
    for job in [dispatcher, reminders, indexer, ai, hooks, kpis, pruner].into_iter().flatten() {
        let _ = job.await;
    }
    let _ = listen.await;
    result
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
