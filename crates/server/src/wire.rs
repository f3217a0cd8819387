//! GraphQL over HTTP on the wire: which requests are accepted, which media type answers,
//! and the status codes of the GraphQL-over-HTTP spec.
//!
//! - Requests: `POST` with `application/json` only (415 otherwise); `GET` with the
//!   operation in the URL, queries only.
//! - Responses: `application/graphql-response+json` when the client asks for it, with 4xx
//!   for requests that never executed (no `data`), else `application/json` with 200 — except
//!   `SERVICE_UNAVAILABLE` (database unreachable), which is 503 with `Retry-After` in both.

use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use opsgraph_core::exec::selected;

/// Seconds a client should wait before retrying when the database is unavailable.
pub const RETRY_AFTER_SECS: u64 = 2;

/// The media type of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/json` (the default; always 200 for executed or rejected operations).
    Json,
    /// `application/graphql-response+json` (request errors are 4xx).
    GraphqlResponse,
}

impl ResponseMedia {
    /// Picks the response type from `Accept`.
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut best = (ResponseMedia::Json, -1.0f32);
        for part in accept.split(',') {
            let mut items = part.split(';');
            let ty = items.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q =
                items.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            let media = match ty.as_str() {
                "application/graphql-response+json" => ResponseMedia::GraphqlResponse,
                "application/json" | "*/*" | "application/*" => ResponseMedia::Json,
                _ => continue,
            };
            if q > best.1 || (q == best.1 && media == ResponseMedia::GraphqlResponse) {
                best = (media, q);
            }
        }
        best.0
    }

    fn content_type(self) -> &'static str {
        match self {
            ResponseMedia::Json => "application/json",
            ResponseMedia::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// Whether a POST body is declared as JSON (`application/json`, any parameters).
pub fn is_json_request(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false)
}

/// Whether a GET comes from a browser navigating (GraphiQL), not from a client.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept.split(',').any(|p| p.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/html"))
}

/// 415 for a body that is not `application/json`.
pub fn unsupported_media_type() -> axum::response::Response {
    let resp = crate::http::error_response(opsgraph_core::AppError::BadUserInput {
        field: None,
        message: "send the request as Content-Type: application/json".into(),
    });
    let mut out = (StatusCode::UNSUPPORTED_MEDIA_TYPE, axum::Json(resp)).into_response();
    out.headers_mut().insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    out
}

/// The operation of a GET request, read from its URL query string.
pub fn request_from_url(query: &str) -> Result<Request, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        query: Option<String>,
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let params: Params = serde_urlencoded::from_str(query).map_err(|_| "malformed query string".to_owned())?;
    let extensions: serde_json::Map<String, serde_json::Value> = match params.extensions.filter(|v| !v.is_empty()) {
        Some(ext) => serde_json::from_str(&ext).map_err(|_| "`extensions` must be a JSON object".to_owned())?,
        None => serde_json::Map::new(),
    };
    let q = params.query.unwrap_or_default();
    if q.is_empty() && !extensions.contains_key("persistedQuery") {
        return Err("GET /graphql needs a `query` parameter (or a persisted query's hash)".into());
    }
    let mut req = Request::new(q);
    for (k, v) in extensions {
        let v = async_graphql::Value::from_json(v).map_err(|_| "`extensions` must be a JSON object".to_owned())?;
        req.extensions.insert(k, v);
    }
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        req = req.operation_name(name);
    }
    if let Some(vars) = params.variables.filter(|v| !v.is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(&vars).map_err(|_| "`variables` must be a JSON object".to_owned())?;
        if !value.is_object() {
            return Err("`variables` must be a JSON object".into());
        }
        req = req.variables(async_graphql::Variables::from_json(value));
    }
    Ok(req)
}

/// Whether the operation the request selects is a mutation (or a subscription: neither
/// runs over GET).
pub fn is_mutation(req: &Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&req.query) else { return false };
    selected(&doc, req.operation_name.as_deref()).is_some_and(|op| op.ty != OperationType::Query)
}

fn first_code(resp: &Response) -> Option<String> {
    resp.errors.first().and_then(|e| e.extensions.as_ref()).and_then(|x| x.get("code")).and_then(|c| match c {
        async_graphql::Value::String(s) => Some(s.clone()),
        _ => None,
    })
}

/// Whether the operation never executed (no `data` at all: parse, validation, limits,
/// authentication, database unavailable).
fn is_request_error(resp: &Response) -> bool {
    resp.data == async_graphql::Value::Null && !resp.errors.is_empty() && resp.errors.iter().all(|e| e.path.is_empty())
}

/// The HTTP response of one executed operation.
pub fn respond(media: ResponseMedia, resp: &Response, request_id: &str) -> axum::response::Response {
    let code = first_code(resp);
    let unavailable = code.as_deref() == Some("SERVICE_UNAVAILABLE");
    let request_error = is_request_error(resp);
    let status = match (media, request_error) {
        _ if unavailable && request_error => StatusCode::SERVICE_UNAVAILABLE,
        (ResponseMedia::GraphqlResponse, true) => match code.as_deref() {
            Some("UNAUTHENTICATED") => StatusCode::UNAUTHORIZED,
            Some("RATE_LIMITED") => StatusCode::TOO_MANY_REQUESTS,
            Some("INTERNAL") => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        },
        _ => StatusCode::OK,
    };
    let body = if media == ResponseMedia::GraphqlResponse && request_error {
        // A request error has no `data` entry at all.
        serde_json::to_vec(&serde_json::json!({ "errors": resp.errors }))
    } else {
        serde_json::to_vec(resp)
    };
    let mut out = json_body(media, body, request_id);
    *out.status_mut() = status;
    if unavailable {
        out.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    out
}

/// A serialized body with its content type and the request id.
pub fn json_body(
    media: ResponseMedia,
    body: Result<Vec<u8>, serde_json::Error>,
    request_id: &str,
) -> axum::response::Response {
    let mut resp = match body {
        Ok(b) => ([(header::CONTENT_TYPE, media.content_type())], b).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if let Ok(rid) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", rid);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn negotiates_the_response_type() {
        assert_eq!(ResponseMedia::negotiate(&HeaderMap::new()), ResponseMedia::Json);
        assert_eq!(ResponseMedia::negotiate(&accept("application/json")), ResponseMedia::Json);
        assert_eq!(
            ResponseMedia::negotiate(&accept("application/graphql-response+json, application/json;q=0.9")),
            ResponseMedia::GraphqlResponse
        );
        assert_eq!(
            ResponseMedia::negotiate(&accept("application/graphql-response+json;q=0.5, application/json")),
            ResponseMedia::Json
        );
        assert!(wants_html(&accept("text/html,application/xhtml+xml,*/*;q=0.8")));
        assert!(!wants_html(&accept("application/json")));
    }

    #[test]
    fn reads_get_requests_and_spots_mutations() {
        let req = request_from_url("query=%7B%20viewer%20%7B%20role%20%7D%20%7D&variables=%7B%7D").ok();
        assert_eq!(req.as_ref().map(|r| r.query.as_str()), Some("{ viewer { role } }"));
        assert!(!req.as_ref().is_some_and(is_mutation));
        let m = request_from_url("query=mutation%20%7B%20x%20%7D").ok();
        assert!(m.as_ref().is_some_and(is_mutation));
        assert!(request_from_url("variables=%7B%7D").is_err());
        assert!(request_from_url("query=%7Bx%7D&variables=%5B1%5D").is_err());
    }
}
