//! Building blocks of the one connected schema: every domain crate adds its types and
//! root fields to [`SchemaParts`], may extend types of lower crates by name, and the schema
//! crate finishes it. Also the shared scalars, `Node`, `PageInfo` and connection types.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputValue, Interface, InterfaceField, Object, ResolverContext,
    Scalar, SchemaBuilder, Subscription, SubscriptionField, Type, TypeRef,
};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::context::RequestCtx;
use crate::error::{AppError, AppResult};
use crate::id;
use crate::node::{Model, NodeType};
use crate::pagination::{Connection, Edge, PageInfo};

mod aggregates;
mod decl;
pub use aggregates::aggregate_types;
mod fields;
pub use decl::*;
pub use fields::*;

/// Loads nodes of one type by id for `node` / `nodes`, applying the caller's permissions;
/// ids the caller may not see are simply absent from the result.
pub type NodeFetcher = Arc<
    dyn Fn(Arc<RequestCtx>, Vec<Uuid>) -> BoxFuture<'static, AppResult<HashMap<Uuid, FieldValue<'static>>>>
        + Send
        + Sync,
>;

/// The schema contributions of all domain crates, collected bottom-up.
#[derive(Default)]
pub struct SchemaParts {
    objects: Vec<Object>,
    types: Vec<Type>,
    query: Vec<Field>,
    mutation: Vec<Field>,
    subscription: Vec<SubscriptionField>,
    extensions: Vec<(String, Field)>,
    nodes: HashMap<String, NodeFetcher>,
}

/// Node fetchers by type name, available to the `node` / `nodes` resolvers.
#[derive(Clone, Default)]
pub struct NodeRegistry(pub Arc<HashMap<String, NodeFetcher>>);

impl NodeRegistry {
    /// The schema's registry.
    pub fn of(ctx: &ResolverContext<'_>) -> AppResult<NodeRegistry> {
        ctx.data::<NodeRegistry>().cloned().map_err(|_| AppError::internal("node registry missing"))
    }

    /// Whether `ty` is a node type.
    pub fn has(&self, ty: &str) -> bool {
        self.0.contains_key(ty)
    }

    /// Node `ty`/`id` as the caller may see it (its type's read permission applies; loads
    /// batch through the by-id loader), for a field of the object type `ty`; `None` when
    /// missing or hidden.
    pub async fn fetch_object(
        &self,
        req: Arc<RequestCtx>,
        ty: &str,
        id: Uuid,
    ) -> AppResult<Option<FieldValue<'static>>> {
        let Some(fetch) = self.0.get(ty) else { return Ok(None) };
        Ok(fetch(req, vec![id]).await?.remove(&id))
    }

    /// Nodes `(type, id)` for a field of the `Node` interface, in order (`None` where missing
    /// or hidden); one batch per type.
    pub async fn fetch_nodes(
        &self,
        req: Arc<RequestCtx>,
        keys: Vec<(String, Uuid)>,
    ) -> AppResult<Vec<Option<FieldValue<'static>>>> {
        let mut by_type: HashMap<&str, Vec<Uuid>> = HashMap::new();
        for (ty, id) in &keys {
            by_type.entry(ty.as_str()).or_default().push(*id);
        }
        let mut found: HashMap<(String, Uuid), FieldValue<'static>> = HashMap::new();
        for (ty, ids) in by_type {
            let Some(fetch) = self.0.get(ty) else { continue };
            for (id, value) in fetch(req.clone(), ids).await? {
                found.insert((ty.to_owned(), id), value.with_type(ty.to_owned()));
            }
        }
        Ok(keys.into_iter().map(|k| found.remove(&k)).collect())
    }

    /// [`Self::fetch_object`] for a field of the `Node` interface (typed with `ty`).
    pub async fn fetch_node(&self, req: Arc<RequestCtx>, ty: &str, id: Uuid) -> AppResult<Option<FieldValue<'static>>> {
        Ok(self.fetch_object(req, ty, id).await?.map(|v| v.with_type(ty.to_owned())))
    }
}

impl SchemaParts {
    /// Parts holding the shared types (scalars, `Node`, `PageInfo`, filters, directions).
    pub fn new() -> Self {
        let mut parts = SchemaParts::default();
        parts.add_shared_types();
        parts
    }

    /// Adds an object type.
    pub fn object(&mut self, obj: Object) -> &mut Self {
        self.objects.push(obj);
        self
    }

