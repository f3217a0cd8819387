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

/// What a workflow step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum StepKind {
    /// Create a task (`projectId`, `title`, optional `description`, `priority`, `assigneeId`).
    CreateTask,
    /// Notify members (`memberIds`, `title`).
    Notify,
    /// Ask an agent (`agentId`, `prompt`); its answer is the step's output.
    RunAgent,
    /// POST the event as JSON to `url` (http(s); private and loopback addresses only when
    /// the server allows them).
    CallWebhook,
}

/// How a workflow condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum ConditionOp {
    /// Equal (as text).
    Eq,
    /// Not equal.
    Ne,
    /// Greater than (as numbers).
    Gt,
    /// Less than (as numbers).
    Lt,
    /// Contains (as text).
    Contains,
    /// Has a value.
    Exists,
}

/// Where a workflow run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum WorkflowRunStatus {
    /// Steps remain (retried with back-off after a failure).
    Running,
    /// Every step done.
    Complete,
    /// A step kept failing.
    Failed,
}

/// What an insight says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum InsightKind {
    /// How people feel (000 sentiment_tracking).
    Sentiment,
    /// Something may go wrong.
    Risk,
    /// A summary.
    Summary,
    /// Something to do.
    Suggestion,
    /// Something unusual.
    Anomaly,
}

/// Where a conversation happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum AgentChannel {
    /// Text chat.
    Chat,
    /// A call (with recordings).
    Voice,
}

/// An agent's part in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, GqlEnum)]
pub enum TeamRole {
    /// Leads and hands out work.
    Coordinator,
    /// Does one kind of work.
    Specialist,
    /// Helps the others.
    Support,
}
