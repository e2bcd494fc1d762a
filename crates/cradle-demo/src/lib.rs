//! A realistic, messy delivery of an invented lighting manufacturer
//! ("Luxwerk GmbH"): 27 files (12 XLSX, 15 CSV) of master data, technical
//! data, prices, logistics, media, ETIM features, relations and tender
//! texts, with the mess real ERP/PIM exports have; 11 media files with text
//! in them (datasheet PDFs, label pictures, a truncated PDF); plus
//! `manifest.json`: the exact ground truth counted by the rules of
//! [`cradle_core::accounting`].
//!
//! Deterministic: the same scale and seed give the same bytes.

mod catalog;
mod files;
mod format;
mod media;
pub use catalog::HOSTILE_NAMES;
pub use media::MEDIA_FILES;
mod rng;
mod table;

use cradle_core::manifest::{Manifest, ManifestFile, ManifestSheet};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// 1.0 is the size of the reference delivery (~105,000 products, ~55 MB).
    pub scale: f64,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            scale: 1.0,
            seed: 42,
        }
    }
}

/// Why a delivery could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "scale {0} is out of range\nhint: use a value above 0 and at most {MAX_SCALE} (1.0 = the reference delivery)"
    )]
    Scale(f64),
    #[error(
        "{path} exists, is not empty and holds no manifest.json of an earlier demo; refusing to write into it"
    )]
    NotEmpty { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: writing the workbook failed: {source}")]
    Xlsx {
        path: PathBuf,
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// The largest scale generated (10.5 million products).
pub const MAX_SCALE: f64 = 100.0;

/// The name written to `manifest.json`.
pub const GENERATOR: &str = "cradle-demo 1";

/// Products at a scale: `round(105_000 * scale)`, at least 20.
pub fn product_count(scale: f64) -> usize {
    ((105_000.0 * scale).round() as usize).max(20)
}

/// Writes the delivery into `dir` (created if missing) and returns the
/// manifest, also written as `dir/manifest.json`.
///
/// Refuses a non-empty `dir` unless it holds a `manifest.json` (an earlier
/// demo, whose files are then overwritten).
pub fn generate(dir: &Path, options: &DemoOptions) -> Result<Manifest, DemoError> {
    if !(options.scale.is_finite() && options.scale > 0.0 && options.scale <= MAX_SCALE) {
        return Err(DemoError::Scale(options.scale));
    }
    prepare(dir)?;
    let products = catalog::build(product_count(options.scale), options.seed);
    let mut delivery = Delivery {
        dir: dir.to_path_buf(),
        seed: options.seed,
        seen: vec![false; products.len()],
        conflicts: BTreeSet::new(),
        files: Vec::new(),
    };
    files::write_all(&mut delivery, &products)?;

    let mut manifest = Manifest {
        generator: GENERATOR.to_owned(),
        scale: options.scale,
        seed: options.seed,
        products: delivery.seen.iter().filter(|s| **s).count() as u64,
        conflicting_products: delivery.conflicts.len() as u64,
        ..Manifest::default()
    };
    for file in &delivery.files {
        manifest.total_bytes += file.bytes;
        for sheet in &file.sheets {
            manifest.rows += sheet.rows;
            manifest.loaded_rows += sheet.loaded_rows;
            manifest.rejected_rows += sheet.rejected_rows;
            manifest.data_points += sheet.data_points;
            for (reason, count) in &sheet.rejected_by_reason {
                *manifest.rejected_by_reason.entry(*reason).or_default() += count;
            }
        }
    }
    manifest.files = delivery.files;
    let path = dir.join("manifest.json");
    let json = serde_json::to_string_pretty(&manifest).map_err(|source| DemoError::Json {
        path: path.clone(),
        source,
    })?;
    write_bytes(&path, json.as_bytes())?;
    Ok(manifest)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn prepare(dir: &Path) -> Result<(), DemoError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        let empty = entries.next().is_none();
        if !empty && !dir.join("manifest.json").is_file() {
            return Err(DemoError::NotEmpty {
                path: dir.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))
}

pub(crate) fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(path, bytes).map_err(io(path))
}

/// What is known about the delivery while its files are written.
pub(crate) struct Delivery {
    pub dir: PathBuf,
    pub seed: u64,
    /// Products loaded by at least one record.
    pub seen: Vec<bool>,
    /// Products given two different values for one attribute on purpose.
    pub conflicts: BTreeSet<u32>,
    pub files: Vec<ManifestFile>,
}

impl Delivery {
    /// Registers a written file: its size and its tables.
    pub fn add(
        &mut self,
        mut file: ManifestFile,
        tables: Vec<(ManifestSheet, HashSet<u32>)>,
    ) -> Result<(), DemoError> {
        let path = self.dir.join(&file.path);
        file.bytes = std::fs::metadata(&path).map_err(io(&path))?.len();
        for (sheet, keys) in tables {
            for key in keys {
                self.seen[key as usize] = true;
            }
            file.sheets.push(sheet);
        }
        self.files.push(file);
        Ok(())
    }
}
