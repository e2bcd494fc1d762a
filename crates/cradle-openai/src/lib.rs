//! One client for OpenAI-compatible HTTP endpoints: text-embeddings
//! servers, vLLM, Ollama, llama.cpp's server, OpenAI itself. Embeddings
//! (`cradle-embed`), image captions (`cradle-media`) and chat go through
//! it, so they resolve URLs, send keys, bound time and retry the same way.
//!
//! - An endpoint setting may be the server's base URL
//!   (`http://localhost:8000`), its `/v1`, or the full operation URL;
//!   [`Endpoint::url`] makes the operation URL from any of them.
//! - Rate limits (429), server errors (5xx) and connection failures are
//!   retried with exponential backoff (honouring `Retry-After`, never more
//!   than [`MAX_BACKOFF`] at once) a bounded number of times; other
//!   answers fail at once with the status and the start of the body.
//! - Chat completions come whole ([`Client::chat`]) or streamed
//!   ([`Client::chat_stream`]: server-sent `data:` chunks up to `[DONE]`,
//!   each piece of text handed on as it arrives).
//! - The API key is sent as `Authorization: Bearer ...` and never appears
//!   in `Debug` output or errors.

use std::time::Duration;

use serde_json::Value;

/// Longest wait between two attempts, whatever the backoff or the
/// server's `Retry-After` say.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// What is kept of an error answer's body in a message.
const ERROR_BODY_CHARS: usize = 500;

/// Where an OpenAI-compatible server is and how to talk to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The base URL, its `/v1`, or a full operation URL.
    pub base: String,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<String>,
    /// Time limit of one request, answer included.
    pub timeout: Duration,
    /// Retries of one request after a 429, a 5xx or a connection failure.
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// The largest answer read, in bytes.
    pub max_answer_bytes: u64,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .finish()
    }
}

/// Why a request gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiError {
    #[error("{setting}: {what}")]
    Setting { setting: &'static str, what: String },
    #[error("cannot reach {url} ({attempts} attempts)")]
    Connection {
        url: String,
        attempts: u32,
        #[source]
        source: Box<ureq::Error>,
    },
    #[error("{url} answered {status} after {attempts} attempts: {body}")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        body: String,
    },
    #[error("{url} answered something unexpected: {what}")]
    Response { url: String, what: String },
}

impl Endpoint {
    /// An endpoint with the usual limits: 60 s per request, 5 retries
    /// from 500 ms, answers up to 1 GiB.
    pub fn new(base: &str) -> Endpoint {
        Endpoint {
            base: base.to_owned(),
            api_key: None,
            timeout: Duration::from_secs(60),
            max_retries: 5,
            initial_backoff: Duration::from_millis(500),
            max_answer_bytes: 1 << 30,
        }
    }

    /// The URL of `operation` (`embeddings`, `chat/completions`) on this
    /// endpoint, whichever form the setting has.
    pub fn url(&self, operation: &str) -> String {
        let base = self.base.trim_end_matches('/');
        if base.ends_with(&format!("/{operation}")) {
            base.to_owned()
        } else if base.ends_with("/v1") {
            format!("{base}/{operation}")
        } else {
            format!("{base}/v1/{operation}")
        }
    }

    /// A client for this endpoint; refuses what is not an http(s) URL.
    pub fn client(&self) -> Result<Client, OpenAiError> {
        if !(self.base.starts_with("http://") || self.base.starts_with("https://")) {
            return Err(OpenAiError::Setting {
                setting: "endpoint",
                what: format!("{:?} is not an http:// or https:// URL", self.base),
            });
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(self.timeout))
            .user_agent(concat!("cradle/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            endpoint: self.clone(),
            agent,
        })
    }
}

/// A client of one endpoint; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    agent: ureq::Agent,
}

impl Client {
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// POSTs `body` as JSON to `operation` with retries; the answer's body
    /// when the server says 200.
    pub fn post(&self, operation: &str, body: &Value) -> Result<String, OpenAiError> {
        let url = self.endpoint.url(operation);
        let mut response = self.send(operation, body)?;
        response
            .body_mut()
            .with_config()
            .limit(self.endpoint.max_answer_bytes)
            .read_to_string()
            .map_err(|e| OpenAiError::Response {
                url,
                what: format!("the answer could not be read: {e}"),
            })
    }

