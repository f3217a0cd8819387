//! Test harness: every test gets its own database, cloned from a migrated template, and
//! the real server on a loopback port; tests speak HTTP like a client.

#![allow(
    clippy::expect_used,
    clippy::too_many_lines,
    reason = "test code: a failed expectation is the test failing, with its message; scenarios read top to bottom"
)]

pub mod bench;
pub mod eval;
pub mod fake_chat;
pub mod fake_openai;
pub mod fake_otlp;
pub mod fake_webhook;
pub mod fuzz;
pub mod live;
pub mod portfolio;
pub mod proxy;

use std::net::SocketAddr;

use opsgraph_server::config::Config;
use opsgraph_server::state::AppState;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use opsgraph_testkit::{admin_url, template};

/// A running server on its own database.
pub struct TestApp {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Owner connection to the test database (bypasses nothing: use only for setup/asserts).
    pub pool: DatabaseConnection,
    /// The database name.
    pub db_name: String,
    /// The embedding models the server offers.
    pub models: opsgraph_knowledge::embed::Models,
    /// The ai runtime (models and secrets key) the server runs agents with.
    pub ai: opsgraph_ai::service::Runtime,
    /// The server's event hub (its start scopes count the batches subscription starts ran).
    pub events: opsgraph_core::live::Hub<opsgraph_core::live::Outbox>,
    /// The server's cache of requests seen before.
    pub prepared: std::sync::Arc<opsgraph_server::prepared::Prepared>,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// Spawns with default configuration.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// One pass of the knowledge indexer with the server's models; the chunks embedded.
    pub async fn index(&self) -> u64 {
        opsgraph_knowledge::service::indexer::run(&self.pool, &self.models).await.expect("indexer pass")
    }

    /// One pass of the ai runner; the replies written.
    pub async fn run_agents(&self) -> u64 {
        opsgraph_ai::service::runner::run_once(&self.pool, &self.ai).await.expect("ai runner pass")
    }

    /// One pass of the workflow engine; the steps done.
    pub async fn run_workflows(&self) -> u64 {
        opsgraph_ai::service::automation::run_once(&self.pool, &self.ai).await.expect("workflow pass")
    }