    /// Adds any other type (enum, input, scalar, interface, union).
    pub fn ty(&mut self, ty: impl Into<Type>) -> &mut Self {
        self.types.push(ty.into());
        self
    }

    /// Adds a root query field.
    pub fn query(&mut self, field: Field) -> &mut Self {
        self.query.push(field);
        self
    }

    /// Adds a root mutation field.
    pub fn mutation(&mut self, field: Field) -> &mut Self {
        self.mutation.push(field);
        self
    }

    /// Adds a root subscription field (all crates share the one `Subscription` type).
    pub fn subscription(&mut self, field: SubscriptionField) -> &mut Self {
        self.subscription.push(field);
        self
    }

    /// Adds `field` to node type `N`, which may belong to a lower crate.
    pub fn extend<N: NodeType>(&mut self, field: Field) -> &mut Self {
        self.extend_named(N::NAME, field)
    }

    /// Adds `field` to the object type `type_name` (for object types that are not nodes).
    pub fn extend_named(&mut self, type_name: &str, field: Field) -> &mut Self {
        self.extensions.push((type_name.to_owned(), field));
        self
    }

    /// Makes `N` resolvable through `node(id:)` / `nodes(ids:)` (see [`node_fetcher`]).
    pub fn node<N: NodeType>(&mut self) -> &mut Self
    where
        Model<N>: Clone + Send + Sync + 'static,
    {
        self.node_with::<N>(node_fetcher::<N>())
    }

    /// Makes `N` resolvable through `node(id:)` / `nodes(ids:)` with a custom fetcher.
    /// Also gives `N` its `externalRefs` field (see [`crate::sync`]).
    pub fn node_with<N: NodeType>(&mut self, fetcher: NodeFetcher) -> &mut Self
    where
        Model<N>: Any + Send + Sync,
    {
        self.nodes.insert(N::NAME.to_owned(), fetcher);
        self.extend::<N>(crate::sync::external_refs_field::<N>())
    }

    /// Adds enum `E` and its `<E>Filter` input.
    pub fn enumeration<E: GqlEnum>(&mut self) -> &mut Self {
        self.ty(E::enum_type());
        self.ty(crate::filter::enum_filter_input(E::NAME))
    }

    /// Adds enum `E` without a filter input (for enums no list filters by).
    pub fn enum_only<E: GqlEnum>(&mut self) -> &mut Self {
        self.ty(E::enum_type())
    }

    /// Adds input object `I`.
    pub fn input<I: GqlInput>(&mut self) -> &mut Self {
        self.ty(I::input_object())
    }

    /// Adds the connection, filter and order types of a list.
    pub fn list<E: sea_orm::EntityTrait>(&mut self, spec: &crate::pagination::ListSpec<E>) -> &mut Self {
        let (objects, inputs, enums) = spec.types();
        for o in objects {
            self.object(o);
        }
        for i in inputs {
            self.ty(i);
        }
        for e in enums {
            self.ty(e);
        }
        self
    }

    /// Finishes the schema: applies extensions (failing on unknown targets), adds
    /// `node`/`nodes`, registers everything.
    pub fn finish(self) -> Result<SchemaBuilder, String> {
        let SchemaParts { mut objects, types, query, mutation, subscription, extensions, nodes } = self;
        for (target, field) in extensions {
            let obj = objects
                .iter_mut()
                .find(|o| o.type_name() == target)
                .ok_or_else(|| format!("cannot extend unknown type `{target}`"))?;
            let taken = std::mem::replace(obj, Object::new("__placeholder"));
            *obj = taken.field(field);
        }
        let mut q = Object::new("Query").description("Everything that can be read.");
        q = q.field(node_field()).field(nodes_field());
        for f in query {
            q = q.field(f);
        }
        let has_mutation = !mutation.is_empty();
        let has_subscription = !subscription.is_empty();
        let mut builder = async_graphql::dynamic::Schema::build(
            "Query",
            has_mutation.then_some("Mutation"),
            has_subscription.then_some("Subscription"),
        )
        .register(q);
        if has_mutation {
            let mut m = Object::new("Mutation").description("Everything that can be changed.");
            for f in mutation {
                m = m.field(f);
            }
            builder = builder.register(m);
        }
        if has_subscription {
            let mut s = Subscription::new("Subscription").description("Live streams of events.");
            for f in subscription {
                s = s.field(f);
            }
            builder = builder.register(s);
        }
        for o in objects {
            builder = builder.register(o);
        }
        for t in types {
            builder = builder.register(t);
        }
        Ok(builder.data(NodeRegistry(Arc::new(nodes))))
    }

