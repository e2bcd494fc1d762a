//! The per-customer `cradle.toml` in a workspace: overrides for when
//! detection is wrong. A normal delivery needs none of it.
//!
//! ```toml
//! customer = "lightnet"
//!
//! # Map a header to a canonical field, or to nothing ("") to keep it an attribute.
//! [mapping]
//! "Bez. kurz" = "name_de"
//! "Klasse" = ""
//!
//! # Per file (a glob on the path relative to the delivery), optionally per sheet.
//! [[file]]
//! match = "*preise*.csv"
//! key = "Materialnr"
//! header_row = 3        # 1-based, as a spreadsheet shows it
//! encoding = "windows-1252"
//! delimiter = ";"
//!
//! # The enrich stage (every key optional; command-line flags win).
//! [enrich]
//! model = "/models/multilingual-e5-large"   # a directory, or a hub id
//! # endpoint = "http://tei:8080"             # remote OpenAI-compatible embeddings
//! # remote_model = "intfloat/multilingual-e5-large"
//! # api_key_env = "EMBEDDINGS_API_KEY"
//! batch_size = 32
//! etim = "/data/etim-9.0-csv"               # ETIM CSV export; default: built-in excerpt
//! ocr_languages = "deu+eng"
//!
//! # The image and its deployment (`cradle build`, `cradle deploy`).
//! [deploy]
//! port = 9314           # the port the console listens on
//! memory_mb = 2048      # memory limit in compose.yaml and the Kubernetes manifests
//! image = "cradle-acme" # the image's name (default cradle-<customer>)
//!
//! # `cradle run`: retries of a step that failed for a passing reason.
//! [run]
//! retries = 2                 # attempts after the first
//! retry_within_seconds = 600  # no retry starts later than this
//! retry_backoff_seconds = 5   # first wait, doubled each time
//!
//! # The console's chat (`cradle serve`): an OpenAI-compatible chat
//! # completions server (vLLM, Ollama, llama.cpp's server, OpenAI). Without
//! # an endpoint the chat answers with the matching products and facts.
//! [chat]
//! endpoint = "http://localhost:11434/v1"  # the server's base URL, its /v1, or the full URL
//! model = "qwen2.5:7b-instruct"           # the model name the server knows
//! api_key_env = "CHAT_API_KEY"            # the environment variable holding the key (optional)
//! ```

use crate::fields::CanonicalField;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub customer: Option<String>,
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    #[serde(default, rename = "file")]
    pub files: Vec<FileOverride>,
    #[serde(default)]
    pub enrich: EnrichConfig,
    #[serde(default)]
    pub deploy: DeployConfig,
    #[serde(default)]
    pub run: RunConfig,
    #[serde(default)]
    pub chat: ChatConfig,
}

/// `[run]`: how `cradle run` retries a step that failed for a passing
/// reason (an endpoint timing out or answering 5xx, a container slow to
/// become healthy).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Attempts of a step after its first; default 2.
    pub retries: Option<u32>,
    /// No retry starts later than this many seconds after the step's
    /// first attempt; default 600.
    pub retry_within_seconds: Option<u64>,
    /// Wait before the first retry in seconds, doubled for each further
    /// one; default 5.
    pub retry_backoff_seconds: Option<u64>,
}

/// `[chat]`: the language model the console's chat writes answers with.
/// Every key is optional; without `endpoint` the chat answers
/// extractively (the matching products and facts, no model).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatConfig {
    /// An OpenAI-compatible chat completions server: its base URL
    /// (`http://vllm:8000`), its `/v1`, or the full
    /// `.../v1/chat/completions` URL.
    pub endpoint: Option<String>,
    /// The model name the server serves (vLLM's served model name, an
    /// Ollama tag, `gpt-4o-mini`); needed when `endpoint` is set.
    #[serde(default)]
    pub model: String,
    /// The name of the environment variable holding the API key, if the
    /// server needs one (the key itself never goes in cradle.toml).
    pub api_key_env: Option<String>,
}

/// `[deploy]`: how the image serves and what its deployments may use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// The port the console listens on (in the container and, by default,
    /// on the host); default 9314.
    pub port: Option<u16>,
    /// The memory limit of the deployment, in MiB; default 2048.
    pub memory_mb: Option<u64>,
    /// The image's name without tag; default `cradle-<customer>`.
    pub image: Option<String>,
}

