//! Typed field builders shared by every domain: references and lists through loaders,
//! connections, mutations with one `input`, payloads, `Money`, node fetchers.

use std::any::Any;
use std::sync::Arc;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, TypeRef};
use sea_orm::{EntityTrait, ModelTrait};
use uuid::Uuid;

use super::{NodeFetcher, parent, prop};
use crate::context::RequestCtx;
use crate::error::{AppError, AppResult};
use crate::node::{Model, NodeType};

/// A root mutation taking one `input: <InputType>!` (deserialized into `I`) and returning
/// `<Payload>` (nullable: a failed mutation is `null` with its error, and is rolled back
/// alone; see [`crate::exec`]). Input that does not deserialize is BAD_USER_INPUT.
pub fn mutation<I, F, Fut>(name: &str, payload_type: &str, desc: &str, f: F) -> Field
where
    I: serde::de::DeserializeOwned + super::GqlInput + Send + 'static,
    F: Fn(Arc<RequestCtx>, I) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = AppResult<FieldValue<'static>>> + Send + 'static,
{
    mutation_with::<(), I, _, _>(name, payload_type, desc, move |req, (), i| f(req, i))
}

/// A [`mutation`] that also receives the schema's data of type `D` (process-wide services
/// the server registered, such as the embedding models), or `D::default()` when the schema
/// carries none (a schema built only to print it).
pub fn mutation_with<D, I, F, Fut>(name: &str, payload_type: &str, desc: &str, f: F) -> Field
where
    D: Clone + Default + Send + Sync + 'static,
    I: serde::de::DeserializeOwned + super::GqlInput + Send + 'static,
    F: Fn(Arc<RequestCtx>, D, I) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = AppResult<FieldValue<'static>>> + Send + 'static,
{
    Field::new(name, TypeRef::named(payload_type), move |ctx| {
        let f = f.clone();
        let data = ctx.data_opt::<D>().cloned().unwrap_or_default();
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let input: I = ctx
                .args
                .try_get("input")?
                .deserialize()
                .map_err(|e| AppError::bad_input("input", format!("invalid input: {}", e.message)))?;
            Ok(Some(f(req, data, input).await?))
        })
    })
    .argument(InputValue::new("input", TypeRef::named_nn(I::NAME)).description("The mutation's input."))
    .description(desc)
}

/// A [`mutation`] returning `<N>Payload` (see [`payload`]); `node` is the node type's value.
pub fn node_mutation<N, I, F, Fut>(_node: N, name: &str, desc: &str, f: F) -> Field
where
    N: NodeType,
    I: serde::de::DeserializeOwned + super::GqlInput + Send + 'static,
    F: Fn(Arc<RequestCtx>, I) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = AppResult<FieldValue<'static>>> + Send + 'static,
{
    mutation::<I, F, Fut>(name, &payload_name::<N>(), desc, f)
}

/// A [`node_mutation`] that also receives the schema's data of type `D` (see
/// [`mutation_with`]).
pub fn node_mutation_with<N, D, I, F, Fut>(_node: N, name: &str, desc: &str, f: F) -> Field
where
    N: NodeType,
    D: Clone + Default + Send + Sync + 'static,
    I: serde::de::DeserializeOwned + super::GqlInput + Send + 'static,
    F: Fn(Arc<RequestCtx>, D, I) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = AppResult<FieldValue<'static>>> + Send + 'static,
{
    mutation_with::<D, I, F, Fut>(name, &payload_name::<N>(), desc, f)
}

/// `<N>Payload`.
pub fn payload_name<N: NodeType>() -> String {
    format!("{}Payload", N::NAME)
}

/// The payload type `<N>Payload { <field>: <N>! }` whose parent value is the node itself.
pub fn payload<N: NodeType>(field: &str, desc: &str) -> Object {
    payload_named::<N>(&payload_name::<N>(), field, desc)
}

/// A payload type `<name> { <field>: <N>! }` whose parent value is the node itself.
pub fn payload_named<N: NodeType>(name: &str, field: &str, desc: &str) -> Object {
    payload_object(name, field, N::nn(), desc)
}