    fn add_shared_types(&mut self) {
        // `specifiedBy` lets code generators type the scalars (see the README's
        // graphql-codegen mapping).
        let scalar = |name: &str, desc: &str, spec: &str, ok: fn(&Value) -> bool| {
            Scalar::new(name).description(desc).specified_by_url(spec).validator(ok)
        };
        self.ty(scalar(
            "DateTime",
            "An instant, RFC 3339 with an offset (e.g. `2026-05-01T09:30:00Z`), years 1900..2999.",
            "https://www.rfc-editor.org/rfc/rfc3339",
            |v| matches!(v, Value::String(s) if crate::validate::iso_datetime(s).is_some()),
        ));
        self.ty(scalar(
            "Date",
            "A calendar date, ISO 8601 / RFC 3339 `full-date` `YYYY-MM-DD` (zero-padded), years 1900..2999.",
            "https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
            |v| matches!(v, Value::String(s) if crate::validate::iso_date(s).is_some()),
        ));
        self.ty(scalar(
            "Decimal",
            "An exact decimal number, as a string (e.g. `\"120.50\"`).",
            "https://www.w3.org/TR/xmlschema11-2/#decimal",
            |v| matches!(v, Value::String(s) if s.len() <= 40 && s.parse::<rust_decimal::Decimal>().is_ok()),
        ));
        self.ty(scalar(
            "Int64",
            "A 64-bit integer as a decimal string (counts that outgrow `Int`, such as tokens).",
            "https://www.w3.org/TR/xmlschema11-2/#long",
            |v| matches!(v, Value::String(s) if s.parse::<i64>().is_ok()),
        ));
        self.ty(scalar("JSON", "Any JSON value.", "https://www.rfc-editor.org/rfc/rfc8259", |_| true));
        self.ty(scalar(
            "EventSeq",
            "A position in an organisation's event sequence: a 64-bit integer as a decimal string. \
             Pass the last one a subscription delivered as its `after` argument to resume.",
            "https://www.w3.org/TR/xmlschema11-2/#long",
            |v| matches!(v, Value::String(s) if s.parse::<i64>().is_ok_and(|n| n >= 0)),
        ));
        self.ty(Interface::new("Node")
            .description("An object with a globally unique, opaque ID.")
            .field(InterfaceField::new("id", TypeRef::named_nn(TypeRef::ID)).description("The global ID.")));
        self.ty(Enum::new("OrderDirection")
            .description("Sort direction.")
            .item(EnumItem::new("ASC").description("Smallest first."))
            .item(EnumItem::new("DESC").description("Largest first.")));
        for input in crate::filter::operator_inputs() {
            self.ty(input);
        }
        self.ty(crate::aggregate::DateBucket::enum_type());
        self.object(page_info_object());
        self.object(money_object());
        crate::sync::register(self);
    }
}

/// The parent object of the field being resolved, as `T` (held directly, shared as
/// `Arc<T>` by a loader, or loaded with some of its references, [`crate::joined`]).
pub fn parent<'a, T: Any>(ctx: &ResolverContext<'a>) -> AppResult<&'a T> {
    let v = &ctx.parent_value;
    v.downcast_ref::<T>()
        .or_else(|| v.downcast_ref::<Arc<T>>().map(Arc::as_ref))
        .or_else(|| v.downcast_ref::<Arc<crate::joined::Joined<T>>>().map(|j| j.row.as_ref()))
        .ok_or_else(|| AppError::internal("unexpected parent type"))
}

/// The optional `Date` argument `name` of a field (BAD_USER_INPUT on `name` when malformed).
pub fn date_arg(ctx: &ResolverContext<'_>, name: &str) -> AppResult<Option<chrono::NaiveDate>> {
    match ctx.args.get(name) {
        Some(v) if !v.is_null() => {
            let s = v.string().map_err(|_| AppError::bad_input(name, "expected a Date"))?;
            crate::validate::date(name, s).map(Some)
        }
        _ => Ok(None),
    }
}

