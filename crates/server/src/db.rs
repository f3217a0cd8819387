//! Database start-up: create the database if missing, connect, migrate.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

use crate::config::Config;

/// Creates the database named in `url` if it does not exist (connecting to `postgres`).
pub async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let (base, name) = url.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("DATABASE_URL has no database name"))?;
    let name = name.split('?').next().unwrap_or(name);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        anyhow::bail!("unsupported database name in DATABASE_URL");
    }
    let admin =
        Database::connect(ConnectOptions::new(format!("{base}/postgres")).sqlx_logging(false).to_owned()).await?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS x FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_some();
    if !exists {
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
        tracing::info!(database = name, "created database");
    }
    admin.close().await?;
    Ok(())
}

/// How long a pooled connection may sit idle and still be handed out without a test.
pub const TEST_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Connects a pool of at most `max` connections (default acquire timeout).
pub async fn connect(url: &str, max: u32) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, max, Duration::from_secs(3)).await
}

/// Connects a pool of at most `max` connections; waiting for a connection (or for a new
/// one to open) gives up after `acquire`, so an unreachable database fails requests fast.
///
/// A connection is tested (a round trip) when it goes back to the pool; it is tested again
/// when taken only if it sat idle for longer than [`TEST_IF_IDLE_FOR`], as connection pools
/// such as HikariCP do, instead of once more on every request.
pub async fn connect_with(url: &str, max: u32, acquire: Duration) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max)
        .min_connections(1)
        .acquire_timeout(acquire)
        .connect_timeout(acquire)
        .test_before_acquire_if_idle_for(TEST_IF_IDLE_FOR)
        .sqlx_logging(false);
    Ok(Database::connect(opts).await?)
}

/// The request pool and the live-delivery pool of `config`.
pub async fn pools(config: &Config) -> anyhow::Result<(DatabaseConnection, DatabaseConnection)> {
    let acquire = Duration::from_millis(config.db_acquire_timeout_ms.max(1));
    let pool = connect_with(&config.database_url, config.db_pool_max, acquire).await?;
    let live_acquire = Duration::from_millis(config.live_acquire_timeout_ms.max(1));
    let live = connect_with(&config.database_url, config.live_pool_max.max(1), live_acquire).await?;
    Ok((pool, live))
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    opsgraph_migration::Migrator::up(db, None).await?;
    Ok(())
}

/// Whether every migration has been applied.
pub async fn migrations_current(db: &DatabaseConnection) -> bool {
    matches!(opsgraph_migration::Migrator::get_pending_migrations(db).await, Ok(p) if p.is_empty())
}