/// A payload type `<name> { <field>: <ty> }` whose parent value is the object itself
/// (for payloads of object types that are not nodes).
pub fn payload_object(name: &str, field: &str, ty: TypeRef, desc: &str) -> Object {
    let what = ty.type_name().to_owned();
    Object::new(name).description(desc).field(
        Field::new(field, ty, |ctx| {
            FieldFuture::new(async move {
                Ok(Some(FieldValue::borrowed_any(
                    ctx.parent_value.try_downcast_ref::<Box<dyn Any + Send + Sync>>().map(|b| b.as_ref())?,
                )))
            })
        })
        .description(format!("The {what}.")),
    )
}

/// The value of a [`payload`] type.
pub fn payload_value<T: Any + Send + Sync>(node: T) -> FieldValue<'static> {
    FieldValue::owned_any(Box::new(node) as Box<dyn Any + Send + Sync>)
}

/// An amount of money in a currency.
#[derive(Debug, Clone)]
pub struct Money {
    /// Exact amount.
    pub amount: rust_decimal::Decimal,
    /// ISO 4217 code.
    pub currency: String,
}

/// The `Money` object type.
pub fn money_object() -> Object {
    Object::new("Money")
        .description("An exact amount of money in a currency (never a float).")
        .field(prop::<Money>("amount", TypeRef::named_nn("Decimal"), "The amount, as a decimal string.", |m| {
            m.amount.to_string().into()
        }))
        .field(prop::<Money>("currency", TypeRef::named_nn(TypeRef::STRING), "ISO 4217 currency code.", |m| {
            m.currency.clone().into()
        }))
}

/// A `Money` field of parent `P` (`nullable` when `get` may give `None`).
pub fn money_field<P: Any + Send + Sync>(
    name: &str,
    nullable: bool,
    desc: &str,
    get: fn(&P) -> Option<Money>,
) -> Field {
    let ty = if nullable { TypeRef::named("Money") } else { TypeRef::named_nn("Money") };
    Field::new(name, ty, move |ctx| super::ready(parent::<P>(&ctx).map(|p| get(p).map(FieldValue::owned_any))))
        .description(desc)
}

/// A [`NodeFetcher`] for `N`: needs `N::READ`, batches through the request's by-id
/// loader, and drops rows of other organisations (a second wall behind RLS).
pub fn node_fetcher<N: NodeType>() -> NodeFetcher
where
    Model<N>: Clone + Send + Sync + 'static,
{
    Arc::new(move |req: Arc<RequestCtx>, ids: Vec<Uuid>| {
        Box::pin(async move {
            let org = req.require(N::READ)?;
            let loaded = req
                .loader(crate::loader::ById::<N::Entity>::new)
                .load_many(ids)
                .await
                .map_err(|e| crate::loader::failed(&e))?;
            Ok(loaded
                .into_iter()
                .filter(|(_, m)| N::org(m) == org)
                .map(|(k, m)| (k, FieldValue::owned_any(m)))
                .collect())
        })
    })
}

/// A reference to one `N` (many-to-one) loaded through the by-id loader; nullable.
pub fn ref_field<P, N>(name: &str, desc: &str, get: fn(&P) -> Option<Uuid>) -> Field
where
    P: Any + Send + Sync,
    N: NodeType,
    Model<N>: Clone + Send + Sync + 'static,
{
    Field::new(name, N::nullable(), move |ctx| {
        FieldFuture::new(async move {
            let Some(id) = get(parent::<P>(&ctx)?) else {
                return Ok(None);
            };
            Ok(load_ref::<N>(&ctx, id).await?)
        })
    })
    .description(desc)
}

/// A required reference to one `N`; a dangling one is INTERNAL (FKs forbid it).
pub fn ref_field_nn<P, N>(name: &str, desc: &str, get: fn(&P) -> Uuid) -> Field
where
    P: Any + Send + Sync,
    N: NodeType,
    Model<N>: Clone + Send + Sync + 'static,
{
    Field::new(name, N::nn(), move |ctx| {
        FieldFuture::new(async move {
            let id = get(parent::<P>(&ctx)?);
            Ok(Some(load_ref::<N>(&ctx, id).await?.ok_or_else(|| dangling(id))?))
        })
    })
    .description(desc)
}

