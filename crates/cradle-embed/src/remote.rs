//! The remote backend: any OpenAI-compatible `POST /v1/embeddings` endpoint
//! (text-embeddings-inference, vLLM, Ollama, OpenAI).
//!
//! Texts go out in batches, at most `concurrency` requests at a time,
//! through the shared OpenAI-compatible client (`cradle-openai`): rate
//! limits (429), server errors (5xx) and connection failures are retried
//! with exponential backoff a bounded number of times. Every
//! vector must have the model's dimension — configured, or learned from a
//! probe when the embedder is opened — and comes back normalised, in the
//! order of the input even when the server answers out of order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use cradle_openai::{Client, Endpoint, OpenAiError};
use serde::Deserialize;

use crate::{EmbedError, Embedder, ModelInfo, Role};

/// Where and how to reach the endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// The server's base URL (`http://localhost:8080`); `/v1/embeddings`
    /// is appended unless the URL already ends in it (or in `/v1`).
    pub endpoint: String,
    /// The `model` field of each request.
    pub model: String,
    /// Sent as `Authorization: Bearer ...` when set.
    pub api_key: Option<String>,
    /// Texts per request.
    pub batch_size: usize,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Retries of one request after a 429, a 5xx or a connection failure.
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// Time limit of one request.
    pub timeout: Duration,
    /// The vectors' dimension; `None`: learned from a probe at open.
    pub dimension: Option<usize>,
    /// Put before query texts (`query: ` for e5 models).
    pub query_prefix: String,
    /// Put before passage texts (`passage: ` for e5 models).
    pub passage_prefix: String,
}

impl RemoteOptions {
    /// Options with the usual defaults: batches of 32, 4 requests in
    /// flight, 5 retries from 500 ms, 60 s per request; e5 prefixes when
    /// the model's name says it is an e5.
    pub fn new(endpoint: &str, model: &str) -> RemoteOptions {
        let e5 = crate::local::is_e5_name(model);
        RemoteOptions {
            endpoint: endpoint.to_string(),
            model: model.to_string(),
            api_key: None,
            batch_size: 32,
            concurrency: 4,
            max_retries: 5,
            initial_backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(60),
            dimension: None,
            query_prefix: if e5 { "query: ".into() } else { String::new() },
            passage_prefix: if e5 {
                "passage: ".into()
            } else {
                String::new()
            },
        }
    }

    /// The endpoint as the shared client sees it.
    fn endpoint(&self) -> Endpoint {
        Endpoint {
            base: self.endpoint.clone(),
            api_key: self.api_key.clone(),
            timeout: self.timeout,
            max_retries: self.max_retries,
            initial_backoff: self.initial_backoff,
            max_answer_bytes: 1 << 30,
        }
    }

    /// The full URL requests go to.
    pub fn url(&self) -> String {
        self.endpoint().url("embeddings")
    }
}

// The API key stays out of logs and error reports.
impl std::fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("timeout", &self.timeout)
            .field("dimension", &self.dimension)
            .finish()
    }
}

/// Embeds through an OpenAI-compatible endpoint.
pub struct RemoteEmbedder {
    info: ModelInfo,
    options: RemoteOptions,
    url: String,
    client: Client,
}

impl std::fmt::Debug for RemoteEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteEmbedder")
            .field("info", &self.info)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

impl RemoteEmbedder {
    /// Checks the options and, unless the dimension is configured, asks
    /// the endpoint for one vector to learn it.
    pub fn open(options: &RemoteOptions) -> Result<RemoteEmbedder, EmbedError> {
        for (setting, value) in [
            ("batch_size", options.batch_size),
            ("concurrency", options.concurrency),
        ] {
            if value == 0 {
                return Err(EmbedError::Setting {
                    setting,
                    what: "must be at least 1".into(),
                });
            }
        }
        let endpoint = options.endpoint();
        let client = endpoint.client().map_err(|error| match error {
            OpenAiError::Setting { setting, what } => EmbedError::Setting { setting, what },
            other => EmbedError::RemoteResponse {
                url: endpoint.url("embeddings"),
                what: other.to_string(),
            },
        })?;
        let url = endpoint.url("embeddings");
        let mut embedder = RemoteEmbedder {
            info: ModelInfo {
                name: options.model.clone(),
                backend: "remote".into(),
                dimension: options.dimension.unwrap_or(0),
                revision: format!("{url}#{}", options.model),
            },
            options: options.clone(),
            url,
            client,
        };
        if options.dimension.is_none() {
            let probe = embedder.request(&["dimension probe"], None)?;
            embedder.info.dimension = probe.first().map_or(0, Vec::len);
            if embedder.info.dimension == 0 {
                return Err(EmbedError::RemoteResponse {
                    url: embedder.url.clone(),
                    what: "the probe came back with an empty vector".into(),
                });
            }
        }
        Ok(embedder)
    }

