//! Distilling a static model from a transformer: every token of the
//! vocabulary is run through the transformer on its own (`[CLS] token
//! [SEP]`, pooled as the model pools sentences); the vectors are centred
//! (the direction every output shares carries no meaning), their strongest
//! common directions are taken out, and each is
//! weighted by how rare its token is, estimated from its place in the
//! vocabulary (word-piece vocabularies list frequent pieces first), so
//! that a text's mean is led by its rare, telling pieces. The result is a
//! directory in model2vec's layout that [`LocalEmbedder`] opens like any
//! other model.
//!
//! Distilling all-MiniLM-L6-v2 (30,522 tokens) takes 13 s on two cores in
//! a release build; it is done once per model.

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

/// Principal directions taken out of the token vectors ("all but the
/// top"). On the labelled demo queries (`bench/enrich.sh`, 2,100
/// products) vector search went from recall@10 0.400 / MRR 0.223 with none
/// to 0.453 / 0.270 with 12, hybrid from 0.851 / 0.808 to 0.867 / 0.831
/// (the transformer: 0.480 / 0.378 and 0.869 / 0.859).
const COMMON_DIRECTIONS: usize = 12;

/// Iterations of the subspace iteration that finds them.
const SUBSPACE_ITERATIONS: usize = 60;

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
    let mut centred: Vec<f64> = rows
        .chunks_exact(dimension)
        .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| f64::from(*v) - m))
        .collect();
    // All but the top: the directions along which every token's vector
    // varies most describe the model more than the tokens.
    remove_top_directions(&mut centred, dimension, COMMON_DIRECTIONS.min(dimension));
    // Weight by rarity: Zipf's law on the vocabulary's order.
    for ((row, out), weight) in centred
        .chunks_exact(dimension)
        .zip(rows.chunks_exact_mut(dimension))
        .zip(rank_weights(vocabulary))
    {
        out.iter_mut()
            .zip(row)
            .for_each(|(o, v)| *o = (v * weight) as f32);
    }
    drop(centred);

    let config = serde_json::json!({
        "model_type": super::table::STATIC_MODEL_TYPE,
        "architectures": ["StaticModel"],
        "hidden_dim": dimension,
        "normalize": true,
        "apply_zipf": true,
        TOKEN_WEIGHTS: TokenWeights::Rank.name(),
        "base_model": model.info.name,
        "base_revision": sha256_file(&source.join("model.safetensors"))?,
    });
    write_static(
        out,
        rows,
        vocabulary,
        dimension,
        &source.join("tokenizer.json"),
        &config,
        &model.info.name,
    )?;
    Ok(Distilled {
        dir: out.to_path_buf(),
        vocabulary,
        dimension,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The weights' hash of the transformer `dir`'s static model was distilled
/// from, if it holds one cradle distilled.
pub fn distilled_from(dir: &Path) -> Option<String> {
    provenance(dir, TokenWeights::Rank, "base_revision")
}

/// The text under `key` in the `config.json` of the static model in `dir`,
/// if cradle wrote that model with `weights`.
pub(crate) fn provenance(dir: &Path, weights: TokenWeights, key: &str) -> Option<String> {
    let config: serde_json::Value = super::read_json(&dir.join("config.json")).ok()?;
    if config.get(TOKEN_WEIGHTS).and_then(|w| w.as_str()) != Some(weights.name()) {
        return None;
    }
    config.get(key).and_then(|v| v.as_str()).map(str::to_owned)
}

/// The key of a static model's `config.json` that says how its rows are
/// weighted.
pub(crate) const TOKEN_WEIGHTS: &str = "token_weights";

/// How the rows of a static model made by cradle are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenWeights {
    /// By the token's place in the vocabulary ([`rank_weight`]): distilled.
    Rank,
    /// By the token's document frequency in a catalogue: fitted.
    Idf,
}

impl TokenWeights {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TokenWeights::Rank => "rank",
            TokenWeights::Idf => "idf",
        }
    }
}

/// The distiller's weight of each token of a vocabulary of `vocabulary`
/// tokens, by rank: `a / (a + p)`, `p` its probability by Zipf's law.
pub(crate) fn rank_weights(vocabulary: usize) -> Vec<f64> {
    let harmonic: f64 = (0..vocabulary).map(|r| 1.0 / (r as f64 + 2.0)).sum();
    (0..vocabulary)
        .map(|rank| {
            let probability = 1.0 / (rank as f64 + 2.0) / harmonic;
            RARITY_SMOOTHING / (RARITY_SMOOTHING + probability)
        })
        .collect()
}

