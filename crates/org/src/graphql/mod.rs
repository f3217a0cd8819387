//! The org domain's GraphQL contribution: thin resolvers over the services.

pub mod auth;
pub mod inbox;
pub mod lists;
pub mod live;
pub mod mutation;
pub mod query;
pub mod types;

use opsgraph_core::gql::SchemaParts;

/// Adds the org types, queries and mutations.
pub fn register(parts: &mut SchemaParts) {
    types::register(parts);
    types::organization_lists(parts);
    query::register(parts);
    auth::register(parts);
    mutation::register(parts);
    inbox::register(parts);
    live::register(parts);
}
