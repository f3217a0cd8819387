//! Configuration from environment variables (see the README's table). Secrets are never
//! printed: `Debug` redacts them.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

/// Development-only signing key, refused when `OPSGRAPH_ENV=production`.
const DEV_JWT_SECRET: &str = "opsgraph-development-secret-change-me-0123456789";

/// Everything the server reads from its environment.
#[derive(Args, Clone)]
pub struct Config {
    /// PostgreSQL URL (with pgvector).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "OPSGRAPH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// `development` or `production` (production refuses the development JWT secret).
    #[arg(long, env = "OPSGRAPH_ENV", default_value = "development")]
    pub env: String,
    /// HMAC key of access tokens (at least 32 bytes).
    #[arg(long, env = "OPSGRAPH_JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true)]
    pub jwt_secret: String,
    /// AES-256 key (64 hex digits) that seals secrets at rest, such as language-model
    /// providers' API keys. Changing it makes the stored ones unreadable.
    #[arg(long, env = "OPSGRAPH_SECRET_KEY", default_value = opsgraph_core::secrets::DEV_KEY, hide_default_value = true)]
    pub secret_key: String,
    /// Highest cost of one document (connections cost their page size times their children).
    #[arg(long, env = "OPSGRAPH_MAX_COST", default_value_t = 50_000)]
    pub max_cost: u64,
    /// Cost points per caller's bucket (see `cost`).
    #[arg(long, env = "OPSGRAPH_COST_BUDGET", default_value_t = 100_000)]
    pub cost_budget: u64,
    /// Points a bucket refills per second.
    #[arg(long, env = "OPSGRAPH_COST_REFILL_PER_SEC", default_value_t = 2_000)]
    pub cost_refill_per_sec: u64,
    /// Bearer token of `GET /metrics` (unset: the endpoint is off).
    #[arg(long, env = "OPSGRAPH_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Run only registered operations (persisted queries, `opsgraph register-operations`).
    #[arg(long, env = "OPSGRAPH_PERSISTED_ONLY", default_value_t = false, action = clap::ArgAction::Set)]
    pub persisted_only: bool,
    /// Let workflows call webhooks on loopback and private addresses (off: SSRF guard).
    #[arg(long, env = "OPSGRAPH_OUTBOUND_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub outbound_allow_private: bool,
    /// Access-token lifetime in seconds.
    #[arg(long, env = "OPSGRAPH_ACCESS_TTL_SECS", default_value_t = 900)]
    pub access_ttl_secs: u64,
    /// Refresh-token lifetime in seconds.
    #[arg(long, env = "OPSGRAPH_REFRESH_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_ttl_secs: u64,
    /// Failed sign-ins allowed per account per window.
    #[arg(long, env = "OPSGRAPH_LOGIN_MAX_FAILURES_ACCOUNT", default_value_t = 5)]
    pub login_max_failures_account: i64,
    /// Failed sign-ins allowed per client address per window.
    #[arg(long, env = "OPSGRAPH_LOGIN_MAX_FAILURES_IP", default_value_t = 30)]
    pub login_max_failures_ip: i64,
    /// Sign-in rate-limit window in seconds.
    #[arg(long, env = "OPSGRAPH_LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: u64,
    /// `text` or `json` logs.
    #[arg(long, env = "OPSGRAPH_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// OTLP/HTTP collector for traces (`http://host:4318`; spans go to `/v1/traces`).
    /// Unset: no spans are exported and none of the tracing work happens.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Share of new traces sampled (0.0–1.0); a caller's `traceparent` decides for its own.
    #[arg(long, env = "OPSGRAPH_TRACE_SAMPLE", default_value_t = 1.0)]
    pub trace_sample: f64,
    /// Maximum query depth (GraphiQL's introspection query needs 13).
    #[arg(long, env = "OPSGRAPH_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,
    /// Maximum query complexity (each field counts 1; lists multiply by `first`).
    #[arg(long, env = "OPSGRAPH_MAX_COMPLEXITY", default_value_t = 5000)]
    pub max_complexity: usize,
    /// Maximum aliases in one document.
    #[arg(long, env = "OPSGRAPH_MAX_ALIASES", default_value_t = 30)]
    pub max_aliases: usize,
    /// Maximum directives in one document.
    #[arg(long, env = "OPSGRAPH_MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: usize,
    /// Maximum recursion depth of the parser (nesting of selections, lists and objects).
    #[arg(long, env = "OPSGRAPH_MAX_RECURSION", default_value_t = 32)]
    pub max_recursion: usize,
    /// Maximum request body in bytes.
    #[arg(long, env = "OPSGRAPH_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Maximum operations in one batched request.
    #[arg(long, env = "OPSGRAPH_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,
    /// Whether introspection is allowed (GraphiQL needs it).
    #[arg(long, env = "OPSGRAPH_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// Database pool size.
    #[arg(long, env = "OPSGRAPH_DB_POOL_MAX", default_value_t = 10)]
    pub db_pool_max: u32,
    /// How long the permission re-checks of one live batch wait for the other subscribers'
    /// keys, in milliseconds (request loaders need no window: see `opsgraph_core::batch`).
    #[arg(long, env = "OPSGRAPH_LIVE_BATCH_WINDOW_MS", default_value_t = 2)]
    pub live_batch_window_ms: u64,
    /// Events queued for one subscriber before it counts as lagging and catches up from
    /// the database (memory is taken only for what is queued).
    #[arg(long, env = "OPSGRAPH_LIVE_QUEUE", default_value_t = 4096)]
    pub live_queue: usize,
    /// Events each organisation's feed keeps in memory after routing them: a subscriber
    /// resuming with `after` (or catching up) within them reads no database.
    #[arg(long, env = "OPSGRAPH_LIVE_HISTORY", default_value_t = 4096)]
    pub live_history: usize,
    /// How often the notification dispatcher looks for new events, in milliseconds (0: off).
    #[arg(long, env = "OPSGRAPH_DISPATCH_INTERVAL_MS", default_value_t = 500)]
    pub dispatch_interval_ms: u64,
    /// How often the knowledge indexer looks for chunks to embed, in milliseconds (0: off).
    #[arg(long, env = "OPSGRAPH_INDEX_INTERVAL_MS", default_value_t = 500)]
    pub index_interval_ms: u64,
    /// How often the ai runner looks for replies to write, in milliseconds (0: off).
    #[arg(long, env = "OPSGRAPH_AI_INTERVAL_MS", default_value_t = 200)]
    pub ai_interval_ms: u64,
    /// How often outgoing webhooks are queued and sent, in milliseconds (0: off).
    #[arg(long, env = "OPSGRAPH_WEBHOOK_INTERVAL_MS", default_value_t = 500)]
    pub webhook_interval_ms: u64,
    /// How often the KPI job measures KPIs not measured for as long, in milliseconds (0: off).
    #[arg(long, env = "OPSGRAPH_KPI_INTERVAL_MS", default_value_t = 300_000)]
    pub kpi_interval_ms: u64,
    /// First retry delay of a failed webhook delivery, in milliseconds (doubles per attempt).
    #[arg(long, env = "OPSGRAPH_WEBHOOK_RETRY_BASE_MS", default_value_t = 1000)]
    pub webhook_retry_base_ms: u64,
    /// Longest retry delay of a webhook delivery, in milliseconds.
    #[arg(long, env = "OPSGRAPH_WEBHOOK_RETRY_MAX_MS", default_value_t = 3_600_000)]
    pub webhook_retry_max_ms: u64,
    /// Failed attempts in a row after which a webhook endpoint is disabled.
    #[arg(long, env = "OPSGRAPH_WEBHOOK_DISABLE_AFTER", default_value_t = 20)]
    pub webhook_disable_after: i32,
    /// How often due/overdue reminders are produced, in seconds (0: off).
    #[arg(long, env = "OPSGRAPH_REMINDER_INTERVAL_SECS", default_value_t = 300)]
    pub reminder_interval_secs: u64,
    /// How long committed events stay in the outbox (and so how far back a subscription can
    /// resume with `after`), in hours.
    #[arg(long, env = "OPSGRAPH_EVENT_RETENTION_HOURS", default_value_t = 72)]
    pub event_retention_hours: u64,
    /// How often expired events are pruned, in seconds (0: never).
    #[arg(long, env = "OPSGRAPH_PRUNE_INTERVAL_SECS", default_value_t = 600)]
    pub prune_interval_secs: u64,
    /// WebSocket read buffer per connection, in bytes.
    #[arg(long, env = "OPSGRAPH_WS_READ_BUFFER", default_value_t = 1024)]
    pub ws_read_buffer: usize,
    /// Largest WebSocket message a client may send, in bytes.
    #[arg(long, env = "OPSGRAPH_WS_MAX_MESSAGE", default_value_t = 64 * 1024)]
    pub ws_max_message: usize,
    /// Active subscriptions allowed per WebSocket connection.
    #[arg(long, env = "OPSGRAPH_WS_MAX_SUBSCRIPTIONS", default_value_t = 25)]
    pub ws_max_subscriptions: usize,
    /// Outgoing messages queued per connection before the client counts as too slow and is
    /// disconnected (close 4008; it resumes with `after`).
    #[arg(long, env = "OPSGRAPH_WS_SEND_QUEUE", default_value_t = 256)]
    pub ws_send_queue: usize,
    /// Seconds between keep-alive pings; a connection silent for three intervals is closed.
    #[arg(long, env = "OPSGRAPH_WS_KEEPALIVE_SECS", default_value_t = 15)]
    pub ws_keepalive_secs: u64,
    /// Seconds a client has to send `connection_init` (else close 4408).
    #[arg(long, env = "OPSGRAPH_WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    pub ws_init_timeout_secs: u64,
    /// Origins allowed to call the API from a browser (comma separated; `*` for any).
    /// Empty: no cross-origin browser calls.
    #[arg(long, env = "OPSGRAPH_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Whether allowed origins may send credentials (cookies); never with `*`.
    #[arg(long, env = "OPSGRAPH_CORS_CREDENTIALS", default_value_t = false, action = clap::ArgAction::Set)]
    pub cors_credentials: bool,
    /// Longest wait for a pooled database connection, in milliseconds; past it a request
    /// answers SERVICE_UNAVAILABLE (HTTP 503, `Retry-After`).
    #[arg(long, env = "OPSGRAPH_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 3000)]
    pub db_acquire_timeout_ms: u64,
    /// Longest wait for a connection of the live-delivery pool, in milliseconds: live work
    /// (subscription starts, feeds, re-checks) waits its turn rather than failing, so a
    /// reconnect storm of thousands of subscribers queues instead of being refused.
    #[arg(long, env = "OPSGRAPH_LIVE_ACQUIRE_TIMEOUT_MS", default_value_t = 30000)]
    pub live_acquire_timeout_ms: u64,
    /// Connections of the live-delivery pool (subscriptions never wait behind requests).
    #[arg(long, env = "OPSGRAPH_LIVE_POOL_MAX", default_value_t = 4)]
    pub live_pool_max: u32,
    /// Base URL of an OpenAI-compatible embeddings endpoint (`…/v1`), offered beside the
    /// local model; unset: the local model only.
    #[arg(long, env = "OPSGRAPH_EMBED_REMOTE_URL")]
    pub embed_remote_url: Option<String>,
    /// Its API key (sent as a bearer token; never logged or returned).
    #[arg(long, env = "OPSGRAPH_EMBED_REMOTE_KEY", hide_env_values = true)]
    pub embed_remote_key: Option<String>,
    /// The remote model's name.
    #[arg(long, env = "OPSGRAPH_EMBED_REMOTE_MODEL", default_value = "text-embedding-3-small")]
    pub embed_remote_model: String,
    /// The remote model's dimensions.
    #[arg(long, env = "OPSGRAPH_EMBED_REMOTE_DIMENSIONS", default_value_t = 1536)]
    pub embed_remote_dimensions: usize,
    /// Ask the remote model for that many dimensions (models that shorten their vectors).
    #[arg(long, env = "OPSGRAPH_EMBED_REMOTE_SEND_DIMENSIONS", default_value_t = false, action = clap::ArgAction::Set)]
    pub embed_remote_send_dimensions: bool,
    /// Seconds one remote embedding call may take.
    #[arg(long, env = "OPSGRAPH_EMBED_REMOTE_TIMEOUT_SECS", default_value_t = 30)]
    pub embed_remote_timeout_secs: u64,
    /// Retries of a remote call after a 429, a 5xx or a network failure.
    #[arg(long, env = "OPSGRAPH_EMBED_REMOTE_RETRIES", default_value_t = 3)]
    pub embed_remote_retries: u32,
    /// The embedding model new collections use (default: the local all-MiniLM-L6-v2).
    #[arg(long, env = "OPSGRAPH_EMBED_DEFAULT")]
    pub embed_default: Option<String>,
    /// Adds `extensions.sqlStatements` and `sqlRoundTrips` to every response (for tests
    /// and profiling).
    #[arg(long, env = "OPSGRAPH_EXPOSE_SQL_COUNT", default_value_t = false, action = clap::ArgAction::Set)]
    pub expose_sql_count: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = match self.database_url.split_once('@') {
            Some((_, host)) => format!("postgres://<redacted>@{host}"),
            None => "<redacted>".into(),
        };
        f.debug_struct("Config")
            .field("database_url", &url)
            .field("bind", &self.bind)
            .field("env", &self.env)
            .field("jwt_secret", &"<redacted>")
            .field("secret_key", &"<redacted>")
            .field("max_depth", &self.max_depth)
            .field("max_complexity", &self.max_complexity)
            .field("introspection", &self.introspection)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The embedding models this configuration offers.
    pub fn embedding_models(&self) -> anyhow::Result<opsgraph_knowledge::embed::Models> {
        use opsgraph_knowledge::embed::{Models, openai};
        let remote = self.embed_remote_url.as_ref().map(|url| openai::Settings {
            base_url: url.clone(),
            api_key: self.embed_remote_key.clone(),
            model: self.embed_remote_model.clone(),
            dimensions: self.embed_remote_dimensions,
            request_dimensions: self.embed_remote_send_dimensions,
            timeout: Duration::from_secs(self.embed_remote_timeout_secs),
            max_retries: self.embed_remote_retries,
        });
        Models::new(remote, self.embed_default.as_deref()).map_err(|e| anyhow::anyhow!(e))
    }

