//! Shared pieces of the fuzz targets: a sink that counts and discards
//! batches, and running the whole `ingest` on bytes written to a temporary
//! delivery folder (ingest has no in-memory entry point).

use arrow_array::RecordBatch;
use calamine::Reader;
use cradle_core::config::Config;
use cradle_ingest::grid::{Cell, Grid, SheetGrid};
use cradle_ingest::{IngestOptions, IngestOutcome, Silent, Sink, SinkError};
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Discards batches, counting their rows.
#[derive(Default)]
pub struct CountingSink {
    pub attribute_rows: AtomicU64,
    pub reject_rows: AtomicU64,
}

impl Sink for CountingSink {
    fn attributes(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.attribute_rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn rejects(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.reject_rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn products(&self, _batch: RecordBatch) -> Result<(), SinkError> {
        Ok(())
    }
}

impl CountingSink {
    pub fn attributes(&self) -> u64 {
        self.attribute_rows.load(Ordering::Relaxed)
    }

    pub fn rejects(&self) -> u64 {
        self.reject_rows.load(Ordering::Relaxed)
    }
}

/// One delivery folder per fuzzing process, reused for every input.
fn delivery_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("cradle-fuzz-")
            .tempdir()
            .expect("a temporary folder")
            .keep();
        dir
    })
}

/// Writes `bytes` as the only file `name` of a delivery and ingests it.
pub fn ingest_bytes(name: &str, bytes: &[u8]) -> (IngestOutcome, CountingSink) {
    let dir = delivery_dir();
    // Leave exactly one file behind, whatever the previous input was named.
    for entry in std::fs::read_dir(dir).expect("list the delivery folder").flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    std::fs::write(dir.join(name), bytes).expect("write the fuzz input");
    let config = Config::default();
    let options = IngestOptions::new(&config);
    let sink = CountingSink::default();
    let outcome = cradle_ingest::ingest(std::slice::from_ref(dir), &options, &sink, &Silent)
        .expect("ingest of one readable file with a discarding sink succeeds");
    (outcome, sink)
}

/// The report-level invariants every ingest must keep, whatever the input.
pub fn check_outcome(outcome: &IngestOutcome, sink: &CountingSink) {
    assert!(
        outcome.totals.holds(),
        "delivery balance does not hold: {:?}",
        outcome.totals
    );
    let mut file_errors = 0u64;
    for file in &outcome.files {
        assert!(
            file.balance_ok,
            "file balance does not hold for {}: {:?}",
            file.path, file.balance
        );
        // A panic caught inside ingest is reported as this error; the
        // libfuzzer panic hook aborts first, but say it plainly if not.
        assert!(
            !file
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("the reader failed on this file's content")),
            "a reader panicked on {}",
            file.path
        );
        if file.error.is_some() {
            file_errors += 1;
        }
    }
    assert_eq!(
        sink.attributes(),
        outcome.totals.data_points,
        "attribute rows written differ from the data points counted"
    );
    assert_eq!(
        sink.rejects(),
        outcome.totals.rejected_rows + file_errors,
        "reject rows written differ from the rejected rows counted (+1 per unreadable file)"
    );
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

/// Packs fuzz bytes into a structurally valid XLSX so mutations reach the
/// XML parsers instead of dying in deflate or a CRC check. The input is up
/// to four NUL-separated parts: `xl/worksheets/sheet1.xml`,
/// `xl/sharedStrings.xml`, `xl/styles.xml`, `xl/workbook.xml` (a default
/// workbook with one sheet when absent). Stored, not compressed.
pub fn xlsx_from_parts(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut parts = bytes.splitn(4, |&b| b == 0);
    let sheet = parts.next().unwrap_or_default();
    let shared = parts.next();
    let styles = parts.next();
    let workbook = parts.next().unwrap_or(WORKBOOK.as_bytes());
    let mut buffer = std::io::Cursor::new(Vec::with_capacity(bytes.len() + 4096));
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let mut add = |name: &str, content: &[u8]| {
            zip.start_file(name, stored).expect("zip in memory");
            zip.write_all(content).expect("zip in memory");
        };
        add("[Content_Types].xml", CONTENT_TYPES.as_bytes());
        add("_rels/.rels", ROOT_RELS.as_bytes());
        add("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes());
        add("xl/workbook.xml", workbook);
        add("xl/worksheets/sheet1.xml", sheet);
        if let Some(shared) = shared {
            add("xl/sharedStrings.xml", shared);
        }
        if let Some(styles) = styles {
            add("xl/styles.xml", styles);
        }
        zip.finish().expect("zip in memory");
    }
    buffer.into_inner()
}

