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
    /// Done.
    Complete,
    /// Generation failed (see `error`).
    Failed,
}
