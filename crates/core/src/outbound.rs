//! Calls to services outside (model providers, webhook receivers): a JSON POST retried with
//! back-off on 429, 5xx and network failures, and what of a provider's error body a message
//! may repeat (never the key, never the URL).

use std::time::Duration;

/// Where and how to POST.
pub struct Endpoint<'a> {
    /// The client (with its timeout).
    pub http: &'a reqwest::Client,
    /// The URL.
    pub url: &'a str,
    /// Bearer token, if any.
    pub api_key: Option<&'a str>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// What it is, for messages ("embedding endpoint", "provider").
    pub what: &'a str,
}

/// POSTs `body` until a success, a status not worth retrying, or the retries run out;
/// the error names the status and the service's own message.
pub async fn post_json(e: &Endpoint<'_>, body: &serde_json::Value) -> Result<reqwest::Response, String> {
    let mut attempt = 0;
    loop {
        let mut req = e.http.post(e.url).json(body);
        if let Some(key) = e.api_key {
            req = req.bearer_auth(key);
        }
        let (retry_after, why) = match req.send().await {
            Ok(resp) if resp.status().is_success() => return Ok(resp),
            Ok(resp) => {
                let status = resp.status();
                let after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
                let why =
                    format!("{} answered {status}: {}", e.what, error_message(&resp.text().await.unwrap_or_default()));
                if !retryable(status.as_u16()) {
                    return Err(why);
                }
                (after, why)
            }
            Err(err) => (None, format!("{} unreachable: {}", e.what, err.without_url())),
        };
        if attempt >= e.max_retries {
            return Err(why);
        }
        tracing::debug!(attempt, reason = %why, "request retried");
        tokio::time::sleep(backoff(attempt, retry_after)).await;
        attempt += 1;
    }
}

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

/// Refuses a URL whose host resolves to a loopback, private, link-local or otherwise
/// internal address (SSRF) unless `allow_private`; only http(s).
pub async fn check_public(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http(s) URLs are allowed".into());
    }
    if allow_private {
        return Ok(());
    }
    let host = parsed.host_str().ok_or("the URL has no host")?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| format!("cannot resolve {host}: {e}"))?;
    for a in addrs {
        if internal(a.ip()) {
            return Err(format!("{host} resolves to an internal address"));
        }
    }
    Ok(())
}

fn internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v) => {
            v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.octets()[0] == 100 && (64..128).contains(&v.octets()[1])
        }
        std::net::IpAddr::V6(v) => {
            v.is_loopback()
                || v.is_unspecified()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80
                || v.to_ipv4_mapped().is_some_and(|m| internal(std::net::IpAddr::V4(m)))
        }
    }
}

#[cfg(test)]
mod ssrf_tests {
    use super::*;

    #[tokio::test]
    async fn internal_addresses_are_refused() {
        assert!(check_public("http://127.0.0.1:9/x", false).await.is_err());
        assert!(check_public("http://10.1.2.3/x", false).await.is_err());
        assert!(check_public("http://[::1]/x", false).await.is_err());
        assert!(check_public("ftp://example.com/x", false).await.is_err());
        assert!(check_public("http://127.0.0.1:9/x", true).await.is_ok());
        assert!(check_public("http://93.184.215.14/x", false).await.is_ok());
    }
}
