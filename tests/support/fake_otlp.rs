//! A local fake OpenTelemetry collector: the OTLP/HTTP trace receiver
//! (`POST /v1/traces`, `application/x-protobuf` `ExportTraceServiceRequest`, answered with
//! an empty `ExportTraceServiceResponse`), keeping every span it receives with its
//! resource's service name.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message;

/// One received span, flattened.
#[derive(Debug, Clone)]
pub struct Span {
    /// `service.name` of the resource that sent it.
    pub service: String,
    /// Hex trace id.
    pub trace_id: String,
    /// Hex span id.
    pub span_id: String,
    /// Hex parent span id (empty for a root).
    pub parent_id: String,
    /// The span's name.
    pub name: String,
    /// Its attributes as strings (`key`, `value`).
    pub attributes: Vec<(String, String)>,
}

impl Span {
    /// The value of attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The running fake.
pub struct FakeCollector {
    /// `http://127.0.0.1:port` (the exporter appends `/v1/traces`).
    pub endpoint: String,
    spans: Arc<Mutex<Vec<Span>>>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn text(v: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Any::StringValue(s)) => s.clone(),
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        Some(Any::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

async fn traces(State(spans): State<Arc<Mutex<Vec<Span>>>>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-protobuf") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Vec::new());
    }
    let Ok(req) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    let mut out = spans.lock().unwrap_or_else(|p| p.into_inner());
    for rs in req.resource_spans {
        let attrs = rs.resource.map(|r| r.attributes).unwrap_or_default();
        let service =
            attrs.iter().find(|a| a.key == "service.name").map(|a| text(a.value.as_ref())).unwrap_or_default();
        for s in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
            out.push(Span {
                service: service.clone(),
                trace_id: hex(&s.trace_id),
                span_id: hex(&s.span_id),
                parent_id: hex(&s.parent_span_id),
                name: s.name,
                attributes: s.attributes.iter().map(|a| (a.key.clone(), text(a.value.as_ref()))).collect(),
            });
        }
    }
    (StatusCode::OK, ExportTraceServiceResponse::default().encode_to_vec())
}

impl FakeCollector {
    /// Starts the fake on a loopback port.
    pub async fn start() -> FakeCollector {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new().route("/v1/traces", axum::routing::post(traces)).with_state(spans.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake collector");
        let addr = listener.local_addr().expect("fake collector address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeCollector { endpoint: format!("http://{addr}"), spans }
    }

    /// The spans received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits (up to 10 s) until `done` holds for the spans received.
    pub async fn wait_for(&self, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        for _ in 0..200 {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.spans()
    }
}
