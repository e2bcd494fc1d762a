//! Fetching a model from a Hugging Face hub into a local cache, so that a
//! model can be named (`sentence-transformers/all-MiniLM-L6-v2`) instead of
//! given as a directory.
//!
//! Files come from `{endpoint}/{id}/resolve/{revision}/{file}` and land in
//! `{cache}/{id with / as --}/{revision}/`. Each file is written to a
//! temporary name and renamed into place, and a `.complete` marker is
//! written last, so that an interrupted download is resumed, never used.
//! With `HF_HUB_OFFLINE=1` nothing is fetched: a complete cached copy is
//! used, anything else is an error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::EmbedError;

/// The public hub; `HF_ENDPOINT` overrides it (a mirror, a test server).
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Files a model cannot work without.
const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// sentence-transformers' configuration, fetched where the model has it.
const OPTIONAL: [&str; 3] = [
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
];
const COMPLETE: &str = ".complete";

/// Downloads models from a hub.
pub struct HubClient {
    endpoint: String,
    token: Option<String>,
    offline: bool,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.endpoint)
            .field("offline", &self.offline)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Module {
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

impl HubClient {
    /// A client for `endpoint` (no trailing `/` needed), online, without a
    /// token.
    pub fn new(endpoint: &str) -> HubClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .user_agent(concat!("cradle-embed/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        HubClient {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token: None,
            offline: false,
            agent,
        }
    }

    /// The client the environment asks for: `HF_ENDPOINT`, `HF_TOKEN` and
    /// `HF_HUB_OFFLINE` as the Hugging Face tools read them.
    pub fn from_env() -> HubClient {
        let endpoint = std::env::var("HF_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
        let offline = std::env::var("HF_HUB_OFFLINE")
            .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
            .unwrap_or(false);
        HubClient::new(&endpoint)
            .with_token(std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()))
            .with_offline(offline)
    }

    pub fn with_token(mut self, token: Option<String>) -> HubClient {
        self.token = token;
        self
    }

    pub fn with_offline(mut self, offline: bool) -> HubClient {
        self.offline = offline;
        self
    }

    /// Where `id` at `revision` lives (or will live) in `cache_dir`.
    pub fn model_dir(cache_dir: &Path, id: &str, revision: &str) -> PathBuf {
        cache_dir.join(id.replace('/', "--")).join(revision)
    }

    /// The model's directory in `cache_dir`, downloaded first where the
    /// cache does not hold a complete copy.
    pub fn download(
        &self,
        id: &str,
        revision: &str,
        cache_dir: &Path,
    ) -> Result<PathBuf, EmbedError> {
        check_name("model id", id)?;
        check_name("revision", revision)?;
        let dir = HubClient::model_dir(cache_dir, id, revision);
        if dir.join(COMPLETE).exists() {
            return Ok(dir);
        }
        if self.offline {
            return Err(EmbedError::HubOffline {
                id: id.into(),
                revision: revision.into(),
                cache: dir,
            });
        }
        std::fs::create_dir_all(&dir).map_err(|source| EmbedError::CacheWrite {
            path: dir.clone(),
            source,
        })?;
        for file in REQUIRED {
            self.fetch(id, revision, file, &dir, true)?;
        }
        for file in OPTIONAL {
            self.fetch(id, revision, file, &dir, false)?;
        }
        // The pooling module's folder is named in modules.json.
        let modules_path = dir.join("modules.json");
        if modules_path.exists() {
            let modules: Vec<Module> =
                serde_json::from_slice(&std::fs::read(&modules_path).map_err(|source| {
                    EmbedError::Read {
                        path: modules_path.clone(),
                        source,
                    }
                })?)
                .map_err(|source| EmbedError::Json {
                    path: modules_path.clone(),
                    source,
                })?;
            for module in modules.iter().filter(|m| m.kind.ends_with("Pooling")) {
                check_name("module path", &module.path)?;
                self.fetch(
                    id,
                    revision,
                    &format!("{}/config.json", module.path),
                    &dir,
                    false,
                )?;
            }
        }
        let marker = dir.join(COMPLETE);
        std::fs::write(&marker, b"").map_err(|source| EmbedError::CacheWrite {
            path: marker,
            source,
        })?;
        Ok(dir)
    }

    /// Fetches one file unless it is already there; a missing optional
    /// file (HTTP 404) is skipped.
    fn fetch(
        &self,
        id: &str,
        revision: &str,
        file: &str,
        dir: &Path,
        required: bool,
    ) -> Result<(), EmbedError> {
        let target = dir.join(file);
        if target.exists() {
            return Ok(());
        }
        let url = format!("{}/{id}/resolve/{revision}/{file}", self.endpoint);
        let mut request = self.agent.get(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.call().map_err(|source| EmbedError::Download {
            url: url.clone(),
            source: Box::new(source),
        })?;
        let status = response.status().as_u16();
        if status == 404 && !required {
            return Ok(());
        }
        if status != 200 {
            return Err(EmbedError::DownloadStatus { url, status });
        }
        let write_error = |source| EmbedError::CacheWrite {
            path: target.clone(),
            source,
        };
        // Written under a temporary name and renamed into place, so an
        // interrupted download never leaves a partial file in the cache.
        let mut out = cradle_fs::AtomicFile::create(&target).map_err(write_error)?;
        std::io::copy(&mut response.body_mut().as_reader(), &mut out).map_err(|source| {
            EmbedError::Download {
                url: url.clone(),
                source: Box::new(source),
            }
        })?;
        out.commit().map_err(write_error)
    }
}

/// Model ids, revisions and module paths become URL and file path parts;
/// refuse anything that could climb out of the cache.
fn check_name(what: &'static str, name: &str) -> Result<(), EmbedError> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        || name
            .chars()
            .any(|c| c.is_control() || c == '?' || c == '#' || c == ' ');
    if bad {
        return Err(EmbedError::Setting {
            setting: what,
            what: format!(
                "{name:?} is not a valid hub name (letters, digits, `-`, `_`, `.` and `/` between parts)"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_the_cache_are_refused() {
        for bad in ["", "/etc", "a/../b", "..", "a//b", "a b", "x?y"] {
            assert!(check_name("model id", bad).is_err(), "{bad}");
        }
        for good in [
            "sentence-transformers/all-MiniLM-L6-v2",
            "main",
            "1_Pooling",
            "v1.0",
        ] {
            assert!(check_name("model id", good).is_ok(), "{good}");
        }
    }

    #[test]
    fn offline_without_a_cached_copy_is_a_clear_error() {
        let cache = tempfile::tempdir().unwrap();
        let client = HubClient::new("http://127.0.0.1:9").with_offline(true);
        let error = client
            .download("org/model", "main", cache.path())
            .unwrap_err();
        assert!(matches!(error, EmbedError::HubOffline { .. }), "{error}");
        assert!(error.to_string().contains("HF_HUB_OFFLINE"), "{error}");
    }
}
