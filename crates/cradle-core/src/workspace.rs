//! Where things live inside a workspace directory.
//!
//! ```text
//! <WS>/cradle.toml          per-customer overrides (optional)
//! <WS>/raw/<sha256>         delivered files, content-addressed
//! <WS>/lakehouse/<table>/   Delta Lake tables
//! <WS>/reports/ingest.json  the last ingest's machine-readable report
//! <WS>/reports/ingest.txt   the same for people
//! <WS>/index/search/        full-text index (built by `cradle index`)
//! <WS>/index/catalog.db     read-only SQLite catalog (built by `cradle index`)
//! <WS>/index/vectors.idx    ANN index of the chunk embeddings (built by `cradle enrich`)
//! <WS>/reports/enrich.json  the last enrich's report
//! <WS>/state/               mutable state of the server
//! <WS>/tmp/                 working files of a running command (a large ingest's product state)
//! ```

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    pub fn new(root: impl Into<PathBuf>) -> Workspace {
        Workspace { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config_file(&self) -> PathBuf {
        self.root.join("cradle.toml")
    }

    pub fn raw_dir(&self) -> PathBuf {
        self.root.join("raw")
    }

    pub fn lakehouse_dir(&self) -> PathBuf {
        self.root.join("lakehouse")
    }

    pub fn reports_dir(&self) -> PathBuf {
        self.root.join("reports")
    }

    pub fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    pub fn search_index_dir(&self) -> PathBuf {
        self.index_dir().join("search")
    }

    pub fn catalog_file(&self) -> PathBuf {
        self.index_dir().join("catalog.db")
    }

    pub fn vector_index_file(&self) -> PathBuf {
        self.index_dir().join("vectors.idx")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }

    /// Working files of a running command; nothing in it outlives the run.
    pub fn scratch_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}
