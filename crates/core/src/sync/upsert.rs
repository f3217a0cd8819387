//! Upsert by external reference, once for every node type an integration syncs: a domain
//! implements [`Upsert`] (how to create and how to update its node from one input) and
//! [`register`] adds `upsert<Type>` and the bulk `upsert<Type>s`.
//!
//! - Writers of one reference are serialised (see [`refs::lock`]), so two concurrent
//!   upserts of one reference make one node; the second updates it.
//! - Creating and updating go through the domain's own services: permission checks,
//!   validation, the audit row and the domain event are those of `create<Type>` /
//!   `update<Type>`. An update that changes nothing writes nothing (`UNCHANGED`).
//! - A reference whose node was deleted for good is dropped and the node created again.
//! - Bulk: at most [`MAX_ITEMS`] items in the mutation's transaction. By default the first
//!   failing item fails the whole call (nothing is written; the error's `field` is
//!   `items[i].<field>`); with `partial: true` each item runs in a savepoint, a failing
//!   one is rolled back alone and reported with its index, and the rest commit. Failures
//!   of the service itself (database, internal) always fail the whole call. Results are
//!   sent only after the transaction commits.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputObject, InputValue, Object, TypeRef};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::refs::{self, ExternalRefInput, RefKey};
use crate::auth::{Permission, Session};
use crate::context::RequestCtx;
use crate::db::TxDb;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::gql::{GqlEnum, GqlInput, SchemaParts, parent, prop};
use crate::node::{Model, NodeType};

/// Most items one bulk upsert takes.
pub const MAX_ITEMS: usize = 500;
const ITEM_SAVEPOINT: &str = "upsert_item";

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, opsgraph_derive::GqlEnum)]
pub enum UpsertStatus {
    /// No node had the reference: one was created and given it.
    Created,
    /// The node with the reference was changed.
    Updated,
    /// The node with the reference already had these values: nothing was written.
    Unchanged,
}

/// A node type integrations create or update by external reference.
pub trait Upsert: NodeType {
    /// `Upsert<Type>Input`: `externalRef: ExternalRefInput!`, `expectedVersion: Int` (read
    /// by the pipeline as [`Head`]) and the node's fields (absent keeps a value, `null`
    /// clears it; required ones must be given to create).
    type Input: DeserializeOwned + GqlInput + Send + Sync + 'static;
    /// The payload field holding the node (`task`).
    const FIELD: &'static str;
    /// Creates the node (BAD_USER_INPUT naming a required field that is missing).
    fn create(db: &TxDb, session: &Session, input: &Self::Input)
    -> impl Future<Output = AppResult<Model<Self>>> + Send;
    /// Updates node `id` from `input` at version `expected` (or its current one): the row
    /// and whether anything changed, or `None` when the node no longer exists.
    fn update(
        db: &TxDb,
        session: &Session,
        id: Uuid,
        expected: Option<i32>,
        input: &Self::Input,
    ) -> impl Future<Output = AppResult<Option<(Model<Self>, bool)>>> + Send;
}

/// The value of a field an upsert needs to create its node (BAD_USER_INPUT when missing).
pub fn required<T: Clone>(v: &Option<T>, field: &str) -> AppResult<T> {
    v.clone().ok_or_else(|| AppError::bad_input(field, format!("{field} is required to create")))
}

/// A create-only field on an update: it must be absent or equal `current`.
pub fn unchanged<T: PartialEq>(given: Option<T>, current: T, field: &str) -> AppResult<()> {
    match given {
        Some(v) if v != current => Err(AppError::bad_input(field, format!("{field} cannot change once created"))),
        _ => Ok(()),
    }
}

/// What every upsert input holds besides the node's fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Head {
    /// The node's id in the outside system.
    pub external_ref: ExternalRefInput,
    /// The version the caller last read, if it gave one (CONFLICT when stale).
    pub expected_version: Option<i32>,
}

/// One upsert: the reference part and the domain's input (both read from one GraphQL input).
pub struct Item<I> {
    /// Reference and expected version.
    pub head: Head,
    /// The node's fields.
    pub input: I,
}

/// A failed item of a partial bulk upsert.
#[derive(Debug, Clone)]
pub struct ItemError {
    /// `extensions.code` it would have had.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
    /// The input field at fault, as `items[i].<field>`.
    pub field: Option<String>,
}

