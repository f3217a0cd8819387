//! Helpers for mutation inputs.

use serde::{Deserialize, Deserializer};

/// For patch inputs: absent -> `None`, `null` -> `Some(None)`, value -> `Some(Some(v))`.
/// Use with `#[serde(default, deserialize_with = "opsgraph_core::input::patch")]`.
pub fn patch<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A global ID argument (GraphQL `ID`), still encoded; decode it with
/// [`crate::id::decode_as`] against the node type it must name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Id(pub String);

impl Id {
    /// The global ID of node `id` of type `N`.
    pub fn of<N: crate::node::NodeType>(id: uuid::Uuid) -> Self {
        Id(N::gid(id))
    }
}

impl std::ops::Deref for Id {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
