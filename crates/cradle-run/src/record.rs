//! What a run keeps: per step, a [`StepRecord`] in `<WS>/run/<step>.json`
//! (what it consumed, what it produced, its numbers), written atomically
//! only when the step succeeded; per run, the [`RunRecord`] in
//! `<WS>/reports/run.json` and one line of `<WS>/reports/runs.jsonl`.

use anyhow::{Context, Result};
use cradle_fs::Workspace;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::step::Step;

/// The numbers of a run, gathered from its steps (also from steps skipped
/// because nothing changed: their record keeps them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metrics {
    /// The delivery number in the workspace (1 for the first).
    pub delivery_version: Option<u64>,
    pub products: Option<u64>,
    pub files: Option<u64>,
    pub data_points: Option<u64>,
    pub rejected_rows: Option<u64>,
    pub chunks: Option<u64>,
    /// Chunks with a vector.
    pub vectors: Option<u64>,
    /// Vectors computed by the enrich that made them (the rest reused).
    pub embedded_now: Option<u64>,
    pub embeddings_reused: Option<u64>,
    pub classified: Option<u64>,
    pub search_documents: Option<u64>,
    pub image_digest: Option<String>,
    /// Bytes of `image.tar`.
    pub image_size: Option<u64>,
    /// Bytes of the unpacked image.
    pub image_uncompressed_size: Option<u64>,
    /// From `compose up` to healthy.
    pub healthy_ms: Option<f64>,
    pub url: Option<String>,
    pub container: Option<String>,
    pub verify_passed: Option<u64>,
}

impl Metrics {
    /// Takes every number `other` has.
    pub fn merge(&mut self, other: &Metrics) {
        macro_rules! take {
            ($($field:ident),*) => {
                $(if other.$field.is_some() {
                    self.$field = other.$field.clone();
                })*
            };
        }
        take!(
            delivery_version,
            products,
            files,
            data_points,
            rejected_rows,
            chunks,
            vectors,
            embedded_now,
            embeddings_reused,
            classified,
            search_documents,
            image_digest,
            image_size,
            image_uncompressed_size,
            healthy_ms,
            url,
            container,
            verify_passed
        );
    }
}

/// A file a step produced, as it was when the step finished: if it has
/// changed or gone since, the step runs again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub path: PathBuf,
    pub size: u64,
    pub modified_ns: u128,
}

impl Stamp {
    /// The stamp of `path` now, if it exists.
    pub fn of(path: &Path) -> Option<Stamp> {
        let metadata = std::fs::metadata(path).ok()?;
        let modified_ns = metadata
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(Stamp {
            path: path.to_path_buf(),
            size: metadata.len(),
            modified_ns,
        })
    }

    /// The file is still as it was.
    pub fn holds(&self) -> bool {
        Stamp::of(&self.path).as_ref() == Some(self)
    }
}

/// `<WS>/run/<step>.json`: one finished step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: String,
    pub cradle_version: String,
    /// `sha256:` of `consumed`.
    pub inputs: String,
    /// What the step read: input digests, configuration, the cradle
    /// version, what the step before it produced.
    pub consumed: serde_json::Value,
    /// `sha256:` of the inputs and the outputs: what the next step consumes.
    pub produced: String,
    pub outputs: Vec<Stamp>,
    pub metrics: Metrics,
    pub finished_at: String,
    pub seconds: f64,
}

impl StepRecord {
    pub fn path(workspace: &Workspace, step: Step) -> PathBuf {
        workspace.run_dir().join(format!("{}.json", step.name()))
    }

    /// The record of `step`, if there is a readable one.
    pub fn read(workspace: &Workspace, step: Step) -> Option<StepRecord> {
        let bytes = std::fs::read(StepRecord::path(workspace, step)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes it whole or not at all.
    pub fn write(&self, workspace: &Workspace, step: Step) -> Result<()> {
        let path = StepRecord::path(workspace, step);
        cradle_fs::private::create_dir(&workspace.run_dir())
            .with_context(|| format!("cannot create {}", workspace.run_dir().display()))?;
        cradle_fs::write_atomic(&path, &serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Forgets the step: it runs next time whatever it consumes.
    pub fn remove(workspace: &Workspace, step: Step) -> Result<()> {
        let path = StepRecord::path(workspace, step);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(error).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// How a step went in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Done,
    Skipped,
    Failed,
}

/// One step in `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub name: String,
    pub state: Outcome,
    pub seconds: f64,
    /// Why it was skipped, what it did, or why it failed.
    pub message: String,
    /// Attempts after the first (transient failures).
    #[serde(default)]
    pub retries: u32,
}

/// `<WS>/reports/run.json`: one run, and one line of `runs.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub customer: String,
    pub cradle_version: String,
    pub workspace: PathBuf,
    pub started_at: String,
    pub finished_at: String,
    /// Every step ran or was skipped, none failed.
    pub ok: bool,
    pub failed_step: Option<String>,
    /// The failure with its fix, as printed.
    pub error: Option<String>,
    pub steps: Vec<StepOutcome>,
    #[serde(flatten)]
    pub metrics: Metrics,
    /// Wall time of the whole run.
    pub seconds: f64,
}

impl RunRecord {
    /// Writes `run.json` and appends the record to `runs.jsonl` (the file
    /// is rewritten whole, so a line is never half there).
    pub fn write(&self, workspace: &Workspace) -> Result<PathBuf> {
        let dir = workspace.reports_dir();
        cradle_fs::private::create_dir(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = workspace.report("run.json");
        cradle_fs::write_atomic(&path, &serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let history = workspace.run_history_file();
        let mut lines = match std::fs::read(&history) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", history.display()));
            }
        };
        if !lines.is_empty() && !lines.ends_with(b"\n") {
            lines.push(b'\n');
        }
        lines.extend(serde_json::to_vec(self)?);
        lines.push(b'\n');
        cradle_fs::write_atomic(&history, &lines)
            .with_context(|| format!("cannot write {}", history.display()))?;
        Ok(path)
    }
}

/// `sha256:<hex>` of a JSON value (serde_json writes maps in key order,
/// so equal values hash equally).
pub fn digest_json(value: &serde_json::Value) -> String {
    digest_bytes(&serde_json::to_vec(value).unwrap_or_default())
}

pub fn digest_bytes(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for byte in hash {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}
