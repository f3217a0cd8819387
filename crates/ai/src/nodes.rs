//! The ai node types: the public handles other crates use to reference ai data.

use crate::entity::{agent, conversation, llm_model, message, pending_action, provider, run};

opsgraph_core::node_type! {
    /// A configured assistant.
    pub Agent = agent, read AiUse;
    /// A member's conversation with an agent.
    pub AgentConversation = conversation, read AiUse;
    /// One message of a conversation.
    pub AgentMessage = message, read AiUse;
    /// Where language models run.
    pub LlmProvider = provider, read AiManage;
    /// A language model of a provider.
    pub LlmModel = llm_model, read AiUse;
    /// One execution of an agent.
    pub AiRun = run, read AiUse;
    /// A change an agent proposed, waiting for a person.
    pub PendingAction = pending_action, read AiUse;
}