/// The outcome of one upserted item.
pub struct Upserted<M> {
    /// Its index in the call.
    pub index: usize,
    /// What happened, with the node; or why it failed.
    pub outcome: Result<(UpsertStatus, Arc<M>), ItemError>,
}

/// The outcomes of a bulk call, in input order (its payload's value).
pub struct Outcomes<M>(pub Vec<Upserted<M>>);

/// `e` as the error of item `i`: the field becomes `items[i].<field>`, the message says
/// which item.
fn in_item(e: AppError, i: usize) -> AppError {
    match e {
        AppError::BadUserInput { field, message } => AppError::BadUserInput {
            field: Some(format!("items[{i}].{}", field.as_deref().unwrap_or("externalRef"))),
            message: format!("items[{i}]: {message}"),
        },
        AppError::NotFound(m) => AppError::NotFound(format!("items[{i}]: {m}")),
        AppError::Conflict(m) => AppError::Conflict(format!("items[{i}]: {m}")),
        AppError::Forbidden(m) => AppError::Forbidden(format!("items[{i}]: {m}")),
        other => other,
    }
}

/// Whether `e` fails only its item in a partial call (not the service itself).
fn item_scoped(e: &AppError) -> bool {
    matches!(e, AppError::BadUserInput { .. } | AppError::NotFound(_) | AppError::Conflict(_) | AppError::Forbidden(_))
}

/// Creates or updates the node of `key` (already locked; `known` is the node it names).
async fn upsert_one<N: Upsert>(
    db: &TxDb,
    session: &Session,
    org: Uuid,
    key: &RefKey,
    known: Option<Uuid>,
    item: &Item<N::Input>,
) -> AppResult<(UpsertStatus, Model<N>)> {
    let (expected, input) = (item.head.expected_version, &item.input);
    if let Some(id) = known {
        match N::update(db, session, id, expected, input).await? {
            Some((row, true)) => return Ok((UpsertStatus::Updated, row)),
            Some((row, false)) => return Ok((UpsertStatus::Unchanged, row)),
            None => refs::forget(db, org, id).await?,
        }
    }
    if expected.is_some() {
        return Err(AppError::Conflict(format!(
            "no {} has the reference {}:{}, so there is no version to expect",
            N::NAME,
            key.system,
            key.external_id
        )));
    }
    let row = N::create(db, session, input).await?;
    refs::insert_new(db, org, key, N::id(&row)).await?;
    Ok((UpsertStatus::Created, row))
}

/// The nodes the references of `keys` name now.
async fn known(db: &TxDb, org: Uuid, keys: &[RefKey]) -> AppResult<HashMap<(String, String), Uuid>> {
    let mut by_system: HashMap<&str, Vec<String>> = HashMap::new();
    for k in keys {
        by_system.entry(&k.system).or_default().push(k.external_id.clone());
    }
    let mut out = HashMap::new();
    let node_type = keys.first().map(|k| k.node_type.clone()).unwrap_or_default();
    for (system, ids) in by_system {
        for (ext, node) in refs::find(db, org, &node_type, system, ids).await? {
            out.insert((system.to_owned(), ext), node);
        }
    }
    Ok(out)
}

/// Upserts one input (the `upsert<Type>` mutation).
pub async fn upsert<N: Upsert>(req: &RequestCtx, item: &Item<N::Input>) -> AppResult<(UpsertStatus, Model<N>)> {
    let org = req.require(Permission::Integrate)?;
    let key = RefKey::new(N::NAME, &item.head.external_ref, "externalRef")?;
    refs::lock(req.db.as_ref(), org, std::slice::from_ref(&key)).await?;
    let node =
        known(&req.db, org, std::slice::from_ref(&key)).await?.remove(&(key.system.clone(), key.external_id.clone()));
    upsert_one::<N>(&req.db, &req.session, org, &key, node, item).await
}

