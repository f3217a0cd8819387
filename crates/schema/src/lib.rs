//! Assembles every domain's contribution into ONE schema, bottom-up (org, then the crates
//! that extend its types), and exports its SDL.

use async_graphql::dynamic::{Schema, SchemaBuilder};
use opsgraph_core::gql::SchemaParts;

/// All parts of the schema, in dependency order.
pub fn parts() -> SchemaParts {
    let mut parts = SchemaParts::new();
    opsgraph_org::graphql::register(&mut parts);
    opsgraph_work::graphql::register(&mut parts);
    opsgraph_crm::graphql::register(&mut parts);
    opsgraph_finance::graphql::register(&mut parts);
    opsgraph_knowledge::graphql::register(&mut parts);
    opsgraph_ai::graphql::register(&mut parts);
    parts
}

/// Every domain's named aggregates, for KPIs.
pub fn metrics() -> Result<opsgraph_core::kpi::Metrics, String> {
    let all = [
        opsgraph_org::metrics::all(),
        opsgraph_work::metrics::all(),
        opsgraph_crm::metrics::all(),
        opsgraph_finance::metrics::all(),
    ];
    opsgraph_core::kpi::Metrics::new(all.into_iter().flatten())
}

/// The schema builder with every type registered (limits and data are added by the server).
pub fn builder() -> Result<SchemaBuilder, String> {
    parts().finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> Result<String, String> {
    let schema: Schema = builder()?.finish().map_err(|e| e.to_string())?;
    Ok(schema.sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by()))
}