    /// One request with retries; vectors in input order, each checked
    /// against `dimension` when given.
    fn request(
        &self,
        texts: &[&str],
        dimension: Option<usize>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let body = serde_json::json!({ "model": self.options.model, "input": texts });
        let text = self
            .client
            .post("embeddings", &body)
            .map_err(|error| match error {
                OpenAiError::Connection {
                    url,
                    attempts,
                    source,
                } => EmbedError::RemoteConnection {
                    url,
                    attempts,
                    source,
                },
                OpenAiError::Status {
                    url,
                    status,
                    attempts,
                    body,
                } => EmbedError::RemoteStatus {
                    url,
                    status,
                    attempts,
                    body,
                },
                OpenAiError::Response { url, what } => EmbedError::RemoteResponse { url, what },
                OpenAiError::Setting { setting, what } => EmbedError::Setting { setting, what },
            })?;
        self.parse(&text, texts.len(), dimension)
    }

    fn parse(
        &self,
        text: &str,
        expected: usize,
        dimension: Option<usize>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let bad = |what: String| EmbedError::RemoteResponse {
            url: self.url.clone(),
            what,
        };
        let response: Response = serde_json::from_str(text).map_err(|e| bad(format!("{e}")))?;
        if response.data.len() != expected {
            return Err(bad(format!(
                "{} vectors for {expected} texts",
                response.data.len()
            )));
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; expected];
        for (position, item) in response.data.into_iter().enumerate() {
            let index = item.index.unwrap_or(position);
            let slot = out.get_mut(index).ok_or_else(|| {
                bad(format!(
                    "index {index} is out of range for {expected} texts"
                ))
            })?;
            if slot.is_some() {
                return Err(bad(format!("index {index} appears twice")));
            }
            if let Some(expected_dimension) = dimension
                && item.embedding.len() != expected_dimension
            {
                return Err(EmbedError::Dimension {
                    url: self.url.clone(),
                    model: self.options.model.clone(),
                    expected: expected_dimension,
                    got: item.embedding.len(),
                });
            }
            let mut vector = item.embedding;
            crate::normalize(&mut vector);
            *slot = Some(vector);
        }
        Ok(out.into_iter().map(|v| v.unwrap_or_default()).collect())
    }
}

impl Embedder for RemoteEmbedder {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
        let prefix = match role {
            Role::Query => &self.options.query_prefix,
            Role::Passage => &self.options.passage_prefix,
        };
        let inputs: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let batches: Vec<Vec<&str>> = inputs
            .chunks(self.options.batch_size)
            .map(|chunk| chunk.iter().map(String::as_str).collect())
            .collect();
        let results: Mutex<Vec<Option<Vec<Vec<f32>>>>> = Mutex::new(vec![None; batches.len()]);
        let first_error: Mutex<Option<EmbedError>> = Mutex::new(None);
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let workers = self.options.concurrency.min(batches.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(batch) = batches.get(i) else { break };
                        match self.request(batch, Some(self.info.dimension)) {
                            Ok(vectors) => {
                                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(vectors)
                            }
                            Err(error) => {
                                failed.store(true, Ordering::Relaxed);
                                first_error
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .get_or_insert(error);
                            }
                        }
                    }
                });
            }
        });
        if let Some(error) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(error);
        }
        Ok(results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .flat_map(Option::unwrap_or_default)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_gets_the_embeddings_path_once() {
        for (endpoint, url) in [
            ("http://h:1", "http://h:1/v1/embeddings"),
            ("http://h:1/", "http://h:1/v1/embeddings"),
            ("http://h:1/v1", "http://h:1/v1/embeddings"),
            ("http://h:1/v1/embeddings", "http://h:1/v1/embeddings"),
        ] {
            assert_eq!(RemoteOptions::new(endpoint, "m").url(), url);
        }
    }

    #[test]
    fn the_api_key_is_not_printed() {
        let mut options = RemoteOptions::new("http://h:1", "m");
        options.api_key = Some("secret-key".into());
        assert!(!format!("{options:?}").contains("secret-key"));
    }

    #[test]
    fn e5_models_get_their_prefixes() {
        let options = RemoteOptions::new("http://h:1", "intfloat/multilingual-e5-large");
        assert_eq!(options.query_prefix, "query: ");
        assert_eq!(options.passage_prefix, "passage: ");
        assert!(
            RemoteOptions::new("http://h:1", "text-embedding-3-small")
                .query_prefix
                .is_empty()
        );
    }
}
