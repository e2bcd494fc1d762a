//! What an image carries: the read-only data the server reads, as one list
//! ([`served_data`]) that the image builder copies and `cradle validate`
//! checks, and the query model the data's `index/model.json` points to.
//!
//! The server (`cradle serve --workspace <dir>`) reads, below its data
//! directory: the search index and the catalog (`index/`), the vector index
//! and the model location when the data was enriched, and the reports
//! `/api/stats` serves. It reads no lakehouse table and no delivered file
//! (the catalog holds what the product pages show), so the image carries
//! neither. A route that starts reading more adds it here, and the image
//! and the validator follow.

use std::path::{Path, PathBuf};

use cradle_fs::Workspace;

use crate::ImageError;
use crate::plan::{File, Source};

/// The data directory in the image (without the leading `/`).
pub const DATA_DIR: &str = "data";
/// The state directory in the image: a volume for the state database.
pub const STATE_DIR: &str = "state";
/// The cradle executable in the image.
pub const BINARY_PATH: &str = "usr/local/bin/cradle";
/// The query model's files in the image.
pub const MODEL_DIR: &str = "data/model";

pub use cradle_fs::Need;

/// Which layers an item goes to, in the order of the layers: what changes
/// least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Vectors,
    Search,
    Catalog,
    /// Small files that change with every build.
    Metadata,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Vectors => "vectors",
            Group::Search => "search",
            Group::Catalog => "catalog",
            Group::Metadata => "metadata",
        }
    }
}

/// One item of the data the server reads.
#[derive(Debug, Clone)]
pub struct Served {
    /// Where it is in the workspace.
    pub path: PathBuf,
    pub is_dir: bool,
    pub need: Need,
    pub group: Group,
    /// What it is, for people.
    pub holds: &'static str,
    /// The command that makes it, with `{ws}` for the workspace.
    pub made_by: &'static str,
    /// Rewritten for the image rather than copied (the model location).
    pub rewritten: bool,
}

impl Served {
    /// The item's path below the data directory (`index/catalog.db`).
    pub fn relative(&self, workspace: &Workspace) -> String {
        self.path
            .strip_prefix(workspace.root())
            .unwrap_or(&self.path)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// The command that makes the item, for this workspace.
    pub fn fix(&self, workspace: &Workspace) -> String {
        self.made_by
            .replace("{ws}", &workspace.root().display().to_string())
    }
}

/// The data the server reads from a workspace (`cradle_fs::SERVED`, the
/// one list), each with the layer group it goes to: what the image carries
/// and the validator checks.
pub fn served_data(workspace: &Workspace) -> Vec<Served> {
    cradle_fs::SERVED
        .iter()
        .map(|served| Served {
            path: workspace.served(served),
            is_dir: served.kind == cradle_fs::ServedKind::Dir,
            need: served.need,
            group: group_of(served.path),
            holds: served.what,
            made_by: served.made_by,
            // The model location names the model's folder, which differs
            // in the image.
            rewritten: served.path == "index/model.json",
        })
        .collect()
}

/// The layer group of a served path: the big indexes each in their own
/// layers, small files that change with every build last.
fn group_of(path: &str) -> Group {
    match path {
        "index/vectors.idx" => Group::Vectors,
        "index/search" => Group::Search,
        "index/catalog.db" => Group::Catalog,
        _ => Group::Metadata,
    }
}

/// Whether the workspace was enriched: the server then needs the vector
/// index, the model and the enrich report.
pub fn is_enriched(workspace: &Workspace) -> bool {
    workspace.vector_index_file().exists() || workspace.reports_dir().join("enrich.json").exists()
}

/// The files of `served` as they go into the image below `data/`, in path
/// order; a directory's files with it. Symbolic links are followed (a model
/// cache links to its blobs); the image holds regular files only.
pub fn files_of(workspace: &Workspace, served: &Served) -> Result<Vec<File>, ImageError> {
    let image_path = format!("{DATA_DIR}/{}", served.relative(workspace));
    if served.is_dir {
        let mut files = Vec::new();
        walk(&served.path, &image_path, &mut files)?;
        Ok(files)
    } else {
        Ok(vec![disk_file(&served.path, image_path)?])
    }
}

/// A file on disk as an image entry at `image_path`.
pub fn disk_file(path: &Path, image_path: String) -> Result<File, ImageError> {
    let metadata = std::fs::metadata(path).map_err(|source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(File {
        path: image_path,
        source: Source::Disk(path.to_path_buf()),
        size: metadata.len(),
        executable: false,
    })
}

fn walk(dir: &Path, image_dir: &str, files: &mut Vec<File>) -> Result<(), ImageError> {
    let read = |source| ImageError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let entry = entry.map_err(read)?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| ImageError::Name {
                path: dir.join(name),
            })?;
        entries.push((name, entry.path()));
    }
    entries.sort();
    for (name, path) in entries {
        let image_path = format!("{image_dir}/{name}");
        let metadata = std::fs::metadata(&path).map_err(|source| ImageError::Read {
            path: path.clone(),
            source,
        })?;
        if metadata.is_dir() {
            walk(&path, &image_path, files)?;
        } else {
            files.push(disk_file(&path, image_path)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_served_lies_in_the_workspace_and_has_a_fix() {
        let workspace = Workspace::new("/ws");
        let served = served_data(&workspace);
        for item in &served {
            let relative = item.relative(&workspace);
            assert!(!relative.starts_with('/'), "{relative}");
            assert!(
                item.need == Need::Optional || item.fix(&workspace).contains("--workspace /ws")
            );
        }
        let relatives: Vec<String> = served.iter().map(|s| s.relative(&workspace)).collect();
        assert!(relatives.contains(&"index/search".to_owned()));
        assert!(relatives.contains(&"index/catalog.db".to_owned()));
        // The lakehouse is not read by the server, so it is not carried.
        assert!(!relatives.iter().any(|r| r.starts_with("lakehouse")));
    }

    #[test]
    fn directories_are_listed_in_path_order_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let search = root.join("index/search");
        std::fs::create_dir_all(search.join("sub")).unwrap();
        std::fs::write(search.join("b"), b"bb").unwrap();
        std::fs::write(search.join("sub/a"), b"a").unwrap();
        std::fs::write(dir.path().join("target"), b"ccc").unwrap();
        std::os::unix::fs::symlink(dir.path().join("target"), search.join("a")).unwrap();
        let workspace = Workspace::new(&root);
        let served = served_data(&workspace)
            .into_iter()
            .find(|s| s.is_dir)
            .unwrap();
        let files = files_of(&workspace, &served).unwrap();
        let listed: Vec<(&str, u64)> = files.iter().map(|f| (f.path.as_str(), f.size)).collect();
        assert_eq!(
            listed,
            [
                ("data/index/search/a", 3),
                ("data/index/search/b", 2),
                ("data/index/search/sub/a", 1)
            ]
        );
    }
}
