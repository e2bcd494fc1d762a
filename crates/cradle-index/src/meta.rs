//! `cradle-index.json`: what an index was built from and when. Written
//! last during a build, so a directory holding it holds a complete index;
//! read on open to refuse indexes of another format.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::IndexError;

/// The name of the metadata file inside the index directory.
pub const METADATA_FILE: &str = "cradle-index.json";

/// Bumped whenever the schema or the analysis changes in a way that needs
/// a rebuild; an index of another format is refused on open.
pub const FORMAT: u32 = 3;

/// The lakehouse state an index was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BuiltFrom {
    /// The published delivery whose table versions were read; `None` when
    /// the lakehouse had no delivery record and the latest versions were read.
    pub delivery: Option<u64>,
    /// Table name to the Delta version read.
    pub tables: BTreeMap<String, u64>,
}

/// The content of `cradle-index.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexMetadata {
    pub format: u32,
    pub built_from: BuiltFrom,
    /// RFC 3339, UTC.
    pub built_at: String,
    pub documents: u64,
    /// Attribute rows that went into the documents.
    pub attribute_rows: u64,
    /// Distinct typed attribute keys (`leistung_w`, `dimmbar`, ...), the
    /// names range and boolean filters can use.
    pub attribute_keys: Vec<String>,
    /// Attribute keys that can be counted as facets (few distinct values).
    #[serde(default)]
    pub facet_attributes: Vec<String>,
}

impl IndexMetadata {
    pub(crate) fn read(dir: &Path) -> Result<IndexMetadata, IndexError> {
        let path = dir.join(METADATA_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(IndexError::NotAnIndex {
                    path: dir.to_path_buf(),
                });
            }
            Err(source) => return Err(IndexError::ReadMetadata { path, source }),
        };
        let metadata: IndexMetadata = serde_json::from_str(&text)
            .map_err(|source| IndexError::DamagedMetadata { path, source })?;
        if metadata.format != FORMAT {
            return Err(IndexError::IncompatibleFormat {
                path: dir.to_path_buf(),
                found: metadata.format,
                expected: FORMAT,
            });
        }
        Ok(metadata)
    }

    pub(crate) fn write(&self, dir: &Path) -> Result<(), IndexError> {
        let path = dir.join(METADATA_FILE);
        let text = serde_json::to_string_pretty(self).expect("metadata serialises");
        std::fs::write(&path, text).map_err(|source| IndexError::WriteMetadata { path, source })
    }
}

pub(crate) use cradle_core::dates::now_rfc3339;
