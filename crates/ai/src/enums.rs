//! The ai domain's closed value sets (GraphQL enums stored as their names).

use opsgraph_derive::GqlEnum;

/// Whether an agent takes conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum AgentStatus {
    /// Answers.
    Active,
    /// Configured but not answering.
    Paused,
    /// Retired.
    Archived,
}

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum MessageRole {
    /// Instructions.
    System,
    /// The member.
    User,
    /// The agent.
    Assistant,
    /// A tool's result.
    Tool,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum MessageStatus {
    /// A reply waiting for the runner.
    Pending,
    /// A reply being generated (its text streams over `conversationEvents`).
    Streaming,
    /// A reply waiting for a person's decision on a change its tool proposed.
    Waiting,
    /// Done.
    Complete,
    /// Generation failed (see `error`).
    Failed,
}

/// Where a provider's models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ProviderKind {
    /// In this server's process (SmolLM2-135M-Instruct), offline.
    Local,
    /// An OpenAI-compatible chat completions endpoint.
    OpenaiCompatible,
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum RunTrigger {
    /// A member's message.
    Chat,
    /// Another agent's tool call.
    Tool,
    /// A schedule.
    Scheduled,
    /// A workflow step.
    Workflow,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum RunStatus {
    /// Working.
    Running,
    /// Waiting for a person's decision on a proposed change.
    Waiting,
    /// Finished.
    Complete,
    /// Stopped by an error (see `error`).
    Failed,
}

/// How much a proposed change could hurt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ActionRisk {
    /// Adds something new.
    Low,
    /// Changes a record.
    Medium,
    /// Changes money or a client-facing record.
    High,
}

/// Where a proposed change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ActionStatus {
    /// Waiting for a decision.
    Pending,
    /// Applied.
    Approved,
    /// Refused (see `reason`).
    Rejected,
    /// Not decided in time.
    Expired,
}

/// What a model can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ModelCapability {
    /// Chat completions.
    Chat,
    /// Function calling (agents' tools are offered only to such models).
    Tools,
    /// Images in prompts.
    Vision,
}
