//! The sign-in throttle: per account and address pair with exponential back-off, plus a
//! cap per address.

use opsgraph_core::{AppResult, TxDb};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::service::tokens::AuthConfig;

/// Seconds to wait before the next sign-in attempt from `ip` for `email`, if any.
///
/// Throttled per account **and address pair**, so nobody can lock a real owner out from
/// elsewhere: the first `max_failures_per_account` failures of a pair since its last
/// success are free, each further one doubles the wait after the latest failure (1 s, 2 s,
/// 4 s, … capped at the window). One address failing on many accounts is capped at
/// `max_failures_per_ip` per window.
pub async fn wait(db: &TxDb, cfg: &AuthConfig, email: &str, ip: &str) -> AppResult<Option<u64>> {
    let window = cfg.failure_window.as_secs();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH recent AS (SELECT lower(email) AS email, succeeded, at FROM login_attempts \
                             WHERE ip = $2 AND at > now() - make_interval(secs => $3)), \
                  since AS (SELECT coalesce(max(at), '-infinity') AS ok_at FROM recent WHERE email = $1 AND succeeded) \
             SELECT count(*) FILTER (WHERE r.email = $1 AND r.at > s.ok_at) AS pair_failures, \
                    coalesce(extract(epoch FROM now() - max(r.at) FILTER (WHERE r.email = $1))::float8, 0) AS pair_since, \
                    count(*) AS ip_failures, \
                    coalesce(extract(epoch FROM min(r.at) + make_interval(secs => $3) - now())::float8, 0) AS ip_reset \
             FROM recent r, since s WHERE NOT r.succeeded",
            [email.into(), ip.into(), (window as f64).into()],
        ))
        .await?;
    let Some(r) = row else { return Ok(None) };
    let pair: i64 = r.try_get("", "pair_failures")?;
    let since: f64 = r.try_get("", "pair_since")?;
    let by_ip: i64 = r.try_get("", "ip_failures")?;
    let ip_reset: f64 = r.try_get("", "ip_reset")?;
    if by_ip >= cfg.max_failures_per_ip {
        return Ok(Some(ip_reset.ceil().max(1.0) as u64));
    }
    let wait = backoff_secs(pair, cfg.max_failures_per_account, window);
    if wait == 0 {
        return Ok(None);
    }
    // `since` is negative when a concurrent attempt committed after this transaction began.
    let left = wait as f64 - since.max(0.0);
    Ok((left > 0.0).then(|| left.ceil() as u64))
}

/// The back-off after `failures` consecutive failures of which `free` cost nothing:
/// nothing up to `free` failures, then 1, 2, 4, … seconds, capped at `cap`.
pub fn backoff_secs(failures: i64, free: i64, cap: u64) -> u64 {
    let over = failures.saturating_sub(free);
    if over <= 0 {
        return 0;
    }
    1u64.checked_shl((over - 1).min(62) as u32).unwrap_or(u64::MAX).min(cap.max(1))
}

#[cfg(test)]
mod tests {
    use super::backoff_secs;

    #[test]
    fn back_off_doubles_after_the_free_attempts_and_is_capped() {
        let waits: Vec<u64> = (0..=8).map(|n| backoff_secs(n, 5, 900)).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 0, 1, 2, 4]);
        assert_eq!(backoff_secs(100, 5, 900), 900);
        assert_eq!(backoff_secs(i64::MAX, i64::MIN, 900), 900, "no overflow");
    }
}
