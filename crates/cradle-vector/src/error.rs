//! The error type of the vector index: one variant per failure, the cause
//! attached as `#[source]`. Mistakes of the caller (a query of the wrong
//! dimension, inputs that do not fit together) are separate variants from
//! file faults, so a server can answer them as bad requests.

use std::path::PathBuf;

/// Everything that can go wrong building, opening or searching a vector
/// index.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error(
        "the vector index needs a dimension of at least 1, got 0\n\
         hint: pass the embedding model's dimension (384 for all-MiniLM-L6-v2)"
    )]
    ZeroDimension,
    #[error(
        "{vectors} floats are not {keys} vectors of dimension {dimension} \
         (that would be {expected} floats)\n\
         hint: pass one key per vector and the vectors row-major, `keys.len() * dimension` floats"
    )]
    InputShape {
        dimension: usize,
        keys: usize,
        vectors: usize,
        expected: usize,
    },
    #[error(
        "{count} vectors are more than one index holds ({max})\n\
         hint: split the vectors into several indexes"
    )]
    TooMany { count: usize, max: usize },
    #[error(
        "vector {row} (key {key:?}) has length {norm}, not 1\n\
         hint: the index compares by cosine and expects L2-normalised vectors; \
         normalise them (and check the embedding backend's pooling) before building"
    )]
    NotUnitLength { row: usize, key: String, norm: f32 },
    #[error("build setting {setting} = {value} is out of range: {hint}")]
    BuildSetting {
        setting: &'static str,
        value: usize,
        hint: &'static str,
    },
    #[error("cannot write the vector index {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the vector index {path}\nhint: build it with `cradle enrich`")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid cradle vector index: {problem}\n\
         hint: rebuild it with `cradle enrich`"
    )]
    Corrupt { path: PathBuf, problem: String },
    #[error(
        "the vector index {path} cannot be read on a big-endian machine\n\
         hint: build and serve it on a little-endian machine (x86-64, aarch64)"
    )]
    BigEndian { path: PathBuf },
    #[error(
        "the query has dimension {got}, but the index {path} holds vectors of dimension {expected}\n\
         hint: embed the query with the model the index was built with (see its meta: {meta})"
    )]
    DimensionMismatch {
        path: PathBuf,
        expected: usize,
        got: usize,
        meta: String,
    },
    #[error(
        "the query vector has {what}\n\
         hint: pass a finite, non-zero embedding"
    )]
    BadQuery { what: &'static str },
}