/// A reference of `P`'s rows to one `N`, held in column `col`; nullable. Declared by its
/// column, it is loaded with a `P` row that a reference field loads, when the selection
/// asks for both (one statement, see [`crate::joined`]); otherwise as [`ref_field`].
pub fn ref_col<P, N>(name: &str, desc: &str, col: <P::Entity as EntityTrait>::Column) -> Field
where
    P: NodeType,
    N: NodeType,
    Model<P>: Clone + Send + Sync + 'static,
    Model<N>: Clone + Send + Sync + 'static,
{
    col_field::<P, N>(name, N::nullable(), desc, col, false)
}

/// [`ref_col`] for a required reference; a dangling one is INTERNAL (FKs forbid it).
pub fn ref_col_nn<P, N>(name: &str, desc: &str, col: <P::Entity as EntityTrait>::Column) -> Field
where
    P: NodeType,
    N: NodeType,
    Model<P>: Clone + Send + Sync + 'static,
    Model<N>: Clone + Send + Sync + 'static,
{
    col_field::<P, N>(name, N::nn(), desc, col, true)
}

/// [`ref_col`] (`required`: [`ref_col_nn`]) of type `ty`.
fn col_field<P, N>(
    name: &str,
    ty: TypeRef,
    desc: &str,
    col: <P::Entity as EntityTrait>::Column,
    required: bool,
) -> Field
where
    P: NodeType,
    N: NodeType,
    Model<P>: Clone + Send + Sync + 'static,
    Model<N>: Clone + Send + Sync + 'static,
{
    crate::joined::declare::<P::Entity, N::Entity>(name, col);
    Field::new(name, ty, move |ctx| {
        FieldFuture::new(async move {
            let id = crate::loader::uuid_of(parent::<Model<P>>(&ctx)?.get(col));
            let row = match (preloaded::<P, N>(&ctx), id) {
                (Some(row), _) => row,
                (None, Some(id)) => load_ref::<N>(&ctx, id).await?,
                (None, None) => None,
            };
            match (row, id) {
                (None, Some(id)) if required => Err(dangling(id).into()),
                (None, None) if required => Err(AppError::internal("required reference without an id").into()),
                (row, _) => Ok(row),
            }
        })
    })
    .description(desc)
}

fn dangling(id: Uuid) -> AppError {
    AppError::internal(format!("dangling reference {id}"))
}