/// A field resolved without awaiting anything: its value (or error) is ready, so no
/// future is allocated for it (most fields of a large response are such). A field built
/// on it is declared `sync_resolver`: a scalar one then resolves with no future at all.
pub fn ready<'a>(r: AppResult<Option<FieldValue<'a>>>) -> FieldFuture<'a> {
    match r {
        Ok(v) => FieldFuture::Value(v),
        Err(e) => {
            let e = async_graphql::Error::from(e);
            FieldFuture::new(async move { Err::<Option<FieldValue<'a>>, _>(e) })
        }
    }
}

/// A synchronous field computed from the parent `T`.
pub fn prop<T: Any + Send + Sync>(name: &str, ty: TypeRef, desc: &str, f: fn(&T) -> Value) -> Field {
    Field::new(name, ty, move |ctx| {
        // `null` must be `None`: custom scalars would reject a `Null` value.
        ready(parent::<T>(&ctx).map(|p| match f(p) {
            Value::Null => None,
            v => Some(FieldValue::value(v)),
        }))
    })
    .sync_resolver()
    .description(desc)
}

/// [`prop`] that needs `perm` (FORBIDDEN otherwise): for the fields of an object that some
/// of its readers must not see (a CLIENT reading its own account sees no internal notes).
pub fn prop_for<T: Any + Send + Sync>(
    perm: crate::Permission,
    name: &str,
    ty: TypeRef,
    desc: &str,
    f: fn(&T) -> Value,
) -> Field {
    Field::new(name, ty, move |ctx| {
        let value = RequestCtx::of(&ctx).and_then(|req| req.require(perm)).and_then(|_| parent::<T>(&ctx));
        ready(value.map(|p| match f(p) {
            Value::Null => None,
            v => Some(FieldValue::value(v)),
        }))
    })
    .sync_resolver()
    .description(desc)
}

/// The `id: ID!` field of node type `N`.
pub fn id_field<N: NodeType>() -> Field
where
    Model<N>: Any + Send + Sync,
{
    Field::new("id", TypeRef::named_nn(TypeRef::ID), move |ctx| {
        ready(parent::<Model<N>>(&ctx).map(|p| Some(FieldValue::value(N::gid(N::id(p))))))
    })
    .sync_resolver()
    .description("The global ID.")
}

/// The object type of node type `N`: named after it, implementing `Node`, with its `id`.
pub fn node_object<N: NodeType>(desc: &str) -> Object
where
    Model<N>: Any + Send + Sync,
{
    Object::new(N::NAME).description(desc).implement("Node").field(id_field::<N>())
}

/// A JSON document as a GraphQL `JSON` value.
pub fn json(v: &serde_json::Value) -> Value {
    Value::from_json(v.clone()).unwrap_or(Value::Null)
}

/// An exact decimal as a GraphQL `Decimal` value (a string without trailing zeros).
pub fn decimal(d: &rust_decimal::Decimal) -> Value {
    Value::from(d.normalize().to_string())
}

/// A nullable value helper: `None` becomes `null`.
pub fn opt<V: Into<Value>>(v: Option<V>) -> Value {
    v.map(Into::into).unwrap_or(Value::Null)
}

/// A timestamp as a `DateTime` value.
pub fn datetime(t: &chrono::DateTime<chrono::FixedOffset>) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A global ID value of a type known only at run time (polymorphic references such as a
/// notification's subject).
pub fn gid_named(type_name: &str, id: Uuid) -> Value {
    Value::String(id::encode(type_name, id))
}

/// A global ID value of node type `N`.
pub fn gid<N: NodeType>(id: Uuid) -> Value {
    Value::String(N::gid(id))
}

/// An enum value by name.
pub fn enum_value(name: &str) -> Value {
    Value::Enum(async_graphql::Name::new(name))
}

fn page_info_object() -> Object {
    Object::new("PageInfo")
        .description("Where a page sits in its list.")
        .field(prop::<PageInfo>(
            "hasNextPage",
            TypeRef::named_nn(TypeRef::BOOLEAN),
            "More items follow this page.",
            |p| p.has_next_page.into(),
        ))
        .field(prop::<PageInfo>(
            "hasPreviousPage",
            TypeRef::named_nn(TypeRef::BOOLEAN),
            "More items precede this page.",
            |p| p.has_previous_page.into(),
        ))
        .field(prop::<PageInfo>("startCursor", TypeRef::named(TypeRef::STRING), "Cursor of the first item.", |p| {
            opt(p.start_cursor.clone())
        }))
        .field(prop::<PageInfo>("endCursor", TypeRef::named(TypeRef::STRING), "Cursor of the last item.", |p| {
            opt(p.end_cursor.clone())
        }))
}

/// `<Node>Connection` and `<Node>Edge`.
pub fn connection_objects(node: &str) -> Vec<Object> {
    let edge_name = format!("{node}Edge");
    let edge = Object::new(&edge_name)
        .description(format!("A {node} in a list, with its cursor."))
        .field(prop::<Edge>(
            "cursor",
            TypeRef::named_nn(TypeRef::STRING),
            "Opaque position for `after` / `before`.",
            |e| e.cursor.clone().into(),
        ))
        .field(
            Field::new("node", TypeRef::named_nn(node), |ctx| {
                ready(parent::<Edge>(&ctx).map(|e| Some(FieldValue::borrowed_any(e.node.as_ref()))))
            })
            .description("The item."),
        );
    let conn =
        Object::new(format!("{node}Connection"))
            .description(format!("A page of {node} items."))
            .field(
                Field::new("edges", TypeRef::named_nn_list_nn(&edge_name), |ctx| {
                    ready(
                        parent::<Connection>(&ctx)
                            .map(|c| Some(FieldValue::list(c.edges.iter().map(|e| FieldValue::borrowed_any(e))))),
                    )
                })
                .description("Items with their cursors."),
            )
            .field(
                Field::new("nodes", TypeRef::named_nn_list_nn(node), |ctx| {
                    ready(parent::<Connection>(&ctx).map(|c| {
                        Some(FieldValue::list(c.edges.iter().map(|e| FieldValue::borrowed_any(e.node.as_ref()))))
                    }))
                })
                .description("The items, without cursors."),
            )
            .field(
                Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |ctx| {
                    ready(parent::<Connection>(&ctx).map(|c| Some(FieldValue::borrowed_any(&c.page_info))))
                })
                .description("Paging information."),
            )
            .field(
                Field::new("totalCount", TypeRef::named_nn(TypeRef::INT), |ctx| {
                    FieldFuture::new(async move {
                        let c = parent::<Connection>(&ctx)?;
                        let total = c.total.ok_or_else(|| AppError::internal("totalCount not computed"))?;
                        Ok(Some(FieldValue::value(total)))
                    })
                })
                .description("How many items match, across all pages (computed only when asked)."),
            );
    vec![conn, edge]
}

/// Fetches `ids`; a malformed one is BAD_USER_INPUT naming `arg` (`id`, or `ids[i]`).
async fn fetch_nodes(
    ctx: &ResolverContext<'_>,
    ids: Vec<String>,
    arg: impl Fn(usize) -> String,
) -> AppResult<Vec<Option<FieldValue<'static>>>> {
    let mut decoded = Vec::with_capacity(ids.len());
    for (i, gid) in ids.iter().enumerate() {
        decoded.push(id::decode(gid).map_err(|_| AppError::bad_input(arg(i), format!("`{gid}` is not a valid ID")))?);
    }
    NodeRegistry::of(ctx)?.fetch_nodes(RequestCtx::of(ctx)?, decoded).await
}

