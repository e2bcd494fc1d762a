//! Text embeddings behind one narrow trait.
//!
//! An [`Embedder`] turns texts into unit-length vectors. Two backends
//! implement it: `local` (candle + tokenizers, BERT and XLM-RoBERTa models
//! from a Hugging Face-format directory) and `remote` (any OpenAI-compatible
//! `/v1/embeddings` endpoint). Callers never learn which one they hold:
//! [`open`] turns a [`ModelSpec`] into a boxed embedder, and
//! [`EmbedService`] runs one on a thread of its own for async callers.

use serde::{Deserialize, Serialize};

mod error;
pub mod hub;
pub mod local;
mod location;
pub mod remote;
mod service;
mod spec;

pub use error::EmbedError;
pub use local::{
    Distilled, Fitted, LocalEmbedder, LocalOptions, STATIC_MODEL_TYPE, WeightsStamp, can_fit,
    distill, fit, fitted_from, model_files,
};
pub use location::ModelLocation;
pub use remote::{RemoteEmbedder, RemoteOptions};
pub use service::EmbedService;
pub use spec::{ModelSpec, default_model_dir, default_static_model, open};

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

/// Scales `vector` to unit length; a zero vector stays zero (it has no
/// direction, and dividing by zero would turn it into NaNs).
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
}

/// The cosine of the angle between two vectors (1.0: same direction).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|v| v * v).sum::<f32>().sqrt();
    let nb = b.iter().map(|v| v * v).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    dot / (na * nb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_gives_unit_length_and_keeps_zero() {
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut zero = vec![0.0; 3];
        normalize(&mut zero);
        assert_eq!(zero, vec![0.0; 3]);
    }

    #[test]
    fn cosine_of_parallel_and_orthogonal_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 5.0]).abs() < 1e-6);
    }
}
