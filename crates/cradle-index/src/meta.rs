//! `cradle-index.json`: what an index was built from and when. Written
//! last during a build, so a directory holding it holds a complete index;
//! read on open to refuse indexes of another format.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::IndexError;

/// The name of the metadata file inside the index directory.
pub const METADATA_FILE: &str = "cradle-index.json";

/// Bumped whenever the schema or the analysis changes in a way that needs
/// a rebuild; an index of another format is refused on open.
pub const FORMAT: u32 = 1;

/// The lakehouse state an index was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Now as RFC 3339 in UTC, e.g. `2026-11-29T07:45:12Z`.
pub(crate) fn now_rfc3339() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let rest = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