/// `[enrich]`: how chunks are embedded, products classified and media read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// A local Hugging Face-format model directory, or a hub id
    /// (`sentence-transformers/all-MiniLM-L6-v2`) downloaded once.
    pub model: Option<String>,
    /// The hub revision when `model` is a hub id.
    pub revision: Option<String>,
    /// Base URL of an OpenAI-compatible embeddings endpoint; when set,
    /// embeddings are computed remotely.
    pub endpoint: Option<String>,
    /// The model name sent to the remote endpoint.
    pub remote_model: Option<String>,
    /// The environment variable holding the remote endpoint's API key.
    pub api_key_env: Option<String>,
    /// The dimension the remote endpoint must return.
    pub dimension: Option<usize>,
    /// Chunk kinds that get a vector (`identity`, `description`,
    /// `technical`, `tender`, `media`); default identity, description,
    /// media. Every chunk is stored either way.
    pub embed_kinds: Option<Vec<String>>,
    /// Texts per forward pass (local) or request (remote).
    pub batch_size: Option<usize>,
    /// Tokens per text; longer texts are truncated.
    pub max_length: Option<usize>,
    /// Threads for the local model.
    pub threads: Option<usize>,
    /// Fit a static model distilled by cradle to the workspace's own texts
    /// (token weights by their document frequency) before the first
    /// embedding; the fitted model (`<WS>/model`) is kept for later
    /// deliveries. Default true; no effect on transformers.
    pub fit: Option<bool>,
    /// Remote requests in flight.
    pub concurrency: Option<usize>,
    /// A directory with an ETIM CSV export; default: the built-in excerpt.
    pub etim: Option<PathBuf>,
    /// Read text from media files (default true).
    pub media: Option<bool>,
    /// The Tesseract program (default `tesseract`).
    pub tesseract: Option<String>,
    /// Tesseract languages (default `deu+eng`).
    pub ocr_languages: Option<String>,
    /// OpenAI-compatible chat endpoint for image captions (optional).
    pub vision_endpoint: Option<String>,
    pub vision_model: Option<String>,
    pub vision_api_key_env: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOverride {
    /// A glob (`*`, `?`, `[ab]`, `{a,b}`; any case) on the path relative to
    /// the delivery root.
    #[serde(rename = "match")]
    pub pattern: String,
    pub sheet: Option<String>,
    pub key: Option<String>,
    /// 1-based row number of the (last) header row.
    pub header_row: Option<u64>,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid cradle.toml")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error(
        "{path}: [[file]] match = {pattern:?} is not a glob\nhint: use * for any characters, ? for one, [ab] for a set, {{a,b}} for either"
    )]
    Glob {
        path: PathBuf,
        pattern: String,
        #[source]
        source: globset::Error,
    },
    #[error(
        "{path}: [mapping] \"{header}\" = \"{field}\" names no canonical field\nhint: use one of {known}, or \"\" to keep the column an attribute"
    )]
    UnknownField {
        path: PathBuf,
        header: String,
        field: String,
        known: String,
    },
}

impl Config {
    /// Reads the file if it exists; a missing file is the empty config.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default());
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        for (header, field) in &config.mapping {
            if !field.is_empty() && CanonicalField::from_column(field).is_none() {
                return Err(ConfigError::UnknownField {
                    path: path.to_path_buf(),
                    header: header.clone(),
                    field: field.clone(),
                    known: CanonicalField::ALL
                        .iter()
                        .map(|f| f.column())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        for file in &config.files {
            if let Err(source) = glob(&file.pattern) {
                return Err(ConfigError::Glob {
                    path: path.to_path_buf(),
                    pattern: file.pattern.clone(),
                    source,
                });
            }
        }
        Ok(config)
    }

    /// The override for a header, if any: `Some(None)` keeps it an attribute.
    pub fn mapping_for(&self, header: &str) -> Option<Option<CanonicalField>> {
        let field = self.mapping.get(header.trim())?;
        Some(CanonicalField::from_column(field))
    }

    /// The overrides that apply to a file (and sheet), most specific last.
    pub fn overrides_for<'a>(
        &'a self,
        relative_path: &'a str,
        sheet: Option<&'a str>,
    ) -> impl Iterator<Item = &'a FileOverride> + 'a {
        self.files.iter().filter(move |o| {
            glob_match(&o.pattern, relative_path)
                && match (&o.sheet, sheet) {
                    (Some(wanted), Some(actual)) => wanted == actual,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        })
    }
}

/// A `[[file]] match` glob, case-insensitive: `*` matches any run of
/// characters (including `/`), `?` one character, `[ab]` a set,
/// `{a,b}` either.
fn glob(pattern: &str) -> Result<globset::GlobMatcher, globset::Error> {
    globset::GlobBuilder::new(pattern)
        .case_insensitive(true)
        .literal_separator(false)
        .build()
        .map(|glob| glob.compile_matcher())
}

/// Whether `text` matches the glob `pattern` (see [`glob`]); a pattern
/// that is not a glob matches nothing (`Config::load` refuses it).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    glob(pattern).is_ok_and(|glob| glob.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*preise*.csv", "2026/preise_chf.csv"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("*.xlsx", "a.csv"));
        assert!(glob_match("*SAP*.CSV", "export/sap_material.csv"));
        assert!(glob_match("{preise,prices}_*.csv", "prices_chf.csv"));
        assert!(!glob_match("[", "["));
    }

    #[test]
    fn parses_overrides_and_rejects_unknown_fields() {
        let dir = std::env::temp_dir().join(format!("cradle-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cradle.toml");
        std::fs::write(
            &path,
            "customer = \"acme\"\n[mapping]\n\"Bez\" = \"name_de\"\n[[file]]\nmatch = \"*.csv\"\nkey = \"Nr\"\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.customer.as_deref(), Some("acme"));
        assert_eq!(
            config.mapping_for("Bez"),
            Some(Some(CanonicalField::NameDe))
        );
        assert_eq!(config.overrides_for("x.csv", None).count(), 1);
        std::fs::write(&path, "[mapping]\n\"Bez\" = \"nonsense\"\n").unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(error.contains("names no canonical field"), "{error}");
        std::fs::write(&path, "[[file]]\nmatch = \"preise[.csv\"\n").unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(error.contains("is not a glob"), "{error}");
        std::fs::write(
            &path,
            "[chat]\nendpoint = \"http://llm:8000\"\nmodel = \"m\"\napi_key_env = \"K\"\n",
        )
        .unwrap();
        let chat = Config::load(&path).unwrap().chat;
        assert_eq!(chat.endpoint.as_deref(), Some("http://llm:8000"));
        assert_eq!(
            (chat.model.as_str(), chat.api_key_env.as_deref()),
            ("m", Some("K"))
        );
        std::fs::write(&path, "[chat]\nurl = \"http://llm:8000\"\n").unwrap();
        let error = format!("{:?}", Config::load(&path).unwrap_err());
        assert!(error.contains("url"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
