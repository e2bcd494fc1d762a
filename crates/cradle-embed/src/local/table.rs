//! Static embeddings: one vector per token of the vocabulary, a text's
//! vector the mean of its tokens' vectors, scaled to unit length. No
//! attention, no layers: a text costs its tokenization and one addition
//! per token, so a catalogue of 100,000 products embeds in seconds where
//! the transformer it was distilled from needs most of an hour on two
//! cores (numbers in `bench/embed-static.sh`).
//!
//! The directory layout is model2vec's, so a static model made elsewhere
//! loads as well as one made by [`distill`](super::distill):
//! `config.json` with `"model_type": "model2vec"`, `tokenizer.json`, and
//! `model.safetensors` holding one tensor `embeddings` of shape
//! `vocabulary × dimension`.

use std::path::Path;

use candle_core::{DType, Device};

use crate::EmbedError;

/// The `model_type` of a static model's `config.json`.
pub const STATIC_MODEL_TYPE: &str = "model2vec";

/// The token table of a static model.
pub(crate) struct Table {
    /// Row-major, `vocabulary × dimension`.
    rows: Vec<f32>,
    dimension: usize,
    /// Token ids that carry no meaning (the unknown token): left out of
    /// the mean.
    skip: Vec<u32>,
}

impl Table {
    /// Reads the `embeddings` tensor of `path`; `skip` are token ids to
    /// leave out of every mean.
    pub(crate) fn load(path: &Path, skip: Vec<u32>) -> Result<Table, EmbedError> {
        let error = |what: &str, source: candle_core::Error| EmbedError::Weights {
            path: path.to_path_buf(),
            what: what.to_owned(),
            source: Box::new(source),
        };
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| error("not a readable safetensors file", e))?;
        let tensor = tensors
            .get("embeddings")
            .ok_or_else(|| EmbedError::Weights {
                path: path.to_path_buf(),
                what: "a static model needs a tensor named `embeddings` (vocabulary × dimension)"
                    .into(),
                source: Box::new(candle_core::Error::Msg("embeddings missing".into())),
            })?;
        let (vocabulary, dimension) = tensor
            .dims2()
            .map_err(|e| error("tensor `embeddings` must have two dimensions", e))?;
        let rows = tensor
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| error("tensor `embeddings`", e))?;
        if vocabulary == 0 || dimension == 0 {
            return Err(EmbedError::Weights {
                path: path.to_path_buf(),
                what: format!("tensor `embeddings` is empty ({vocabulary} × {dimension})"),
                source: Box::new(candle_core::Error::Msg("empty table".into())),
            });
        }
        Ok(Table {
            rows,
            dimension,
            skip,
        })
    }

    pub(crate) fn dimension(&self) -> usize {
        self.dimension
    }

    /// Row-major, `vocabulary × dimension`.
    pub(crate) fn rows(&self) -> &[f32] {
        &self.rows
    }

    pub(crate) fn vocabulary(&self) -> usize {
        self.rows.len() / self.dimension
    }

    /// The unit-length mean of the rows of `ids`; ids outside the table
    /// and skipped ids do not count. A text with no known token gets the
    /// zero vector (it has no direction).
    pub(crate) fn embed(&self, ids: &[u32]) -> Vec<f32> {
        let d = self.dimension;
        let mut sum = vec![0.0f32; d];
        for &id in ids {
            if self.skip.contains(&id) {
                continue;
            }
            let start = id as usize * d;
            if let Some(row) = self.rows.get(start..start + d) {
                sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
        }
        crate::normalize(&mut sum);
        sum
    }
}
