//! The ai domain's operations: validate -> build -> save, on any connection.

pub mod actions;
pub mod agents;
pub mod ask;
pub mod automation;
pub mod conversations;
pub mod grounding;
pub mod insights;
pub mod mcp;
pub mod providers;
pub mod render;
pub mod runner;
pub mod spend;
pub mod stream;
pub mod teams;
pub mod templates;
pub mod tool_loop;
pub mod tools;
pub mod voice;
pub mod workflows;

use std::sync::Arc;

use opsgraph_core::secrets::Sealer;
use opsgraph_knowledge::embed::Models;

/// What the runner and the ai resolvers need from the server: the embedding models
/// (grounding, the knowledge tool) and the key that opens providers' API keys.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Embedding models.
    pub models: Models,
    /// Opens sealed provider keys.
    pub sealer: Arc<Sealer>,
    /// Whether workflows may call webhooks on loopback and private addresses.
    pub allow_private_hosts: bool,
}
