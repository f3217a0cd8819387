//! Execution semantics of every operation, as one async-graphql extension:
//!
//! - **A failing field is `null` at its place, with an error carrying its `path`**
//!   (GraphQL spec §6.4.4, §7.1.2). The dynamic executor of async-graphql 7 drops the key of
//!   a failed field and sends the resolver's error without a path; here each field's error
//!   gets its path, a nullable field becomes `null`, a non-null one propagates to its
//!   nearest nullable ancestor, and a non-null root field makes `data` null.
//! - **Each top-level mutation field runs in its own savepoint**: a failed field is rolled
//!   back alone (its value is `null` with its error), the others stay and are committed.
//!   A response therefore never acknowledges a write that is not committed, and never
//!   hides one that is.
//!
//! Response keys follow the selection order on every path: the executor (patched, see
//! `vendor/README.md`) resolves an object's fields concurrently and inserts them in order.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo};
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition};
use async_graphql::{PathSegment, QueryPathNode, QueryPathSegment, Response, ServerError, ServerResult, Value};

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

/// The response path of `node`, as the spec writes it.
pub fn path_of(node: &QueryPathNode<'_>) -> Vec<PathSegment> {
    let mut path: Vec<PathSegment> = std::iter::once(node)
        .chain(node.parents())
        .map(|n| match n.segment {
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
            QueryPathSegment::Index(i) => PathSegment::Index(i),
        })
        .collect();
    path.reverse();
    path
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
            merge_field_errors(&req, &mut resp);
        }
        resp
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let node = info.path_node;
        let root = node.parent.is_none();
        let nullable = !info.return_type.ends_with('!');
        let savepoint = if root && info.parent_type == MUTATION_TYPE { request_ctx(ctx) } else { None };
        if let Some(req) = &savepoint {
            req.begin_write();
        }
        if let Some(req) = &savepoint
            && let Err(e) = req.db.savepoint(SAVEPOINT).await
        {
            let err = crate::AppError::from(e).into_graphql().into_server_error(info.field.name.pos);
            return failed(ctx, node, nullable, err);
        }
        let result = next.run(ctx, info).await;
        match (&savepoint, &result) {
            (Some(req), Ok(_)) => {
                if let Err(e) = req.db.release(SAVEPOINT).await {
                    let err = crate::AppError::from(e).into_graphql().into_server_error(Default::default());
                    return failed(ctx, node, nullable, err);
                }
            }
            (Some(req), Err(_)) => {
                if let Err(e) = req.db.rollback_to(SAVEPOINT).await {
                    tracing::error!(error = %e, "rolling back a mutation field failed");
                    req.set_data_null();
                }
            }
            _ => {}
        }
        match result {
            Ok(v) => Ok(v),
            Err(e) => failed(ctx, node, nullable, e),
        }
    }
}

/// A field failed: give the error its path; a nullable field keeps the error for the
/// response and resolves to `null`; a non-null one propagates to its parent, and at the
/// root makes `data` null.
fn failed(
    ctx: &ExtensionContext<'_>,
    node: &QueryPathNode<'_>,
    nullable: bool,
    mut err: ServerError,
) -> ServerResult<Option<Value>> {
    if err.path.is_empty() {
        err.path = path_of(node);
    }
    let root = node.parent.is_none();
    if !nullable && !root {
        return Err(err);
    }
    let Some(req) = request_ctx(ctx) else { return Err(err) };
    if !nullable {
        req.set_data_null();
    }
    req.push_field_error(err);
    Ok(None)
}

/// Moves the field errors collected during execution into `resp` (and nulls `data` when
/// a non-null root field failed).
pub fn merge_field_errors(req: &RequestCtx, resp: &mut Response) {
    let (errors, data_null) = req.take_field_errors();
    resp.errors.extend(errors);
    if data_null {
        resp.data = Value::Null;
    }
}
