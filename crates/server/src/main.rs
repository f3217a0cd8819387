//! `opsgraph`: serve, migrate, seed, create-admin, check, register-operations, probe,
//! export-schema.

use clap::{Parser, Subcommand};

/// mimalloc: a large response is mostly short-lived small allocations made on two threads;
/// it spends markedly less time in malloc/free than the system allocator (see
/// docs/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use opsgraph_server::config::Config;
use opsgraph_server::{db, serve, shutdown_signal, state::AppState, telemetry};

#[derive(Parser)]
#[command(name = "opsgraph", about = "The opsgraph GraphQL API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (GraphiQL at /graphql).
    Serve {
        #[command(flatten)]
        config: Config,
        /// Create the database if missing and apply migrations first.
        #[arg(long)]
        migrate: bool,
        /// Load the demo organisations if they are not there yet.
        #[arg(long)]
        seed: bool,
    },
    /// Apply pending migrations.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Load the demo organisations (idempotent).
    Seed {
        #[command(flatten)]
        config: Config,
    },
    /// Create the first organisation and its owner on an empty database (no demo data);
    /// the password comes from `OPSGRAPH_ADMIN_PASSWORD`, never the command line.
    CreateAdmin {
        #[command(flatten)]
        config: Config,
        /// The owner's e-mail.
        #[arg(long)]
        email: String,
        /// The owner's given name.
        #[arg(long)]
        first_name: String,
        /// The owner's family name.
        #[arg(long, default_value = "")]
        last_name: String,
        /// The organisation's name.
        #[arg(long)]
        organization: String,
    },
    /// Check that the configuration and the database are ready (exit code 1 if not).
    Check {
        #[command(flatten)]
        config: Config,
    },
    /// Register a client build's operations for the allow-list mode
    /// (`OPSGRAPH_PERSISTED_ONLY`): each `.graphql` file is one document, exactly as the
    /// client sends it; prints each file's SHA-256, the hash the client sends.
    RegisterOperations {
        #[command(flatten)]
        config: Config,
        /// Only for this organisation (its UUID); default: for every organisation.
        #[arg(long)]
        org: Option<uuid::Uuid>,
        /// The `.graphql` files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Exit 0 when `url` answers 200 within two seconds, else 1 (the container health
    /// check: the image has no curl).
    Probe {
        /// A plain `http://host:port/path` URL.
        #[arg(long, default_value = "http://127.0.0.1:8080/readyz")]
        url: String,
    },
    /// Write the schema's SDL.
    ExportSchema {
        /// Output file.
        #[arg(long, default_value = "schema.graphql")]
        path: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, migrate, seed } => {
            let _traces =
                telemetry::init_with_traces(&config.log_format, config.otlp_endpoint.as_deref(), config.trace_sample)?;
            config.validate()?;
            tracing::info!(config = ?config, "starting");
            if migrate {
                db::ensure_database(&config.database_url).await?;
            }
            let (pool, live_pool) = db::pools(&config).await?;
            if migrate {
                db::migrate(&pool).await?;
            }
            if seed {
                opsgraph_server::seed::demo(&pool, &config).await?;
            }
            let listener = tokio::net::TcpListener::bind(config.bind).await?;
            tracing::info!("GraphiQL: http://{}/graphql", listener.local_addr()?);
            if seed {
                tracing::info!(
                    "demo logins: owner@acme.example, owner@globex.example (and grace@, alan@acme.example, ...); \
                     client portal: {}; password {}",
                    opsgraph_crm::seed::PORTAL_LOGINS.join(", "),
                    opsgraph_server::seed::DEMO_PASSWORD
                );
            }
            let state = AppState::new(config, pool, live_pool)?;
            serve(listener, state, shutdown_signal()).await?;
        }
        Command::Migrate { config } => {
            telemetry::init(&config.log_format);
            db::ensure_database(&config.database_url).await?;
            let pool = db::connect(&config.database_url, 2).await?;
            db::migrate(&pool).await?;
            tracing::info!("migrations applied");
        }
        Command::Seed { config } => {
            telemetry::init(&config.log_format);
            let pool = db::connect(&config.database_url, 2).await?;
            opsgraph_server::seed::demo(&pool, &config).await?;
        }
        Command::CreateAdmin { config, email, first_name, last_name, organization } => {
            create_admin(config, email, (first_name, last_name), organization).await?;
        }
        Command::Check { config } => check(config).await?,
        Command::RegisterOperations { config, org, files } => register_operations(config, org, files).await?,
        Command::Probe { url } => {
            if !opsgraph_server::admin::probe(&url).await {
                std::process::exit(1);
            }
        }
        Command::ExportSchema { path } => {
            let sdl = opsgraph_schema::sdl().map_err(|e| anyhow::anyhow!(e))?;
            std::fs::write(&path, sdl)?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

async fn create_admin(
    config: Config,
    email: String,
    (first_name, last_name): (String, String),
    organization: String,
) -> anyhow::Result<()> {
    let password = std::env::var("OPSGRAPH_ADMIN_PASSWORD")
        .map_err(|_| anyhow::anyhow!("set OPSGRAPH_ADMIN_PASSWORD (at least 10 characters)"))?;
    let pool = db::connect(&config.database_url, 2).await?;
    let input = opsgraph_org::service::signup::SignUpInput {
        email,
        password,
        first_name,
        last_name,
        organization_name: organization,
    };
    let org = opsgraph_server::admin::create_admin(&pool, &config, input).await?;
    eprintln!("created organisation {org} and its owner; sign in with logIn");
    Ok(())
}

/// Prints one line per readiness check; exits 1 when one failed.
async fn check(config: Config) -> anyhow::Result<()> {
    use std::io::Write as _;
    let findings = opsgraph_server::admin::check(&config).await;
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for (what, result) in &findings {
        match result {
            Ok(v) => writeln!(out, "ok    {what}: {v}")?,
            Err(e) => {
                failed = true;
                writeln!(out, "FAIL  {what}: {e}")?;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

/// Registers `.graphql` files as allowed operations; prints their hashes (a manifest).
async fn register_operations(
    config: Config,
    org: Option<uuid::Uuid>,
    files: Vec<std::path::PathBuf>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let pool = db::connect(&config.database_url, 2).await?;
    let docs = files.iter().map(std::fs::read_to_string).collect::<Result<Vec<_>, _>>()?;
    let hashes = opsgraph_server::persisted::register(&pool, &docs, org)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let mut out = std::io::stdout().lock();
    for (h, f) in hashes.iter().zip(&files) {
        writeln!(out, "{h}  {}", f.display())?;
    }
    Ok(())
}
