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
