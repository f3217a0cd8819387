//! OpenAI-compatible chat completions, streamed (`POST {base}/chat/completions` with
//! `stream: true` and `stream_options.include_usage`): server-sent events parsed as they
//! arrive, text deltas passed on at once, tool-call deltas merged by their `index`, the
//! usage chunk read, `[DONE]` required (a stream that ends without it is an error, never a
//! silently short answer). Retries with back-off on 429, 5xx and network failures before
//! the stream starts; errors name the status and the provider's message, never the key.

use std::time::Duration;

use opsgraph_core::outbound::{Endpoint, error_message, post_json};
use serde_json::{Value, json};

use super::{Message, Role};

/// How to reach a provider (its `Debug` never shows the key).
#[derive(Clone)]
pub struct Settings {
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Bearer token, if needed.
    pub api_key: Option<String>,
    /// The model.
    pub model: String,
    /// Longest wait for the whole reply.
    pub timeout: Duration,
    /// Retries before the stream starts.
    pub max_retries: u32,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

/// A function the model may call (OpenAI function calling).
#[derive(Debug, Clone)]
pub struct Tool {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its arguments.
    pub parameters: Value,
}

/// A call the model asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCall {
    /// The provider's id for it (tool results answer it).
    pub id: String,
    /// The function.
    pub name: String,
    /// Its arguments, a JSON text.
    pub arguments: String,
}

/// Tokens a reply took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
}

/// One piece of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    /// More text.
    Text(String),
    /// More of tool call `index` (its name when it starts).
    Tool {
        /// The call's position.
        index: usize,
        /// Its function's name, in the first delta.
        name: Option<String>,
        /// A piece of its arguments.
        arguments: String,
    },
}

/// A finished reply.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// Its text.
    pub text: String,
    /// The calls it asks for, in index order.
    pub tool_calls: Vec<ToolCall>,
    /// `stop`, `length`, `tool_calls`, …
    pub finish_reason: Option<String>,
    /// Tokens (when the provider sends the usage chunk).
    pub usage: Option<Usage>,
}

/// Splits a server-sent event stream into its `data` payloads, across chunk boundaries.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: String,
}

impl SseParser {
    /// Adds received text; returns the data of every event it completed.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.buf.push_str(&text.replace("\r\n", "\n"));
        let mut out = vec![];
        while let Some(end) = self.buf.find("\n\n") {
            let event: String = self.buf.drain(..end + 2).collect();
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                out.push(data.join("\n"));
            }
        }
        out
    }
}

/// Builds a [`Reply`] from streamed chunks.
#[derive(Debug, Default)]
pub struct Accumulator {
    reply: Reply,
}

impl Accumulator {
    /// Applies one chunk (`chat.completion.chunk`); returns its deltas.
    pub fn apply(&mut self, chunk: &Value) -> Vec<Delta> {
        let mut out = vec![];
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            let n = |k: &str| u[k].as_u64().unwrap_or(0);
            self.reply.usage = Some(Usage { prompt: n("prompt_tokens"), completion: n("completion_tokens") });
        }
        let Some(choice) = chunk["choices"].as_array().and_then(|c| c.first()) else { return out };
        if let Some(reason) = choice["finish_reason"].as_str() {
            self.reply.finish_reason = Some(reason.to_owned());
        }
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            self.reply.text.push_str(text);
            out.push(Delta::Text(text.to_owned()));
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().unwrap_or(0) as usize;
            while self.reply.tool_calls.len() <= index {
                self.reply.tool_calls.push(ToolCall::default());
            }
            let slot = &mut self.reply.tool_calls[index];
            if let Some(id) = call["id"].as_str() {
                slot.id = id.to_owned();
            }
            let name = call["function"]["name"].as_str().map(str::to_owned);
            if let Some(n) = &name {
                slot.name.push_str(n);
            }
            let arguments = call["function"]["arguments"].as_str().unwrap_or_default().to_owned();
            slot.arguments.push_str(&arguments);
            out.push(Delta::Tool { index, name, arguments });
        }
        out
    }

    /// The reply so far.
    pub fn finish(self) -> Reply {
        self.reply
    }
}

/// A message in the protocol's shape: plain, an assistant turn that called tools, or a
/// tool's result.
#[derive(Debug, Clone)]
pub enum WireMessage {
    /// A system, user or assistant message.
    Plain(Message),
    /// The assistant asked for these calls.
    Calls(Vec<ToolCall>),
    /// The result of call `id`.
    Result {
        /// The call answered.
        id: String,
        /// What the tool returned.
        content: String,
    },
}

impl WireMessage {
    fn json(&self) -> Value {
        match self {
            WireMessage::Plain(m) => json!({ "role": m.role.as_str(), "content": m.content }),
            WireMessage::Calls(calls) => json!({ "role": Role::Assistant.as_str(), "content": null,
                "tool_calls": calls.iter().map(|c| json!({ "id": c.id, "type": "function",
                    "function": { "name": c.name, "arguments": c.arguments } })).collect::<Vec<_>>() }),
            WireMessage::Result { id, content } => json!({ "role": "tool", "tool_call_id": id, "content": content }),
        }
    }
}