    /// Spawns after `adjust` changed the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        match Self::try_spawn(adjust).await {
            Ok(app) => app,
            Err(e) => panic!("test app failed to start: {e:#}"),
        }
    }

    async fn try_spawn(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<TestApp> {
        let tpl = template().await?;
        let (base_url, admin) = admin_url()?;
        let db_name = format!("opsgraph_t_{}", uuid::Uuid::new_v4().simple());
        let conn = Database::connect(admin.as_str()).await?;
        conn.execute_unprepared(&format!("CREATE DATABASE {db_name} TEMPLATE {tpl}")).await?;
        conn.close().await?;
        let url = format!("{base_url}/{db_name}");
        let mut config = Config::for_database(&url);
        config.expose_sql_count = true;
        config.db_pool_max = 4;
        config.live_pool_max = 2;
        config.max_depth = 20;
        // Cost limits are tested on their own; other tests may run big documents often.
        config.max_cost = u64::MAX / 4;
        config.cost_budget = u64::MAX / 4;
        config.cost_refill_per_sec = u64::MAX / 4;
        // Tests dispatch notifications explicitly (`dispatch::run_once`) unless they turn the
        // background dispatcher on.
        config.dispatch_interval_ms = 0;
        config.reminder_interval_secs = 0;
        // Tests run the knowledge indexer explicitly (`indexer::run`) for determinism.
        config.index_interval_ms = 0;
        // And the ai runner (`runner::run_once`).
        config.ai_interval_ms = 0;
        // And webhooks (the webhook tests turn the job on).
        config.webhook_interval_ms = 0;
        // And KPI measurements (`kpis::run_due`).
        config.kpi_interval_ms = 0;
        // Test receivers (webhooks, MCP servers) listen on loopback.
        config.outbound_allow_private = true;
        adjust(&mut config);
        let (pool, live_pool) = opsgraph_server::db::pools(&config).await?;
        let state = AppState::new(config, pool.clone(), live_pool)?;
        let models = state.models.clone();
        let ai = state.ai.clone();
        let events = state.events.clone();
        let prepared = state.prepared.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(opsgraph_server::serve(listener, state, async move {
            let _ = rx.await;
        }));
        Ok(TestApp {
            base: format!("http://{addr}"),
            pool,
            db_name,
            models,
            ai,
            events,
            prepared,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
        })
    }

    /// POSTs a raw body to /graphql; returns status and JSON.
    pub async fn post_raw(&self, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req =
            self.client.post(format!("{}/graphql", self.base)).header("content-type", "application/json").body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let json = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, json)
    }

    /// Runs a GraphQL operation with optional bearer token.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
        self.post_raw(serde_json::to_vec(&json!({ "query": query, "variables": variables })).expect("json"), &headers)
            .await
            .1
    }

    /// Any HTTP request: returns status, headers and body text.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap_or_default())
    }

    /// Runs a GraphQL operation from another client address (`127.0.0.x`).
    pub async fn gql_from(&self, ip: std::net::IpAddr, token: Option<&str>, query: &str, variables: Value) -> Value {
        let client = reqwest::Client::builder().local_address(ip).build().expect("client");
        let mut req = client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&json!({ "query": query, "variables": variables })).expect("json"));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        req.send().await.expect("request sent").json::<Value>().await.unwrap_or(Value::Null)
    }

    /// Runs a GET against the server.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let resp = self.client.get(format!("{}{path}", self.base)).send().await.expect("request sent");
        (resp.status().as_u16(), resp.text().await.unwrap_or_default())
    }

    /// Signs up `email` with a new organisation through the e-mail verification flow
    /// (signUp, the token from the outbox e-mail, verifyEmail); returns (access token,
    /// refresh token).
    pub async fn sign_up(&self, email: &str, org: &str) -> (String, String) {
        let r = self
            .gql(
                None,
                "mutation($i: SignUpInput!) { signUp(input: $i) { message } }",
                json!({ "i": { "email": email, "password": PASSWORD, "firstName": "Test", "lastName": "User", "organizationName": org } }),
            )
            .await;
        assert!(r["data"]["signUp"]["message"].is_string(), "signUp failed: {r}");
        let token =
            self.verification_token(email).await.unwrap_or_else(|| panic!("no verification e-mail for {email}"));
        let v = self
            .gql(
                None,
                "mutation($t: String!) { verifyEmail(input: { token: $t }) { accessToken refreshToken } }",
                json!({ "t": token }),
            )
            .await;
        let p = &v["data"]["verifyEmail"];
        (
            p["accessToken"].as_str().unwrap_or_else(|| panic!("verifyEmail failed: {v}")).to_owned(),
            p["refreshToken"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// The token of the newest sign-up verification e-mail to `email`, read from the outbox.
    pub async fn verification_token(&self, email: &str) -> Option<String> {
        self.emailed_token(email, "signup.verify").await
    }

    /// The token of the newest e-mail of `kind` (`signup.verify`, `member.invite`) to `email`.
    pub async fn emailed_token(&self, email: &str, kind: &str) -> Option<String> {
        let row = self
            .pool
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT body FROM outbound_emails WHERE to_address = lower($1) AND kind = $2 \
                 ORDER BY created_at DESC LIMIT 1",
                [email.into(), kind.into()],
            ))
            .await
            .ok()
            .flatten()?;
        let body: String = row.try_get("", "body").ok()?;
        body.lines().find_map(|l| l.strip_prefix("token: ")).map(str::to_owned)
    }

    /// Adds a member with `role` through the API; they accept the invitation with
    /// [`PASSWORD`]. Returns (their access token, membership id).
    pub async fn member(&self, owner: &str, email: &str, role: &str) -> (String, String) {
        let r = self
            .gql(
                Some(owner),
                "mutation($i: AddMemberInput!) { addMember(input: $i) { membership { id } invitationToken } }",
                json!({ "i": { "email": email, "role": role, "firstName": "M", "lastName": role } }),
            )
            .await;
        let id = r["data"]["addMember"]["membership"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("addMember failed: {r}"))
            .to_owned();
        let token = r["data"]["addMember"]["invitationToken"].as_str().unwrap_or_default().to_owned();
        let a = self
            .gql(
                None,
                "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { accessToken } }",
                json!({ "i": { "token": token, "password": PASSWORD } }),
            )
            .await;
        let access = a["data"]["acceptInvitation"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("acceptInvitation failed: {a}"))
            .to_owned();
        (access, id)
    }

    /// Logs in; returns the access token.
    pub async fn log_in(&self, email: &str) -> String {
        let r = self
            .gql(
                None,
                "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": PASSWORD } }),
            )
            .await;
        r["data"]["logIn"]["accessToken"].as_str().unwrap_or_else(|| panic!("logIn failed: {r}")).to_owned()
    }

    /// Row counts of `tables` in a transaction with only a CLIENT member's tenant settings
    /// (`member_gid` is its Membership id): what Row Level Security lets that client see.
    pub async fn counts_as_client(&self, member_gid: &str, tables: &[&str]) -> Vec<(String, i64)> {
        use opsgraph_core::{Tenant, TxDb};
        let member = opsgraph_core::id::decode_as(member_gid, "Membership", "id").expect("member id");
        let row = self
            .pool
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT org_id FROM memberships WHERE id = $1",
                [member.into()],
            ))
            .await
            .ok()
            .flatten()
            .expect("membership row");
        let org: uuid::Uuid = row.try_get("", "org_id").expect("org");
        let tenant = Tenant { org_id: Some(org), client_member: Some(member), ..Default::default() };
        let db = TxDb::begin(&self.pool, &tenant).await.expect("tx");
        let mut out = vec![];
        for table in tables {
            let sql = format!("SELECT count(*) AS n FROM {table}");
            let row =
                db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.ok().flatten().expect("count");
            out.push(((*table).to_owned(), row.try_get::<i64>("", "n").expect("n")));
        }
        let _ = db.rollback().await;
        out
    }

    /// One scalar from SQL as the owner role (test assertions only).
    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .pool
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("query")
            .expect("row");
        row.try_get::<i64>("", "n").expect("column n")
    }

    /// The id of the active organisation of the caller holding `token`.
    pub async fn org_of(&self, token: &str) -> uuid::Uuid {
        let r = self.gql(Some(token), "{ organization { id } }", json!({})).await;
        let gid = data(&r)["organization"]["id"].as_str().unwrap_or_else(|| panic!("no organisation: {r}")).to_owned();
        opsgraph_core::id::decode_as(&gid, "Organization", "id").expect("organisation id")
    }

    /// One scalar from SQL in a system transaction of `job` (what the server's background
    /// jobs see across organisations; test diagnostics only).
    pub async fn count_as_system(&self, sql: &str, job: &str) -> i64 {
        let db = opsgraph_core::TxDb::begin_system(&self.pool, None, job).await.expect("system tx");
        let row =
            db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.expect("query").expect("row");
        let _ = db.rollback().await;
        row.try_get::<i64>("", "n").expect("column n")
    }

    /// The test database's URL (for a second server instance).
    pub fn database_url(&self) -> String {
        let (base, _) = admin_url().expect("DATABASE_URL");
        format!("{base}/{}", self.db_name)
    }

    /// Starts the server's graceful shutdown (the database stays until [`TestApp::finish`]).
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server and drops the database.
    pub async fn finish(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.pool.clone().close().await;
        opsgraph_testkit::drop_database(&self.db_name).await;
    }
}

