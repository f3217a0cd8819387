//! Calls to services outside (model providers, webhook receivers): how long to wait before
//! a retry, and what of a provider's error body a message may repeat.

use std::time::Duration;

/// The delay before retry `attempt` (0-based): the server's `Retry-After` seconds when
/// given (at most 30), else 250 ms doubling, at most 8 s.
pub fn backoff(attempt: u32, retry_after: Option<u64>) -> Duration {
    match retry_after {
        Some(secs) => Duration::from_secs(secs.min(30)),
        None => Duration::from_millis(250u64.saturating_mul(1 << attempt.min(5))).min(Duration::from_secs(8)),
    }
}

/// Whether an HTTP status is worth retrying (rate limited or a server error).
pub fn retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The message of an error body (OpenAI's `{"error": {"message"}}`, else the text), at
/// most 200 characters.
pub fn error_message(body: &str) -> String {
    let msg = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.to_owned());
    msg.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_honours_retry_after() {
        assert_eq!(backoff(0, None), Duration::from_millis(250));
        assert_eq!(backoff(2, None), Duration::from_secs(1));
        assert_eq!(backoff(40, None), Duration::from_secs(8));
        assert_eq!(backoff(0, Some(3)), Duration::from_secs(3));
        assert_eq!(backoff(0, Some(3600)), Duration::from_secs(30));
    }

    #[test]
    fn errors_are_short_and_retries_chosen() {
        assert_eq!(error_message(r#"{"error":{"message":"Rate limit reached"}}"#), "Rate limit reached");
        assert_eq!(error_message(&"x".repeat(500)).len(), 200);
        assert!(retryable(429) && retryable(503) && !retryable(400) && !retryable(401));
    }
}
