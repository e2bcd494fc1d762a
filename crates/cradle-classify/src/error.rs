//! Why an ETIM model could not be loaded.

use std::path::PathBuf;

/// A failure to read the ETIM CSV export. Every message names the file and,
/// where there is one, the line (1-based, the header is line 1).
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error(
        "{dir}: no ETIM release found (no ETIMARTCLASS.csv in the folder or its language subfolders); hint: point `[enrich] etim` at the unpacked CSV export of ETIM International"
    )]
    NoRelease { dir: PathBuf },
    #[error(
        "{dir}: table {table} is missing; hint: the ETIM CSV export holds ETIMARTCLASS, ETIMFEATURE, ETIMVALUE, ETIMUNIT, ETIMARTCLASSFEATUREMAP and ETIMARTCLASSSYNONYMMAP; unpack the whole archive"
    )]
    MissingTable { dir: PathBuf, table: &'static str },
    #[error("{path}: cannot be read")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: {detail}; hint: ETIM CSV files are UTF-16 LE (with or without BOM); convert with `iconv -f UTF-8 -t UTF-16LE`"
    )]
    Encoding {
        path: PathBuf,
        line: u64,
        detail: String,
    },
    #[error(
        "{path}:{line}: not valid `;`-separated CSV; hint: fields with `;` or line breaks must be quoted"
    )]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: csv::Error,
    },
    #[error(
        "{path}:1: column {column} is missing (found: {found}); hint: the header must carry the column names of the ETIM CSV export"
    )]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        found: String,
    },
    #[error(
        "{path}:{line}: {found} fields, the header has {expected}; hint: a `;` inside a text must be quoted"
    )]
    FieldCount {
        path: PathBuf,
        line: u64,
        found: usize,
        expected: usize,
    },
    #[error("{path}:{line}: column {column} holds {value:?}: {reason}")]
    BadValue {
        path: PathBuf,
        line: u64,
        column: &'static str,
        value: String,
        reason: String,
    },
}