/// The client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    settings: Settings,
}

impl Client {
    /// A client for `settings` (an http or https URL).
    pub fn new(settings: Settings) -> Result<Client, String> {
        let base = settings.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!("provider URL must be http(s), not {base:?}"));
        }
        let http =
            reqwest::Client::builder().timeout(settings.timeout).build().map_err(|e| format!("http client: {e}"))?;
        Ok(Client { http, url: format!("{base}/chat/completions"), settings })
    }

    fn body(&self, messages: &[WireMessage], tools: &[Tool], max_tokens: u32) -> Value {
        let mut body = json!({
            "model": self.settings.model,
            "messages": messages.iter().map(WireMessage::json).collect::<Vec<_>>(),
            "stream": true,
            "stream_options": { "include_usage": true },
            "max_tokens": max_tokens,
        });
        if !tools.is_empty() {
            body["tools"] = tools
                .iter()
                .map(|t| {
                    json!({ "type": "function", "function": { "name": t.name, "description": t.description,
                    "parameters": t.parameters } })
                })
                .collect();
        }
        body
    }

    /// Streams a reply to `messages`, passing each delta to `on_delta` as it arrives.
    pub async fn chat(
        &self,
        messages: &[WireMessage],
        tools: &[Tool],
        max_tokens: u32,
        mut on_delta: impl FnMut(Delta),
    ) -> Result<Reply, String> {
        let endpoint = Endpoint {
            http: &self.http,
            url: &self.url,
            api_key: self.settings.api_key.as_deref(),
            max_retries: self.settings.max_retries,
            what: "provider",
        };
        // Retried only before the stream starts: deltas once passed on are not taken back.
        let mut resp = post_json(&endpoint, &self.body(messages, tools, max_tokens)).await?;
        let (mut sse, mut acc) = (SseParser::default(), Accumulator::default());
        let mut pending: Vec<u8> = vec![];
        loop {
            let chunk = resp.chunk().await.map_err(|e| format!("stream interrupted: {}", e.without_url()))?;
            let Some(bytes) = chunk else { return Err("stream ended before [DONE]".into()) };
            pending.extend_from_slice(&bytes);
            // Only whole UTF-8 characters go to the parser.
            let valid = match std::str::from_utf8(&pending) {
                Ok(_) => pending.len(),
                Err(e) => e.valid_up_to(),
            };
            let text = String::from_utf8_lossy(&pending[..valid]).into_owned();
            pending.drain(..valid);
            for data in sse.push(&text) {
                if data.trim() == "[DONE]" {
                    return Ok(acc.finish());
                }
                let v: Value = serde_json::from_str(&data).map_err(|e| format!("bad stream chunk: {e}"))?;
                if v.get("error").is_some() {
                    return Err(format!("provider error: {}", error_message(&data)));
                }
                acc.apply(&v).into_iter().for_each(&mut on_delta);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let s = Settings {
            base_url: "http://x/v1".into(),
            api_key: Some("sk-secret-123".into()),
            model: "m".into(),
            timeout: Duration::from_secs(1),
            max_retries: 0,
        };
        let shown = format!("{s:?} {:?}", Client::new(s.clone()).expect("client"));
        assert!(!shown.contains("sk-secret") && shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn events_split_across_chunks() {
        let mut p = SseParser::default();
        assert!(p.push("data: {\"a\"").is_empty());
        assert_eq!(p.push(":1}\n\ndata: [DO"), vec!["{\"a\":1}"]);
        assert_eq!(p.push("NE]\r\n\r\n: comment\n\n"), vec!["[DONE]"]);
    }

    #[test]
    fn tool_calls_merge_by_index() {
        let mut acc = Accumulator::default();
        let chunks = [
            json!({"choices":[{"delta":{"role":"assistant","content":"Let me "}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_a","function":{"name":"search","arguments":"{\"q\":"}}]}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"task","arguments":"{}"}}]}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"vpn\"}"}}]},"finish_reason":"tool_calls"}]}),
            json!({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}),
        ];
        let deltas: Vec<Delta> = chunks.iter().flat_map(|c| acc.apply(c)).collect();
        assert_eq!(deltas[0], Delta::Text("Let me ".into()));
        assert_eq!(deltas.len(), 4);
        let r = acc.finish();
        assert_eq!(
            r.tool_calls[0],
            ToolCall { id: "call_a".into(), name: "search".into(), arguments: "{\"q\":\"vpn\"}".into() }
        );
        assert_eq!(r.tool_calls[1].name, "task");
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(r.usage, Some(Usage { prompt: 12, completion: 7 }));
    }
}
