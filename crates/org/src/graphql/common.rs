//! Small type-reference helpers shared by the org GraphQL files.

use async_graphql::Value;
use async_graphql::dynamic::TypeRef;
use opsgraph_core::gql::datetime;

pub(crate) const S: &str = TypeRef::STRING;

pub(crate) fn nn(t: &str) -> TypeRef {
    TypeRef::named_nn(t)
}
pub(crate) fn nullable(t: &str) -> TypeRef {
    TypeRef::named(t)
}
pub(crate) fn s_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::STRING)
}
pub(crate) fn id() -> TypeRef {
    TypeRef::named(TypeRef::ID)
}
pub(crate) fn id_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::ID)
}
pub(crate) fn int_nn() -> TypeRef {
    TypeRef::named_nn(TypeRef::INT)
}
pub(crate) fn ts(t: &chrono::DateTime<chrono::FixedOffset>) -> Value {
    datetime(t)
}
pub(crate) fn opt_ts(t: &Option<chrono::DateTime<chrono::FixedOffset>>) -> Value {
    t.as_ref().map(datetime).unwrap_or(Value::Null)
}
