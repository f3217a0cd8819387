//! Rate limits by query cost: every caller (user, API key, or address when anonymous) has a
//! bucket of cost points that refills at a steady rate up to its capacity. A request is
//! charged its requested cost before it runs (refused with RATE_LIMITED and `retryAfter`
//! when the bucket holds less), and refunded what it did not use once its actual cost is
//! known. A subscription is charged its document's cost when it starts (its events are
//! bounded by the live limits instead: subscriptions per socket, the slow-consumer policy).
//! Buckets live in this process: with N instances behind a balancer a caller gets up
//! to N times the budget (set `OPSGRAPH_COST_BUDGET` divided by N for a strict total).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opsgraph_core::{Actor, Session};

/// Buckets kept before full ones are dropped (a full bucket is the same as none).
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    points: f64,
    at: Instant,
}

/// The per-caller buckets.
#[derive(Debug)]
pub struct CostLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
    capacity: f64,
    rate: f64,
}

/// A caller's bucket after a charge or refund.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Points left.
    pub remaining: u64,
    /// Until the bucket is full again.
    pub full_in: Duration,
}

impl CostLimiter {
    /// Buckets of `capacity` points refilling `per_sec` points a second.
    pub fn new(capacity: u64, per_sec: u64) -> CostLimiter {
        CostLimiter { buckets: Mutex::default(), capacity: capacity as f64, rate: per_sec.max(1) as f64 }
    }

    /// The bucket key of a caller.
    pub fn key(session: &Session, ip: &str) -> String {
        match session.actor {
            Actor::User { user_id } | Actor::Agent { user_id, .. } => format!("u:{user_id}"),
            Actor::ApiKey { key_id } => format!("k:{key_id}"),
            Actor::Anonymous => format!("ip:{ip}"),
        }
    }

    fn level(&self, b: &Bucket) -> Level {
        let missing = (self.capacity - b.points).max(0.0);
        Level { remaining: b.points.max(0.0) as u64, full_in: Duration::from_secs_f64(missing / self.rate) }
    }

    fn with<T>(&self, key: &str, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            let (cap, rate, now) = (self.capacity, self.rate, Instant::now());
            buckets.retain(|_, b| b.points + now.duration_since(b.at).as_secs_f64() * rate < cap);
        }
        let now = Instant::now();
        let b = buckets.entry(key.to_owned()).or_insert(Bucket { points: self.capacity, at: now });
        b.points = (b.points + now.duration_since(b.at).as_secs_f64() * self.rate).min(self.capacity);
        b.at = now;
        f(b)
    }

    /// Takes `cost` points from `key`'s bucket, or says after how many seconds it could.
    pub fn charge(&self, key: &str, cost: u64) -> Result<Level, u64> {
        let cost = cost as f64;
        self.with(key, |b| {
            if b.points < cost {
                return Err(((cost - b.points) / self.rate).ceil().max(1.0) as u64);
            }
            b.points -= cost;
            Ok(self.level(b))
        })
    }

    /// Charges `cost` to `key`'s bucket, or RATE_LIMITED saying when to retry.
    pub fn admit(&self, key: &str, cost: u64) -> Result<Level, opsgraph_core::AppError> {
        self.charge(key, cost).map_err(|retry_after_secs| opsgraph_core::AppError::RateLimited {
            message: format!("the query costs {cost} points and your budget refills; retry in {retry_after_secs} s"),
            retry_after_secs,
        })
    }

    /// Gives `points` back to `key`'s bucket.
    pub fn refund(&self, key: &str, points: u64) -> Level {
        self.with(key, |b| {
            b.points = (b.points + points as f64).min(self.capacity);
            self.level(b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_refuses_and_refills() {
        let l = CostLimiter::new(100, 1000);
        assert_eq!(l.charge("a", 60).map(|x| x.remaining), Ok(40));
        let retry = l.charge("a", 100);
        assert!(matches!(retry, Err(1)), "{retry:?}");
        assert_eq!(l.refund("a", 50).remaining.min(100), 100.min(l.refund("a", 0).remaining));
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(l.charge("a", 100).map(|x| x.remaining), Ok(0), "refilled at 1000 points a second");
        assert_eq!(l.charge("b", 100).map(|x| x.remaining), Ok(0), "buckets are per caller");
    }
}
