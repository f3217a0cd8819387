//! Documents over plain HTTP, authenticated like the API (bearer token or API key):
//! `GET /invoices/<invoice id>.pdf` renders an issued invoice (a client gets its own
//! only); `GET /reports/<report id>` is a generated report's file (its requester only).
//! Errors answer JSON with the GraphQL error shape and the matching HTTP status.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsgraph_core::node::NodeType;
use opsgraph_core::{AppError, AppResult, ErrorCode, Session, Tenant, TxDb};
use opsgraph_finance::nodes::Invoice;

use crate::http::{caller, error_response};
use crate::state::AppState;

/// A file to send: name, media type, bytes, and whether browsers show it inline.
struct File {
    name: String,
    content_type: String,
    bytes: Vec<u8>,
    inline: bool,
}

/// Authenticates the caller, runs `make` in a read-only transaction, answers the file.
async fn serve_file<F, Fut>(state: &AppState, peer: SocketAddr, headers: &HeaderMap, make: F) -> Response
where
    F: FnOnce(Arc<TxDb>, Session) -> Fut,
    Fut: Future<Output = AppResult<File>>,
{
    let caller = caller(headers, peer);
    let db = Arc::new(TxDb::lazy(&state.pool, Tenant::default()));
    let base = Session { ip: Some(caller.ip.clone()), ..Session::anonymous(caller.request_id.clone()) };
    let made = async {
        let org = caller.org_header.as_deref();
        let session = opsgraph_org::authenticate(&db, &state.auth, &caller.credentials, org, base).await?;
        make(db.clone(), session).await
    }
    .await;
    let _ = db.finish(false).await;
    match made {
        Ok(f) => {
            let mut resp = (StatusCode::OK, f.bytes).into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&f.content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            let disposition = if f.inline { "inline" } else { "attachment" };
            let name: String = f.name.chars().filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\').collect();
            if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
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

/// `GET /invoices/{id}.pdf`.
pub async fn invoice_pdf(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    serve_file(&state, peer, &headers, |db, session| async move {
        let gid = file.strip_suffix(".pdf").ok_or_else(|| AppError::not_found("document"))?;
        let id = Invoice::decode(gid, "id")?;
        let (name, bytes) = opsgraph_finance::pdf::invoice_pdf(db.as_ref(), &session, id).await?;
        Ok(File { name, content_type: "application/pdf".into(), bytes, inline: true })
    })
    .await
}

/// `GET /reports/{id}`: a generated report's file, for whoever generated it.
pub async fn report_file(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    serve_file(&state, peer, &headers, |db, session| async move {
        let (name, content_type, bytes) = opsgraph_org::service::reports::download(db.as_ref(), &session, &id).await?;
        Ok(File { name, content_type, bytes, inline: false })
    })
    .await
}
