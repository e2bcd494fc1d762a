//! The local backend: a BERT or XLM-RoBERTa model from a Hugging Face-format
//! directory, run on the CPU with candle.
//!
//! The directory holds `config.json`, `tokenizer.json` and
//! `model.safetensors`, and where the model is a sentence-transformers
//! export also `modules.json`, `1_Pooling/config.json`,
//! `sentence_bert_config.json` and `config_sentence_transformers.json`;
//! those decide pooling, the maximum length and the query/passage prompts.
//!
//! A directory in model2vec's layout (`config.json` with `"model_type":
//! "model2vec"`) holds a static model instead (see `table`): one vector per
//! token, no transformer; [`distill`] makes one from a transformer and
//! [`fit`] weights one for a catalogue's own texts.
//!
//! Texts are tokenized, sorted by length (longest first) and cut into
//! batches that are never padded (see `model`); batches run in parallel on
//! a pool of `threads` threads, each on one thread, or, when there are
//! fewer batches than threads, one after another with the threads sharing
//! each matrix product.

mod distill;
mod fit;
mod kernels;
mod model;
mod table;
mod weights;

use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::{EmbedError, Embedder, ModelInfo, Role};
use model::{Config, Encoder, Family, Tokens};
use table::Table;

pub use distill::{Distilled, distill, distilled_from};
pub use fit::{Fitted, can_fit, fit, fitted_from};
pub use table::STATIC_MODEL_TYPE;

/// Tokens per batch at most (a single longer text is a batch of its own).
const TOKENS_PER_BATCH: usize = 2048;

/// How the local backend runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOptions {
    /// Texts per forward pass at most (a batch also ends at 2048 tokens).
    pub batch_size: usize,
    /// Tokens per text at most (longer texts are cut); default: the
    /// model's `sentence_bert_config.json`, else its position limit.
    pub max_length: Option<usize>,
    /// Threads for the model; default: all cores.
    pub threads: Option<usize>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            batch_size: 32,
            max_length: None,
            threads: None,
        }
    }
}

/// How token states become one vector (sentence-transformers' Pooling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Cls,
    Mean,
    Max,
    MeanSqrtLength,
}

/// What turns tokens into a vector.
enum Engine {
    /// A BERT or XLM-RoBERTa encoder and its pooling.
    Transformer { encoder: Encoder, pooling: Pooling },
    /// A static model: the mean of per-token vectors.
    Static(Table),
}

/// A model loaded from a local directory.
pub struct LocalEmbedder {
    info: ModelInfo,
    tokenizer: Tokenizer,
    engine: Engine,
    query_prefix: String,
    passage_prefix: String,
    max_length: usize,
    batch_size: usize,
    pool: rayon::ThreadPool,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("info", &self.info)
            .field("pooling", &self.pooling())
            .field("max_length", &self.max_length)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Module {
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize, Default)]
struct SentenceTransformersConfig {
    #[serde(default)]
    prompts: std::collections::BTreeMap<String, String>,
}

