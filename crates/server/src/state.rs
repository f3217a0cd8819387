//! Process-wide state shared by all requests.

use std::sync::Arc;

use async_graphql::dynamic::Schema;
use sea_orm::DatabaseConnection;

use crate::config::Config;

/// The schema, the pool and the configuration.
#[derive(Clone)]
pub struct AppState {
    /// The one schema.
    pub schema: Schema,
    /// The database pool (owner role; requests switch to the RLS role per transaction).
    pub pool: DatabaseConnection,
    /// Configuration.
    pub config: Arc<Config>,
    /// Auth settings derived from the configuration.
    pub auth: opsgraph_org::AuthConfig,
}

impl AppState {
    /// Builds the schema with the configured limits and connects nothing new.
    pub fn new(config: Config, pool: DatabaseConnection) -> anyhow::Result<Self> {
        let auth = config.auth();
        let mut builder = opsgraph_schema::builder()
            .map_err(|e| anyhow::anyhow!(e))?
            .limit_depth(config.max_depth)
            .limit_complexity(config.max_complexity)
            .limit_directives(config.max_directives)
            .limit_recursive_depth(config.max_recursion)
            .data(auth.clone())
            .data(pool.clone());
        if !config.introspection {
            builder = builder.disable_introspection();
        }
        let schema = builder.finish()?;
        Ok(AppState { schema, pool, config: Arc::new(config), auth })
    }
}
