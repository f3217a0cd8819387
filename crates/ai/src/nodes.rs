//! The ai node types: the public handles other crates use to reference ai data.

use crate::entity::{agent, conversation, message};

opsgraph_core::node_type! {
    /// A configured assistant.
    pub Agent = agent, read AiUse;
    /// A member's conversation with an agent.
    pub AgentConversation = conversation, read AiUse;
    /// One message of a conversation.
    pub AgentMessage = message, read AiUse;
}
