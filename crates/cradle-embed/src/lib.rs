//! Text embeddings behind one narrow trait.
//!
//! An [`Embedder`] turns texts into unit-length vectors. Two backends
//! implement it: `local` (candle + tokenizers, BERT and XLM-RoBERTa models
//! from a Hugging Face-format directory) and `remote` (any OpenAI-compatible
//! `/v1/embeddings` endpoint). Callers never learn which one they hold.

use serde::{Deserialize, Serialize};

/// What a text is for. e5 models are trained with `query: ` and
/// `passage: ` prefixes; other models ignore the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Query,
    Passage,
}

/// The identity of a model: vectors from two models with different
/// identities are never mixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// A human name: the directory name, hub id or remote model name.
    pub name: String,
    /// `local` or `remote`.
    pub backend: String,
    pub dimension: usize,
    /// Identifies the weights: sha256 of `model.safetensors` for local
    /// models, the endpoint URL and model name for remote ones.
    pub revision: String,
}

/// Turns texts into vectors. Implementations are blocking and may use
/// several threads; async callers run them on a thread of their own.
pub trait Embedder: Send + Sync {
    fn info(&self) -> &ModelInfo;

    /// One unit-length vector of `info().dimension` values per text, in
    /// the order given.
    fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>, EmbedError>;
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the model at {path} cannot be used: {what}")]
    Model { path: String, what: String },
}
