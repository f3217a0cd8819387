//! Node types declared once: a GraphQL object type backed by one entity, with its name,
//! read permission, id and tenant column. Field helpers, global IDs, node fetchers and
//! schema extensions take the node type, never its name as a string; another crate reaches
//! a domain's rows through its node types (`opsgraph_org::nodes::Membership`), not its
//! entity modules.

use async_graphql::dynamic::TypeRef;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::auth::Permission;
use crate::error::AppResult;

/// The row type of node type `N`.
pub type Model<N> = <<N as NodeType>::Entity as EntityTrait>::Model;

/// A GraphQL node type (implements `Node`) backed by one entity; declare it with
/// [`crate::node_type!`].
pub trait NodeType: Send + Sync + 'static {
    /// The GraphQL type name (also the type part of its global IDs).
    const NAME: &'static str;
    /// Who may fetch one through `node(id:)`.
    const READ: Permission;
    /// The entity holding its rows.
    type Entity: EntityTrait + Send + Sync;
    /// A row's id.
    fn id(m: &Model<Self>) -> Uuid;
    /// A row's organisation (the tenant column).
    fn org(m: &Model<Self>) -> Uuid;

    /// The global ID of `id`.
    fn gid(id: Uuid) -> String {
        crate::id::encode(Self::NAME, id)
    }
    /// Decodes a global ID that must name this type; otherwise BAD_USER_INPUT on `field`.
    fn decode(global_id: &str, field: &str) -> AppResult<Uuid> {
        crate::id::decode_as(global_id, Self::NAME, field)
    }
    /// `Name!`.
    fn nn() -> TypeRef {
        TypeRef::named_nn(Self::NAME)
    }
    /// `Name` (nullable).
    fn nullable() -> TypeRef {
        TypeRef::named(Self::NAME)
    }
}

/// Declares node types: `node_type! { /// doc
/// pub Task = task::Entity, read ProjectsRead; }` (tenant column `org_id`; write
/// `tenant id` for a type that is its own tenant, like `Organization`).
#[macro_export]
macro_rules! node_type {
    ($($(#[$doc:meta])* $vis:vis $name:ident = $entity:ident, read $perm:ident $(, tenant $org:ident)?;)*) => {
        $(
            $(#[$doc])*
            $vis struct $name;
            impl $crate::node::NodeType for $name {
                const NAME: &'static str = stringify!($name);
                const READ: $crate::Permission = $crate::Permission::$perm;
                type Entity = $entity::Entity;
                fn id(m: &$entity::Model) -> $crate::__private::Uuid {
                    m.id
                }
                fn org(m: &$entity::Model) -> $crate::__private::Uuid {
                    $crate::node_type!(@org m $(, $org)?)
                }
            }
        )*
    };
    (@org $m:ident) => { $m.org_id };
    (@org $m:ident, $org:ident) => { $m.$org };
}