impl LocalEmbedder {
    /// Loads the model in `dir`, named after the directory.
    pub fn open(dir: &Path, opts: &LocalOptions) -> Result<LocalEmbedder, EmbedError> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        LocalEmbedder::open_named(dir, &name, opts)
    }

    /// Loads the model in `dir` under `name` (a hub id, say), which also
    /// tells whether the model is an e5.
    pub fn open_named(
        dir: &Path,
        name: &str,
        opts: &LocalOptions,
    ) -> Result<LocalEmbedder, EmbedError> {
        LocalEmbedder::open_stamped(dir, name, opts, None)
    }

    /// [`open_named`](Self::open_named), trusting `known` for the weights'
    /// hash while the file's size and modification time still match it
    /// (hashing 90 MB or more would otherwise be most of a server start).
    pub fn open_stamped(
        dir: &Path,
        name: &str,
        opts: &LocalOptions,
        known: Option<&WeightsStamp>,
    ) -> Result<LocalEmbedder, EmbedError> {
        if opts.batch_size == 0 {
            return Err(EmbedError::Setting {
                setting: "batch_size",
                what: "must be at least 1".into(),
            });
        }
        let model_type = read_json::<serde_json::Value>(&dir.join("config.json"))?
            .get("model_type")
            .and_then(|t| t.as_str().map(str::to_owned));
        if model_type.as_deref() == Some(STATIC_MODEL_TYPE) {
            return LocalEmbedder::open_static(dir, name, opts, known);
        }
        let config: Config = read_json(&dir.join("config.json"))?;
        let family = Family::of(&config).ok_or_else(|| EmbedError::Model {
            path: dir.join("config.json").display().to_string(),
            what: format!(
                "model_type {:?} is not supported\nhint: use a BERT or XLM-RoBERTa model (model_type bert, xlm-roberta)",
                config.model_type
            ),
        })?;
        if let Some(kind) = config.position_embedding_type.as_deref()
            && kind != "absolute"
        {
            return Err(EmbedError::Model {
                path: dir.join("config.json").display().to_string(),
                what: format!("position_embedding_type {kind} is not supported (only absolute)"),
            });
        }

        let pooling = read_pooling(dir)?;
        let limit = match family {
            // XLM-RoBERTa spends two positions on the padding offset.
            Family::XlmRoberta => config
                .max_position_embeddings
                .saturating_sub(config.pad_token_id.unwrap_or(1) as usize + 1),
            Family::Bert => config.max_position_embeddings,
        };
        let configured =
            optional_json::<SentenceBertConfig>(&dir.join("sentence_bert_config.json"))?
                .and_then(|c| c.max_seq_length);
        let max_length = opts.max_length.or(configured).unwrap_or(limit).min(limit);
        if max_length < 2 {
            return Err(EmbedError::Setting {
                setting: "max_length",
                what: format!("{max_length} leaves no room for text (at least 2 tokens)"),
            });
        }

        let (query_prefix, passage_prefix) = prompts(dir, name, &config)?;

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|source| EmbedError::Tokenizer {
                path: tokenizer_path.clone(),
                source,
            })?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|source| EmbedError::Tokenizer {
                path: tokenizer_path.clone(),
                source,
            })?;
        tokenizer.with_padding(None);

        let weights_path = dir.join("model.safetensors");
        let revision = match known {
            Some(stamp) if stamp.matches(&weights_path) => stamp.sha256.clone(),
            _ => sha256_file(&weights_path)?,
        };
        let encoder = Encoder::load(&config, family, &weights::Weights::open(&weights_path)?)?;

        Ok(LocalEmbedder {
            info: ModelInfo {
                name: name.to_string(),
                backend: "local".into(),
                dimension: encoder.hidden_size(),
                revision,
            },
            tokenizer,
            engine: Engine::Transformer { encoder, pooling },
            query_prefix,
            passage_prefix,
            max_length,
            batch_size: opts.batch_size,
            pool: thread_pool(opts)?,
        })
    }

    /// A static model (model2vec layout): the tokenizer without its
    /// special tokens, the token table, no prefixes.
    fn open_static(
        dir: &Path,
        name: &str,
        opts: &LocalOptions,
        known: Option<&WeightsStamp>,
    ) -> Result<LocalEmbedder, EmbedError> {
        // A static model has no position limit; the cap bounds the work
        // one hostile text can cause.
        let max_length = opts.max_length.unwrap_or(STATIC_MAX_TOKENS).max(1);
        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer_error = |source| EmbedError::Tokenizer {
            path: tokenizer_path.clone(),
            source,
        };
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(tokenizer_error)?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(tokenizer_error)?;
        tokenizer.with_padding(None);
        let skip: Vec<u32> = ["[UNK]", "<unk>"]
            .iter()
            .filter_map(|token| tokenizer.token_to_id(token))
            .collect();
        let weights_path = dir.join("model.safetensors");
        let revision = match known {
            Some(stamp) if stamp.matches(&weights_path) => stamp.sha256.clone(),
            _ => sha256_file(&weights_path)?,
        };
        let table = Table::load(&weights_path, skip)?;
        let vocabulary = tokenizer.get_vocab_size(true);
        if table.vocabulary() < vocabulary {
            return Err(EmbedError::Model {
                path: weights_path.display().to_string(),
                what: format!(
                    "the table has {} rows but the tokenizer knows {vocabulary} tokens",
                    table.vocabulary()
                ),
            });
        }
        Ok(LocalEmbedder {
            info: ModelInfo {
                name: name.to_string(),
                backend: "local".into(),
                dimension: table.dimension(),
                revision,
            },
            tokenizer,
            engine: Engine::Static(table),
            query_prefix: String::new(),
            passage_prefix: String::new(),
            max_length,
            batch_size: opts.batch_size,
            pool: thread_pool(opts)?,
        })
    }

    /// The pooling the model's configuration asks for (a static model
    /// averages its tokens).
    pub fn pooling(&self) -> Pooling {
        match &self.engine {
            Engine::Transformer { pooling, .. } => *pooling,
            Engine::Static(_) => Pooling::Mean,
        }
    }

    /// Whether this is a static model (no transformer).
    pub fn is_static(&self) -> bool {
        matches!(self.engine, Engine::Static(_))
    }

    /// Tokens per text at most.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The prefix put before texts of `role` (empty for most models).
    pub fn prefix(&self, role: Role) -> &str {
        match role {
            Role::Query => &self.query_prefix,
            Role::Passage => &self.passage_prefix,
        }
    }
}

