//! Every way embedding can fail, one variant each. Messages say what went
//! wrong, where (file, URL, setting) and how to fix it; causes are attached
//! as sources, not repeated in the message.

use std::path::PathBuf;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the model at {path} cannot be used: {what}")]
    Model { path: String, what: String },

    #[error(
        "cannot read {path}\nhint: a model directory holds config.json, tokenizer.json and model.safetensors (scripts/model.sh installs all-MiniLM-L6-v2)"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is not valid JSON of the expected shape\nhint: re-install the model files")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("cannot load the tokenizer {path}\nhint: it must be a Hugging Face tokenizer.json")]
    Tokenizer {
        path: PathBuf,
        #[source]
        source: BoxError,
    },

    #[error("tokenizing {count} texts for {model} failed")]
    Tokenize {
        model: String,
        count: usize,
        #[source]
        source: BoxError,
    },

    #[error(
        "cannot load the weights {path}: {what}\nhint: the file must be the safetensors of a BERT or XLM-RoBERTa model matching config.json"
    )]
    Weights {
        path: PathBuf,
        what: String,
        #[source]
        source: Box<candle_core::Error>,
    },

    #[error("computing embeddings with {model} failed in {step}")]
    Compute {
        model: String,
        step: &'static str,
        #[source]
        source: Box<candle_core::Error>,
    },

    #[error(
        "cannot start {threads} embedding threads\nhint: lower `threads` in the embedding settings"
    )]
    Threads {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },

    #[error("invalid embedding setting `{setting}`: {what}")]
    Setting { setting: &'static str, what: String },

    #[error(
        "the model {id} (revision {revision}) is not in the cache {cache} and HF_HUB_OFFLINE=1 forbids downloading it\nhint: unset HF_HUB_OFFLINE, or use a local model directory (scripts/model.sh installs all-MiniLM-L6-v2)"
    )]
    HubOffline {
        id: String,
        revision: String,
        cache: PathBuf,
    },

    #[error(
        "downloading {url} failed\nhint: check the network, the model id and revision, or set HF_ENDPOINT"
    )]
    Download {
        url: String,
        #[source]
        source: BoxError,
    },

    #[error(
        "downloading {url} failed: HTTP {status}\nhint: check the model id and revision; private models need HF_TOKEN"
    )]
    DownloadStatus { url: String, status: u16 },

    #[error("cannot write {path}\nhint: check that its folder exists, is writable and has space")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write {path} into the model cache")]
    CacheWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the embedding endpoint {url} cannot be reached after {attempts} attempts\nhint: check that the server runs and the endpoint setting is right"
    )]
    RemoteConnection {
        url: String,
        attempts: u32,
        #[source]
        source: BoxError,
    },

    #[error(
        "the embedding endpoint {url} answered HTTP {status} after {attempts} attempts: {body}"
    )]
    RemoteStatus {
        url: String,
        status: u16,
        attempts: u32,
        body: String,
    },

    #[error(
        "the embedding endpoint {url} answered something that is not an embeddings response: {what}\nhint: the endpoint must be OpenAI-compatible (POST /v1/embeddings)"
    )]
    RemoteResponse { url: String, what: String },

    #[error(
        "the embedding endpoint {url} returned vectors of dimension {got} for model {model}, expected {expected}\nhint: the `dimension` setting must match the model; changing the model means re-embedding everything"
    )]
    Dimension {
        url: String,
        model: String,
        expected: usize,
        got: usize,
    },

    #[error(
        "the embedding thread of {model} has stopped\nhint: an earlier panic in the model is in the log"
    )]
    ServiceStopped { model: String },
}
