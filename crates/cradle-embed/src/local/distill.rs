//! Distilling a static model from a transformer: every token of the
//! vocabulary is run through the transformer on its own (`[CLS] token
//! [SEP]`, pooled as the model pools sentences); the vectors are centred
//! (the direction every output shares carries no meaning) and each is
//! weighted by how rare its token is, estimated from its place in the
//! vocabulary (word-piece vocabularies list frequent pieces first), so
//! that a text's mean is led by its rare, telling pieces. The result is a
//! directory in model2vec's layout that [`LocalEmbedder`] opens like any
//! other model.
//!
//! Distilling all-MiniLM-L6-v2 (30,522 tokens) takes about half a minute
//! on two cores in a release build; it is done once per model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::model::Tokens;
use super::{Engine, LocalEmbedder, LocalOptions, sha256_file};
use crate::EmbedError;

/// Tokens per forward pass while distilling.
const TOKENS_PER_PASS: usize = 64;

/// The smoothing of the rarity weight `a / (a + p)` (`p`: the token's
/// estimated probability); smaller favours rare tokens more.
const RARITY_SMOOTHING: f64 = 1e-4;

/// What distilling made.
#[derive(Debug, Clone)]
pub struct Distilled {
    pub dir: PathBuf,
    pub vocabulary: usize,
    pub dimension: usize,
    pub seconds: f64,
}

/// Distills the transformer in `source` into a static model written to
/// `out` (replaced as a whole: readers never see half a model).
pub fn distill(source: &Path, out: &Path, opts: &LocalOptions) -> Result<Distilled, EmbedError> {
    let started = Instant::now();
    let model = LocalEmbedder::open(source, opts)?;
    let Engine::Transformer { encoder, pooling } = &model.engine else {
        return Err(EmbedError::Model {
            path: source.display().to_string(),
            what: "the model is already static; distill a transformer (BERT, XLM-RoBERTa)".into(),
        });
    };
    let vocabulary = model.tokenizer.get_vocab_size(true);
    let dimension = encoder.hidden_size();
    // What the tokenizer puts around every text ([CLS] … [SEP], <s> … </s>).
    let frame = model
        .tokenizer
        .encode("", true)
        .map_err(|source| EmbedError::Tokenize {
            model: model.info.name.clone(),
            count: 1,
            source,
        })?;
    let (open, close) = frame.get_ids().split_at(frame.get_ids().len().min(1));
    let inputs: Vec<Vec<u32>> = (0..vocabulary as u32)
        .map(|id| {
            let mut ids = open.to_vec();
            ids.push(id);
            ids.extend_from_slice(close);
            ids
        })
        .collect();
    let type_ids = vec![0u32; open.len() + 1 + close.len()];
    let mut rows: Vec<f32> = model.pool.install(|| {
        inputs
            .par_chunks(TOKENS_PER_PASS)
            .with_max_len(1)
            .flat_map_iter(|batch| {
                let texts: Vec<Tokens<'_>> = batch
                    .iter()
                    .map(|ids| Tokens {
                        ids,
                        type_ids: &type_ids,
                    })
                    .collect();
                encoder.embed(&texts, *pooling, 1).into_iter().flatten()
            })
            .collect()
    });

    // Centre: subtract the mean row.
    let mut mean = vec![0.0f64; dimension];
    for row in rows.chunks_exact(dimension) {
        mean.iter_mut()
            .zip(row)
            .for_each(|(m, v)| *m += f64::from(*v));
    }
    mean.iter_mut().for_each(|m| *m /= vocabulary as f64);
    // Weight by rarity: Zipf's law on the vocabulary's order.
    let harmonic: f64 = (0..vocabulary).map(|rank| 1.0 / (rank as f64 + 2.0)).sum();
    for (rank, row) in rows.chunks_exact_mut(dimension).enumerate() {
        let probability = 1.0 / (rank as f64 + 2.0) / harmonic;
        let weight = RARITY_SMOOTHING / (RARITY_SMOOTHING + probability);
        row.iter_mut()
            .zip(&mean)
            .for_each(|(v, m)| *v = ((f64::from(*v) - m) * weight) as f32);
    }

    let write = |path: &Path, source: std::io::Error| EmbedError::Write {
        path: path.to_path_buf(),
        source,
    };
    let staging = cradle_fs::staging_dir(out).map_err(|e| write(out, e))?;
    let table =
        Tensor::from_vec(rows, (vocabulary, dimension), &Device::Cpu).map_err(|source| {
            EmbedError::Compute {
                model: model.info.name.clone(),
                step: "building the distilled table",
                source: Box::new(source),
            }
        })?;
    let weights = staging.join("model.safetensors");
    candle_core::safetensors::save(
        &std::collections::HashMap::from([("embeddings".to_owned(), table)]),
        &weights,
    )
    .map_err(|source| EmbedError::Weights {
        path: weights.clone(),
        what: "cannot write the distilled table".into(),
        source: Box::new(source),
    })?;
    let tokenizer = staging.join("tokenizer.json");
    std::fs::copy(source.join("tokenizer.json"), &tokenizer).map_err(|e| write(&tokenizer, e))?;
    let config = serde_json::json!({
        "model_type": super::table::STATIC_MODEL_TYPE,
        "architectures": ["StaticModel"],
        "hidden_dim": dimension,
        "normalize": true,
        "apply_zipf": true,
        "base_model": model.info.name,
        "base_revision": sha256_file(&source.join("model.safetensors"))?,
    });
    let config_path = staging.join("config.json");
    let text = serde_json::to_vec_pretty(&config).expect("a JSON value serializes");
    std::fs::write(&config_path, text).map_err(|e| write(&config_path, e))?;
    cradle_fs::replace_dir(&staging, out).map_err(|e| write(out, e))?;
    Ok(Distilled {
        dir: out.to_path_buf(),
        vocabulary,
        dimension,
        seconds: started.elapsed().as_secs_f64(),
    })
}
