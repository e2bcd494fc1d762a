//! Where things live inside a workspace directory, and which of them the
//! server reads.
//!
//! ```text
//! <WS>/cradle.toml          per-customer overrides (optional)
//! <WS>/.cradle.lock         held by the one process writing the workspace
//! <WS>/raw/<sha256>         delivered files, content-addressed
//! <WS>/lakehouse/<table>/   Delta Lake tables (names in cradle-lakehouse)
//! <WS>/reports/ingest.json  the last ingest's machine-readable report
//! <WS>/reports/ingest.txt   the same for people
//! <WS>/reports/enrich.json  the last enrich's report (and enrich.txt)
//! <WS>/index/search/        full-text index (built by `cradle index`)
//! <WS>/index/catalog.db     read-only SQLite catalog (built by `cradle index`)
//! <WS>/index/vectors.idx    ANN index of the chunk embeddings (built by `cradle enrich`)
//! <WS>/index/model.json     which model made the vectors, and where it is
//! <WS>/run/<step>.json      what each step of `cradle run` consumed and produced
//! <WS>/reports/run.json     the last `cradle run` (and runs.jsonl: one line per run)
//! <WS>/state/               mutable state of the server
//! <WS>/tmp/                 working files of a running command (a large ingest's product state;
//!                           enrich's vectors until they are published, tmp/enrich/vectors.bin)
//! ```
//!
//! The same layout holds for the data folder of an image: the server is
//! pointed at a folder and finds its pieces by these names.

use std::path::{Path, PathBuf};

/// A workspace (or an image's data folder) rooted at a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

/// Whether a served path is a file or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServedKind {
    File,
    Dir,
}

/// When the server needs a served item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Always: the server is not ready without it.
    Always,
    /// When the workspace was enriched (it has embeddings).
    Enriched,
    /// Read when present.
    Optional,
}

/// One thing the server reads at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// Relative to the workspace root, `/`-separated.
    pub path: &'static str,
    pub kind: ServedKind,
    pub need: Need,
    /// What it is, for people.
    pub what: &'static str,
    /// The command that makes it, `{ws}` standing for the workspace
    /// (empty: made by hand).
    pub made_by: &'static str,
}

impl Served {
    /// The command that makes it, for the workspace at `root`.
    pub fn fix(&self, root: &Path) -> String {
        self.made_by.replace("{ws}", &root.display().to_string())
    }
}

/// Everything the server reads from a data folder, and nothing else: what
/// an image must carry and what `validate` checks. The query model the
/// vectors were made with is named inside `index/model.json` and lives
/// outside the workspace.
pub const SERVED: &[Served] = &[
    Served {
        path: "index/vectors.idx",
        kind: ServedKind::File,
        need: Need::Enriched,
        what: "the vector index",
        made_by: "cradle enrich --workspace {ws}",
    },
    Served {
        path: "index/search",
        kind: ServedKind::Dir,
        need: Need::Always,
        what: "the search index",
        made_by: "cradle index --workspace {ws}",
    },
    Served {
        path: "index/catalog.db",
        kind: ServedKind::File,
        need: Need::Always,
        what: "the product catalog",
        made_by: "cradle index --workspace {ws}",
    },
    Served {
        path: "index/model.json",
        kind: ServedKind::File,
        need: Need::Enriched,
        what: "where the query model is",
        made_by: "cradle enrich --workspace {ws}",
    },
    Served {
        path: "reports/ingest.json",
        kind: ServedKind::File,
        need: Need::Always,
        what: "the ingest report (/api/stats)",
        made_by: "cradle ingest <DELIVERY> --workspace {ws}",
    },
    Served {
        path: "reports/enrich.json",
        kind: ServedKind::File,
        need: Need::Enriched,
        what: "the enrich report (/api/stats)",
        made_by: "cradle enrich --workspace {ws}",
    },
    Served {
        path: "reports/index.json",
        kind: ServedKind::File,
        need: Need::Optional,
        what: "the index report",
        made_by: "cradle index --workspace {ws}",
    },
    Served {
        path: "cradle.toml",
        kind: ServedKind::File,
        need: Need::Optional,
        what: "the configuration (cradle.toml)",
        made_by: "",
    },
];

/// [`Workspace::fitted_model_dir`] relative to the workspace root, as
/// `index/model.json` names it (so a copied workspace keeps its model).
pub const FITTED_MODEL: &str = "model";

impl Workspace {
    pub fn new(root: impl Into<PathBuf>) -> Workspace {
        Workspace { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `root` holds a workspace: something cradle made (a
    /// lakehouse, an index, reports) or a `cradle.toml`. A mistyped path
    /// holds none of these.
    pub fn exists(&self) -> bool {
        [
            self.lakehouse_dir(),
            self.index_dir(),
            self.reports_dir(),
            self.config_file(),
        ]
        .iter()
        .any(|p| p.exists())
    }

    /// Creates the workspace folder owner-only (see [`crate::private`]).
    pub fn create(&self) -> std::io::Result<()> {
        crate::private::create_dir(&self.root)
    }

    /// The absolute path of a [`Served`] entry.
    pub fn served(&self, served: &Served) -> PathBuf {
        self.root.join(served.path)
    }

    pub fn config_file(&self) -> PathBuf {
        self.root.join("cradle.toml")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.root.join(".cradle.lock")
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

    /// `reports/<name>`: `ingest.json`, `enrich.txt`, ...
    pub fn report(&self, name: &str) -> PathBuf {
        self.reports_dir().join(name)
    }

    /// `reports/runs.jsonl`: one JSON line per `cradle run`, oldest first
    /// (written by `cradle-run`, shown on the console's admin page).
    pub fn run_history_file(&self) -> PathBuf {
        self.report("runs.jsonl")
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

    /// Which embedding model made the vectors (`cradle-embed`'s
    /// `ModelLocation`).
    pub fn model_file(&self) -> PathBuf {
        self.index_dir().join("model.json")
    }

    /// The embedding model fitted to this workspace's texts (a static model
    /// weighted by `cradle enrich`; `index/model.json` points here when it
    /// made the vectors). Kept across deliveries.
    pub fn fitted_model_dir(&self) -> PathBuf {
        self.root.join(FITTED_MODEL)
    }

    /// `cradle run`'s record of each step (what it consumed and produced).
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }

    /// Working files of a running command; nothing in it outlives the run,
    /// except vectors an enrich computed and could not yet publish
    /// (`tmp/enrich/vectors.bin`), which the next enrich takes up.
    pub fn scratch_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_paths_are_the_layouts_paths() {
        let ws = Workspace::new("/ws");
        let served: Vec<PathBuf> = SERVED.iter().map(|s| ws.served(s)).collect();
        for path in [
            ws.search_index_dir(),
            ws.catalog_file(),
            ws.vector_index_file(),
            ws.model_file(),
            ws.report("ingest.json"),
            ws.report("enrich.json"),
            ws.report("index.json"),
            ws.config_file(),
        ] {
            assert!(served.contains(&path), "{} is not served", path.display());
        }
        assert_eq!(served.len(), 8);
    }

    #[test]
    fn an_empty_or_missing_folder_is_no_workspace() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!Workspace::new(dir.path()).exists());
        assert!(!Workspace::new(dir.path().join("no/such")).exists());
        std::fs::create_dir(dir.path().join("lakehouse")).unwrap();
        assert!(Workspace::new(dir.path()).exists());
    }
}
