//! How every non-empty source cell is accounted for.
//!
//! The rules, applied to each *table* (a CSV file, or one sheet of a workbook):
//!
//! 1. A cell is non-empty when its text, trimmed of white space, is non-empty.
//! 2. Rows above the header (title blocks) and the header row(s) are
//!    structure; their non-empty cells count as `header_cells`.
//! 3. Every non-blank row below the header is a *record* and counts in
//!    `rows`. Blank rows (no non-empty cell) are not records.
//! 4. Each record is classified; the first rule that matches wins:
//!    - [`RejectReason::CellTooLarge`]: a cell exceeds [`MAX_CELL_BYTES`].
//!    - [`RejectReason::TooManyFields`]: a non-empty cell lies beyond the last
//!      header column.
//!    - [`RejectReason::NotArticleRow`]: the record has exactly one non-empty
//!      cell while the header has two or more columns (group headings,
//!      footers, remarks).
//!    - [`RejectReason::NoKey`]: the key cell is empty.
//!    - otherwise the record is *loaded*.
//! 5. A loaded record yields one data point per non-empty cell other than the
//!    key cell. A rejected record sends all its non-empty cells to the rejects.
//! 6. A table without a key column rejects every non-blank row as
//!    [`RejectReason::NoKeyColumn`]; it has no header cells.
//! 7. A file that cannot be read at all (text that does not decode, an
//!    unreadable workbook) has one reject row for the whole file. Its
//!    non-empty cells, where they can be counted (undecodable text is split
//!    as well as it goes), count as `rejected_cells` of no record.
//!
//! The balance that must hold exactly, per table and per file:
//! `non_empty_cells = header_cells + key_cells + data_points + rejected_cells`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Why a record (or a whole file) was not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The record's article-number cell is empty.
    NoKey,
    /// A single-cell record: a group heading, footer or remark.
    NotArticleRow,
    /// A non-empty cell beyond the last header column.
    TooManyFields,
    /// The table has no column that could be the article number.
    NoKeyColumn,
    /// The bytes could not be decoded or parsed at all.
    Undecodable,
    /// A cell larger than [`MAX_CELL_BYTES`]: no spreadsheet or ERP export
    /// holds such a value, it is a broken export.
    CellTooLarge,
}

/// The largest cell that is loaded (1 MiB). Excel itself stops at 32,767
/// characters.
pub const MAX_CELL_BYTES: usize = 1 << 20;

impl RejectReason {
    pub const ALL: [RejectReason; 6] = [
        RejectReason::NoKey,
        RejectReason::NotArticleRow,
        RejectReason::TooManyFields,
        RejectReason::NoKeyColumn,
        RejectReason::Undecodable,
        RejectReason::CellTooLarge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NoKey => "no_key",
            RejectReason::NotArticleRow => "not_article_row",
            RejectReason::TooManyFields => "too_many_fields",
            RejectReason::NoKeyColumn => "no_key_column",
            RejectReason::Undecodable => "undecodable",
            RejectReason::CellTooLarge => "cell_too_large",
        }
    }

    /// A sentence a person can act on.
    pub fn explain(self) -> &'static str {
        match self {
            RejectReason::NoKey => "the article-number cell is empty",
            RejectReason::NotArticleRow => {
                "only one cell is filled: a group heading, footer or remark, not an article"
            }
            RejectReason::TooManyFields => {
                "the row has more fields than the header; values would shift if loaded"
            }
            RejectReason::NoKeyColumn => {
                "no column could be identified as the article number (set `key` in cradle.toml)"
            }
            RejectReason::Undecodable => "the content could not be decoded",
            RejectReason::CellTooLarge => "a cell is larger than 1 MiB; the raw file keeps it",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cell and row counts of one table, one file or one whole delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Records below the header, loaded or rejected.
    pub rows: u64,
    pub loaded_rows: u64,
    pub rejected_rows: u64,
    pub rejected_by_reason: BTreeMap<RejectReason, u64>,
    pub non_empty_cells: u64,
    pub header_cells: u64,
    pub key_cells: u64,
    pub data_points: u64,
    pub rejected_cells: u64,
}

impl Balance {
    /// True when every non-empty cell is accounted for exactly once.
    pub fn holds(&self) -> bool {
        self.non_empty_cells
            == self.header_cells + self.key_cells + self.data_points + self.rejected_cells
            && self.rows == self.loaded_rows + self.rejected_rows
            && self.rejected_rows == self.rejected_by_reason.values().sum::<u64>()
    }

    pub fn reject(&mut self, reason: RejectReason, cells: u64) {
        self.rows += 1;
        self.rejected_rows += 1;
        *self.rejected_by_reason.entry(reason).or_default() += 1;
        self.non_empty_cells += cells;
        self.rejected_cells += cells;
    }

    pub fn load(&mut self, data_points: u64) {
        self.rows += 1;
        self.loaded_rows += 1;
        self.key_cells += 1;
        self.data_points += data_points;
        self.non_empty_cells += data_points + 1;
    }

    pub fn add(&mut self, other: &Balance) {
        self.rows += other.rows;
        self.loaded_rows += other.loaded_rows;
        self.rejected_rows += other.rejected_rows;
        for (reason, count) in &other.rejected_by_reason {
            *self.rejected_by_reason.entry(*reason).or_default() += count;
        }
        self.non_empty_cells += other.non_empty_cells;
        self.header_cells += other.header_cells;
        self.key_cells += other.key_cells;
        self.data_points += other.data_points;
        self.rejected_cells += other.rejected_cells;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_holds_after_loads_and_rejects() {
        let mut balance = Balance {
            header_cells: 5,
            non_empty_cells: 5,
            ..Balance::default()
        };
        balance.load(4);
        balance.reject(RejectReason::NoKey, 3);
        assert!(balance.holds());
        assert_eq!(balance.rows, 2);
        assert_eq!(balance.non_empty_cells, 5 + 5 + 3);
        balance.data_points += 1;
        assert!(!balance.holds());
    }
}
