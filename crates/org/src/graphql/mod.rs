pub fn register(_p: &mut opsgraph_core::gql::SchemaParts) {}
