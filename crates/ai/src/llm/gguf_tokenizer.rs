//! The tokenizer and chat template a GGUF file carries in its metadata, made usable: a
//! GPT-2 byte-level BPE (`tokenizer.ggml.model = gpt2`: its tokens, merges, and control
//! tokens as special tokens; digits split one by one, as SmolLM2's own tokenizer does) and
//! the ChatML template (`tokenizer.chat_template` using `<|im_start|>`).

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, Tokenizer};

use super::{LlmError, Message};

/// GGUF's token type of control tokens.
const CONTROL: i32 = 3;

fn strings(ct: &Content, key: &str) -> Result<Vec<String>, LlmError> {
    let v = ct.metadata.get(key).ok_or_else(|| LlmError::File(format!("no {key} in the model's metadata")))?;
    let items = v.to_vec().map_err(|e| LlmError::File(format!("{key}: {e}")))?;
    items.iter().map(|i| i.to_string().cloned().map_err(|e| LlmError::File(format!("{key}: {e}")))).collect()
}

fn text(ct: &Content, key: &str) -> Option<String> {
    ct.metadata.get(key).and_then(|v| v.to_string().ok().cloned())
}

/// A token id from the metadata.
pub fn token_id(ct: &Content, key: &str) -> Option<u32> {
    ct.metadata.get(key).and_then(|v| v.to_u32().ok())
}

/// The byte-level BPE tokenizer of a GPT-2-style GGUF.
pub fn tokenizer(ct: &Content) -> Result<Tokenizer, LlmError> {
    let kind = text(ct, "tokenizer.ggml.model").unwrap_or_default();
    if kind != "gpt2" {
        return Err(LlmError::File(format!("tokenizer {kind:?} is not supported (gpt2 byte-level BPE is)")));
    }
    let tokens = strings(ct, "tokenizer.ggml.tokens")?;
    let merges: Vec<(String, String)> = strings(ct, "tokenizer.ggml.merges")?
        .into_iter()
        .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_owned(), b.to_owned())))
        .collect();
    let vocab: tokenizers::models::bpe::Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
    let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| LlmError::File(e.to_string()))?;
    let mut tok = Tokenizer::new(bpe);
    let split = Sequence::new(vec![Digits::new(true).into(), ByteLevel::new(false, true, true).into()]);
    tok.with_pre_tokenizer(Some(split));
    tok.with_decoder(Some(ByteLevel::default()));
    let types: Vec<i32> = match ct.metadata.get("tokenizer.ggml.token_type").map(Value::to_vec) {
        Some(Ok(v)) => v.iter().map(|t| t.to_i32().unwrap_or(1)).collect(),
        _ => vec![],
    };
    let special: Vec<AddedToken> = tokens
        .iter()
        .zip(types.iter())
        .filter(|(_, t)| **t == CONTROL)
        .map(|(s, _)| AddedToken::from(s.clone(), true))
        .collect();
    tok.add_special_tokens(special).map_err(|e| LlmError::File(e.to_string()))?;
    Ok(tok)
}

/// A chat template the model's metadata names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTemplate {
    /// `<|im_start|>role\ncontent<|im_end|>\n`, then `<|im_start|>assistant\n`.
    ChatMl,
}

impl ChatTemplate {
    /// The template of `ct` (ChatML is the one supported).
    pub fn of(ct: &Content) -> Result<ChatTemplate, LlmError> {
        match text(ct, "tokenizer.chat_template") {
            Some(t) if t.contains("<|im_start|>") => Ok(ChatTemplate::ChatMl),
            Some(_) => Err(LlmError::File("the model's chat template is not ChatML".into())),
            None => Err(LlmError::File("the model carries no chat template".into())),
        }
    }

    /// The prompt for `messages`, ending where the assistant's turn begins.
    pub fn render(self, messages: &[Message]) -> String {
        let mut out = String::new();
        for m in messages {
            out.push_str(&format!("<|im_start|>{}\n{}<|im_end|>\n", m.role.as_str(), m.content));
        }
        out.push_str("<|im_start|>assistant\n");
        out
    }
}
