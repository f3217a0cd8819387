//! Logs and traces. Logs: human-readable or JSON, filtered by `RUST_LOG` (default `info`).
//! Traces: OpenTelemetry spans exported over OTLP/HTTP when an endpoint is configured,
//! shaped `request -> graphql operation -> loader batch -> db statement`; off by default.
//!
//! Span attributes name the request (id, route, status), the tenant and the operation,
//! never a secret or a variable's value: statements are recorded with their literals
//! masked ([`opsgraph_core::db::masked_sql`]).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::{Level, Metadata};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, filter};

/// Installs the global subscriber with logs only.
pub fn init(format: &str) {
    let _ = install(format, None);
}

/// Flushes and stops the trace exporter when dropped (at shutdown).
pub struct Traces(Option<SdkTracerProvider>);

impl Drop for Traces {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "flushing traces failed");
        }
    }
}

/// Installs logs and, when `endpoint` is set, trace export to that OTLP/HTTP collector
/// sampling `sample` of new traces. Keep the guard alive while serving.
pub fn init_with_traces(format: &str, endpoint: Option<&str>, sample: f64) -> anyhow::Result<Traces> {
    let provider = endpoint.map(|e| provider(e, sample)).transpose()?;
    if provider.is_some() {
        opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    }
    let _ = install(format, provider.clone());
    Ok(Traces(provider))
}

fn provider(endpoint: &str, sample: f64) -> anyhow::Result<SdkTracerProvider> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(url).build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "opsgraph".into()))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(sample))))
        .with_resource(resource)
        .build())
}

/// Our own spans down to DEBUG (the loader batches and statements), nothing else.
fn traced(meta: &Metadata<'_>) -> bool {
    meta.is_span() && meta.target().starts_with("opsgraph") && *meta.level() <= Level::DEBUG
}

fn install(format: &str, provider: Option<SdkTracerProvider>) -> Result<(), tracing_subscriber::util::TryInitError> {
    let env = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let fmt = tracing_subscriber::fmt::layer();
    let logs = if format == "json" {
        fmt.json().flatten_event(true).with_filter(env()).boxed()
    } else {
        fmt.with_filter(env()).boxed()
    };
    let otel = provider.map(|p| {
        tracing_opentelemetry::layer().with_tracer(p.tracer("opsgraph")).with_filter(filter::filter_fn(traced))
    });
    tracing_subscriber::registry().with(logs).with(otel).try_init()
}

/// Reads `traceparent` / `tracestate` from request headers.
struct Headers<'a>(&'a axum::http::HeaderMap);

impl opentelemetry::propagation::Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(axum::http::HeaderName::as_str).collect()
    }
}

/// Middleware: gives every request one request id (the client's `x-request-id` when it
/// is sane, else a new one, written back into the headers so every reader sees the same)
/// and, when traces are on, the server span `METHOD /route` continuing the caller's
/// `traceparent`, with the response status.
pub async fn request_span(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use tracing::Instrument as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let id = crate::http::request_id(req.headers());
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let method = req.method().clone();
    let route = req.extensions().get::<axum::extract::MatchedPath>().map_or("-", |p| p.as_str()).to_owned();
    let span = tracing::debug_span!("request", otel.name = %format_args!("{method} {route}"), otel.kind = "server",
        http.request.method = %method, http.route = %route, request.id = %id,
        http.response.status_code = tracing::field::Empty, otel.status_code = tracing::field::Empty);
    if span.is_disabled() {
        return next.run(req).await;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(req.headers())));
    let _ = span.set_parent(parent);
    let resp = next.run(req).instrument(span.clone()).await;
    span.record("http.response.status_code", resp.status().as_u16());
    if resp.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    resp
}