impl Embedder for LocalEmbedder {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let prefix = self.prefix(role);
        let inputs: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let (encoder, pooling) = match &self.engine {
            Engine::Transformer { encoder, pooling } => (encoder, *pooling),
            Engine::Static(table) => return self.embed_static(table, inputs),
        };
        self.pool.install(|| {
            let encodings = self
                .tokenizer
                .encode_batch(inputs, true)
                .map_err(|source| EmbedError::Tokenize {
                    model: self.info.name.clone(),
                    count: texts.len(),
                    source,
                })?;
            // Longest first: the expensive batches start early, so that the
            // threads finish together.
            let mut order: Vec<usize> = (0..encodings.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].len()));
            // A batch holds at most `batch_size` texts and, beyond its first
            // text, at most TOKENS_PER_BATCH tokens: its buffers take about
            // 16 KB per token (for a 384-wide model), and since texts are
            // not padded, how they are grouped does not change a vector.
            let mut batches: Vec<Vec<usize>> = Vec::new();
            let mut tokens = 0;
            for &i in &order {
                let length = encodings[i].len();
                match batches.last_mut() {
                    Some(batch)
                        if batch.len() < self.batch_size && tokens + length <= TOKENS_PER_BATCH =>
                    {
                        batch.push(i);
                        tokens += length;
                    }
                    _ => {
                        batches.push(vec![i]);
                        tokens = length;
                    }
                }
            }
            // Enough batches for every thread: one batch per thread at a time,
            // each product single-threaded (no synchronisation inside a
            // layer). Fewer (a query, a handful of texts): the threads share
            // each product instead.
            let threads = self.pool.current_num_threads();
            let inner_threads = if batches.len() >= threads { 1 } else { threads };
            let run = |indices: &Vec<usize>| {
                let texts: Vec<Tokens<'_>> = indices
                    .iter()
                    .map(|&i| Tokens {
                        ids: encodings[i].get_ids(),
                        type_ids: encodings[i].get_type_ids(),
                    })
                    .collect();
                encoder.embed(&texts, pooling, inner_threads)
            };
            let results: Vec<Vec<Vec<f32>>> = if inner_threads == 1 {
                batches.par_iter().with_max_len(1).map(run).collect()
            } else {
                batches.iter().map(run).collect()
            };
            let mut out = vec![Vec::new(); texts.len()];
            for (indices, vectors) in batches.iter().zip(results) {
                for (&i, vector) in indices.iter().zip(vectors) {
                    out[i] = vector;
                }
            }
            Ok(out)
        })
    }
}

impl LocalEmbedder {
    fn embed_static(
        &self,
        table: &Table,
        inputs: Vec<String>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let count = inputs.len();
        self.pool.install(|| {
            let encodings = self
                .tokenizer
                .encode_batch(inputs, false)
                .map_err(|source| EmbedError::Tokenize {
                    model: self.info.name.clone(),
                    count,
                    source,
                })?;
            Ok(encodings
                .par_iter()
                .map(|encoding| table.embed(encoding.get_ids()))
                .collect())
        })
    }
}

/// Tokens per text at most for a static model, unless set.
const STATIC_MAX_TOKENS: usize = 4096;

fn thread_pool(opts: &LocalOptions) -> Result<rayon::ThreadPool, EmbedError> {
    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("cradle-embed-{i}"))
        .build()
        .map_err(|source| EmbedError::Threads { threads, source })
}

/// The files of the model directory `dir` that [`LocalEmbedder`] reads,
/// relative to `dir`, those that exist: what a copy of the model (an
/// image's) must carry for queries to be embedded as the chunks were.
/// An error names a required file that is missing.
pub fn model_files(dir: &Path) -> Result<Vec<PathBuf>, EmbedError> {
    let mut files = Vec::new();
    for required in ["config.json", "tokenizer.json", "model.safetensors"] {
        let path = dir.join(required);
        if !path.is_file() {
            return Err(EmbedError::Model {
                path: path.display().to_string(),
                what: "the file is missing; a local model needs config.json, tokenizer.json and model.safetensors".into(),
            });
        }
        files.push(PathBuf::from(required));
    }
    let pooling = pooling_config(dir)?;
    for optional in [
        PathBuf::from("modules.json"),
        pooling,
        PathBuf::from("sentence_bert_config.json"),
        PathBuf::from("config_sentence_transformers.json"),
    ] {
        if dir.join(&optional).is_file() {
            files.push(optional);
        }
    }
    files.sort();
    Ok(files)
}

/// The pooling module's configuration, relative to the model directory:
/// where `modules.json` says, else where sentence-transformers puts it.
fn pooling_config(dir: &Path) -> Result<PathBuf, EmbedError> {
    let modules = optional_json::<Vec<Module>>(&dir.join("modules.json"))?.unwrap_or_default();
    let pooling_dir = modules
        .iter()
        .find(|m| m.kind.ends_with("Pooling"))
        .map(|m| m.path.clone())
        .unwrap_or_else(|| "1_Pooling".into());
    Ok(PathBuf::from(pooling_dir).join("config.json"))
}

