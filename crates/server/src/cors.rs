//! CORS for browser apps on other origins: `OPSGRAPH_CORS_ORIGINS` lists the allowed
//! origins (comma separated; `*` for any, which never carries credentials), and
//! `OPSGRAPH_CORS_CREDENTIALS=true` lets listed origins send cookies. Preflights of
//! allowed origins get the methods and headers the API reads; others get no CORS headers
//! (the browser then refuses the call).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

const ALLOW_HEADERS: &str = "content-type, authorization, x-api-key, x-organization-id, x-request-id";
const ALLOW_METHODS: &str = "GET, POST, OPTIONS";
const EXPOSE_HEADERS: &str = "x-request-id, retry-after";

/// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
pub fn allowed_origin(allowed: &[String], credentials: bool, origin: &str) -> Option<String> {
    if allowed.iter().any(|a| a == origin) {
        return Some(origin.to_owned());
    }
    if allowed.iter().any(|a| a == "*") {
        // A wildcard never carries credentials.
        return (!credentials).then(|| "*".to_owned());
    }
    None
}

fn origin_headers(state: &AppState, req_headers: &HeaderMap, out: &mut HeaderMap) -> bool {
    let Some(origin) = req_headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return false };
    let cfg = &state.config;
    let Some(value) = allowed_origin(&cfg.cors_origins(), cfg.cors_credentials, origin) else { return false };
    let Ok(value) = HeaderValue::from_str(&value) else { return false };
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    if cfg.cors_credentials {
        out.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    out.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    true
}

/// Adds the CORS headers of an allowed origin to every response.
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let req_headers = req.headers().clone();
    let mut resp = next.run(req).await;
    if req_headers.contains_key(header::ORIGIN) {
        resp.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
        origin_headers(&state, &req_headers, resp.headers_mut());
    }
    resp
}

/// `OPTIONS /graphql`: the preflight answer (the origin headers are added by [`headers`]).
pub async fn preflight(State(state): State<AppState>, req_headers: HeaderMap) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let mut probe = HeaderMap::new();
    if origin_headers(&state, &req_headers, &mut probe) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(ALLOW_METHODS));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let list = vec!["https://app.example".to_owned()];
        assert_eq!(allowed_origin(&list, false, "https://app.example").as_deref(), Some("https://app.example"));
        assert_eq!(allowed_origin(&list, false, "https://evil.example"), None);
        let any = vec!["*".to_owned()];
        assert_eq!(allowed_origin(&any, false, "https://x.example").as_deref(), Some("*"));
        assert_eq!(allowed_origin(&any, true, "https://x.example"), None, "no credentials for a wildcard");
        assert_eq!(allowed_origin(&[], false, "https://app.example"), None);
    }
}
