//! Reads a customer delivery into Arrow batches: every file, every sheet,
//! every non-empty cell accounted for (loaded as an attribute value with its
//! provenance, or rejected with a reason), products joined on the article
//! number across files.
//!
//! Architecture invariant: this crate knows nothing of Delta Lake or of the
//! workspace layout beyond the folder it is told to keep raw files in; it
//! hands finished batches to a [`Sink`] and returns reports.

pub mod detect;
pub mod grid;
pub mod output;
pub mod products;
pub mod runs;
pub mod source;
pub mod table;
pub mod value;
pub mod workbook;
pub mod xlsx;

use calamine::Reader;
use cradle_core::accounting::{Balance, RejectReason};
use cradle_core::config::Config;
use detect::{Format, TextEncoding};
use grid::{Grid, SheetGrid, TextBlocks, TextGrid};
use output::RejectedRecord;
pub use output::{Sink, SinkError};
pub use products::ConflictSummary;
use products::ProductMap;
use runs::Runs;
pub use runs::{MemoryBudget, ProductHashes};
use serde::Serialize;
use source::Source;
use std::path::{Path, PathBuf};
use table::{Emitter, TableContext, TableReport};

pub struct IngestOptions<'a> {
    pub config: &'a Config,
    /// Keep a content-addressed copy of every delivered file here.
    pub raw_dir: Option<PathBuf>,
    /// Where product state goes when it outgrows `budget` (created on
    /// first use, emptied again at the end). Without one, all of it stays
    /// in memory.
    pub scratch_dir: Option<PathBuf>,
    pub budget: MemoryBudget,
}

impl<'a> IngestOptions<'a> {
    /// Everything in memory, no raw copies: for tests and tools.
    pub fn new(config: &'a Config) -> IngestOptions<'a> {
        IngestOptions {
            config,
            raw_dir: None,
            scratch_dir: None,
            budget: MemoryBudget::default(),
        }
    }
}

/// Told about progress as files finish; called from worker threads.
pub trait Progress: Sync {
    fn begin(&self, files: usize, bytes: u64);
    fn file_done(&self, report: &FileReport);
}

/// A progress listener that ignores everything.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: usize, _: u64) {}
    fn file_done(&self, _: &FileReport) {}
}

/// Detection results and accounting of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// `csv`, `tsv`, `txt`, `xlsx`, `xls`, `ods`, `zip`, `pdf`, ... or `empty`.
    pub format: String,
    /// `table`, `archive`, `media`, `empty` or `error`.
    pub kind: &'static str,
    pub encoding: Option<&'static str>,
    pub delimiter: Option<String>,
    pub decimal_separator: Option<&'static str>,
    pub rows: u64,
    pub loaded_rows: u64,
    pub rejected_rows: u64,
    pub data_points: u64,
    pub products: u64,
    pub balance: Balance,
    pub balance_ok: bool,
    pub sheets: Vec<TableReport>,
    /// Why the file, or part of it, could not be read; with a hint.
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub duration_ms: u64,
}

impl FileReport {
    fn new(source: &Source) -> FileReport {
        FileReport {
            path: source.path.clone(),
            sha256: source.sha256.clone(),
            bytes: source.bytes(),
            format: String::new(),
            kind: "table",
            encoding: None,
            delimiter: None,
            decimal_separator: None,
            rows: 0,
            loaded_rows: 0,
            rejected_rows: 0,
            data_points: 0,
            products: 0,
            balance: Balance::default(),
            balance_ok: true,
            sheets: Vec::new(),
            error: None,
            warnings: Vec::new(),
            duration_ms: 0,
        }
    }

    /// Adds a sheet's report; its warnings name the sheet.
    fn add_sheet(&mut self, name: &str, table: table::TableReport) {
        self.warnings.extend(
            table
                .warnings
                .iter()
                .map(|w| format!("sheet `{name}`: {w}")),
        );
        self.sheets.push(table);
    }

    fn close(&mut self) {
        let mut balance = Balance::default();
        for sheet in &self.sheets {
            balance.add(&sheet.balance);
        }
        self.rows = balance.rows;
        self.loaded_rows = balance.loaded_rows;
        self.rejected_rows = balance.rejected_rows;
        self.data_points = balance.data_points;
        self.products = self.sheets.iter().map(|s| s.products).sum();
        self.balance_ok = balance.holds() && self.sheets.iter().all(|s| s.balance.holds());
        self.balance = balance;
        if self.decimal_separator.is_none() {
            self.decimal_separator = self.sheets.iter().find_map(|s| s.decimal_separator);
        }
    }
}

