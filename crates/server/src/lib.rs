//! The opsgraph server: configuration, HTTP routes, request authentication into a
//! tenant-scoped transaction, telemetry and the CLI. It only wires the domain crates.

pub mod config;
pub mod db;
pub mod graphiql;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod seed;
pub mod state;
pub mod telemetry;

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Serves `state` on `listener` until `shutdown` resolves (then drains gracefully).
pub async fn serve(
    listener: TcpListener,
    state: state::AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let dispatcher = jobs::spawn_dispatcher(state.pool.clone(), state.config.dispatch_interval_ms, stopped.clone());
    let reminders = jobs::spawn_reminders(state.pool.clone(), state.config.reminder_interval_secs, stopped);
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    let _ = stop.send(true);
    for job in [dispatcher, reminders].into_iter().flatten() {
        let _ = job.await;
    }
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