/// Writes a static model (model2vec layout) to `out`, replaced as a whole:
/// readers never see half a model.
pub(crate) fn write_static(
    out: &Path,
    rows: Vec<f32>,
    vocabulary: usize,
    dimension: usize,
    tokenizer_source: &Path,
    config: &serde_json::Value,
    model_name: &str,
) -> Result<(), EmbedError> {
    let write = |path: &Path, source: std::io::Error| EmbedError::Write {
        path: path.to_path_buf(),
        source,
    };
    let staging = cradle_fs::staging_dir(out).map_err(|e| write(out, e))?;
    let table =
        Tensor::from_vec(rows, (vocabulary, dimension), &Device::Cpu).map_err(|source| {
            EmbedError::Compute {
                model: model_name.to_owned(),
                step: "building the token table",
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
        what: "cannot write the token table".into(),
        source: Box::new(source),
    })?;
    let tokenizer = staging.join("tokenizer.json");
    std::fs::copy(tokenizer_source, &tokenizer).map_err(|e| write(&tokenizer, e))?;
    let config_path = staging.join("config.json");
    let text = serde_json::to_vec_pretty(config).expect("a JSON value serializes");
    std::fs::write(&config_path, text).map_err(|e| write(&config_path, e))?;
    cradle_fs::replace_dir(&staging, out).map_err(|e| write(out, e))
}

/// Removes from every row of `rows` (row-major, `dimension` wide) its
/// projection on the `count` principal directions of the rows, found by
/// subspace iteration on their covariance (deterministic: a fixed start,
/// a fixed number of steps).
fn remove_top_directions(rows: &mut [f64], dimension: usize, count: usize) {
    if count == 0 {
        return;
    }
    let d = dimension;
    let mut covariance = vec![0.0f64; d * d];
    for row in rows.chunks_exact(d) {
        for (i, a) in row.iter().enumerate() {
            let line = &mut covariance[i * d..(i + 1) * d];
            line.iter_mut().zip(row).for_each(|(c, b)| *c += a * b);
        }
    }
    // Start: the unit vectors e_0..e_count, tilted so none is orthogonal
    // to a leading direction by accident.
    let mut basis: Vec<Vec<f64>> = (0..count)
        .map(|k| {
            (0..d)
                .map(|i| {
                    if i == k {
                        1.0
                    } else {
                        1.0 / (1.0 + (i + k) as f64)
                    }
                })
                .collect()
        })
        .collect();
    orthonormalise(&mut basis);
    for _ in 0..SUBSPACE_ITERATIONS {
        basis = basis
            .iter()
            .map(|v| {
                covariance
                    .chunks_exact(d)
                    .map(|line| line.iter().zip(v).map(|(c, x)| c * x).sum())
                    .collect()
            })
            .collect();
        orthonormalise(&mut basis);
    }
    for row in rows.chunks_exact_mut(d) {
        for direction in &basis {
            let along: f64 = row.iter().zip(direction).map(|(a, b)| a * b).sum();
            row.iter_mut()
                .zip(direction)
                .for_each(|(a, b)| *a -= along * b);
        }
    }
}

/// Gram-Schmidt, in place; a vector that vanishes stays zero.
fn orthonormalise(vectors: &mut [Vec<f64>]) {
    for k in 0..vectors.len() {
        let (done, rest) = vectors.split_at_mut(k);
        let v = &mut rest[0];
        for u in done.iter() {
            let along: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= along * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|a| *a /= norm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_directions_are_taken_out() {
        // Rows spread mostly along (1, 1, 0) and a little along (0, 0, 1).
        let mut rows = Vec::new();
        for i in 0..50 {
            let t = i as f64 - 24.5;
            rows.extend([t, t, 0.01 * (i % 7) as f64]);
        }
        remove_top_directions(&mut rows, 3, 1);
        for row in rows.chunks_exact(3) {
            // Nothing left along (1, 1, 0); the small part stays.
            assert!((row[0] + row[1]).abs() < 1e-3, "{row:?}");
        }
        assert!(rows.chunks_exact(3).any(|row| row[2].abs() > 0.0));
    }

    #[test]
    fn orthonormalised_vectors_are_unit_and_orthogonal() {
        let mut vectors = vec![
            vec![3.0, 0.0, 4.0],
            vec![1.0, 1.0, 0.0],
            vec![0.0, 0.0, 0.0],
        ];
        orthonormalise(&mut vectors);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        assert!((dot(&vectors[0], &vectors[0]) - 1.0).abs() < 1e-12);
        assert!((dot(&vectors[1], &vectors[1]) - 1.0).abs() < 1e-12);
        assert!(dot(&vectors[0], &vectors[1]).abs() < 1e-12);
        assert_eq!(vectors[2], vec![0.0; 3]);
    }
}
