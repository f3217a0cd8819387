//! Documents over plain HTTP: `GET /invoices/<invoice id>.pdf` renders an issued invoice
//! (authenticated like the API: bearer token or API key; a client gets its own only).
//! Errors answer JSON with the GraphQL error shape and the matching HTTP status.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, ErrorCode, Session, Tenant, TxDb};
use opsgraph_finance::nodes::Invoice;

use crate::http::{caller, error_response};
use crate::state::AppState;

/// `GET /invoices/{id}.pdf`.
pub async fn invoice_pdf(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let caller = caller(&headers, peer);
    let db = Arc::new(TxDb::lazy(&state.pool, Tenant::default()));
    let base = Session { ip: Some(caller.ip.clone()), ..Session::anonymous(caller.request_id.clone()) };
    let rendered = async {
        let gid = file.strip_suffix(".pdf").ok_or_else(|| AppError::not_found("document"))?;
        let id = Invoice::decode(gid, "id")?;
        let session =
            opsgraph_org::authenticate(&db, &state.auth, &caller.credentials, caller.org_header.as_deref(), base)
                .await?;
        opsgraph_finance::pdf::invoice_pdf(db.as_ref(), &session, id).await
    }
    .await;
    let _ = db.finish(false).await;
    match rendered {
        Ok((name, bytes)) => {
            let mut resp = (StatusCode::OK, bytes).into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
            if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            resp
        }
        Err(e) => {
            let status = match e.code() {
                ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
                ErrorCode::Forbidden => StatusCode::FORBIDDEN,
                ErrorCode::NotFound => StatusCode::NOT_FOUND,
                ErrorCode::BadUserInput => StatusCode::BAD_REQUEST,
                ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (status, axum::Json(error_response(e))).into_response()
        }
    }
}