/// The row of reference field `ctx.field()` that was loaded with the parent `P` row
/// (see [`crate::joined`]); `None` when it was not.
fn preloaded<P: NodeType, N: NodeType>(ctx: &ResolverContext<'_>) -> Option<Option<FieldValue<'static>>>
where
    Model<P>: Send + Sync + 'static,
    Model<N>: Send + Sync + 'static,
{
    crate::joined::preloaded::<Model<P>, Model<N>>(ctx.parent_value, ctx.field().name())
}

/// Row `id` of `N` for a reference field, with those of its references that the
/// selection under the field asks for and its statement can join.
async fn load_ref<N>(ctx: &ResolverContext<'_>, id: Uuid) -> AppResult<Option<FieldValue<'static>>>
where
    N: NodeType,
    Model<N>: Clone + Send + Sync + 'static,
{
    let req = &RequestCtx::of(ctx)?;
    Ok(match crate::joined::wanted::<N::Entity>(ctx) {
        None => crate::loader::by_id::<N::Entity>(req, id).await?.map(FieldValue::owned_any),
        Some(joins) => crate::joined::by_id_with::<N::Entity>(req, id, joins).await?.map(FieldValue::owned_any),
    })
}

/// A connection of the parent's children through `R` (batched per level).
pub fn page_field<P, R>(name: &str, desc: &str, get: fn(&P) -> Uuid) -> Field
where
    P: Any + Send + Sync,
    R: crate::loader::PagedChildOf,
    <R::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    page_field_for::<P, R>(None, name, desc, get)
}

/// [`page_field`] that needs `perm` when given (FORBIDDEN otherwise), for connections some
/// readers of the parent must not see.
pub fn page_field_for<P, R>(perm: Option<crate::Permission>, name: &str, desc: &str, get: fn(&P) -> Uuid) -> Field
where
    P: Any + Send + Sync,
    R: crate::loader::PagedChildOf,
    <R::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
{
    let spec = R::spec();
    let field = Field::new(name, TypeRef::named_nn(format!("{}Connection", spec.node)), move |ctx| {
        FieldFuture::new(async move {
            let id = get(parent::<P>(&ctx)?);
            let req = &RequestCtx::of(&ctx)?;
            if let Some(perm) = perm {
                req.require(perm)?;
            }
            let q = crate::pagination::ListQuery::from_ctx(&ctx, R::spec())?;
            Ok(Some(FieldValue::owned_any(crate::loader::page_of::<R>(req, id, q).await?)))
        })
    })
    .description(desc);
    spec.args(field)
}

/// A root-level connection over `base(req)` (already scoped and permission-checked).
pub fn list_field<E, F>(
    name: &str,
    spec: &'static std::sync::LazyLock<crate::pagination::ListSpec<E>>,
    desc: &str,
    base: F,
) -> Field
where
    E: EntityTrait + Send + Sync,
    E::Model: Clone + Send + Sync + 'static,
    F: Fn(&ResolverContext<'_>, &RequestCtx) -> AppResult<sea_orm::Select<E>> + Send + Sync + 'static,
{
    let base = Arc::new(base);
    let field = Field::new(name, TypeRef::named_nn(format!("{}Connection", spec.node)), move |ctx| {
        let base = base.clone();
        FieldFuture::new(async move {
            let req = &RequestCtx::of(&ctx)?;
            let select = base(&ctx, req)?;
            let q = crate::pagination::ListQuery::from_ctx(&ctx, spec)?;
            Ok(Some(FieldValue::owned_any(crate::pagination::page(req.db.as_ref(), spec, &q, select).await?)))
        })
    })
    .description(desc);
    spec.args(field)
}

/// A `[N!]!` of all the parent's children through `R` (for small, bounded lists).
pub fn list_of_field<P, R, N>(name: &str, desc: &str, get: fn(&P) -> Uuid) -> Field
where
    P: Any + Send + Sync,
    N: NodeType,
    R: crate::loader::ChildOf<Entity = N::Entity>,
    Model<N>: Clone + Send + Sync + 'static,
{
    list_of_field_for::<P, R, N>(None, name, desc, get)
}

/// [`list_of_field`] that needs `perm` when given (FORBIDDEN otherwise).
pub fn list_of_field_for<P, R, N>(perm: Option<crate::Permission>, name: &str, desc: &str, get: fn(&P) -> Uuid) -> Field
where
    P: Any + Send + Sync,
    N: NodeType,
    R: crate::loader::ChildOf<Entity = N::Entity>,
    Model<N>: Clone + Send + Sync + 'static,
{
    Field::new(name, TypeRef::named_nn_list_nn(N::NAME), move |ctx| {
        FieldFuture::new(async move {
            let id = get(parent::<P>(&ctx)?);
            let req = &RequestCtx::of(&ctx)?;
            if let Some(perm) = perm {
                req.require(perm)?;
            }
            let rows = crate::loader::list_of::<R>(req, id).await?;
            Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
        })
    })
    .description(desc)
}

/// A `[N!]!` reached through link rows of `R` (many-to-many): one statement for the
/// links and one for the targets, per level.
pub fn through_field<P, R, N>(
    name: &str,
    desc: &str,
    get: fn(&P) -> Uuid,
    target: fn(&<R::Entity as EntityTrait>::Model) -> Option<Uuid>,
) -> Field
where
    P: Any + Send + Sync,
    R: crate::loader::ChildOf,
    <R::Entity as EntityTrait>::Model: Clone + Send + Sync + 'static,
    N: NodeType,
    Model<N>: Clone + Send + Sync + 'static,
{
    Field::new(name, TypeRef::named_nn_list_nn(N::NAME), move |ctx| {
        FieldFuture::new(async move {
            let id = get(parent::<P>(&ctx)?);
            let req = &RequestCtx::of(&ctx)?;
            let links = crate::loader::list_of::<R>(req, id).await?;
            let ids: Vec<Uuid> = links.iter().filter_map(target).collect();
            let rows = crate::loader::many_by_id::<N::Entity>(req, ids).await?;
            Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
        })
    })
    .description(desc)
}