fn node_field() -> Field {
    Field::new("node", TypeRef::named("Node"), |ctx| {
        FieldFuture::new(async move {
            let gid = ctx.args.try_get("id")?.string()?.to_owned();
            let mut found = fetch_nodes(&ctx, vec![gid.clone()], |_| "id".to_owned()).await?;
            match found.pop().flatten() {
                Some(v) => Ok(Some(v)),
                None => Err(AppError::not_found(format!("node {gid}")).into()),
            }
        })
    })
    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)).description("A global ID."))
    .description("Fetches any object by its global ID (NOT_FOUND when it does not exist or is not visible).")
}

fn nodes_field() -> Field {
    Field::new("nodes", TypeRef::named_nn_list_nn("Node"), |ctx| {
        FieldFuture::new(async move {
            let list = ctx.args.try_get("ids")?.list()?;
            if list.len() > 100 {
                return Err(AppError::bad_input("ids", "at most 100 ids").into());
            }
            let ids = list.iter().map(|v| v.string().map(str::to_owned)).collect::<Result<Vec<_>, _>>()?;
            let found = fetch_nodes(&ctx, ids.clone(), |i| format!("ids[{i}]")).await?;
            // The dynamic executor cannot place `null` in a list of interface values, so a
            // missing or invisible id fails the field, like `node` does.
            let mut values = Vec::with_capacity(found.len());
            for (v, gid) in found.into_iter().zip(&ids) {
                values.push(v.ok_or_else(|| AppError::not_found(format!("node {gid}")))?);
            }
            Ok(Some(FieldValue::list(values)))
        })
    })
    .argument(InputValue::new("ids", TypeRef::named_nn_list_nn(TypeRef::ID)).description("Global IDs (at most 100)."))
    .description("Fetches objects by global IDs, in order; NOT_FOUND if any does not exist or is not visible.")
}
