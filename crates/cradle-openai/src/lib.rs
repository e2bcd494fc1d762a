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
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let text = response
                        .body_mut()
                        .with_config()
                        .limit(self.endpoint.max_answer_bytes)
                        .read_to_string();
                    if status == 200 {
                        return text.map_err(|e| OpenAiError::Response {
                            url,
                            what: format!("the answer could not be read: {e}"),
                        });
                    }
                    let retryable = status == 429 || (500..=599).contains(&status);
                    if !retryable || attempt == attempts {
                        let text = text.unwrap_or_default();
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
        let url = || self.endpoint.url("chat/completions");
        let answer: Value = serde_json::from_str(&body).map_err(|e| OpenAiError::Response {
            url: url(),
            what: format!("not JSON: {e}"),
        })?;
        match &answer["choices"][0]["message"]["content"] {
            Value::String(text) => Ok(text.clone()),
            // Some servers answer with content parts, like the request.
            Value::Array(parts) => Ok(parts
                .iter()
                .filter_map(|part| part["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")),
            _ => Err(OpenAiError::Response {
                url: url(),
                what: "no choices[0].message.content".to_owned(),
            }),
        }
    }
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
}
