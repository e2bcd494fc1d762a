//! Embedding chunks, only those whose content hash has no vector yet from
//! the same model.

use std::collections::HashMap;

use cradle_embed::{Embedder, Role};

use crate::checkpoint::Checkpoint;
use crate::chunk::Chunk;
use crate::{EnrichError, Progress};

/// Texts handed to the embedder per call: large enough for its batching
/// and threads, small enough for a lively progress bar.
const TEXTS_PER_CALL: usize = 256;

/// What embedding did.
#[derive(Debug, Default)]
pub struct Embedded {
    /// Row-major, one vector per chunk, in chunk order.
    pub vectors: Vec<f32>,
    /// Chunks embedded in this run.
    pub embedded_now: u64,
    /// Chunks whose vector was reused.
    pub reused: u64,
    /// Distinct texts among the embedded chunks.
    pub distinct_texts: u64,
    pub seconds: f64,
}

/// A vector for every chunk: reused from `previous` by content hash, else
/// computed. Identical texts are embedded once. With a `checkpoint`, the
/// vectors it holds (computed by an enrich that did not finish) are taken
/// from it and every vector computed now is added to it as it comes.
pub fn embed_chunks(
    chunks: &[&Chunk],
    previous: &HashMap<String, Vec<f32>>,
    embedder: &dyn Embedder,
    progress: &dyn Progress,
    checkpoint: Option<(&mut Checkpoint, HashMap<String, Vec<f32>>)>,
) -> Result<Embedded, EnrichError> {
    let started = std::time::Instant::now();
    let dim = embedder.info().dimension;
    let (mut checkpoint, kept) = match checkpoint {
        Some((checkpoint, kept)) => (Some(checkpoint), kept),
        None => (None, HashMap::new()),
    };
    // Distinct missing texts, longest first, so batches pad little.
    let mut missing: HashMap<&str, &str> = HashMap::new();
    let mut fresh: HashMap<&str, Vec<f32>> = HashMap::new();
    for chunk in chunks {
        if previous.contains_key(&chunk.content_hash) {
            continue;
        }
        match kept.get(&chunk.content_hash) {
            Some(vector) if vector.len() == dim => {
                fresh.insert(&chunk.content_hash, vector.clone());
            }
            _ => {
                missing.entry(&chunk.content_hash).or_insert(&chunk.text);
            }
        }
    }
    drop(kept);
    let resumed = fresh.len();
    let mut todo: Vec<(&str, &str)> = missing.into_iter().collect();
    todo.sort_unstable_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));

    progress.stage("embedding chunks", todo.len() as u64);
    fresh.reserve(todo.len());
    let keep_error = |source: std::io::Error| EnrichError::Write {
        path: std::path::PathBuf::from("tmp/enrich/vectors.bin"),
        source,
    };
    for group in todo.chunks(TEXTS_PER_CALL) {
        let texts: Vec<&str> = group.iter().map(|(_, text)| *text).collect();
        let vectors = embedder
            .embed(&texts, Role::Passage)
            .map_err(|source| EnrichError::Embed { source })?;
        if vectors.len() != texts.len() {
            return Err(EnrichError::EmbedCount {
                sent: texts.len(),
                received: vectors.len(),
            });
        }
        for ((hash, _), vector) in group.iter().zip(vectors) {
            if vector.len() != dim {
                return Err(EnrichError::EmbedDimension {
                    expected: dim,
                    received: vector.len(),
                });
            }
            if let Some(checkpoint) = checkpoint.as_deref_mut() {
                checkpoint.add(hash, &vector).map_err(keep_error)?;
            }
            fresh.insert(hash, vector);
        }
        if let Some(checkpoint) = checkpoint.as_deref_mut() {
            checkpoint.flush().map_err(keep_error)?;
        }
        progress.advance(group.len() as u64);
    }
    progress.finish_stage();

    let mut out = Embedded {
        vectors: Vec::with_capacity(chunks.len() * dim),
        distinct_texts: (fresh.len() - resumed) as u64,
        ..Embedded::default()
    };
    for chunk in chunks {
        match previous.get(&chunk.content_hash) {
            Some(vector) => {
                out.reused += 1;
                out.vectors.extend_from_slice(vector);
            }
            None => {
                out.embedded_now += 1;
                let vector = fresh.get(chunk.content_hash.as_str()).ok_or_else(|| {
                    EnrichError::EmbedCount {
                        sent: 1,
                        received: 0,
                    }
                })?;
                out.vectors.extend_from_slice(vector);
            }
        }
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}
