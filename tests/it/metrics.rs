//! `GET /metrics` through HTTP: off without a token, 401 with a wrong one, and with the
//! right one a Prometheus text exposition that parses line by line and holds the series
//! operators need (requests by operation and outcome, statements per request, pool,
//! sockets, subscriptions, outbox lag, jobs, AI usage).

use std::collections::HashMap;

use opsgraph_e2e::TestApp;
use serde_json::json;

/// A minimal Prometheus text parser: `# HELP` / `# TYPE` lines and samples
/// `name{label="value",…} number`; every sample's value must parse. Returns the samples.
fn parse(text: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    let mut out = vec![];
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(rest.starts_with("HELP ") || rest.starts_with("TYPE "), "bad comment: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let labels = body
                    .split("\",")
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once("=\"").unwrap_or_else(|| panic!("bad label: {line}"));
                        (k.to_owned(), v.trim_end_matches('"').to_owned())
                    })
                    .collect();
                (n.to_owned(), labels)
            }
            None => (series.to_owned(), HashMap::new()),
        };
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "bad name: {line}");
        out.push((name, labels, value));
    }
    out
}

#[tokio::test]
async fn metrics_need_the_token_and_parse() {
    let off = TestApp::spawn().await;
    assert_eq!(off.get("/metrics").await.0, 404, "off without a token");
    off.finish().await;

    let app = TestApp::spawn_with(|c| c.metrics_token = Some("scrape-me".into())).await;
    let (token, _) = app.sign_up("o@example.com", "Metric Co").await;
    for _ in 0..3 {
        app.gql(Some(&token), "query MetricsProbe { viewer { user { email } } }", json!({})).await;
    }
    app.gql(Some(&token), "query MetricsBroken { nope }", json!({})).await;
    assert_eq!(app.get("/metrics").await.0, 401);
    let wrong = app.request(reqwest::Method::GET, "/metrics", &[("authorization", "Bearer nope")], None).await;
    assert_eq!(wrong.0, 401);
    let (status, _, body) =
        app.request(reqwest::Method::GET, "/metrics", &[("authorization", "Bearer scrape-me")], None).await;
    assert_eq!(status, 200);
    let samples = parse(&body);
    let find = |name: &str, labels: &[(&str, &str)]| {
        samples
            .iter()
            .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
            .map(|s| s.2)
    };
    assert_eq!(
        find("opsgraph_request_duration_seconds_count", &[("operation", "MetricsProbe"), ("outcome", "ok")]),
        Some(3.0)
    );
    assert!(
        find("opsgraph_request_duration_seconds_count", &[("operation", "MetricsBroken"), ("outcome", "error")])
            .is_some()
    );
    assert!(
        find("opsgraph_sql_statements_per_request_count", &[("operation", "MetricsProbe")]).is_some_and(|n| n >= 3.0)
    );
    assert!(find("opsgraph_loader_batches_per_request_count", &[("operation", "MetricsProbe")]).is_some());
    for (name, labels) in [
        ("opsgraph_db_pool_connections", vec![("state", "in_use")]),
        ("opsgraph_db_pool_connections", vec![("state", "idle")]),
        ("opsgraph_websocket_connections", vec![]),
        ("opsgraph_subscriptions", vec![]),
        ("opsgraph_live_followers", vec![]),
        ("opsgraph_outbox_lag", vec![("measure", "events")]),
        ("opsgraph_outbox_lag", vec![("measure", "organizations")]),
        ("opsgraph_ai_usage_today", vec![("measure", "tokens")]),
        ("opsgraph_ai_usage_today", vec![("measure", "cost_micros")]),
    ] {
        assert!(find(name, &labels).is_some(), "{name} {labels:?} in:\n{body}");
    }
    app.finish().await;
}
