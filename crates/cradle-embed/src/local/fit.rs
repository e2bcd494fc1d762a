//! Fitting a distilled static model to one catalogue: the distiller
//! weights each token by how rare it is in general (its place in the
//! vocabulary); fitting re-weights it by how rare it is in the texts the
//! catalogue will embed (inverse document frequency, `ln((n + 1) / (df +
//! 1)) + 1`). A word every product carries ("LED", "Leuchte", the brand)
//! then counts little in a product's vector, and the words that tell
//! products apart count much.
//!
//! On the labelled demo queries (`bench/enrich.sh`, 2,100 products),
//! vector search went from recall@10 0.453 / MRR 0.270 (distilled) to
//! 0.496 / 0.395, level with the transformer it was distilled from
//! (0.480 / 0.378).
//!
//! Only the weights change, never the directions, so a fitted model reads
//! queries as the distilled one does. Fitting costs one tokenization of
//! the texts (about as long as embedding them with the static model).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::distill::{TOKEN_WEIGHTS, TokenWeights, provenance, rank_weights, write_static};
use super::{Engine, LocalEmbedder, LocalOptions, read_json};
use crate::EmbedError;

/// Texts tokenized per task while counting.
const TEXTS_PER_TASK: usize = 1024;

/// What fitting made.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub dir: PathBuf,
    /// Texts the document frequencies were counted over.
    pub texts: usize,
    /// Vocabulary tokens that occur in them.
    pub tokens_seen: usize,
    pub seconds: f64,
}

/// Fits the static model in `base` (made by [`distill`](super::distill))
/// to `texts` and writes the result to `out` (replaced as a whole).
pub fn fit(
    base: &Path,
    texts: &[&str],
    out: &Path,
    opts: &LocalOptions,
) -> Result<Fitted, EmbedError> {
    let started = Instant::now();
    let config: serde_json::Value = read_json(&base.join("config.json"))?;
    let weights = config.get(TOKEN_WEIGHTS).and_then(|w| w.as_str());
    if weights != Some(TokenWeights::Rank.name()) {
        return Err(EmbedError::Model {
            path: base.join("config.json").display().to_string(),
            what: format!(
                "only a model distilled by cradle (\"{TOKEN_WEIGHTS}\": \"rank\") can be fitted; this one has {}\nhint: distill it again with `cradle model distill <TRANSFORMER> --out {}`",
                weights.map_or("none".to_owned(), |w| format!("{w:?}")),
                base.display()
            ),
        });
    }
    let model = LocalEmbedder::open(base, opts)?;
    let Engine::Static(table) = &model.engine else {
        return Err(EmbedError::Model {
            path: base.display().to_string(),
            what: "not a static model; distill one first (`cradle model distill`)".into(),
        });
    };
    let vocabulary = table.vocabulary();
    let dimension = table.dimension();

    // Document frequency: in how many texts each token occurs.
    let frequency: Vec<u32> = model.pool.install(|| {
        texts
            .par_chunks(TEXTS_PER_TASK)
            .map(|group| -> Result<Vec<u32>, EmbedError> {
                let mut counts = vec![0u32; vocabulary];
                let encodings = model
                    .tokenizer
                    .encode_batch(group.to_vec(), false)
                    .map_err(|source| EmbedError::Tokenize {
                        model: model.info.name.clone(),
                        count: group.len(),
                        source,
                    })?;
                let mut ids: Vec<u32> = Vec::new();
                for encoding in &encodings {
                    ids.clear();
                    ids.extend_from_slice(encoding.get_ids());
                    ids.sort_unstable();
                    ids.dedup();
                    for &id in &ids {
                        if let Some(count) = counts.get_mut(id as usize) {
                            *count += 1;
                        }
                    }
                }
                Ok(counts)
            })
            .try_reduce(
                || vec![0u32; vocabulary],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    Ok(a)
                },
            )
    })?;

    let n = texts.len() as f64;
    let rows: Vec<f32> = table
        .rows()
        .chunks_exact(dimension)
        .zip(&frequency)
        .zip(rank_weights(vocabulary))
        .flat_map(|((row, &df), rank_weight)| {
            let idf = ((n + 1.0) / (f64::from(df) + 1.0)).ln() + 1.0;
            let scale = idf / rank_weight;
            row.iter().map(move |v| (f64::from(*v) * scale) as f32)
        })
        .collect();

    let mut fitted_config = config.clone();
    let object = fitted_config
        .as_object_mut()
        .expect("a model2vec config.json is an object");
    object.insert(TOKEN_WEIGHTS.into(), TokenWeights::Idf.name().into());
    object.insert("fitted_from".into(), model.info.revision.clone().into());
    object.insert("fitted_texts".into(), texts.len().into());
    write_static(
        out,
        rows,
        vocabulary,
        dimension,
        &base.join("tokenizer.json"),
        &fitted_config,
        &model.info.name,
    )?;
    Ok(Fitted {
        dir: out.to_path_buf(),
        texts: texts.len(),
        tokens_seen: frequency.iter().filter(|&&f| f > 0).count(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The weights' hash of the model `dir` was fitted from, if it holds a
/// fitted model: a fitted model is reused while its base is unchanged.
pub fn fitted_from(dir: &Path) -> Option<String> {
    provenance(dir, TokenWeights::Idf, "fitted_from")
}

/// Whether `dir` holds a static model cradle can fit (distilled by cradle).
pub fn can_fit(dir: &Path) -> bool {
    provenance(dir, TokenWeights::Rank, TOKEN_WEIGHTS).is_some()
}
