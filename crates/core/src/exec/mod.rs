//! Execution semantics of every operation:
//!
//! - **A failing field is `null` at its place, with an error carrying its `path`**
//!   (GraphQL spec §6.4.4, §7.1.2): a nullable field becomes `null`, a non-null one
//!   propagates to its nearest nullable ancestor, and a non-null root field makes `data`
//!   null. The executor does this itself (patched, see `vendor/README.md`): upstream
//!   async-graphql 7 drops a failed field's key and sends its error without a path.
//! - **Each top-level mutation field runs in its own savepoint** (this extension, which
//!   hooks only those fields: every other field resolves without it): a failed field is
//!   rolled back alone (its value is `null` with its error), the others stay and are
//!   committed. A response therefore never acknowledges a write that is not committed,
//!   and never hides one that is.
//!
//! Response keys follow the selection order on every path: the executor (patched, see
//! `vendor/README.md`) resolves an object's fields concurrently and inserts them in order.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo};
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition};
use async_graphql::{Response, ServerResult, Value};

use crate::context::{EventSlot, RequestCtx};

/// Name of the root mutation type of the schema.
pub const MUTATION_TYPE: &str = "Mutation";
const SAVEPOINT: &str = "mutation_field";

/// The extension factory; install once on the schema.
pub struct Semantics;

impl ExtensionFactory for Semantics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SemanticsExt)
    }
}

/// Per operation (stateless).
struct SemanticsExt;

/// The operation `name` selects in `doc` (the first one when `name` is `None`).
pub fn selected<'d>(doc: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d OperationDefinition> {
    doc.operations.iter().find(|(n, _)| name.is_none() || n.map(|n| n.as_str()) == name).map(|(_, op)| &op.node)
}

fn request_ctx(ctx: &ExtensionContext<'_>) -> Option<Arc<RequestCtx>> {
    if let Some(req) = ctx.data_opt::<Arc<RequestCtx>>() {
        return Some(req.clone());
    }
    ctx.data_opt::<EventSlot>().and_then(EventSlot::current)
}

#[async_trait::async_trait]
impl Extension for SemanticsExt {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut resp = next.run(ctx, operation_name).await;
        if let Some(req) = request_ctx(ctx) {
            apply_data_null(&req, &mut resp);
        }
        resp
    }

    fn wants_resolve(&self, info: &ResolveInfo<'_>) -> bool {
        info.path_node.parent.is_none() && info.parent_type == MUTATION_TYPE
    }

    /// A top-level mutation field, in its savepoint; the executor gives a failed field
    /// its path and makes it `null`.
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let Some(req) = request_ctx(ctx) else { return next.run(ctx, info).await };
        req.begin_write();
        if let Err(e) = req.db.savepoint(SAVEPOINT).await {
            return Err(crate::AppError::from(e).into_graphql().into_server_error(info.field.name.pos));
        }
        let result = next.run(ctx, info).await;
        match &result {
            Ok(_) => {
                if let Err(e) = req.db.release(SAVEPOINT).await {
                    return Err(crate::AppError::from(e).into_graphql().into_server_error(Default::default()));
                }
            }
            Err(_) => {
                if let Err(e) = req.db.rollback_to(SAVEPOINT).await {
                    tracing::error!(error = %e, "rolling back a mutation field failed");
                    req.set_data_null();
                }
            }
        }
        result
    }
}

/// Nulls `data` when the request must not commit anything (see
/// [`RequestCtx::set_data_null`]).
pub fn apply_data_null(req: &RequestCtx, resp: &mut Response) {
    if req.data_null() {
        resp.data = Value::Null;
    }
}
