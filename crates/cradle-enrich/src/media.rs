//! Text from media files delivered with the data: PDF datasheets through
//! their text layer, images through OCR (and captions when a vision
//! endpoint is configured). The text becomes `media` chunks of the products
//! that reference the file, with the file as provenance.

use std::collections::HashMap;
use std::path::Path;

use arrow_array::RecordBatch;
use cradle_core::media::MediaType;
use cradle_lakehouse::schema::files;
use cradle_media::{MediaKind, MediaTools};
use rayon::prelude::*;
use serde::Serialize;

use crate::chunk::{Chunk, MAX_CHUNK_CHARS, guess_language, split_text};
use crate::read::{Delivery, scan, strings, text};
use crate::{EnrichError, Progress};

/// A media file that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct MediaFailure {
    pub file: String,
    pub error: String,
}

#[derive(Debug, Default)]
pub struct MediaOutcome {
    pub chunks: Vec<Chunk>,
    pub processed: u64,
    pub failed: u64,
    /// Media files no product references or names.
    pub unlinked: Vec<String>,
    pub failures: Vec<MediaFailure>,
    /// Text extraction method to count (`pdf-text`, `ocr`, `vision`).
    pub methods: HashMap<&'static str, u64>,
}

/// The media files of the delivery, as (path in the delivery, sha256).
fn media_files(lakehouse: &Path, version: u64) -> Result<Vec<(String, String)>, EnrichError> {
    let mut found = Vec::new();
    for batch in scan(
        lakehouse,
        files::NAME,
        version,
        &[files::PATH, files::SHA256, files::KIND],
    )? {
        let batch: RecordBatch = batch.map_err(|source| EnrichError::Lake {
            table: lakehouse.join(files::NAME),
            source,
        })?;
        let paths = strings(&batch, 0, files::NAME)?;
        let hashes = strings(&batch, 1, files::NAME)?;
        let kinds = strings(&batch, 2, files::NAME)?;
        for row in 0..batch.num_rows() {
            if text(kinds, row) == Some("media")
                && let (Some(path), Some(sha)) = (text(paths, row), text(hashes, row))
            {
                found.push((path.to_owned(), sha.to_owned()));
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn looks_like_media(value: &str) -> bool {
    MediaType::from_name(value)
        .and_then(MediaKind::of)
        .is_some()
}

/// Reads every media file of the delivery that a product references (by
/// file name in an attribute) or names (its article number in the file
/// name), and turns the text into chunks.
pub fn media_chunks(
    lakehouse: &Path,
    raw_dir: &Path,
    delivery: &Delivery,
    tools: &MediaTools,
    progress: &dyn Progress,
) -> Result<MediaOutcome, EnrichError> {
    let mut outcome = MediaOutcome::default();
    let Some(version) = delivery.files_version else {
        return Ok(outcome);
    };
    let files = media_files(lakehouse, version)?;
    if files.is_empty() {
        return Ok(outcome);
    }
    let mut referenced_by: HashMap<String, Vec<String>> = HashMap::new();
    for product in &delivery.products {
        for attr in &product.attributes {
            let value = product.value(attr);
            if looks_like_media(value) {
                let list = referenced_by
                    .entry(cradle_media::normalise_file_name(value))
                    .or_default();
                if list.last() != Some(&product.article_no) {
                    list.push(product.article_no.clone());
                }
            }
        }
    }
    let is_article = |candidate: &str| {
        delivery
            .products
            .binary_search_by(|p| p.article_no.as_str().cmp(candidate))
            .is_ok()
    };
    let mut work = Vec::new();
    for (path, sha) in files {
        let name = cradle_media::normalise_file_name(&path);
        let products = cradle_media::link_products(&name, &referenced_by, &is_article);
        if products.is_empty() {
            outcome.unlinked.push(path);
        } else {
            work.push((path, sha, products));
        }
    }

    progress.stage("reading media", work.len() as u64);
    let results: Vec<_> = work
        .par_iter()
        .map(|(path, sha, _)| {
            let stored = raw_dir.join(sha);
            let result = MediaKind::from_path(Path::new(path))
                .ok_or_else(|| "not a PDF or an image cradle reads".to_owned())
                .and_then(|kind| {
                    // The message names the delivered file, not its stored copy.
                    cradle_media::extract(&stored, kind, tools)
                        .map_err(|e| format!("{e}").replace(&format!("{}: ", stored.display()), ""))
                });
            progress.advance(1);
            result
        })
        .collect();
    progress.finish_stage();

    for ((path, sha, products), result) in work.into_iter().zip(results) {
        match result {
            Ok(extracted) => {
                outcome.processed += 1;
                *outcome.methods.entry(extracted.method).or_default() += 1;
                let text = extracted.text.trim();
                if text.is_empty() {
                    continue;
                }
                let language = extracted.language.unwrap_or_else(|| guess_language(text));
                let parts = split_text(text, MAX_CHUNK_CHARS);
                let many = parts.len() > 1;
                for product in &products {
                    for (i, part) in parts.iter().enumerate() {
                        let id = if many {
                            format!("media.{}.{}", &sha[..8], i + 1)
                        } else {
                            format!("media.{}", &sha[..8])
                        };
                        outcome.chunks.push(Chunk::new(
                            product,
                            id,
                            "media",
                            language,
                            part.clone(),
                            path.clone(),
                        ));
                    }
                }
            }
            Err(error) => {
                outcome.failed += 1;
                outcome.failures.push(MediaFailure { file: path, error });
            }
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_references_are_recognised_by_extension() {
        assert!(looks_like_media("MA_AERO.pdf"));
        assert!(looks_like_media(
            "https://lwx.example/m/LW-1_produktbild.JPG"
        ));
        assert!(!looks_like_media("LW-100000.ldt"));
    }
}
