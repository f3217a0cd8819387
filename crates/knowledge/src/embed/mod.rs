//! Embedding models: text in, one vector per text out. The local default is
//! all-MiniLM-L6-v2 run in process ([`minilm`]).

pub mod minilm;

use std::sync::{Arc, OnceLock};

/// A failure of an embedding model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model files are missing or unreadable.
    #[error("model files: {0}")]
    Files(String),
    /// The model failed to run.
    #[error("model: {0}")]
    Model(String),
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Model(e.to_string())
    }
}

/// The local model's tokenizer for sizing chunks (no truncation, no padding), loaded once;
/// none when the model files are missing (chunks are then sized by characters).
pub fn chunk_tokenizer() -> Option<&'static tokenizers::Tokenizer> {
    static CELL: OnceLock<Option<tokenizers::Tokenizer>> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = minilm::default_dir()?;
        let mut t = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| tracing::warn!(error = %e, "tokenizer unavailable: chunks sized by characters"))
            .ok()?;
        t.with_truncation(None).ok()?;
        t.with_padding(None);
        Some(t)
    })
    .as_ref()
}

/// The local embedding model, loaded once on first use (blocking: call it off the async
/// threads); the error says why it is unavailable.
pub fn local_model() -> Result<Arc<minilm::MiniLm>, String> {
    static CELL: OnceLock<Result<Arc<minilm::MiniLm>, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        let dir = minilm::default_dir().ok_or("no embedding model installed (OPSGRAPH_EMBED_MODEL)")?;
        minilm::MiniLm::load(&dir).map(Arc::new).map_err(|e| e.to_string())
    })
    .clone()
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-6);
        assert!((cosine(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }
}
