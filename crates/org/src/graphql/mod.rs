//! The org domain's GraphQL contribution: thin resolvers over the services.

pub mod api_keys;
pub mod auth;
mod common;
pub mod dashboards;
pub mod inbox;
pub mod kpis;
pub mod live;
pub mod members;
pub mod organization;
pub mod reports;
pub mod skills;
pub mod teams;
pub mod viewer;
pub mod webhooks;

use opsgraph_core::gql::SchemaParts;

/// Adds the org types, queries and mutations.
pub fn register(parts: &mut SchemaParts) {
    organization::register(parts);
    members::register(parts);
    teams::register(parts);
    skills::register(parts);
    api_keys::register(parts);
    webhooks::register(parts);
    kpis::register(parts);
    dashboards::register(parts);
    reports::register(parts);
    viewer::register(parts);
    auth::register(parts);
    inbox::register(parts);
    live::register(parts);
    opsgraph_core::sync::upsert::register::<crate::nodes::Membership>(parts);
    opsgraph_core::sync::upsert::register::<crate::nodes::Team>(parts);
}
