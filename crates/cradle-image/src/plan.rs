//! What goes into each layer, decided before anything is written: the
//! entries (path in the image, kind, owner, mode, where the bytes come
//! from) and the order of the layers.
//!
//! Layers are ordered from what changes least to what changes most, so a
//! runtime that has the earlier layers keeps them: the base (directories,
//! CA certificates) and the cradle executable first (the same for every
//! customer built by the same cradle), then the query model, then the data
//! of a delivery (vectors, search index, catalog), then the small files
//! that change with every build (reports, configuration). A group larger
//! than [`LAYER_TARGET`] is split into several layers at file boundaries,
//! so no layer is needlessly large and a runtime pulls and unpacks several
//! at once.
//!
//! Every entry has the time [`FILE_TIME`], owner root (except the state
//! directory, see [`STATE_UID`]), and a mode that depends only on its kind:
//! nothing of the building machine (owners, umask, clock) reaches the
//! image.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// The uncompressed size above which a group of files is split into
/// several layers.
pub const LAYER_TARGET: u64 = 256 << 20;

/// The most layers an image may have: overlay filesystems stack at most
/// 128 lower directories, and Docker refuses more than 127 layers.
pub const MAX_LAYERS: usize = 125;

/// The modification time of every entry, in seconds since the Unix epoch.
/// Files are addressed by content; a date per file would only make equal
/// content differ between builds (the image's creation time is in its
/// config, from `SOURCE_DATE_EPOCH` or the delivery).
pub const FILE_TIME: u64 = 0;

/// The user and group the server runs as: not root, numeric (the image has
/// no user database), the conventional "nonroot" id of minimal images.
pub const SERVER_UID: u64 = 65532;

/// The owner of `/state`, so the server can write there; a volume mounted
/// on it starts with this owner.
pub const STATE_UID: u64 = SERVER_UID;

/// One entry of a layer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The path in the image without the leading `/` (`data/index/catalog.db`).
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
}

#[derive(Debug, Clone)]
pub enum EntryKind {
    Dir,
    File { source: Source, size: u64 },
}

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk, streamed while the layer is written.
    Disk(PathBuf),
    /// A small file made by the build (a relocated `model.json`, the CA
    /// bundle).
    Bytes(Arc<[u8]>),
}

/// A file to put into a layer.
#[derive(Debug, Clone)]
pub struct File {
    pub path: String,
    pub source: Source,
    pub size: u64,
    pub executable: bool,
}

/// One layer as planned.
#[derive(Debug, Clone)]
pub struct LayerPlan {
    /// Short name: `base`, `binary`, `model`, `search 2/3`, ...
    pub name: String,
    /// What the layer holds, for people (`build.json`, the image history).
    pub holds: String,
    /// In path order, parents before children.
    pub entries: Vec<Entry>,
}

impl LayerPlan {
    /// A layer of `files` and `dirs` (with their own owner and mode), with
    /// every parent directory of them as an entry too.
    pub fn new(name: &str, holds: &str, files: Vec<File>, dirs: Vec<Entry>) -> LayerPlan {
        let mut parents = BTreeSet::new();
        for path in files
            .iter()
            .map(|f| f.path.as_str())
            .chain(dirs.iter().map(|d| d.path.as_str()))
        {
            let mut at = path;
            while let Some((parent, _)) = at.rsplit_once('/') {
                parents.insert(parent.to_owned());
                at = parent;
            }
        }
        let mut entries: Vec<Entry> = dirs;
        for parent in parents {
            if !entries.iter().any(|e| e.path == parent) {
                entries.push(Entry {
                    path: parent,
                    kind: EntryKind::Dir,
                    mode: 0o755,
                    uid: 0,
                });
            }
        }
        entries.extend(files.into_iter().map(|file| Entry {
            path: file.path,
            mode: if file.executable { 0o755 } else { 0o644 },
            uid: 0,
            kind: EntryKind::File {
                source: file.source,
                size: file.size,
            },
        }));
        // Byte order puts a directory before everything under it.
        entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        LayerPlan {
            name: name.to_owned(),
            holds: holds.to_owned(),
            entries,
        }
    }

    /// Bytes of file content in the layer.
    pub fn content_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| match &e.kind {
                EntryKind::File { size, .. } => *size,
                EntryKind::Dir => 0,
            })
            .sum()
    }

    pub fn files(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::File { .. }))
            .count()
    }
}

/// `files` as one layer, or as several of at most `target` bytes each
/// (a larger file alone), cut at file boundaries in path order.
pub fn split(name: &str, holds: &str, mut files: Vec<File>, target: u64) -> Vec<LayerPlan> {
    files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut groups: Vec<Vec<File>> = Vec::new();
    let mut current: Vec<File> = Vec::new();
    let mut current_bytes = 0u64;
    for file in files {
        if !current.is_empty() && current_bytes + file.size > target {
            groups.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += file.size;
        current.push(file);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let count = groups.len();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| {
            let (name, holds) = if count == 1 {
                (name.to_owned(), holds.to_owned())
            } else {
                (
                    format!("{name} {}/{count}", i + 1),
                    format!("{holds} (part {} of {count})", i + 1),
                )
            };
            LayerPlan::new(&name, &holds, group, Vec::new())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> File {
        File {
            path: path.into(),
            source: Source::Bytes(Arc::from(vec![0u8; 0])),
            size,
            executable: false,
        }
    }

    #[test]
    fn parents_come_before_children_and_appear_once() {
        let layer = LayerPlan::new(
            "t",
            "test",
            vec![file("data/index/search/b", 1), file("data/index/a.db", 2)],
            Vec::new(),
        );
        let paths: Vec<&str> = layer.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "data",
                "data/index",
                "data/index/a.db",
                "data/index/search",
                "data/index/search/b"
            ]
        );
        assert_eq!(layer.content_bytes(), 3);
        assert_eq!(layer.files(), 2);
    }

    #[test]
    fn large_groups_are_cut_at_file_boundaries() {
        let files = vec![
            file("d/c", 60),
            file("d/a", 50),
            file("d/b", 50),
            file("d/e", 300),
        ];
        let layers = split("search", "the index", files, 100);
        let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["search 1/3", "search 2/3", "search 3/3"]);
        let sizes: Vec<u64> = layers.iter().map(LayerPlan::content_bytes).collect();
        // a+b fit together, c starts the next, e is larger than the target alone.
        assert_eq!(sizes, [100, 60, 300]);
        let one = split("model", "the model", vec![file("m/x", 5)], 100);
        assert_eq!(one[0].name, "model");
    }
}
