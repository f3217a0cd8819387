//! Running a stored GraphQL document inside a request, as that request's caller: saved
//! queries behind dashboard widgets and reports run with the viewer's permissions (never
//! their author's), in the viewer's transaction, under the same limits and cost as any
//! request. The server implements [`QueryRunner`] (it owns the schema and the limits) and
//! gives it to the schema as [`Runner`].

use std::sync::Arc;

use async_graphql::dynamic::ResolverContext;
use futures_util::future::BoxFuture;

use crate::context::RequestCtx;
use crate::error::{AppError, AppResult};

/// What a run answers: the response's `data` and `errors` as JSON, exactly what a client
/// sending the document itself would have received.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutcome {
    /// `data` (null when nothing ran).
    pub data: serde_json::Value,
    /// The errors (GraphQL error objects with `path` and `extensions.code`).
    pub errors: Vec<serde_json::Value>,
}

impl QueryOutcome {
    /// The whole response, `{ data, errors? }`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::json!({ "data": self.data });
        if !self.errors.is_empty() {
            out["errors"] = serde_json::Value::Array(self.errors.clone());
        }
        out
    }
}

/// Runs and checks stored documents.
pub trait QueryRunner: Send + Sync {
    /// Checks that `document` is one query (no mutation, no subscription) within the
    /// request limits, before it is saved (BAD_USER_INPUT on `field` otherwise).
    fn check(&self, document: &str, field: &str) -> AppResult<()>;

    /// Runs `document` with `variables` as the caller of `req`, in its transaction, charged
    /// to the caller like a request. A stored document never runs stored documents.
    fn run(
        &self,
        req: Arc<RequestCtx>,
        document: String,
        variables: serde_json::Value,
    ) -> BoxFuture<'static, AppResult<QueryOutcome>>;
}

/// The schema's runner (schema data, as `Option<Runner>`: a schema built only to print
/// its SDL has none).
#[derive(Clone)]
pub struct Runner(pub Arc<dyn QueryRunner>);

impl Runner {
    /// The runner the server gave the schema.
    pub fn of(ctx: &ResolverContext<'_>) -> AppResult<Runner> {
        ctx.data_opt::<Option<Runner>>().cloned().flatten().ok_or_else(|| AppError::internal("query runner missing"))
    }
}
