//! Reading a `model.safetensors` file through a memory map, so that a
//! large model is not read into a buffer before its tensors are built.
//! This is the crate's only unsafe code.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};

use crate::EmbedError;

/// The tensors of one safetensors file. Some exports name tensors with
/// the architecture as a prefix (`bert.embeddings...`,
/// `roberta.embeddings...`), others without; `prefix` is what this file
/// uses, found from where the word embeddings are.
pub(crate) struct Weights {
    tensors: MmapedSafetensors,
    prefix: String,
    path: PathBuf,
}

impl Weights {
    pub(crate) fn open(path: &Path) -> Result<Weights, EmbedError> {
        // SAFETY: the map is read-only and lives as long as `tensors`. The
        // file must not be truncated or rewritten while the model is open;
        // model directories are written once (scripts/model.sh, the hub
        // cache renames complete files into place) and never modified.
        let tensors =
            unsafe { MmapedSafetensors::new(path) }.map_err(|source| EmbedError::Weights {
                path: path.to_path_buf(),
                what: "not a readable safetensors file".into(),
                source: Box::new(source),
            })?;
        let names: Vec<String> = tensors
            .tensors()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        let anchor = "embeddings.word_embeddings.weight";
        let prefix = names
            .iter()
            .filter_map(|name| name.strip_suffix(anchor))
            .min_by_key(|prefix| prefix.len())
            .map(str::to_string)
            .ok_or_else(|| EmbedError::Weights {
                path: path.to_path_buf(),
                what: format!("it has no tensor named `{anchor}` (with or without a `bert.`/`roberta.` prefix)"),
                source: Box::new(candle_core::Error::Msg("word embeddings missing".into())),
            })?;
        Ok(Weights {
            tensors,
            prefix,
            path: path.to_path_buf(),
        })
    }

    /// The tensor `name` (without prefix) as f32 on the CPU.
    fn get(&self, name: &str) -> Result<Tensor, EmbedError> {
        let full = format!("{}{name}", self.prefix);
        let error = |source| EmbedError::Weights {
            path: self.path.clone(),
            what: format!("tensor `{full}`"),
            source: Box::new(source),
        };
        let tensor = self.tensors.load(&full, &Device::Cpu).map_err(error)?;
        tensor.to_dtype(DType::F32).map_err(error)
    }

    fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbedError> {
        let tensor = self.get(name)?;
        if tensor.dims() != shape {
            return Err(EmbedError::Weights {
                path: self.path.clone(),
                what: format!(
                    "tensor `{}{name}` has shape {:?}, config.json implies {shape:?}",
                    self.prefix,
                    tensor.dims()
                ),
                source: Box::new(candle_core::Error::Msg("shape mismatch".into())),
            });
        }
        tensor
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|source| EmbedError::Weights {
                path: self.path.clone(),
                what: format!("tensor `{}{name}`", self.prefix),
                source: Box::new(source),
            })
    }

    /// A `rows × cols` matrix, row-major.
    pub(crate) fn matrix(
        &self,
        name: &str,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>, EmbedError> {
        self.values(name, &[rows, cols])
    }

    pub(crate) fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>, EmbedError> {
        self.values(name, &[len])
    }

    /// The first of `names` that the file holds (older BERT exports call
    /// layer-norm parameters `gamma`/`beta` instead of `weight`/`bias`).
    pub(crate) fn vector_any(&self, names: &[&str], len: usize) -> Result<Vec<f32>, EmbedError> {
        let found = names
            .iter()
            .find(|name| self.tensors.get(&format!("{}{name}", self.prefix)).is_ok())
            .unwrap_or(&names[0]);
        self.vector(found, len)
    }

    /// The shape of a two-dimensional tensor.
    pub(crate) fn shape2(&self, name: &str) -> Result<(usize, usize), EmbedError> {
        let full = format!("{}{name}", self.prefix);
        let view = self
            .tensors
            .get(&full)
            .map_err(|source| EmbedError::Weights {
                path: self.path.clone(),
                what: format!("tensor `{full}`"),
                source: Box::new(source),
            })?;
        match view.shape() {
            [rows, cols] => Ok((*rows, *cols)),
            other => Err(EmbedError::Weights {
                path: self.path.clone(),
                what: format!("tensor `{full}` has shape {other:?}, expected two dimensions"),
                source: Box::new(candle_core::Error::Msg("shape mismatch".into())),
            }),
        }
    }
}
