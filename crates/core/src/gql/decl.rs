//! Declarations written once: enums ([`GqlEnum`]), inputs ([`GqlInput`]) and the GraphQL
//! type of every Rust input type ([`InputType`]). Derive the first two with
//! `opsgraph_derive`; the third maps field types to their GraphQL types.

use async_graphql::dynamic::{Enum, InputObject, TypeRef};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;

use crate::input::Id;

/// Names of the shared scalars.
pub mod scalar {
    /// `DateTime`: an RFC 3339 instant.
    pub const DATE_TIME: &str = "DateTime";
    /// `Date`: a calendar date.
    pub const DATE: &str = "Date";
    /// `Decimal`: an exact decimal as a string.
    pub const DECIMAL: &str = "Decimal";
    /// `JSON`: any JSON value.
    pub const JSON: &str = "JSON";
    /// `EventSeq`: a position in an event sequence.
    pub const EVENT_SEQ: &str = "EventSeq";
    /// `Money`: an amount in a currency (an object type).
    pub const MONEY: &str = "Money";
}

/// A closed set of values with a GraphQL enum type, a database text per value and a rank
/// (declaration order); `#[derive(GqlEnum)]` implements it.
pub trait GqlEnum: Sized + Copy + Send + Sync + 'static {
    /// The GraphQL type name.
    const NAME: &'static str;
    /// Database texts in rank order (lowest first).
    const VALUES: &'static [&'static str];
    /// The GraphQL enum type, with descriptions.
    fn enum_type() -> Enum;
    /// This value's database text / GraphQL name.
    fn as_str(&self) -> &'static str;
    /// The value whose database text is `s`.
    fn from_text(s: &str) -> Option<Self>;

    /// The value whose database text is `s`, or INTERNAL (for texts the code itself holds,
    /// such as demo data and stored rows).
    fn from_text_or_err(s: &str) -> crate::AppResult<Self> {
        Self::from_text(s).ok_or_else(|| crate::AppError::internal(format!("`{s}` is not a {}", Self::NAME)))
    }

    /// `Name!`.
    fn nn() -> TypeRef {
        TypeRef::named_nn(Self::NAME)
    }
}

/// A GraphQL input object declared by its Rust struct; `#[derive(GqlInput)]` implements it.
pub trait GqlInput {
    /// The GraphQL type name.
    const NAME: &'static str;
    /// The input object type, with descriptions.
    fn input_object() -> InputObject;
}

/// The GraphQL type of a Rust input field: `T` is non-null, `Option<T>` nullable,
/// `Option<Option<T>>` (a patch: absent, null or a value) nullable, `Vec<T>` a list.
pub trait InputType {
    /// The type reference.
    fn type_ref() -> TypeRef;
}

fn nullable(t: TypeRef) -> TypeRef {
    match t {
        TypeRef::NonNull(inner) => *inner,
        other => other,
    }
}

impl<T: InputType> InputType for Option<T> {
    fn type_ref() -> TypeRef {
        nullable(T::type_ref())
    }
}

impl<T: InputType> InputType for Vec<T> {
    fn type_ref() -> TypeRef {
        TypeRef::NonNull(Box::new(TypeRef::List(Box::new(T::type_ref()))))
    }
}

macro_rules! scalar_input {
    ($($t:ty => $name:expr),* $(,)?) => {
        $(impl InputType for $t {
            fn type_ref() -> TypeRef {
                TypeRef::named_nn($name)
            }
        })*
    };
}
scalar_input! {
    String => TypeRef::STRING,
    Id => TypeRef::ID,
    i16 => TypeRef::INT,
    i32 => TypeRef::INT,
    i64 => TypeRef::INT,
    f64 => TypeRef::FLOAT,
    bool => TypeRef::BOOLEAN,
    NaiveDate => scalar::DATE,
    DateTime<FixedOffset> => scalar::DATE_TIME,
    Decimal => scalar::DECIMAL,
    serde_json::Value => scalar::JSON,
}

/// Declares an input naming one node by its global ID:
/// `id_input!(/// Names one task.
/// TaskIdInput, "The task.");`
#[macro_export]
macro_rules! id_input {
    ($(#[$doc:meta])* $name:ident, $field_doc:literal) => {
        $(#[$doc])*
        #[derive(::serde::Deserialize, ::opsgraph_derive::GqlInput)]
        pub struct $name {
            #[doc = $field_doc]
            pub id: $crate::input::Id,
        }
    };
}
