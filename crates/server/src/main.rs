//! `opsgraph`: serve, migrate, seed, register-operations, export-schema.

use clap::{Parser, Subcommand};

/// mimalloc: a large response is mostly short-lived small allocations made on two threads;
/// it spends markedly less time in malloc/free than the system allocator (see
/// docs/performance.md).
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
            telemetry::init(&config.log_format);
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
                let auth = config.auth();
                opsgraph_server::seed::demo(&pool, &auth).await?;
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
            opsgraph_server::seed::demo(&pool, &config.auth()).await?;
        }
        Command::RegisterOperations { config, org, files } => {
            let pool = db::connect(&config.database_url, 2).await?;
            let docs = files.iter().map(std::fs::read_to_string).collect::<Result<Vec<_>, _>>()?;
            let hashes = opsgraph_server::persisted::register(&pool, &docs, org)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            // The hashes are the command's output (a manifest for the client build).
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            for (h, f) in hashes.iter().zip(&files) {
                writeln!(out, "{h}  {}", f.display())?;
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
