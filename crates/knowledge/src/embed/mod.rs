//! Embedding models: text in, one vector per text out. The local default is
//! all-MiniLM-L6-v2 run in process ([`minilm`]); an OpenAI-compatible endpoint can be
//! configured beside it ([`openai`]). [`Models`] is the set a server offers: each collection
//! embeds with one of them, and several live side by side (one HNSW index per model).

pub mod minilm;
pub mod openai;

use std::sync::{Arc, OnceLock};

/// One embedding model a server offers.
#[derive(Debug, Clone)]
pub struct Model {
    /// Its name, stored beside its vectors (a collection's `embeddingModel`).
    pub name: String,
    /// Its dimensions.
    pub dimensions: usize,
    /// What runs it.
    pub provider: Provider,
}

/// What runs a model.
#[derive(Debug, Clone)]
pub enum Provider {
    /// all-MiniLM-L6-v2 in process.
    Local,
    /// An OpenAI-compatible `/embeddings` endpoint.
    OpenAi(Arc<openai::Client>),
}

impl Model {
    /// One unit vector per text, in order; the error says why not (and is stored as a
    /// document's index error, so it never holds a secret).
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
        let vectors = match &self.provider {
            Provider::Local => tokio::task::spawn_blocking(move || {
                let model = local_model()?;
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                model.embed(&refs).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| format!("embedding task: {e}"))??,
            Provider::OpenAi(client) => client.embed(&texts).await?,
        };
        match vectors.iter().find(|v| v.len() != self.dimensions) {
            Some(v) => Err(format!("{} returned {} dimensions, configured {}", self.name, v.len(), self.dimensions)),
            None => Ok(vectors),
        }
    }

    /// The largest vector pgvector's HNSW index takes.
    pub const MAX_INDEXED_DIMENSIONS: usize = 2000;
}

/// The models a server offers; the first is the default for new collections. Cheap to
/// clone (resolvers take it from the schema's data per request).
#[derive(Debug, Clone)]
pub struct Models(Arc<Vec<Model>>);

impl Default for Models {
    /// The local model alone.
    fn default() -> Self {
        Models(Arc::new(vec![Model {
            name: minilm::MODEL.into(),
            dimensions: minilm::DIMENSIONS,
            provider: Provider::Local,
        }]))
    }
}

impl Models {
    /// The local model and, when configured, an OpenAI-compatible one; `default` names the
    /// model new collections use (the local one when `None`).
    pub fn new(remote: Option<openai::Settings>, default: Option<&str>) -> Result<Models, String> {
        let mut models: Vec<Model> = Models::default().0.to_vec();
        if let Some(s) = remote {
            if models.iter().any(|m| m.name == s.model) {
                return Err(format!("embedding model {} is configured twice", s.model));
            }
            let dimensions = s.dimensions;
            let name = s.model.clone();
            models.push(Model { name, dimensions, provider: Provider::OpenAi(Arc::new(openai::Client::new(s)?)) });
        }
        if let Some(d) = default {
            let at = models
                .iter()
                .position(|m| m.name == d)
                .ok_or(format!("default embedding model {d} is not configured"))?;
            models.swap(0, at);
        }
        Ok(Models(Arc::new(models)))
    }

    /// Every model, the default first.
    pub fn all(&self) -> &[Model] {
        &self.0
    }

    /// The model new collections use.
    pub fn default_model(&self) -> &Model {
        &self.0[0]
    }

    /// The model named `name`.
    pub fn get(&self, name: &str) -> Option<&Model> {
        self.0.iter().find(|m| m.name == name)
    }

    /// The names, for an error message.
    pub fn names(&self) -> String {
        self.0.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}

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
