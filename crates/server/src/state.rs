//! Process-wide state shared by all requests.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dynamic::Schema;
use opsgraph_core::live::{Hub, LiveConfig, Outbox};
use opsgraph_org::live::Inbox;
use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::ws::Sockets;

/// The schema, the pool, the configuration and the live hubs.
#[derive(Clone)]
pub struct AppState {
    /// The one schema.
    pub schema: Schema,
    /// The database pool (owner role; requests switch to the RLS role per transaction).
    pub pool: DatabaseConnection,
    /// The live-delivery pool: feeds, per-event transactions and re-checks of
    /// subscriptions, so delivery never queues behind request traffic.
    pub live_pool: DatabaseConnection,
    /// Configuration.
    pub config: Arc<Config>,
    /// Auth settings derived from the configuration.
    pub auth: opsgraph_org::AuthConfig,
    /// Live fan-out of the event outbox (entity streams).
    pub events: Hub<Outbox>,
    /// Live fan-out of committed notifications.
    pub inbox: Hub<Inbox>,
    /// The open WebSocket connections.
    pub sockets: Arc<Sockets>,
    /// The embedding models offered (search, collections, the indexer).
    pub models: opsgraph_knowledge::embed::Models,
    /// What the ai runner and resolvers need: the models and the secrets key.
    pub ai: opsgraph_ai::service::Runtime,
    /// Outgoing webhooks: secrets key, client, retry policy.
    pub webhooks: opsgraph_org::service::webhooks::Webhooks,
    /// Persisted queries known by hash.
    pub persisted: Arc<crate::persisted::Persisted>,
    /// Requests seen before: parsed, within the limits and validated.
    pub prepared: Arc<crate::prepared::Prepared>,
    /// Cost buckets per caller.
    pub cost: Arc<crate::cost::CostLimiter>,
    /// The named aggregates KPIs measure.
    pub metrics: opsgraph_core::kpi::Metrics,
}

impl AppState {
    /// Builds the schema with the configured limits and connects nothing new.
    pub fn new(config: Config, pool: DatabaseConnection, live_pool: DatabaseConnection) -> anyhow::Result<Self> {
        let auth = config.auth();
        let config_cost = (config.cost_budget, config.cost_refill_per_sec);
        let models = config.embedding_models()?;
        let sealer = opsgraph_core::secrets::Sealer::from_hex(&config.secret_key)
            .map_err(|e| anyhow::anyhow!("OPSGRAPH_SECRET_KEY: {e}"))?;
        let sealer = Arc::new(sealer);
        let webhooks = opsgraph_org::service::webhooks::Webhooks {
            retry_base: Duration::from_millis(config.webhook_retry_base_ms),
            retry_max: Duration::from_millis(config.webhook_retry_max_ms),
            disable_after: config.webhook_disable_after,
            ..opsgraph_org::service::webhooks::Webhooks::new(sealer.clone(), config.outbound_allow_private)
        };
        let ai = opsgraph_ai::service::Runtime {
            models: models.clone(),
            sealer,
            allow_private_hosts: config.outbound_allow_private,
        };
        let live = LiveConfig {
            batch_window: Duration::from_millis(config.live_batch_window_ms),
            feed_capacity: config.live_queue,
            history: config.live_history,
            ..LiveConfig::default()
        };
        let events = Hub::new(live_pool.clone(), Outbox, live.clone());
        let inbox = Hub::new(live_pool.clone(), Inbox, live);
        let cost = Arc::new(crate::cost::CostLimiter::new(config_cost.0, config_cost.1));
        let runner = crate::runner::SchemaRunner::new(config.limits(), cost.clone(), config.persisted_only);
        let metrics = opsgraph_schema::metrics().map_err(|e| anyhow::anyhow!(e))?;
        let mut builder = opsgraph_schema::builder()
            .map_err(|e| anyhow::anyhow!(e))?
            .limit_depth(config.max_depth)
            .limit_complexity(config.max_complexity)
            .limit_directives(config.max_directives)
            .limit_recursive_depth(config.max_recursion)
            .extension(opsgraph_core::exec::Semantics)
            .data(auth.clone())
            .data(events.clone())
            .data(inbox.clone())
            .data(models.clone())
            .data(Some(ai.clone()))
            .data(Some(webhooks.clone()))
            .data(Some(opsgraph_core::query_runner::Runner(runner.clone())))
            .data(metrics.clone());
        if !config.introspection {
            // "Did you mean …" would leak the names introspection hides.
            builder = builder.disable_introspection().disable_suggestions();
        }
        let schema = builder.finish()?;
        runner.attach(schema.clone());
        Ok(AppState {
            schema,
            pool,
            live_pool,
            config: Arc::new(config),
            auth,
            events,
            inbox,
            sockets: Arc::default(),
            models,
            ai,
            webhooks,
            persisted: Arc::default(),
            prepared: Arc::default(),
            cost,
            metrics,
        })
    }
}