    /// POSTs `body` as JSON to `operation`, retrying 429, 5xx and
    /// connection failures; the response of the first 200, its body unread.
    fn send(
        &self,
        operation: &str,
        body: &Value,
    ) -> Result<ureq::http::Response<ureq::Body>, OpenAiError> {
        let url = self.endpoint.url(operation);
        let body = body.to_string();
        let attempts = self.endpoint.max_retries + 1;
        let mut backoff = self.endpoint.initial_backoff;
        for attempt in 1..=attempts {
            let mut request = self.agent.post(&url).content_type("application/json");
            if let Some(key) = &self.endpoint.api_key {
                request = request.header("Authorization", &format!("Bearer {key}"));
            }
            let mut wait = backoff;
            match request.send(body.as_bytes()) {
                Err(source) => {
                    if attempt == attempts {
                        return Err(OpenAiError::Connection {
                            url,
                            attempts,
                            source: Box::new(source),
                        });
                    }
                }
                Ok(response) if response.status().as_u16() == 200 => return Ok(response),
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let retryable = status == 429 || (500..=599).contains(&status);
                    if !retryable || attempt == attempts {
                        let text = response
                            .body_mut()
                            .with_config()
                            .limit(self.endpoint.max_answer_bytes)
                            .read_to_string()
                            .unwrap_or_default();
                        return Err(OpenAiError::Status {
                            url,
                            status,
                            attempts: attempt,
                            body: text.trim().chars().take(ERROR_BODY_CHARS).collect(),
                        });
                    }
                    if let Some(seconds) = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                    {
                        wait = Duration::from_secs(seconds);
                    }
                }
            }
            std::thread::sleep(wait.min(MAX_BACKOFF));
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        unreachable!("the last attempt returns")
    }

    /// A streamed chat completion: `request` is the body of
    /// `chat/completions` (model, messages, limits); `stream: true` is set
    /// here. Each piece of text is handed to `on_text` as it arrives; when
    /// `on_text` returns `false` (nobody listens any more) the answer is
    /// dropped and the connection closed. Blocks: call it on a thread
    /// that may block.
    ///
    /// Only the request is retried (429, 5xx, connection failures before
    /// the answer starts); an answer that breaks off is an error, since
    /// its start has been handed out already. A server that ignores
    /// `stream` and answers one JSON completion is read as one piece.
    pub fn chat_stream(
        &self,
        request: &Value,
        mut on_text: impl FnMut(&str) -> bool,
    ) -> Result<StreamEnd, OpenAiError> {
        let operation = "chat/completions";
        let url = self.endpoint.url(operation);
        let mut request = request.clone();
        request["stream"] = Value::Bool(true);
        let mut response = self.send(operation, &request)?;
        let event_stream = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let reader = response
            .body_mut()
            .with_config()
            .limit(self.endpoint.max_answer_bytes)
            .reader();
        if !event_stream {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::BufReader::new(reader), &mut text)
                .map_err(|e| OpenAiError::Response {
                    url: url.clone(),
                    what: format!("the answer could not be read: {e}"),
                })?;
            let answer = completion_text(&text).map_err(|what| OpenAiError::Response {
                url: url.clone(),
                what,
            })?;
            if !on_text(&answer) {
                return Ok(StreamEnd::Cancelled);
            }
            return Ok(StreamEnd::Finished {
                finish_reason: None,
            });
        }
        read_event_stream(std::io::BufReader::new(reader), &mut on_text)
            .map_err(|what| OpenAiError::Response { url, what })
    }
    /// A chat completion (not streamed): the text of the first choice.
    /// `messages` are OpenAI chat messages (text or content parts).
    pub fn chat(
        &self,
        model: &str,
        messages: Value,
        max_tokens: u32,
        temperature: f32,
    ) -> Result<String, OpenAiError> {
        let request = serde_json::json!({
            "model": model,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "messages": messages,
        });
        let body = self.post("chat/completions", &request)?;
        completion_text(&body).map_err(|what| OpenAiError::Response {
            url: self.endpoint.url("chat/completions"),
            what,
        })
    }
}

/// How a streamed chat completion ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The server said `[DONE]` or closed the stream after the last
    /// chunk; `finish_reason` as the last chunk gave it (`stop`,
    /// `length`, ...).
    Finished { finish_reason: Option<String> },
    /// The receiver of the text stopped listening.
    Cancelled,
}

