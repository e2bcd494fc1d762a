//! The ground truth that `cradle demo-data` writes next to a delivery
//! (`manifest.json`), and that tests and benchmarks compare an ingest against.
//!
//! Every count follows the rules in [`crate::accounting`].

use crate::accounting::RejectReason;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub scale: f64,
    pub seed: u64,
    /// Distinct article numbers over all loaded records.
    pub products: u64,
    /// Records over all files (loaded and rejected).
    pub rows: u64,
    pub loaded_rows: u64,
    pub rejected_rows: u64,
    pub rejected_by_reason: BTreeMap<RejectReason, u64>,
    /// Non-empty, non-key cells of loaded records.
    pub data_points: u64,
    /// Products that appear in two loaded records with a different value for
    /// the same attribute.
    pub conflicting_products: u64,
    pub total_bytes: u64,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Relative to the delivery folder, `/`-separated.
    pub path: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// `utf-8`, `utf-8-bom` or `windows-1252`; `binary` for workbooks.
    pub encoding: String,
    /// The field separator of a CSV file.
    pub delimiter: Option<String>,
    /// `,` or `.`.
    pub decimal_separator: Option<String>,
    pub bytes: u64,
    /// What the file holds: `master`, `technical`, `prices`, `logistics`,
    /// `media`, `etim_features`, `relations`, `texts`, ...
    pub content: String,
    pub sheets: Vec<ManifestSheet>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ManifestSheet {
    /// The sheet name; `None` for a CSV file.
    pub name: Option<String>,
    /// 0-based index of the (last) header row among all physical rows,
    /// blank rows included; `None` for a table without a key column.
    pub header_row: Option<u64>,
    /// Header rows: 2 for a merged two-row header.
    pub header_rows: u64,
    /// The header of the article-number column.
    pub key_header: Option<String>,
    pub rows: u64,
    pub loaded_rows: u64,
    pub rejected_rows: u64,
    pub rejected_by_reason: BTreeMap<RejectReason, u64>,
    pub data_points: u64,
    /// Distinct article numbers in this table's loaded records.
    pub products: u64,
}