fn read_pooling(dir: &Path) -> Result<Pooling, EmbedError> {
    let path = dir.join(pooling_config(dir)?);
    let Some(config) = optional_json::<PoolingConfig>(&path)? else {
        // Without a sentence-transformers pooling module the model is a
        // plain encoder; mean pooling is what sentence-transformers itself
        // falls back to.
        return Ok(Pooling::Mean);
    };
    let modes = [
        (config.pooling_mode_cls_token, Pooling::Cls),
        (config.pooling_mode_mean_tokens, Pooling::Mean),
        (config.pooling_mode_max_tokens, Pooling::Max),
        (
            config.pooling_mode_mean_sqrt_len_tokens,
            Pooling::MeanSqrtLength,
        ),
    ];
    let chosen: Vec<Pooling> = modes
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, p)| *p)
        .collect();
    match chosen.as_slice() {
        [one] => Ok(*one),
        _ => Err(EmbedError::Model {
            path: path.display().to_string(),
            what: format!(
                "exactly one pooling mode (cls, mean, max, mean_sqrt_len) must be on, found {}",
                chosen.len()
            ),
        }),
    }
}

/// The query and passage prefixes: the prompts of
/// `config_sentence_transformers.json` where it names them, else the e5
/// convention when the model is an e5 by name, else none.
fn prompts(dir: &Path, name: &str, config: &Config) -> Result<(String, String), EmbedError> {
    let st = optional_json::<SentenceTransformersConfig>(
        &dir.join("config_sentence_transformers.json"),
    )?
    .unwrap_or_default();
    let query = st.prompts.get("query").cloned();
    let passage = st
        .prompts
        .get("passage")
        .or_else(|| st.prompts.get("document"))
        .cloned();
    if query.is_some() || passage.is_some() {
        return Ok((query.unwrap_or_default(), passage.unwrap_or_default()));
    }
    let names = [
        Some(name),
        dir.file_name().and_then(|n| n.to_str()),
        config.name_or_path.as_deref(),
    ];
    if names.into_iter().flatten().any(is_e5_name) {
        return Ok(("query: ".into(), "passage: ".into()));
    }
    Ok((String::new(), String::new()))
}

/// `intfloat/multilingual-e5-large`, `e5-small-v2`: a name with `e5` as
/// one of its dash-, slash- or underscore-separated parts.
pub(crate) fn is_e5_name(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| part == "e5")
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, EmbedError> {
    let bytes = std::fs::read(path).map_err(|source| EmbedError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| EmbedError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn optional_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, EmbedError> {
    if !path.exists() {
        return Ok(None);
    }
    read_json(path).map(Some)
}

/// A weights file as it was when its hash was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsStamp {
    pub sha256: String,
    pub bytes: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: u64,
}

impl WeightsStamp {
    /// The stamp of `path` whose hash is `sha256`; `None` when the file's
    /// metadata cannot be read.
    pub fn of(path: &Path, sha256: &str) -> Option<WeightsStamp> {
        let (bytes, modified_ns) = size_and_time(path)?;
        Some(WeightsStamp {
            sha256: sha256.to_owned(),
            bytes,
            modified_ns,
        })
    }

    /// Whether `path` still has the size and modification time stamped.
    pub fn matches(&self, path: &Path) -> bool {
        size_and_time(path) == Some((self.bytes, self.modified_ns))
    }
}

fn size_and_time(path: &Path) -> Option<(u64, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((metadata.len(), u64::try_from(modified.as_nanos()).ok()?))
}

/// Hex sha256 of a file, read in 1 MiB pieces.
pub(crate) fn sha256_file(path: &Path) -> Result<String, EmbedError> {
    let error = |source| EmbedError::Read {
        path: PathBuf::from(path),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weights_stamp_holds_while_the_file_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, b"weights").unwrap();
        let hash = sha256_file(&path).unwrap();
        let stamp = WeightsStamp::of(&path, &hash).unwrap();
        assert!(stamp.matches(&path));
        // Another size: the stamp no longer vouches for the hash.
        std::fs::write(&path, b"other weights").unwrap();
        assert!(!stamp.matches(&path));
        // Same size, another modification time: neither.
        std::fs::write(&path, b"WEIGHTS").unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1))
            .unwrap();
        assert!(!stamp.matches(&path));
        assert!(!stamp.matches(&dir.path().join("missing")));
    }

    #[test]
    fn e5_is_recognised_by_name() {
        assert!(is_e5_name("intfloat/multilingual-e5-large"));
        assert!(is_e5_name("e5-small-v2"));
        assert!(!is_e5_name("all-MiniLM-L6-v2"));
        assert!(!is_e5_name("bge-base-en-v1.5"));
    }
}