/// Upserts `items` (the `upsert<Type>s` mutation; see the module docs for `partial`).
pub async fn upsert_many<N: Upsert>(
    req: &RequestCtx,
    items: &[Item<N::Input>],
    partial: bool,
) -> AppResult<Vec<Upserted<Model<N>>>> {
    let org = req.require(Permission::Integrate)?;
    if items.len() > MAX_ITEMS {
        return Err(AppError::bad_input("items", format!("at most {MAX_ITEMS} items per call")));
    }
    let mut keys = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match RefKey::new(N::NAME, &item.head.external_ref, "externalRef") {
            Err(e) if !partial => return Err(in_item(e, i)),
            key => keys.push(key),
        }
    }
    let valid: Vec<RefKey> = keys.iter().filter_map(|k| k.as_ref().ok().cloned()).collect();
    refs::lock(req.db.as_ref(), org, &valid).await?;
    let mut nodes = known(&req.db, org, &valid).await?;
    let mut out = Vec::with_capacity(items.len());
    for (i, (item, key)) in items.iter().zip(keys).enumerate() {
        let result = match key {
            Ok(key) => item_result::<N>(req, org, &key, &mut nodes, item, partial).await,
            Err(e) => Err(e),
        };
        match result {
            Ok((status, row)) => out.push(Upserted { index: i, outcome: Ok((status, Arc::new(row))) }),
            Err(e) if partial && item_scoped(&e) => {
                let e = in_item(e, i);
                let field = field_of(&e);
                out.push(Upserted {
                    index: i,
                    outcome: Err(ItemError { code: e.code(), message: e.message(), field }),
                });
            }
            Err(e) => return Err(in_item(e, i)),
        }
    }
    Ok(out)
}

/// One item of a bulk call; in a savepoint when `partial`.
async fn item_result<N: Upsert>(
    req: &RequestCtx,
    org: Uuid,
    key: &RefKey,
    nodes: &mut HashMap<(String, String), Uuid>,
    item: &Item<N::Input>,
    partial: bool,
) -> AppResult<(UpsertStatus, Model<N>)> {
    let slot = (key.system.clone(), key.external_id.clone());
    if partial {
        req.db.savepoint(ITEM_SAVEPOINT).await?;
    }
    let result = upsert_one::<N>(&req.db, &req.session, org, key, nodes.get(&slot).copied(), item).await;
    if partial {
        match &result {
            Ok(_) => req.db.release(ITEM_SAVEPOINT).await?,
            Err(_) => req.db.rollback_to(ITEM_SAVEPOINT).await?,
        }
    }
    if let Ok((_, row)) = &result {
        nodes.insert(slot, N::id(row));
    }
    result
}

fn field_of(e: &AppError) -> Option<String> {
    match e {
        AppError::BadUserInput { field, .. } => field.clone(),
        _ => None,
    }
}

/// The bulk input: `{ items, partial }`.
#[derive(Deserialize)]
struct Bulk<I> {
    items: Vec<I>,
    #[serde(default)]
    partial: Option<bool>,
}

/// The items of a bulk input, each read twice: as [`Head`] and as the domain's input.
fn items<I: DeserializeOwned>(ctx: &async_graphql::dynamic::ResolverContext<'_>) -> AppResult<(Vec<Item<I>>, bool)> {
    let inputs: Bulk<I> = parse(ctx)?;
    let heads: Bulk<Head> = parse(ctx)?;
    let items = heads.items.into_iter().zip(inputs.items).map(|(head, input)| Item { head, input }).collect();
    Ok((items, inputs.partial.unwrap_or(false)))
}

fn parse<T: DeserializeOwned>(ctx: &async_graphql::dynamic::ResolverContext<'_>) -> AppResult<T> {
    let input = ctx.args.try_get("input").map_err(|_| AppError::bad_input("input", "input is required"))?;
    input.deserialize().map_err(|e| AppError::bad_input("input", format!("invalid input: {}", e.message)))
}

fn status_value(s: UpsertStatus) -> async_graphql::Value {
    crate::gql::enum_value(s.as_str())
}

/// The plural of a type name (`Task` -> `Tasks`, `TimeEntry` -> `TimeEntries`).
pub fn plural(name: &str) -> String {
    match name.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{name}s"),
    }
}

