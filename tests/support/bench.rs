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
