//! An OpenAI-compatible embeddings endpoint (`POST {base}/embeddings`, as OpenAI, Azure's
//! compatible route, Ollama, vLLM, llama.cpp and LiteLLM serve it): batched inputs, float
//! vectors put back in input order by their `index`, a timeout per call, and retries with
//! exponential back-off on 429 and 5xx (honouring `Retry-After`). Errors name the status
//! and the provider's message, never the key.

use std::time::Duration;

use opsgraph_core::outbound::{Endpoint, post_json};
use serde::Deserialize;
use serde_json::{Value, json};

/// How to reach the endpoint.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL, e.g. `https://api.openai.com/v1` (`/embeddings` is appended).
    pub base_url: String,
    /// Bearer token, if the endpoint needs one.
    pub api_key: Option<String>,
    /// The model to ask for (and the name stored beside its vectors).
    pub model: String,
    /// The vectors' dimensions.
    pub dimensions: usize,
    /// Send `dimensions` in the request (models that can shorten their vectors, such as
    /// text-embedding-3; others reject the field).
    pub request_dimensions: bool,
    /// Per-call timeout.
    pub timeout: Duration,
    /// Retries after a 429, a 5xx or a network failure.
    pub max_retries: u32,
}

/// The client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    settings: Settings,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct Reply {
    data: Vec<Item>,
}

impl Client {
    /// A client for `settings` (the URL must be http or https).
    pub fn new(settings: Settings) -> Result<Client, String> {
        let base = settings.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!("embedding endpoint must be an http(s) URL, not {base:?}"));
        }
        if settings.dimensions == 0 || settings.model.trim().is_empty() {
            return Err("embedding endpoint needs a model name and its dimensions".into());
        }
        let http =
            reqwest::Client::builder().timeout(settings.timeout).build().map_err(|e| format!("http client: {e}"))?;
        Ok(Client { http, url: format!("{base}/embeddings"), settings })
    }

    fn body(&self, texts: &[String]) -> Value {
        let mut body = json!({ "model": self.settings.model, "input": texts, "encoding_format": "float" });
        if self.settings.request_dimensions {
            body["dimensions"] = json!(self.settings.dimensions);
        }
        body
    }

    /// One vector per text, in order.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        if texts.is_empty() {
            return Ok(vec![]);
        }
        let endpoint = Endpoint {
            http: &self.http,
            url: &self.url,
            api_key: self.settings.api_key.as_deref(),
            max_retries: self.settings.max_retries,
            what: "embedding endpoint",
        };
        let resp = post_json(&endpoint, &self.body(texts)).await?;
        self.parse(resp, texts.len()).await
    }

    async fn parse(&self, resp: reqwest::Response, n: usize) -> Result<Vec<Vec<f32>>, String> {
        let reply: Reply = resp.json().await.map_err(|e| format!("embedding endpoint reply: {}", e.without_url()))?;
        let mut out: Vec<Option<Vec<f32>>> = vec![None; n];
        for item in reply.data {
            let slot = out.get_mut(item.index).ok_or(format!("embedding reply has index {} of {n}", item.index))?;
            *slot = Some(item.embedding);
        }
        out.into_iter().enumerate().map(|(i, v)| v.ok_or(format!("embedding reply lacks input {i}"))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let s = Settings {
            base_url: "ftp://x".into(),
            api_key: None,
            model: "m".into(),
            dimensions: 8,
            request_dimensions: false,
            timeout: Duration::from_secs(1),
            max_retries: 0,
        };
        assert!(Client::new(s.clone()).is_err());
        let ok = Client::new(Settings { base_url: "http://localhost:1/v1/".into(), ..s.clone() });
        assert_eq!(ok.map(|c| c.url), Ok("http://localhost:1/v1/embeddings".to_owned()));
        assert!(Client::new(Settings { base_url: "http://x".into(), dimensions: 0, ..s }).is_err());
    }
}