/// The text of the first choice of a (not streamed) chat completion.
fn completion_text(body: &str) -> Result<String, String> {
    let answer: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    match &answer["choices"][0]["message"]["content"] {
        Value::String(text) => Ok(text.clone()),
        // Some servers answer with content parts, like the request.
        Value::Array(parts) => Ok(parts
            .iter()
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")),
        _ => Err(match answer.get("error") {
            Some(error) => format!("an error instead of an answer: {error}"),
            None => "no choices[0].message.content".to_owned(),
        }),
    }
}

/// Reads server-sent events of chat completion chunks: `data:` lines
/// (several make one event, a blank line ends it), `[DONE]` at the end;
/// comments (`:`), `event:`, `id:` and `retry:` lines are skipped. The
/// text of each chunk (`choices[0].delta.content`) goes to `on_text`.
pub fn read_event_stream(
    reader: impl std::io::BufRead,
    on_text: &mut impl FnMut(&str) -> bool,
) -> Result<StreamEnd, String> {
    let mut data = String::new();
    let mut finish_reason = None;
    let mut lines = reader.lines();
    loop {
        let line = match lines.next() {
            Some(Ok(line)) => Some(line),
            Some(Err(e)) => return Err(format!("the stream broke off: {e}")),
            None => None,
        };
        let end_of_event = line
            .as_deref()
            .is_none_or(|l| l.trim_end_matches('\r').is_empty());
        if let Some(line) = &line {
            let line = line.trim_end_matches('\r');
            if let Some(value) = line.strip_prefix("data:") {
                let value = value.strip_prefix(' ').unwrap_or(value);
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
        }
        if end_of_event && !data.is_empty() {
            let event = std::mem::take(&mut data);
            if event.trim() == "[DONE]" {
                return Ok(StreamEnd::Finished { finish_reason });
            }
            let chunk: Value = serde_json::from_str(&event)
                .map_err(|e| format!("a chunk is not JSON ({e}): {}", start_of(&event)))?;
            if let Some(error) = chunk.get("error") {
                return Err(format!("the server reported an error mid-answer: {error}"));
            }
            let choice = &chunk["choices"][0];
            if let Some(text) = choice["delta"]["content"].as_str()
                && !text.is_empty()
                && !on_text(text)
            {
                return Ok(StreamEnd::Cancelled);
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                finish_reason = Some(reason.to_owned());
            }
        }
        if line.is_none() {
            // Some servers close without `[DONE]`; an answer that said how
            // it finished is whole, one that did not was cut off.
            return match finish_reason {
                Some(_) => Ok(StreamEnd::Finished { finish_reason }),
                None => Err("the stream ended before the answer finished".to_owned()),
            };
        }
    }
}

fn start_of(text: &str) -> String {
    text.chars().take(ERROR_BODY_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_urls_from_every_form_of_the_setting() {
        for (base, url) in [
            ("http://h:1", "http://h:1/v1/embeddings"),
            ("http://h:1/", "http://h:1/v1/embeddings"),
            ("http://h:1/v1", "http://h:1/v1/embeddings"),
            ("http://h:1/v1/embeddings", "http://h:1/v1/embeddings"),
        ] {
            assert_eq!(Endpoint::new(base).url("embeddings"), url);
        }
        assert_eq!(
            Endpoint::new("http://h:1/v1/chat/completions").url("chat/completions"),
            "http://h:1/v1/chat/completions"
        );
    }

    #[test]
    fn the_key_stays_out_of_debug_output_and_bad_urls_are_refused() {
        let mut endpoint = Endpoint::new("ftp://h");
        endpoint.api_key = Some("secret-key".into());
        assert!(!format!("{endpoint:?}").contains("secret-key"));
        assert!(matches!(
            endpoint.client(),
            Err(OpenAiError::Setting { .. })
        ));
    }

    /// Text pieces and the end of a stream as [`read_event_stream`] reads it.
    fn read(stream: &str) -> (Vec<String>, Result<StreamEnd, String>) {
        let mut pieces = Vec::new();
        let end = read_event_stream(stream.as_bytes(), &mut |text: &str| {
            pieces.push(text.to_owned());
            true
        });
        (pieces, end)
    }

    #[test]
    fn reads_server_sent_chunks() {
        let chunk = |text: &str| {
            format!(
                "data: {}\n\n",
                serde_json::json!({"choices": [{"delta": {"content": text}}]})
            )
        };
        let stream = format!(
            ": keep-alive\r\n\r\n{}event: message\r\n{}data: {}\n\ndata: [DONE]\n\n",
            chunk("Hallo"),
            chunk(" Welt [1]"),
            serde_json::json!({"choices": [{"delta": {}, "finish_reason": "stop"}]}),
        );
        let (pieces, end) = read(&stream);
        assert_eq!(pieces, ["Hallo", " Welt [1]"]);
        assert_eq!(
            end,
            Ok(StreamEnd::Finished {
                finish_reason: Some("stop".into())
            })
        );

        // One event over two data lines.
        let (pieces, _) = read(
            "data: {\"choices\": [{\"delta\":\ndata: {\"content\": \"x\"}}]}\n\ndata: [DONE]\n",
        );
        assert_eq!(pieces, ["x"]);

        // Cut off before it finished, an error chunk, a chunk not JSON.
        assert!(read(&chunk("half")).1.is_err());
        let error = read("data: {\"error\": {\"message\": \"model not found\"}}\n\n").1;
        assert!(error.unwrap_err().contains("model not found"));
        assert!(read("data: <html>\n\n").1.unwrap_err().contains("not JSON"));

        // The listener leaves: reading stops.
        let mut seen = 0;
        let end = read_event_stream(
            format!("{}{}", chunk("a"), chunk("b")).as_bytes(),
            &mut |_: &str| {
                seen += 1;
                false
            },
        );
        assert_eq!((seen, end), (1, Ok(StreamEnd::Cancelled)));
    }

    #[test]
    fn whole_completions_with_text_or_parts() {
        let text = r#"{"choices": [{"message": {"content": "ok"}}]}"#;
        assert_eq!(completion_text(text).as_deref(), Ok("ok"));
        let parts = r#"{"choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"text": "b"}]}}]}"#;
        assert_eq!(completion_text(parts).as_deref(), Ok("a\nb"));
        assert!(
            completion_text(r#"{"error": "busy"}"#)
                .unwrap_err()
                .contains("busy")
        );
    }
}
