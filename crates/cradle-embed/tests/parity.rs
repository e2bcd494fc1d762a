//! The local backend gives the same vectors as Python sentence-transformers
//! on the same model files (cosine ≥ 0.999 for every text): on
//! all-MiniLM-L6-v2, and on a tiny XLM-RoBERTa written by the test from a
//! fixed seed (the family of multilingual-e5, whose real weights are no
//! fixture).
//!
//! The reference vectors are stored in `tests/data/parity/`, made by
//! `bench/parity-reference.sh` with sentence-transformers (its versions are
//! recorded beside them), so the test needs no PyTorch. Each set names the
//! sha256 of the model files it was made from; the test checks those first,
//! so different files give a clear message instead of a cosine. The live
//! comparison with sentence-transformers runs in `bench/embed.sh`.
//!
//! Needs the model (`scripts/model.sh`, found through `CRADLE_MODEL_DIR` or
//! the default cache folder); `scripts/test.sh` installs it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cradle_embed::{Embedder, LocalEmbedder, LocalOptions, Role, cosine, default_model_dir};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The files of a model folder the local backend reads (those of them
/// that exist); a change to any of them can change the vectors.
const LOADED: [&str; 7] = [
    "config.json",
    "tokenizer.json",
    "model.safetensors",
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
];

/// What `bench/parity_reference.py` writes beside the vectors.
#[derive(Debug, Deserialize)]
struct Manifest {
    model: String,
    /// Relative path to sha256 of every file of the model folder.
    files: BTreeMap<String, String>,
    /// Package versions of the Python side.
    made_with: BTreeMap<String, String>,
    dimension: usize,
    vectors: String,
    vectors_sha256: String,
    texts: Vec<String>,
}

/// A stored set of reference vectors, one per text.
struct Reference {
    manifest: Manifest,
    vectors: Vec<Vec<f32>>,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/parity")
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const REMAKE: &str = "remake the references with bench/parity-reference.sh";

/// Reads `tests/data/parity/<name>.json` and the vectors it names, and
/// checks that they belong together and to the texts of `texts.json`.
fn reference(name: &str) -> Reference {
    let dir = data_dir();
    let path = dir.join(format!("{name}.json"));
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}\nhint: {REMAKE}", path.display()));
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{} is damaged: {e}\nhint: {REMAKE}", path.display()));
    let texts: Vec<String> =
        serde_json::from_slice(&std::fs::read(dir.join("texts.json")).unwrap()).unwrap();
    assert!(
        texts.starts_with(&manifest.texts),
        "{}: the texts differ from texts.json (changed since the vectors were made)\nhint: {REMAKE}",
        path.display()
    );
    let vectors_path = dir.join(&manifest.vectors);
    let raw = std::fs::read(&vectors_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nhint: {REMAKE}",
            vectors_path.display()
        )
    });
    assert_eq!(
        sha256(&raw),
        manifest.vectors_sha256,
        "{} is not the file {} names\nhint: {REMAKE}",
        vectors_path.display(),
        path.display()
    );
    assert_eq!(
        raw.len(),
        manifest.texts.len() * manifest.dimension * 4,
        "{}: not one vector of {} f32 per text",
        vectors_path.display(),
        manifest.dimension
    );
    let floats: Vec<f32> = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let vectors = floats
        .chunks_exact(manifest.dimension)
        .map(<[f32]>::to_vec)
        .collect();
    Reference { manifest, vectors }
}

/// Panics, naming each file, unless the files the local backend reads from
/// `dir` are those the reference was made from.
fn check_files(dir: &Path, manifest: &Manifest, hint: &str) {
    let mut differences = Vec::new();
    for file in LOADED {
        let path = dir.join(file);
        let found = path
            .is_file()
            .then(|| sha256(&std::fs::read(&path).unwrap()));
        let recorded = manifest.files.get(file);
        if found.as_ref() != recorded {
            let show =
                |hash: Option<&String>| hash.map_or("no file".to_owned(), |h| h[..12].to_owned());
            differences.push(format!(
                "  {file}: recorded {}, found {}",
                show(recorded),
                show(found.as_ref())
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "the {} files in {} are not those the reference vectors were made from:\n{}\nhint: {hint}",
        manifest.model,
        dir.display(),
        differences.join("\n")
    );
}

fn model_dir() -> PathBuf {
    let dir = default_model_dir().unwrap_or_else(|| {
        panic!(
            "no embedding model found: set CRADLE_MODEL_DIR or run scripts/model.sh \
             (scripts/test.sh does both)"
        )
    });
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} holds no model.safetensors: run scripts/model.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// Embeds the reference's texts with `model` and panics with the worst
/// text unless every vector is within cosine 0.999 of the reference.
fn compare(model: &LocalEmbedder, reference: &Reference, what: &str) {
    let texts: Vec<&str> = reference
        .manifest
        .texts
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(model.info().dimension, reference.manifest.dimension);
    // The backend hashes the weights it loads; they are the recorded ones.
    assert_eq!(
        Some(&model.info().revision),
        reference.manifest.files.get("model.safetensors"),
        "{what}: the loaded weights are not those of the reference"
    );
    let vectors = model.embed(&texts, Role::Passage).unwrap();
    assert_eq!(vectors.len(), reference.vectors.len());
    let mut worst = (1.0f32, 0);
    for (i, (ours, theirs)) in vectors.iter().zip(&reference.vectors).enumerate() {
        let c = cosine(ours, theirs);
        if c < worst.0 {
            worst = (c, i);
        }
    }
    assert!(
        worst.0 >= 0.999,
        "text {} ({:?}): cosine {} with {what}; reference made with {:?}",
        worst.1,
        texts[worst.1],
        worst.0,
        reference.manifest.made_with
    );
}

#[test]
fn local_backend_matches_sentence_transformers() {
    let dir = model_dir();
    let reference = reference("all-minilm-l6-v2");
    check_files(
        &dir,
        &reference.manifest,
        &format!(
            "install the recorded model with scripts/model.sh (into an empty \
             CRADLE_MODEL_DIR), or, after changing the model on purpose, {REMAKE}"
        ),
    );
    // One batch on one thread, and small batches on two threads (other
    // padding, other order): both must match.
    for options in [
        LocalOptions {
            batch_size: 32,
            max_length: None,
            threads: Some(1),
        },
        LocalOptions {
            batch_size: 5,
            max_length: None,
            threads: Some(2),
        },
    ] {
        let model = LocalEmbedder::open(&dir, &options).unwrap();
        assert_eq!(model.max_length(), 256);
        compare(&model, &reference, &format!("{options:?}"));
    }
}

/// XLM-RoBERTa (the multilingual-e5 family) on a tiny model: the reference
/// was made by sentence-transformers loading the same files with Hugging
/// Face's own XLM-RoBERTa code, which checks positions, token types and
/// layer names.
#[test]
fn tiny_xlm_roberta_matches_sentence_transformers() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("tiny-xlm-roberta");
    common::write_tiny_xlm_roberta(&dir);
    let reference = reference("tiny-xlm-roberta");
    check_files(
        &dir,
        &reference.manifest,
        &format!("the tiny model's writer (tests/common/mod.rs) changed: {REMAKE}"),
    );
    let model = LocalEmbedder::open(&dir, &LocalOptions::default()).unwrap();
    compare(&model, &reference, "the tiny XLM-RoBERTa");
}