/// Adds `upsert<Type>` and `upsert<Type>s` with their input and payload types.
pub fn register<N: Upsert>(parts: &mut SchemaParts)
where
    Model<N>: Send + Sync + 'static,
{
    let name = N::NAME;
    parts.input::<N::Input>();
    parts.ty(InputObject::new(format!("Upsert{}Input", plural(name)))
        .description(format!("Up to {MAX_ITEMS} {name} upserts in one transaction."))
        .field(InputValue::new("items", TypeRef::named_nn_list_nn(N::Input::NAME)).description("The items, in order."))
        .field(InputValue::new("partial", TypeRef::named(TypeRef::BOOLEAN)).description(
            "false (default): the first failing item fails the call and nothing is written. true: a failing \
             item is rolled back alone and reported in its result; the others are written.",
        )));
    parts.object(result_object::<N>(&format!("{name}UpsertPayload"), true));
    parts.object(result_object::<N>(&format!("{name}UpsertResult"), false));
    parts.object(bulk_payload::<N>());
    parts.mutation(single_mutation::<N>());
    parts.mutation(bulk_mutation::<N>());
}

fn single_mutation<N: Upsert>() -> Field
where
    Model<N>: Send + Sync + 'static,
{
    Field::new(format!("upsert{}", N::NAME), TypeRef::named(format!("{}UpsertPayload", N::NAME)), |ctx| {
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let item = Item { head: parse(&ctx)?, input: parse::<N::Input>(&ctx)? };
            let (status, row) = upsert::<N>(&req, &item).await?;
            let done = Upserted { index: 0, outcome: Ok((status, Arc::new(row))) };
            Ok(Some(FieldValue::owned_any(done)))
        })
    })
    .argument(InputValue::new("input", TypeRef::named_nn(N::Input::NAME)).description("The mutation's input."))
    .description(format!(
        "Create or update the {} an outside system's reference names (idempotent; safe under concurrency).",
        N::NAME
    ))
}

fn bulk_mutation<N: Upsert>() -> Field
where
    Model<N>: Send + Sync + 'static,
{
    let name = N::NAME;
    Field::new(format!("upsert{}", plural(name)), TypeRef::named(format!("{name}UpsertsPayload")), |ctx| {
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let (items, partial) = items::<N::Input>(&ctx)?;
            let results = upsert_many::<N>(&req, &items, partial).await?;
            Ok(Some(FieldValue::owned_any(Outcomes(results))))
        })
    })
    .argument(
        InputValue::new("input", TypeRef::named_nn(format!("Upsert{}Input", plural(name)))).description("The items."),
    )
    .description(format!("Create or update up to {MAX_ITEMS} {name} nodes by external reference, in order."))
}

/// `<Type>UpsertPayload` (`complete`: the node and status are non-null) or
/// `<Type>UpsertResult` (an item of a bulk call, with its index and error).
fn result_object<N: Upsert>(name: &str, complete: bool) -> Object
where
    Model<N>: Send + Sync + 'static,
{
    type U<N> = Upserted<Model<N>>;
    let wrap = |t: TypeRef| if complete { TypeRef::NonNull(Box::new(t)) } else { t };
    let mut obj = Object::new(name)
        .description(format!("What upserting one {} did.", N::NAME))
        .field(prop::<U<N>>(
            "status",
            wrap(TypeRef::named(UpsertStatus::NAME)),
            "Created, updated or unchanged.",
            |u| u.outcome.as_ref().map(|(s, _)| status_value(*s)).unwrap_or_default(),
        ))
        .field(
            Field::new(N::FIELD, wrap(N::nullable()), |ctx| {
                FieldFuture::new(async move {
                    let u = parent::<U<N>>(&ctx)?;
                    Ok(u.outcome.as_ref().ok().map(|(_, row)| FieldValue::borrowed_any(row)))
                })
            })
            .description(format!("The {}.", N::NAME)),
        );
    if !complete {
        obj = obj
            .field(prop::<U<N>>("index", TypeRef::named_nn(TypeRef::INT), "The item's index in the call.", |u| {
                i32::try_from(u.index).unwrap_or(i32::MAX).into()
            }))
            .field(
                Field::new("error", TypeRef::named("UpsertError"), |ctx| {
                    FieldFuture::new(async move {
                        let u = parent::<U<N>>(&ctx)?;
                        Ok(u.outcome.as_ref().err().map(|e| FieldValue::borrowed_any(e)))
                    })
                })
                .description("Why the item failed (it was rolled back); null when it succeeded."),
            );
    }
    obj
}