/// Cells a range may claim before it is not worth walking cell by cell.
pub const WALK_LIMIT: usize = 1 << 20;

/// Reads every sheet of an opened workbook (values and formulas) and
/// walks its cells the way ingest does.
pub fn read_all<'a, R: Reader<Cursor<&'a [u8]>>>(mut workbook: R) {
    let names = workbook.sheet_names();
    for name in &names {
        if let Ok(range) = workbook.worksheet_range(name) {
            let grid = SheetGrid::new(range);
            let (height, width) = (grid.height(), grid.width(0));
            if height.saturating_mul(width) <= WALK_LIMIT {
                for row in 0..height {
                    for column in 0..width {
                        let cell = grid.cell(row, column);
                        let _ = cell.is_filled();
                        let _ = cell.text();
                    }
                }
            }
        }
        let _ = workbook.worksheet_formula(name);
    }
}


/// One cell as both readers are compared: position, kind and the text a
/// person would see.
fn describe(row: usize, column: usize, cell: &Cell<'_>) -> String {
    format!("{row},{column} {cell:?} {:?}", cell.text())
}

/// Every sheet's cells as cradle's own XLSX reader reads them (by sheet,
/// worksheets only, in the workbook's order); `None` for each sheet it
/// refuses, and `None` overall when it does not open the workbook.
pub fn xlsx_cells_ours(bytes: &[u8]) -> Option<Vec<(String, Option<Vec<String>>)>> {
    let book = cradle_ingest::xlsx::Book::open(bytes).ok()?;
    let mut sheets = Vec::new();
    for sheet in &book.sheets {
        let Some(part) = &sheet.part else { continue };
        let cells = (|| {
            let mut blocks = book.blocks(part).ok()?;
            let mut cells = Vec::new();
            while let Some(grid) = blocks.next(0, 1 << 16).ok()? {
                for row in grid.first_row()..grid.height() {
                    for column in 0..grid.width(row) {
                        let cell = grid.cell(row, column);
                        if cell != Cell::Empty {
                            cells.push(describe(row, column, &cell));
                        }
                    }
                }
            }
            cells.sort();
            Some(cells)
        })();
        sheets.push((sheet.name.clone(), cells));
    }
    Some(sheets)
}

/// The same as calamine reads it; worksheets only. Cells come from
/// calamine's cell reader, not `worksheet_range`: a range is dense, and a
/// sheet with two cells far apart (calamine wraps long references around)
/// would allocate the rectangle between them and abort the process.
/// Empty cells are left out and the last cell at a position wins, as
/// `worksheet_range` does.
pub fn xlsx_cells_calamine(bytes: &[u8]) -> Option<Vec<(String, Option<Vec<String>>)>> {
    let mut workbook = calamine::Xlsx::new(Cursor::new(bytes)).ok()?;
    let worksheets: Vec<String> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == calamine::SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    let mut sheets = Vec::new();
    for name in worksheets {
        let cells = (|| {
            let mut reader = workbook.worksheet_cells_reader(&name).ok()?;
            let mut cells = std::collections::BTreeMap::new();
            while let Some(cell) = reader.next_cell().ok()? {
                if matches!(cell.get_value(), calamine::DataRef::Empty) {
                    continue;
                }
                let (row, column) = cell.get_position();
                let value = calamine::Data::from(cell.get_value().clone());
                cells.insert((row as usize, column as usize), value);
            }
            let described = cells
                .into_iter()
                .map(|((row, column), value)| {
                    let range = calamine::Range::from_sparse(vec![calamine::Cell::new(
                        (row as u32, column as u32),
                        value,
                    )]);
                    describe(row, column, &SheetGrid::new(range).cell(row, column))
                })
                .collect::<Vec<String>>();
            let mut described = described;
            described.sort();
            Some(described)
        })();
        sheets.push((name, cells));
    }
    Some(sheets)
}
