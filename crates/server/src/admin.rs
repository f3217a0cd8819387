//! Operator commands: `opsgraph create-admin` (the first organisation and its owner on an
//! empty database, no demo data) and `opsgraph check` (is this configuration and database
//! ready to serve? one line per check, exit code for scripts) and `opsgraph probe` (the
//! container health check).

use opsgraph_core::{Session, Tenant, TxDb};
use opsgraph_org::service::signup::{NewAccount, SignUpInput, create_account};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::config::Config;

/// Creates the first organisation and its owner; refused when the database already has an
/// organisation. Returns the organisation's id.
pub async fn create_admin(
    pool: &DatabaseConnection,
    config: &Config,
    input: SignUpInput,
) -> anyhow::Result<uuid::Uuid> {
    let existing = opsgraph_org::service::organization::scheduled_ids(pool)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?
        .len();
    if existing > 0 {
        anyhow::bail!("the database already has {existing} organisation(s): create-admin only starts an empty one");
    }
    let account = NewAccount::from_input(input).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let db = TxDb::begin(pool, &Tenant::default()).await?;
    let tokens = create_account(&db, &config.auth(), &Session::anonymous("create-admin"), account)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    db.commit().await?;
    Ok(tokens.org_id.unwrap_or_default())
}

/// One readiness check: its name and what was found (`Err` when it failed).
pub type Finding = (&'static str, Result<String, String>);

/// Checks the configuration, the database (reachable, pgvector, migrations, the
/// application role) and the model files.
pub async fn check(config: &Config) -> Vec<Finding> {
    let mut out: Vec<Finding> =
        vec![("configuration", config.validate().map(|()| "valid".into()).map_err(|e| e.to_string()))];
    match crate::db::connect(&config.database_url, 1).await {
        Err(e) => out.push(("database", Err(format!("unreachable: {e}")))),
        Ok(pool) => {
            out.push(("database", Ok("reachable".into())));
            let one = |sql: &'static str| {
                let pool = pool.clone();
                async move {
                    let row = pool.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await;
                    row.map_err(|e| e.to_string())?
                        .map(|r| r.try_get::<String>("", "v").map_err(|e| e.to_string()))
                        .unwrap_or_else(|| Err("no answer".into()))
                }
            };
            out.push(("pgvector", one("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'").await));
            let current = crate::db::migrations_current(&pool).await;
            out.push((
                "migrations",
                if current { Ok("up to date".into()) } else { Err("pending: run migrate".into()) },
            ));
            out.push((
                "application role",
                one("SELECT rolname::text AS v FROM pg_roles WHERE rolname = 'opsgraph_app'").await,
            ));
        }
    }
    let embed = opsgraph_knowledge::embed::minilm::default_dir().filter(|d| d.join("model.safetensors").exists());
    out.push((
        "embedding model",
        embed.map(|d| d.display().to_string()).ok_or("not installed (OPSGRAPH_EMBED_MODEL)".into()),
    ));
    let llm = opsgraph_ai::llm::local::default_path().filter(|p| p.exists());
    out.push((
        "language model",
        llm.map(|p| p.display().to_string()).ok_or("not installed (OPSGRAPH_LLM_MODEL)".into()),
    ));
    out
}

/// Whether `url` (`http://host:port/path`) answers `200` within two seconds: one HTTP/1.0
/// GET over a plain TCP connection.
pub async fn probe(url: &str) -> bool {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let ask = async {
        let mut conn = tokio::net::TcpStream::connect(host).await.ok()?;
        let req = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        conn.write_all(req.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        conn.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.") && &head[8..12] == b" 200")
    };
    tokio::time::timeout(std::time::Duration::from_secs(2), ask).await.ok().flatten().unwrap_or(false)
}