fn tally<M>(v: &Outcomes<M>, want: Option<UpsertStatus>) -> async_graphql::Value {
    let n = v.0.iter().filter(|u| u.outcome.as_ref().ok().map(|(s, _)| *s) == want).count();
    i32::try_from(n).unwrap_or(i32::MAX).into()
}
fn created<M>(v: &Outcomes<M>) -> async_graphql::Value {
    tally(v, Some(UpsertStatus::Created))
}
fn updated<M>(v: &Outcomes<M>) -> async_graphql::Value {
    tally(v, Some(UpsertStatus::Updated))
}
fn unchanged_count<M>(v: &Outcomes<M>) -> async_graphql::Value {
    tally(v, Some(UpsertStatus::Unchanged))
}
fn failed<M>(v: &Outcomes<M>) -> async_graphql::Value {
    tally(v, None)
}

fn bulk_payload<N: Upsert>() -> Object
where
    Model<N>: Send + Sync + 'static,
{
    type Many<N> = Outcomes<Model<N>>;
    let name = N::NAME;
    let int = || TypeRef::named_nn(TypeRef::INT);
    Object::new(format!("{name}UpsertsPayload"))
        .description(format!("What a bulk {name} upsert did, item by item."))
        .field(
            Field::new("results", TypeRef::named_nn_list_nn(format!("{name}UpsertResult")), |ctx| {
                FieldFuture::new(async move {
                    let v = parent::<Many<N>>(&ctx)?;
                    Ok(Some(FieldValue::list(v.0.iter().map(|u| FieldValue::borrowed_any(u)))))
                })
            })
            .description("One result per item, in input order."),
        )
        .field(prop::<Many<N>>("created", int(), "Items that created a node.", created::<Model<N>>))
        .field(prop::<Many<N>>("updated", int(), "Items that changed a node.", updated::<Model<N>>))
        .field(prop::<Many<N>>("unchanged", int(), "Items that changed nothing.", unchanged_count::<Model<N>>))
        .field(prop::<Many<N>>("failed", int(), "Items rolled back (partial calls only).", failed::<Model<N>>))
}

/// The shared types of every upsert: `UpsertStatus`, `UpsertError`, `ExternalRefInput`.
pub fn shared_types(parts: &mut SchemaParts) {
    parts.enum_only::<UpsertStatus>();
    parts.input::<ExternalRefInput>();
    parts.object(
        Object::new("UpsertError")
            .description("Why one item of a partial bulk upsert failed.")
            .field(prop::<ItemError>(
                "code",
                TypeRef::named_nn(TypeRef::STRING),
                "The error code (`BAD_USER_INPUT`, `CONFLICT`, ...).",
                |e| e.code.as_str().into(),
            ))
            .field(prop::<ItemError>("message", TypeRef::named_nn(TypeRef::STRING), "What went wrong.", |e| {
                e.message.clone().into()
            }))
            .field(prop::<ItemError>(
                "field",
                TypeRef::named(TypeRef::STRING),
                "The input field at fault (`items[3].title`).",
                |e| crate::gql::opt(e.field.clone()),
            )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_of_type_names() {
        assert_eq!(plural("Task"), "Tasks");
        assert_eq!(plural("TimeEntry"), "TimeEntries");
        assert_eq!(plural("Key"), "Keys");
    }

    #[test]
    fn item_errors_name_their_item() {
        let e = in_item(AppError::bad_input("title", "title is required to create"), 3);
        assert_eq!(field_of(&e).as_deref(), Some("items[3].title"));
        assert_eq!(e.message(), "items[3]: title is required to create");
        let c = in_item(AppError::Conflict("stale".into()), 0);
        assert_eq!((c.code(), c.message()), (ErrorCode::Conflict, "items[0]: stale".to_owned()));
        assert!(item_scoped(&c));
        assert!(!item_scoped(&AppError::internal("db down")));
        assert!(!item_scoped(&AppError::Unavailable("db down".into())));
    }

    #[test]
    fn required_and_create_only_fields() {
        assert!(required::<String>(&None, "title").is_err());
        assert_eq!(required(&Some(1), "n").ok(), Some(1));
        assert!(unchanged(Some(2), 1, "projectId").is_err());
        assert!(unchanged(Some(1), 1, "projectId").is_ok());
        assert!(unchanged(None, 1, "projectId").is_ok());
    }
}
