//! Timing of the benchmarks: one warm-up run, then `n` timed runs of a query through the
//! endpoint; percentiles, mean and the statements one run takes.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{TestApp, data};

/// The figures of one measured query.
pub struct Timing {
    /// Median latency.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// Mean.
    pub mean: Duration,
    /// SQL statements of one run (`extensions.sqlStatements`).
    pub statements: u64,
}

impl Timing {
    /// One report line: `name  p50 .. ms  p95 .. ms  mean .. ms  statements n`.
    pub fn line(&self, name: &str) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "{name:<44} p50 {:>8.2} ms   p95 {:>8.2} ms   mean {:>8.2} ms   statements {}",
            ms(self.p50),
            ms(self.p95),
            ms(self.mean),
            self.statements
        )
    }
}

/// The `p` quantile (0..1) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i.min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

/// Runs `query` once to warm up, then `n` times; every run must succeed.
pub async fn measure(app: &TestApp, token: &str, query: &str, vars: Value, n: usize) -> Timing {
    let first = app.gql(Some(token), query, vars.clone()).await;
    data(&first);
    let statements = first["extensions"]["sqlStatements"].as_u64().unwrap_or(0);
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = app.gql(Some(token), query, vars.clone()).await;
        samples.push(t.elapsed());
        assert!(r.get("errors").is_none(), "{query}: {r}");
    }
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    Timing { p50: percentile(&samples, 0.5), p95: percentile(&samples, 0.95), mean, statements }
}

/// The resident memory of process `pid` in KiB (0 when unknown).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The `p` quantile (0..1) of sorted milliseconds (NaN when empty).
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `n` active MEMBERs of the organisation of the app's first membership, made with
/// set-based SQL (setup only) with e-mails `<prefix><i>@bench.example`, then `then` (SQL
/// taking their membership ids as `$1::uuid[]`: staff them, add them to a channel); returns
/// each one's access token (signed with the default development secret).
pub async fn bulk_members(app: &TestApp, n: usize, prefix: &str, then: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let like = format!("{prefix}%@bench.example");
    let stmt = |sql: &str| {
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [(n as i64).into(), prefix.into(), like.clone().into()],
        )
    };
    for sql in [
        "INSERT INTO users (id, email, first_name) SELECT gen_random_uuid(), $2 || g || '@bench.example', 'Sub' \
           FROM generate_series(1, $1) g",
        "INSERT INTO memberships (id, org_id, user_id, role, is_active) SELECT gen_random_uuid(), o.org_id, u.id, 'MEMBER', true \
           FROM users u, (SELECT org_id FROM memberships LIMIT 1) o WHERE u.email LIKE $3 AND $1 > 0 AND $2 <> ''",
    ] {
        app.pool.execute_raw(stmt(sql)).await.expect("bulk members");
    }
    let rows = app
        .pool
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT u.id AS uid, m.id AS mid, m.org_id FROM users u JOIN memberships m ON m.user_id = u.id \
             WHERE u.email LIKE $1",
            [like.into()],
        ))
        .await
        .expect("members");
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.try_get("", "mid").expect("mid")).collect();
    app.pool.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, then, [ids.into()])).await.expect("then");
    let secret = opsgraph_server::config::Config::for_database("postgres://x/y").jwt_secret;
    let now = chrono::Utc::now().timestamp();
    rows.iter()
        .map(|r| {
            let claims = opsgraph_org::service::tokens::Claims {
                sub: r.try_get("", "uid").expect("uid"),
                org: Some(r.try_get("", "org_id").expect("org")),
                iat: now,
                exp: now + 3600,
            };
            opsgraph_org::service::tokens::sign(secret.as_bytes(), &claims)
        })
        .collect()
}
