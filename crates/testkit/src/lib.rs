//! Test databases for any crate: [`TestDb::new`] clones a fresh database from a template
//! migrated once per migration set (`CREATE DATABASE … TEMPLATE`, milliseconds), and
//! [`TestDb::tenant`] opens a transaction scoped to one organisation under Row Level
//! Security, exactly as a request runs. Services are then tested as plain functions, without
//! HTTP; the end-to-end suite (`tests/`) uses the same databases behind the real server.
//!
//! ```text
//! let db = opsgraph_testkit::TestDb::new().await?;
//! let tx = db.system().await?;            // setup outside any tenant
//! let tx = db.tenant(org_id).await?;      // what a request of `org_id` sees
//! db.finish().await;                      // drops the database
//! ```
//! (The example needs a running PostgreSQL; `DATABASE_URL` names it.)

use anyhow::Context;
use opsgraph_core::{Tenant, TxDb};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use tokio::sync::OnceCell;
use uuid::Uuid;

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// `(server URL without database, URL of the `postgres` database)` from `DATABASE_URL`.
pub fn admin_url() -> anyhow::Result<(String, String)> {
    let url = std::env::var("DATABASE_URL")
        .context("DATABASE_URL must point at a PostgreSQL with pgvector (./dev test sets it)")?;
    let (base, _) = url.rsplit_once('/').context("DATABASE_URL needs a database name")?;
    Ok((base.to_owned(), format!("{base}/postgres")))
}

/// The name of the migrated template database, built once per migration fingerprint (by
/// whichever test process gets there first; an advisory lock serialises the build).
pub async fn template() -> anyhow::Result<String> {
    TEMPLATE.get_or_try_init(build_template).await.cloned()
}

async fn build_template() -> anyhow::Result<String> {
    let (base, admin) = admin_url()?;
    let name = format!("opsgraph_tpl_{}", opsgraph_migration::fingerprint());
    let conn = Database::connect(admin.as_str()).await?;
    conn.execute_unprepared("SELECT pg_advisory_lock(424242)").await?;
    let exists = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS x FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await?
        .is_some();
    if !exists {
        let building = format!("{name}_building");
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {building}")).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {building}")).await?;
        let tpl = Database::connect(format!("{base}/{building}")).await?;
        opsgraph_migration::Migrator::up(&tpl, None).await?;
        tpl.close().await?;
        conn.execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}")).await?;
    }
    conn.execute_unprepared("SELECT pg_advisory_unlock(424242)").await?;
    conn.close().await?;
    Ok(name)
}

/// A fresh, migrated database of one test.
pub struct TestDb {
    /// Its name (`opsgraph_t_…`).
    pub name: String,
    /// Its URL.
    pub url: String,
    /// A pool on it (the owner: use [`TestDb::tenant`] for what a request would see).
    pub pool: DatabaseConnection,
}

impl TestDb {
    /// Clones a new database from the template.
    pub async fn new() -> anyhow::Result<TestDb> {
        let tpl = template().await?;
        let (base, admin) = admin_url()?;
        let name = format!("opsgraph_t_{}", Uuid::new_v4().simple());
        let conn = Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {tpl}")).await?;
        conn.close().await?;
        let url = format!("{base}/{name}");
        let pool = Database::connect(url.as_str()).await?;
        Ok(TestDb { name, url, pool })
    }

    /// A transaction of organisation `org` under Row Level Security, as a request runs.
    pub async fn tenant(&self, org: Uuid) -> anyhow::Result<TxDb> {
        Ok(TxDb::begin(&self.pool, &Tenant { org_id: Some(org), ..Tenant::default() }).await?)
    }

    /// A transaction outside any organisation (sign-up and other setup run like this).
    pub async fn system(&self) -> anyhow::Result<TxDb> {
        Ok(TxDb::begin(&self.pool, &Tenant::default()).await?)
    }

    /// Drops the database (call at the end of a test; a panicking test leaves it for the
    /// next `./dev test` to sweep).
    pub async fn finish(self) {
        let _ = self.pool.close().await;
        drop_database(&self.name).await;
    }
}

/// Drops database `name` (forcing connections off); errors are ignored.
pub async fn drop_database(name: &str) {
    if let Ok((_, admin)) = admin_url()
        && let Ok(conn) = Database::connect(admin.as_str()).await
    {
        let _ = conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        let _ = conn.close().await;
    }
}
