//! Language models: chat messages in, a streamed reply out. [`local`] runs
//! SmolLM2-135M-Instruct in process from its GGUF file, offline.

pub mod gguf_tokenizer;
pub mod local;
pub mod openai;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Instructions.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role's name in chat templates and the OpenAI protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A message of `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Message {
        Message { role, content: content.into() }
    }
}

/// How to generate.
#[derive(Debug, Clone)]
pub struct Params {
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// 0 for greedy decoding.
    pub temperature: f64,
    /// Nucleus sampling (with a temperature above 0).
    pub top_p: Option<f64>,
    /// Sampling seed.
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params { max_tokens: 256, temperature: 0.0, top_p: None, seed: 42 }
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The model ended its turn.
    Stop,
    /// [`Params::max_tokens`] was reached.
    Length,
    /// The caller asked to stop.
    Cancelled,
}

/// A finished reply.
#[derive(Debug, Clone)]
pub struct Completion {
    /// Its text.
    pub text: String,
    /// Prompt tokens.
    pub tokens_in: usize,
    /// Generated tokens.
    pub tokens_out: usize,
    /// Why it stopped.
    pub finish: Finish,
}

/// A failure of a model.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The model file is missing, unreadable or of an unsupported kind.
    #[error("model file: {0}")]
    File(String),
    /// The model failed while running.
    #[error("model: {0}")]
    Run(String),
}

impl From<candle_core::Error> for LlmError {
    fn from(e: candle_core::Error) -> Self {
        LlmError::Run(e.to_string())
    }
}
