//! The ai node types: the public handles other crates use to reference ai data.

use crate::entity::{
    agent, agent_team, call_recording, conversation, insight, llm_model, mcp_server, message, pending_action,
    prompt_template, provider, run, workflow, workflow_run,
};

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
    /// A named, versioned prompt.
    pub PromptTemplate = prompt_template, read AiUse;
    /// An AI finding attached to an entity.
    pub AiInsight = insight, read AiUse;
    /// A trigger on domain events with ordered steps.
    pub Workflow = workflow, read AiManage;
    /// One execution of a workflow.
    pub WorkflowRun = workflow_run, read AiManage;
    /// A registered MCP server.
    pub McpServer = mcp_server, read AiUse;
    /// A recorded call of a voice conversation.
    pub CallRecording = call_recording, read AiUse;
    /// Agents working together under a coordinator.
    pub AgentTeam = agent_team, read AiUse;
}
