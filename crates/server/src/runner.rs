//! The [`QueryRunner`] of saved queries: a stored document runs through the one schema,
//! as the caller of the request it runs in (same session, transaction and batches), after
//! the same limits as a request and charged to the same cost bucket.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use tokio::sync::OnceCell;

use async_graphql::Variables;
use async_graphql::dynamic::Schema;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use futures_util::future::BoxFuture;
use opsgraph_core::query_runner::{QueryOutcome, QueryRunner};
use opsgraph_core::{AppError, AppResult, RequestCtx};

use crate::cost::CostLimiter;
use crate::limits::Limits;

/// Runs saved queries; holds the schema once it is built (the schema holds the runner).
pub struct SchemaRunner {
    schema: OnceLock<Schema>,
    limits: Limits,
    cost: Arc<CostLimiter>,
    /// Allow-list mode: a stored document runs only if it is a registered operation.
    registered_only: bool,
}

impl SchemaRunner {
    /// A runner with the request limits and cost buckets; [`Self::attach`] gives it the schema.
    pub fn new(limits: Limits, cost: Arc<CostLimiter>, registered_only: bool) -> Arc<SchemaRunner> {
        Arc::new(SchemaRunner { schema: OnceLock::new(), limits, cost, registered_only })
    }

    /// Gives the runner the schema it runs documents through.
    pub fn attach(&self, schema: Schema) {
        let _ = self.schema.set(schema);
    }
}

/// Runs a checked `document` as the caller of `req`; charges and refunds its cost.
async fn execute(
    (schema, cost, registered_only): (Schema, Arc<CostLimiter>, bool),
    req: Arc<RequestCtx>,
    (document, vars, requested): (String, Variables, u64),
) -> AppResult<QueryOutcome> {
    if registered_only && !crate::persisted::allowed(req.db.as_ref(), &crate::persisted::hash(&document)).await? {
        return Err(AppError::Forbidden(
            "only registered operations run on this server: register the saved query's document".into(),
        ));
    }
    let session = &req.session;
    let key = CostLimiter::key(session, session.ip.as_deref().unwrap_or_default());
    cost.admit(&key, requested)?;
    let mut resp = schema.execute(async_graphql::Request::new(document).variables(vars).data(req.nested())).await;
    crate::http::ensure_codes(&mut resp);
    let actual = crate::limits::actual_cost(&resp.data).min(requested);
    cost.refund(&key, requested - actual);
    let errors = resp.errors.iter().map(|e| serde_json::to_value(e).unwrap_or_default()).collect();
    Ok(QueryOutcome { data: resp.data.into_json().unwrap_or_default(), errors })
}

impl SchemaRunner {
    /// `document` is one query within the limits with `vars`; returns its cost. Errors are
    /// BAD_USER_INPUT on `field`.
    fn checked(&self, document: &str, field: &str, vars: &Variables) -> AppResult<u64> {
        let bad = |m: String| AppError::bad_input(field, m);
        let doc =
            async_graphql::parser::parse_query(document).map_err(|e| bad(format!("not a GraphQL document: {e}")))?;
        let mut ops: Vec<OperationType> = match &doc.operations {
            DocumentOperations::Single(op) => vec![op.node.ty],
            DocumentOperations::Multiple(ops) => ops.values().map(|op| op.node.ty).collect(),
        };
        if ops.len() != 1 {
            return Err(bad("a saved query holds exactly one operation".into()));
        }
        if ops.pop() != Some(OperationType::Query) {
            return Err(bad("a saved query only reads: no mutation or subscription".into()));
        }
        crate::limits::check(document, vars, &self.limits).map_err(|e| match e {
            AppError::BadUserInput { message, .. } => bad(message),
            other => other,
        })
    }
}

impl QueryRunner for SchemaRunner {
    fn check(&self, document: &str, field: &str) -> AppResult<()> {
        self.checked(document, field, &Variables::default()).map(|_| ())
    }

    fn run(
        &self,
        req: Arc<RequestCtx>,
        document: String,
        variables: serde_json::Value,
    ) -> BoxFuture<'static, AppResult<QueryOutcome>> {
        // Keyed on the writes begun so far: after a mutation field, a document runs afresh.
        let key = format!("{}\u{0}{document}\u{0}{variables}", req.writes());
        let prepared = (|| {
            if req.is_nested() {
                return Err(AppError::bad_input("document", "a saved query cannot run saved queries"));
            }
            let vars = Variables::from_json(variables);
            let requested = self.checked(&document, "document", &vars)?;
            let schema = self.schema.get().cloned().ok_or_else(|| AppError::internal("runner has no schema"))?;
            Ok((schema, vars, requested))
        })();
        let (cost, registered_only) = (self.cost.clone(), self.registered_only);
        Box::pin(async move {
            let (schema, vars, requested) = prepared?;
            // Between two writes, a request runs one document with the same variables once (a
            // dashboard's chart and list over one saved query share its answer).
            let cell = req.extension::<Memo>().cell(key);
            let run = execute((schema, cost, registered_only), req, (document, vars, requested));
            cell.get_or_try_init(|| run).await.cloned()
        })
    }
}

/// The answers of the documents a request already ran, by document and variables.
#[derive(Default)]
struct Memo(std::sync::Mutex<HashMap<String, Arc<OnceCell<QueryOutcome>>>>);

impl Memo {
    fn cell(&self, key: String) -> Arc<OnceCell<QueryOutcome>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default().clone()
    }
}
