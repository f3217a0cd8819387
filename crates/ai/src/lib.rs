//! opsgraph's ai domain: language models (a local one in process, OpenAI-compatible
//! providers), agents, conversations and runs. This first part is the local model.

pub mod llm;