    /// A configuration for `database_url` with every default (tests, tools).
    pub fn for_database(database_url: &str) -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        match Wrapper::try_parse_from(["opsgraph", "--database-url", database_url]) {
            Ok(w) => w.config,
            Err(e) => unreachable!("defaults always parse: {e}"),
        }
    }

    /// Checks values that clap cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.jwt_secret.len() < 32 {
            anyhow::bail!("OPSGRAPH_JWT_SECRET must be at least 32 bytes");
        }
        if self.env == "production" && self.jwt_secret == DEV_JWT_SECRET {
            anyhow::bail!("set OPSGRAPH_JWT_SECRET in production");
        }
        if self.max_cost > self.cost_budget {
            anyhow::bail!("OPSGRAPH_MAX_COST must not exceed OPSGRAPH_COST_BUDGET: such a query could never run");
        }
        if self.env == "production" && self.secret_key == opsgraph_core::secrets::DEV_KEY {
            anyhow::bail!("set OPSGRAPH_SECRET_KEY in production");
        }
        opsgraph_core::secrets::Sealer::from_hex(&self.secret_key)
            .map_err(|e| anyhow::anyhow!("OPSGRAPH_SECRET_KEY: {e}"))?;
        if self.webhook_disable_after < 1 {
            anyhow::bail!("OPSGRAPH_WEBHOOK_DISABLE_AFTER must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.trace_sample) {
            anyhow::bail!("OPSGRAPH_TRACE_SAMPLE must be between 0 and 1");
        }
        Ok(())
    }

    /// The allowed CORS origins.
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(|s| s.trim().trim_end_matches('/').to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The document limits checked before execution.
    pub fn limits(&self) -> crate::limits::Limits {
        crate::limits::Limits {
            depth: self.max_depth,
            fields: self.max_complexity,
            aliases: self.max_aliases,
            directives: self.max_directives,
            nesting: self.max_recursion,
            cost: self.max_cost,
        }
    }

    /// The auth settings for the org domain.
    pub fn auth(&self) -> opsgraph_org::AuthConfig {
        opsgraph_org::AuthConfig {
            jwt_secret: self.jwt_secret.as_bytes().to_vec(),
            access_ttl: Duration::from_secs(self.access_ttl_secs),
            refresh_ttl: Duration::from_secs(self.refresh_ttl_secs),
            max_failures_per_account: self.login_max_failures_account,
            max_failures_per_ip: self.login_max_failures_ip,
            failure_window: Duration::from_secs(self.login_window_secs),
        }
    }
}