/// What a whole ingest produced besides the streamed batches.
#[derive(Debug)]
pub struct IngestOutcome {
    pub files: Vec<FileReport>,
    pub totals: Balance,
    /// Every article number in order with its content hash, to compare
    /// deliveries. The `products` rows themselves went to the sink.
    pub product_hashes: ProductHashes,
    pub conflicts: ConflictSummary,
    /// Runs of product state that went to the scratch folder.
    pub scratch_runs: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read the delivery")]
    Discover(#[source] std::io::Error),
    #[error("no files found in {paths}\nhint: pass the folder or files the customer delivered")]
    NothingFound { paths: String },
    #[error("writing the output failed")]
    Sink(#[source] SinkError),
}

/// Reads every file under `inputs`, streams attribute and reject batches
/// into `sink`, and returns the reports and the joined products.
pub fn ingest(
    inputs: &[PathBuf],
    options: &IngestOptions<'_>,
    sink: &dyn Sink,
    progress: &dyn Progress,
) -> Result<IngestOutcome, IngestError> {
    let found = source::discover(inputs).map_err(IngestError::Discover)?;
    if found.is_empty() {
        return Err(IngestError::NothingFound {
            paths: inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let sizes: Vec<u64> = found
        .iter()
        .map(|(_, path)| std::fs::metadata(path).map_or(0, |m| m.len()))
        .collect();
    progress.begin(found.len(), sizes.iter().sum());
    let runs = Runs::new(options.scratch_dir.clone(), options.budget);
    // Largest first, taken from one queue: a worker that finishes takes
    // the next largest file, so no big file starts late and runs alone
    // at the end (a parallel iterator would split the list in halves).
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(found.len()));
    rayon::scope(|scope| {
        for _ in 0..rayon::current_num_threads().min(found.len()) {
            scope.spawn(|_| {
                // Each file's products start in the map the last one left
                // empty, which keeps its capacity: no growing from nothing.
                let mut spare = ProductMap::default();
                loop {
                    let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&index) = order.get(taken) else {
                        break;
                    };
                    let (relative, path) = &found[index];
                    let file = File {
                        index: index as u32,
                        relative,
                        path,
                    };
                    let reports = ingest_file(&file, options, sink, &runs, &mut spare, progress);
                    results
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push((index, reports));
                }
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut files = Vec::new();
    let mut sorted = results;
    sorted.sort_by_key(|(index, _)| *index);
    for (_, reports) in sorted {
        files.extend(reports.map_err(IngestError::Sink)?);
    }
    let mut totals = Balance::default();
    for file in &files {
        totals.add(&file.balance);
    }
    let scratch_runs = runs.spilled();
    let merged = runs
        .merge(&mut |batch| sink.products(batch))
        .map_err(IngestError::Sink)?;
    Ok(IngestOutcome {
        files,
        totals,
        product_hashes: merged.hashes,
        conflicts: merged.conflicts,
        scratch_runs,
    })
}

/// One file of the delivery: its place in the sorted list, its path as
/// the report shows it, and where it is.
struct File<'a> {
    index: u32,
    relative: &'a str,
    path: &'a Path,
}

fn ingest_file(
    file: &File<'_>,
    options: &IngestOptions<'_>,
    sink: &dyn Sink,
    runs: &Runs,
    spare: &mut ProductMap,
    progress: &dyn Progress,
) -> Result<Vec<FileReport>, SinkError> {
    let index = file.index;
    let sources = source::load(file.relative.to_owned(), file.path.to_path_buf());
    let mut reports = Vec::with_capacity(sources.len());
    for (entry, source) in sources.into_iter().enumerate() {
        let started = std::time::Instant::now();
        let mut report = FileReport::new(&source);
        let mut emitter = Emitter::new(sink, runs, std::mem::take(spare));
        if let (Some(raw_dir), Ok(bytes)) = (&options.raw_dir, &source.content)
            && entry == 0
            && let Err(error) = source::store_raw(raw_dir, &source.sha256, bytes)
        {
            report.warnings.push(format!(
                "could not keep a raw copy in {}: {error}",
                raw_dir.display()
            ));
        }
        let rank = (index << 12) | (entry as u32).min(4095);
        // A reader that panics on hostile input must not take the run down.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_source(rank, &source, options.config, &mut report, &mut emitter)
        }));
        match outcome {
            Ok(result) => result?,
            Err(_) => {
                report.kind = "error";
                report.sheets.clear();
                report.error = Some("the reader failed on this file's content; nothing of it was loaded\nhint: open and re-save it, or send it as CSV".into());
                emitter = Emitter::new(sink, runs, std::mem::take(spare));
            }
        }
        if let Some(error) = &report.error {
            emitter.reject(&RejectedRecord {
                file: &report.path,
                sheet: None,
                row: None,
                reason: RejectReason::Undecodable.as_str(),
                detail: error,
                cells: 0,
                content: "[]",
            })?;
        }
        emitter.flush()?;
        report.close();
        report.duration_ms = started.elapsed().as_millis() as u64;
        let mut products = emitter.products.map;
        runs.add(&mut products)?;
        *spare = products;
        progress.file_done(&report);
        reports.push(report);
    }
    Ok(reports)
}

fn read_source(
    rank: u32,
    source: &Source,
    config: &Config,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    let bytes = match &source.content {
        Ok(bytes) => bytes,
        Err(error) => {
            report.kind = "error";
            report.format = extension(&source.path);
            report.error = Some(error.to_string());
            return Ok(());
        }
    };
    let (format, format_name) = Format::detect(&source.path, bytes);
    report.format = format_name.to_owned();
    let overrides: Vec<_> = config.overrides_for(&source.path, None).collect();
    match format {
        Format::Empty => {
            report.kind = "empty";
            report.warnings.push("the file is empty".into());
        }
        Format::Media => report.kind = "media",
        Format::Archive => report.kind = "archive",
        Format::Text => {
            let forced = overrides.iter().rev().find_map(|o| o.encoding.as_deref());
            let forced_encoding = match forced {
                Some(label) => match TextEncoding::from_label(label) {
                    Some(encoding) => Some(encoding),
                    None => {
                        report.kind = "error";
                        report.error = Some(format!(
                            "cradle.toml names encoding `{label}` for this file, which is not known\nhint: use utf-8, utf-8-bom, utf-16le, utf-16be or windows-1252"
                        ));
                        return Ok(());
                    }
                },
                None => None,
            };
            let (text, encoding) = match detect::decode(bytes, forced_encoding) {
                Ok(decoded) => decoded,
                Err(error) => {
                    report.kind = "error";
                    report.error = Some(format!(
                        "{error}\nhint: if this is a text table in another encoding, set `encoding` for it in a [[file]] section of cradle.toml"
                    ));
                    return Ok(());
                }
            };
            report.encoding = Some(encoding.as_str());
            let delimiter = overrides
                .iter()
                .rev()
                .find_map(|o| o.delimiter.as_deref())
                .and_then(|d| {
                    if d == "\\t" || d == "tab" {
                        Some(b'\t')
                    } else {
                        d.bytes().next()
                    }
                })
                .unwrap_or_else(|| detect::sniff_delimiter(&text));
            report.delimiter = Some(if delimiter == b'\t' {
                "\\t".to_owned()
            } else {
                (delimiter as char).to_string()
            });
            let context = TableContext {
                file_index: rank,
                sheet_index: 0,
                path: &source.path,
                sheet: None,
                config,
                overrides,
            };
            let mut blocks = TextBlocks::new(&text, delimiter);
            let first = match blocks.next(table::lookahead_rows(&context), BLOCK_CELLS) {
                Ok(first) => first.unwrap_or_else(TextGrid::empty),
                Err(error) => {
                    report.kind = "error";
                    report.error = Some(format!("cannot split the text into records: {error}"));
                    return Ok(());
                }
            };
            let (table, broken) =
                read_blocks(&context, first, || blocks.next(0, BLOCK_CELLS), out)?;
            report.warnings.extend(table.warnings.iter().cloned());
            report.sheets.push(table);
            if let Some((error, line)) = broken {
                report.error = Some(format!(
                    "cannot split the text into records after line {line}: {error}; the records above it were loaded"
                ));
            }
        }
        Format::Workbook => {
            report.encoding = Some("binary");
            if let Err(error) = workbook::check(bytes) {
                report.kind = "error";
                report.error = Some(format!(
                    "{error}\nhint: ask the customer to export the workbook again"
                ));
                return Ok(());
            }
            if matches!(format_name, "xlsx" | "xlsm") {
                return read_xlsx(rank, source, config, report, out);
            }
            let mut workbook = match calamine::open_workbook_auto_from_rs(std::io::Cursor::new(
                bytes.as_slice(),
            )) {
                Ok(workbook) => workbook,
                Err(error) => {
                    unopenable_workbook(report, &error);
                    return Ok(());
                }
            };
            let names = workbook.sheet_names();
            for (sheet_index, name) in names.iter().enumerate() {
                match workbook.worksheet_range(name) {
                    Ok(range) => {
                        let grid = SheetGrid::new(range);
                        read_sheet(&grid, rank, sheet_index, name, source, config, report, out)?;
                    }
                    Err(error) => unreadable_sheet(report, name, &error),
                }
            }
        }
    }
    Ok(())
}

/// XLSX through the streaming reader, a block of rows at a time (see
/// [`xlsx::XlsxBlocks`]): memory does not grow with the sheet's length.
fn read_xlsx(
    rank: u32,
    source: &Source,
    config: &Config,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    let Ok(bytes) = &source.content else {
        return Ok(());
    };
    let book = match xlsx::Book::open(bytes) {
        Ok(book) => book,
        Err(error) => {
            unopenable_workbook(report, &error);
            return Ok(());
        }
    };
    for (sheet_index, sheet) in book.sheets.iter().enumerate() {
        let name = sheet.name.as_str();
        let Some(part) = &sheet.part else {
            report.warnings.push(format!(
                "sheet `{name}` is a chart or dialog sheet: it holds no cells"
            ));
            continue;
        };
        let mut blocks = match book.blocks(part) {
            Ok(blocks) => blocks,
            Err(error) => {
                unreadable_sheet(report, name, &error);
                continue;
            }
        };
        let context = sheet_context(rank, sheet_index, name, source, config);
        let first = match blocks.next(table::lookahead_rows(&context), BLOCK_CELLS) {
            Ok(first) => first.unwrap_or_else(|| xlsx::XlsxGrid::empty(&book)),
            Err(error) => {
                unreadable_sheet(report, name, &error);
                continue;
            }
        };
        let (mut table, broken) =
            read_blocks(&context, first, || blocks.next(0, BLOCK_CELLS), out)?;
        if blocks.late_cells > 0 {
            table.warnings.push(format!(
                "{} cells came after later rows in the file (rows out of order); their rows were read in parts",
                blocks.late_cells
            ));
        }
        report.add_sheet(name, table);
        if let Some((error, row)) = broken {
            unreadable_sheet(
                report,
                name,
                &format!("{error} (after row {row}; the rows above it were loaded)"),
            );
        }
    }
    Ok(())
}

/// Cells per block of a table: a few megabytes.
const BLOCK_CELLS: usize = 64 * 1024;

/// Reads a table block by block, starting with `first` (which holds the
/// header look-ahead). Returns the table's report and, when a later block
/// could not be read, the error and the last row or line read before it:
/// everything above it is loaded and counted.
fn read_blocks<G: Grid, E>(
    context: &TableContext<'_>,
    first: G,
    mut next: impl FnMut() -> Result<Option<G>, E>,
    out: &mut Emitter<'_>,
) -> Result<(table::TableReport, Option<(E, u64)>), SinkError> {
    let mut table = table::TableReader::begin(&first, context);
    table.rows(&first, out)?;
    let last = |block: &G| {
        (block.height() > block.first_row()).then(|| block.location(block.height() - 1))
    };
    let mut read_to = last(&first).unwrap_or(0);
    drop(first);
    let broken = loop {
        match next() {
            Ok(Some(block)) => {
                table.rows(&block, out)?;
                read_to = read_to.max(last(&block).unwrap_or(0));
            }
            Ok(None) => break None,
            Err(error) => break Some((error, read_to)),
        }
    };
    Ok((table.finish(), broken))
}

/// One sheet of a workbook into the emitter and the file's report.
#[allow(clippy::too_many_arguments)]
fn read_sheet(
    grid: &dyn grid::Grid,
    rank: u32,
    sheet_index: usize,
    name: &str,
    source: &Source,
    config: &Config,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    let context = sheet_context(rank, sheet_index, name, source, config);
    let table = table::process(grid, &context, out)?;
    report.add_sheet(name, table);
    Ok(())
}

/// Where a workbook sheet's table is, with its `cradle.toml` overrides.
fn sheet_context<'a>(
    rank: u32,
    sheet_index: usize,
    name: &'a str,
    source: &'a Source,
    config: &'a Config,
) -> TableContext<'a> {
    TableContext {
        file_index: rank,
        sheet_index: sheet_index as u32,
        path: &source.path,
        sheet: Some(name),
        config,
        overrides: config.overrides_for(&source.path, Some(name)).collect(),
    }
}

fn unopenable_workbook(report: &mut FileReport, error: &dyn std::fmt::Display) {
    report.kind = "error";
    report.error = Some(format!(
        "cannot open the workbook: {error}\nhint: the file is damaged or not really {}; open and re-save it in a spreadsheet program",
        report.format.to_uppercase()
    ));
}

fn unreadable_sheet(report: &mut FileReport, name: &str, error: &dyn std::fmt::Display) {
    let message = format!("sheet `{name}` cannot be read: {error}");
    report.warnings.push(message.clone());
    report.error.get_or_insert(message);
}

fn extension(path: &str) -> String {
    path.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}