/// Password of every test account.
pub const PASSWORD: &str = "correct horse battery staple";

/// The `extensions.code` of the first error, if any.
pub fn code(resp: &Value) -> Option<&str> {
    resp["errors"][0]["extensions"]["code"].as_str()
}

/// The `extensions.field` of the first error, if any.
pub fn field(resp: &Value) -> Option<&str> {
    resp["errors"][0]["extensions"]["field"].as_str()
}

/// The strings a PDF shows (`(...) Tj`), unescaped.
pub fn pdf_text(pdf: &str) -> Vec<String> {
    let mut out = vec![];
    let mut chars = pdf.chars();
    while let Some(c) = chars.next() {
        if c != '(' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => s.extend(chars.next()),
                ')' => break,
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

/// Asserts a response has no errors and returns `data`.
pub fn data(resp: &Value) -> &Value {
    assert!(resp.get("errors").is_none(), "unexpected errors: {resp}");
    &resp["data"]
}

impl TestApp {
    /// Logs in with an explicit password; returns the access token.
    pub async fn log_in_as(&self, email: &str, password: &str) -> String {
        let r = self
            .gql(
                None,
                "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        r["data"]["logIn"]["accessToken"].as_str().unwrap_or_else(|| panic!("logIn failed: {r}")).to_owned()
    }
}

/// A WebSocket to `/graphql/ws` speaking graphql-transport-ws.
pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// Opens `/graphql/ws` with the graphql-transport-ws subprotocol.
    pub async fn ws(&self) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}/graphql/ws", self.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().expect("header"));
        let (ws, resp) = tokio_tungstenite::connect_async(req).await.expect("ws connect");
        assert_eq!(
            resp.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        ws
    }
}

/// The `opsgraph` binary cargo built next to the test executable (`./dev test` builds it
/// first), or `OPSGRAPH_BIN` (a benchmark comparing two builds).
pub fn opsgraph_bin() -> std::path::PathBuf {
    if let Some(bin) = std::env::var_os("OPSGRAPH_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("opsgraph"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| panic!("the opsgraph binary is not built: run `cargo build -p opsgraph-server` first"))
}

/// The real `opsgraph serve` binary running as a separate OS process (another server
/// instance), killed on drop.
pub struct ServerProcess {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// The process.
    pub child: tokio::process::Child,
}

impl ServerProcess {
    /// Starts `opsgraph serve` on `database_url` (already migrated) with `env` overrides,
    /// on a free port; returns once it listens. The binary is the one cargo built next to
    /// the test executable (`./dev test` builds it first).
    pub async fn spawn(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        use tokio::io::AsyncBufReadExt;
        let mut cmd = tokio::process::Command::new(opsgraph_bin());
        cmd.arg("serve")
            .env("DATABASE_URL", database_url)
            .env("OPSGRAPH_BIND", "127.0.0.1:0")
            .env("OPSGRAPH_DISPATCH_INTERVAL_MS", "0")
            .env("OPSGRAPH_REMINDER_INTERVAL_SECS", "0")
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info,sqlx=warn,sea_orm=warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn opsgraph");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let base = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("GraphiQL: http://") {
                    let url = &line[at + "GraphiQL: ".len()..];
                    return url.trim().trim_end_matches("/graphql").to_owned();
                }
            }
            panic!("opsgraph exited before listening");
        })
        .await
        .expect("opsgraph started within 30 s");
        // Keep draining its output so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess { base, child }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }
}
