//! Reads a customer delivery into Arrow batches: every file, every sheet,
//! every non-empty cell accounted for (loaded as an attribute value with its
//! provenance, or rejected with a reason), products joined on the article
//! number across files.
//!
//! Architecture invariant: this crate knows nothing of Delta Lake or of the
//! workspace layout beyond the folder it is told to keep raw files in; it
//! hands finished batches to a [`Sink`] and returns reports.

pub mod catalog;
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
use source::{ArchiveBudget, Source};
pub use source::{ArchiveLimits, Skipped};
use std::path::{Path, PathBuf};
use table::{Emitter, TableContext, TableReport};

pub struct IngestOptions<'a> {
    pub config: &'a Config,
    /// Keep a content-addressed copy of every delivered file here.
    pub raw_dir: Option<PathBuf>,
    /// Where product state goes when it outgrows `budget` (created on
    /// first use, emptied again at the end). Without one, all of it stays
    /// in memory.
    /// Archive entries are inflated here too, one at a time (a temporary
    /// folder of the system without one).
    pub scratch_dir: Option<PathBuf>,
    pub budget: MemoryBudget,
    /// What all archives of the delivery may expand to, together.
    pub archives: ArchiveLimits,
}

impl<'a> IngestOptions<'a> {
    /// Everything in memory, no raw copies: for tests and tools.
    pub fn new(config: &'a Config) -> IngestOptions<'a> {
        IngestOptions {
            config,
            raw_dir: None,
            scratch_dir: None,
            budget: MemoryBudget::default(),
            archives: ArchiveLimits::default(),
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
    /// Sheets that hold no table (chart, dialog and macro sheets): named,
    /// not read.
    pub other_sheets: Vec<OtherSheet>,
    /// Non-empty cells of a file, or of the part of it, that could not be
    /// read at all (counted where they can be: text that could not be
    /// decoded is split as well as it goes). They are in `balance` as
    /// rejected cells, and in the file's one reject row.
    pub unread_cells: u64,
    /// Why the file, or part of it, could not be read; with a hint.
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub duration_ms: u64,
    /// A BMEcat or ETIM xChange catalogue: version, records, feature
    /// values, header cells and media references.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<catalog::CatalogReport>,
}

/// A sheet of a workbook that is not a worksheet.
#[derive(Debug, Clone, Serialize)]
pub struct OtherSheet {
    pub name: String,
    /// `chart sheet`, `dialog sheet`, `macro sheet`, ...
    pub kind: &'static str,
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
            other_sheets: Vec::new(),
            unread_cells: 0,
            error: None,
            warnings: Vec::new(),
            duration_ms: 0,
            catalog: None,
        }
    }

    /// True when nothing of the file could be read (an unreadable
    /// workbook or all of its sheets, undecodable text, a refused archive
    /// entry); a file with a damaged sheet or a broken tail was read in part.
    pub fn unreadable(&self) -> bool {
        self.kind == "error"
    }

    /// Marks the file as not read at all, with the reason and its hint.
    fn fail(&mut self, error: String) {
        self.kind = "error";
        self.error = Some(error);
    }

    /// Names a sheet that is not a worksheet, in the report and a warning.
    fn other_sheet(&mut self, name: &str, kind: xlsx::SheetKind) {
        self.warnings.push(format!(
            "sheet `{name}` is a {}: it holds no table and was not read",
            kind.as_str()
        ));
        self.other_sheets.push(OtherSheet {
            name: name.to_owned(),
            kind: kind.as_str(),
        });
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
        // A workbook none of whose sheets could be read was not read at all.
        if self.kind == "table" && self.error.is_some() && self.sheets.is_empty() {
            self.kind = "error";
        }
        let mut balance = Balance::default();
        for sheet in &self.sheets {
            balance.add(&sheet.balance);
        }
        balance.non_empty_cells += self.unread_cells;
        balance.rejected_cells += self.unread_cells;
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
    /// Every path of the delivery passed over on purpose, with the reason.
    pub skipped: Vec<Skipped>,
    pub totals: Balance,
    /// Every article number in order with its content hash, to compare
    /// deliveries. The `products` rows themselves went to the sink.
    pub product_hashes: ProductHashes,
    pub conflicts: ConflictSummary,
    /// Runs of product state that went to the scratch folder.
    pub scratch_runs: usize,
    /// Bytes inflated from archives, and archive entries opened.
    pub archive_bytes: u64,
    pub archive_entries: u64,
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
    let source::Delivery {
        files: found,
        skipped,
    } = source::discover(inputs).map_err(IngestError::Discover)?;
    if found.is_empty() {
        return Err(IngestError::NothingFound {
            paths: inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let delivered = delivered_names(&found);
    let sizes: Vec<u64> = found
        .iter()
        .map(|(_, path)| std::fs::metadata(path).map_or(0, |m| m.len()))
        .collect();
    progress.begin(found.len(), sizes.iter().sum());
    let runs = Runs::new(options.scratch_dir.clone(), options.budget);
    let archives = ArchiveBudget::new(options.archives);
    let skipped = std::sync::Mutex::new(skipped);
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
                    let shared = Shared {
                        delivered: &delivered,
                        options,
                        sink,
                        runs: &runs,
                        archives: &archives,
                        progress,
                    };
                    let mut passed = Vec::new();
                    let reports = ingest_file(&file, &shared, &mut spare, &mut passed);
                    if !passed.is_empty() {
                        skipped
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .extend(passed);
                    }
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
    let mut skipped = skipped
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    skipped.sort();
    let scratch_runs = runs.spilled();
    let merged = runs
        .merge(&mut |batch| sink.products(batch))
        .map_err(IngestError::Sink)?;
    let (archive_bytes, archive_entries) = archives.used();
    Ok(IngestOutcome {
        files,
        skipped,
        archive_bytes,
        archive_entries,
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

/// What every file of one ingest shares.
struct Shared<'a> {
    /// Lower-cased file names of the delivery (and of its ZIP archives'
    /// entries), for the media references of catalogues.
    delivered: &'a std::collections::HashSet<String>,
    options: &'a IngestOptions<'a>,
    sink: &'a dyn Sink,
    runs: &'a Runs,
    archives: &'a ArchiveBudget,
    progress: &'a dyn Progress,
}

fn ingest_file(
    file: &File<'_>,
    shared: &Shared<'_>,
    spare: &mut ProductMap,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<FileReport>, SinkError> {
    let Shared {
        delivered,
        options,
        sink,
        runs,
        archives,
        progress,
    } = *shared;
    let index = file.index;
    let mut reports = Vec::new();
    let unpack = source::Unpack {
        budget: archives,
        scratch: options.scratch_dir.as_deref(),
    };
    let mut entry = 0usize;
    source::visit::<SinkError>(
        file.relative,
        file.path,
        &unpack,
        skipped,
        &mut |source: Source| {
            let started = std::time::Instant::now();
            let mut report = FileReport::new(&source);
            let mut emitter = Emitter::new(sink, runs, std::mem::take(spare));
            if let Some(raw_dir) = &options.raw_dir
                && entry == 0
            {
                let stored = match (&source.file, &source.content) {
                    (Some(file), _) => Some(source::store_raw_file(raw_dir, &source.sha256, file)),
                    (None, Ok(bytes)) => Some(source::store_raw(raw_dir, &source.sha256, bytes)),
                    (None, Err(_)) => None,
                };
                if let Some(Err(error)) = stored {
                    report.warnings.push(format!(
                        "could not keep a raw copy in {}: {error}",
                        raw_dir.display()
                    ));
                }
            }
            let rank = (index << 12) | (entry as u32).min(4095);
            entry += 1;
            // A reader that panics on hostile input must not take the run down.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_source(
                    rank,
                    &source,
                    options.config,
                    delivered,
                    &mut report,
                    &mut emitter,
                )
            }));
            match outcome {
                Ok(result) => result?,
                Err(_) => {
                    report.sheets.clear();
                    report.other_sheets.clear();
                    report.fail("the reader failed on this file's content; nothing of it was loaded\nhint: open and re-save it, or send it as CSV".into());
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
                    cells: report.unread_cells,
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
            Ok(())
        },
    )?;
    Ok(reports)
}

fn read_source(
    rank: u32,
    source: &Source,
    config: &Config,
    delivered: &std::collections::HashSet<String>,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    if let Some(archive) = source.archive {
        report.kind = "archive";
        report.format = archive.to_owned();
        return Ok(());
    }
    if let (Some(kind), Some(path)) = (source.catalog, &source.file) {
        report.format = kind.name().to_owned();
        if let Some(warning) = Format::mismatch(&source.path, kind.name()) {
            report.warnings.push(warning);
        }
        return match std::fs::File::open(path) {
            Ok(file) => read_catalog(rank, source, kind, file, delivered, report, out),
            Err(error) => {
                report.fail(format!("cannot read the file: {error}"));
                Ok(())
            }
        };
    }
    let bytes = match &source.content {
        Ok(bytes) => bytes,
        Err(error) => {
            report.format = extension(&source.path);
            report.fail(error.to_string());
            return Ok(());
        }
    };
    let (format, format_name) = Format::detect(&source.path, bytes);
    report.format = format_name.to_owned();
    if let Some(warning) = Format::mismatch(&source.path, format_name) {
        report.warnings.push(warning);
    }
    match format {
        Format::Empty => {
            report.kind = "empty";
            report.warnings.push("the file is empty".into());
        }
        Format::Media => report.kind = "media",
        Format::Archive => report.fail(format!(
            "a {} archive: its files are not read\nhint: unpack it and deliver the files, or send them as a ZIP archive",
            format_name.to_uppercase()
        )),
        Format::Text => read_text(rank, source, bytes, config, report, out)?,
        Format::Catalog(kind) => {
            read_catalog(rank, source, kind, &bytes[..], delivered, report, out)?
        }
        Format::Workbook => {
            report.encoding = Some("binary");
            if let Err(error) = workbook::check(bytes) {
                report.fail(format!(
                    "{error}\nhint: ask the customer to export the workbook again"
                ));
                return Ok(());
            }
            if matches!(format_name, "xlsx" | "xlsm") && !bytes.starts_with(&[0xD0, 0xCF]) {
                return read_xlsx(rank, source, bytes, config, report, out);
            }
            read_calamine(rank, source, bytes, format_name, config, report, out)?;
        }
    }
    Ok(())
}

/// A BMEcat or ETIM xChange catalogue, streamed a record at a time (see
/// [`catalog`]).
fn read_catalog<R: std::io::Read>(
    rank: u32,
    source: &Source,
    kind: catalog::CatalogFormat,
    input: R,
    delivered: &std::collections::HashSet<String>,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    out.products.begin_table();
    let key = match kind {
        catalog::CatalogFormat::Bmecat => "SUPPLIER_PID",
        catalog::CatalogFormat::Xchange => "SupplierItemNumber",
    };
    let mut reading = catalog::CatalogOut {
        path: &source.path,
        rank,
        out,
        table: catalog::table_report(key),
        catalog: catalog::CatalogReport::default(),
        delivered,
        invalid_gtins: 0,
    };
    let result = match kind {
        catalog::CatalogFormat::Bmecat => catalog::bmecat::read(input, &mut reading)?,
        catalog::CatalogFormat::Xchange => catalog::xchange::read(input, &mut reading)?,
    };
    let (mut table, found) = reading.finish();
    report.encoding = Some("utf-8");
    if let Err(error) = result {
        let (language, exporter) = match kind {
            catalog::CatalogFormat::Bmecat => ("XML", "BMEcat"),
            catalog::CatalogFormat::Xchange => ("JSON", "ETIM xChange"),
        };
        if error.refused {
            report.fail(format!("{} (line {})", error.message, error.line));
        } else {
            let at = if error.byte > 0 {
                format!("line {}, byte {}", error.line, error.byte)
            } else {
                format!("line {}", error.line)
            };
            let message = format!(
                "{} ({at}); the {} records before it were loaded, the {} cells read of the broken one are rejected, and nothing after it could be read\nhint: the {language} is damaged or cut short; ask for the {exporter} export again",
                error.message,
                table.balance.loaded_rows + table.balance.rejected_rows,
                error.unread_cells
            );
            table.warnings.push(message.clone());
            report.unread_cells += error.unread_cells;
            report.error = Some(message);
        }
    }
    report.warnings.extend(table.warnings.iter().cloned());
    if table.balance.non_empty_cells > 0 || table.balance.rows > 0 || report.error.is_none() {
        report.sheets.push(table);
    }
    report.catalog = Some(found);
    Ok(())
}

/// Lower-cased file names of the delivery and of the entries of its ZIP
/// archives (their directories only are read).
fn delivered_names(found: &[(String, PathBuf)]) -> std::collections::HashSet<String> {
    let last = |name: &str| {
        name.rsplit(['/', '\\'])
            .next()
            .unwrap_or(name)
            .to_lowercase()
    };
    let mut names = std::collections::HashSet::new();
    for (relative, path) in found {
        names.insert(last(relative));
        let is_zip = std::fs::File::open(path).ok().is_some_and(|mut file| {
            let mut head = [0u8; 4];
            std::io::Read::read_exact(&mut file, &mut head).is_ok() && detect::is_zip(&head)
        });
        if is_zip
            && let Ok(archive) = std::fs::File::open(path).map(zip::ZipArchive::new)
            && let Ok(archive) = archive
        {
            names.extend(
                archive
                    .file_names()
                    .filter_map(Result::ok)
                    .map(|name| last(&name)),
            );
        }
    }
    names
}

/// Delimited text: decoded, split a block of records at a time.
fn read_text(
    rank: u32,
    source: &Source,
    bytes: &[u8],
    config: &Config,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    let overrides: Vec<_> = config.overrides_for(&source.path, None).collect();
    let forced = overrides.iter().rev().find_map(|o| o.encoding.as_deref());
    let forced_encoding = match forced {
        Some(label) => match TextEncoding::from_label(label) {
            Some(encoding) => Some(encoding),
            None => {
                report.fail(format!(
                    "cradle.toml names encoding `{label}` for this file, which is not known\nhint: use a label of the WHATWG Encoding Standard (utf-8, utf-8-bom, utf-16le, utf-16be, windows-1252, windows-1250, iso-8859-15, shift_jis, gb18030, koi8-r, ...)"
                ));
                report.unread_cells = count_cells(
                    &detect::decode_lossy(bytes, TextEncoding::Windows1252),
                    &overrides,
                );
                return Ok(());
            }
        },
        None => None,
    };
    let decoded = match detect::decode_text(bytes, forced_encoding) {
        Ok(decoded) => decoded,
        Err(error) => {
            let binary = matches!(error, detect::DecodeError::Binary { .. });
            let hint = match (forced, detect::decode_text(bytes, None)) {
                (Some(label), Ok(fits)) => format!(
                    "cradle.toml names encoding `{label}` for this file; the bytes fit {} (set `encoding = \"{}\"`, or remove the setting)",
                    fits.encoding.as_str(),
                    fits.encoding.as_str()
                ),
                _ => "if this is a text table in another encoding, set `encoding` for it in a [[file]] section of cradle.toml".to_owned(),
            };
            report.fail(format!("{error}\nhint: {hint}"));
            // What was lost, as far as it can be counted: undecodable text
            // split as well as it goes. A binary file holds no cells.
            if !binary {
                let encoding = forced_encoding.unwrap_or(TextEncoding::Windows1252);
                report.unread_cells =
                    count_cells(&detect::decode_lossy(bytes, encoding), &overrides);
            }
            return Ok(());
        }
    };
    let text = decoded.text;
    report.encoding = Some(decoded.encoding.as_str());
    if let Some(reason) = decoded.unsure {
        report.warnings.push(format!(
            "{reason}: read as {}\nhint: if the text looks wrong, set `encoding = \"<label>\"` for `{}` in a [[file]] section of cradle.toml",
            decoded.encoding.as_str(),
            source.path
        ));
    }
    let delimiter = delimiter_of(&text, &overrides);
    report.delimiter = Some(if delimiter == b'\t' {
        "\\t".to_owned()
    } else {
        (delimiter as char).to_string()
    });
    if let Some(first) = memchr::memchr(0, text.as_bytes()) {
        let nul = bytecount_nul(text.as_bytes());
        let line = 1 + grid::count_line_ends(&text.as_bytes()[..first]);
        report.warnings.push(format!(
            "{nul} NUL characters (byte 0) are in field values, the first on line {line}; they are kept as data"
        ));
    }
    let context = TableContext {
        file_index: rank,
        sheet_index: 0,
        path: &source.path,
        sheet: None,
        config,
        overrides,
    };
    let mut blocks = TextBlocks::new(&text, delimiter);
    let first = blocks
        .next(table::lookahead_rows(&context), BLOCK_CELLS)
        .unwrap_or_else(TextGrid::empty);
    let (table, _) = read_blocks(
        &context,
        first,
        || Ok::<_, std::convert::Infallible>(blocks.next(0, BLOCK_CELLS)),
        out,
    )?;
    report.warnings.extend(table.warnings.iter().cloned());
    report.sheets.push(table);
    Ok(())
}

fn bytecount_nul(bytes: &[u8]) -> usize {
    memchr::memchr_iter(0, bytes).count()
}

/// The delimiter `cradle.toml` names for the file, or the sniffed one.
fn delimiter_of(text: &str, overrides: &[&cradle_core::config::FileOverride]) -> u8 {
    overrides
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
        .unwrap_or_else(|| detect::sniff_delimiter(text))
}

/// Non-empty fields of text that could not be read as a table.
fn count_cells(text: &str, overrides: &[&cradle_core::config::FileOverride]) -> u64 {
    let delimiter = delimiter_of(text, overrides);
    let mut blocks = TextBlocks::new(text, delimiter);
    let mut cells = 0u64;
    while let Some(block) = blocks.next(0, BLOCK_CELLS) {
        for row in block.first_row()..block.height() {
            cells += block.overflow(row);
            cells += (0..block.width(row))
                .filter(|&column| block.cell(row, column).is_filled())
                .count() as u64;
        }
    }
    cells
}

/// XLS, XLSB and ODS through calamine, each sheet whole.
#[allow(clippy::too_many_arguments)]
fn read_calamine(
    rank: u32,
    source: &Source,
    bytes: &[u8],
    format_name: &str,
    config: &Config,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
    let mut book = match workbook::open_calamine(format_name, bytes) {
        Ok(book) => book,
        Err(workbook::OpenError::PasswordProtected) => {
            report.fail("the workbook is password-protected (encrypted): nothing of it can be read\nhint: ask the customer to send it without a password (in Excel: File > Info > Protect Workbook > Encrypt with Password, clear the password)".to_owned());
            return Ok(());
        }
        Err(workbook::OpenError::Unreadable(error)) => {
            unopenable_workbook(report, &error);
            return Ok(());
        }
    };
    let xls = matches!(book, calamine::Sheets::Xls(_));
    for (sheet_index, (name, kind)) in workbook::calamine_sheets(&book).into_iter().enumerate() {
        if kind != xlsx::SheetKind::Worksheet {
            report.other_sheet(&name, kind);
            continue;
        }
        match book.worksheet_range(&name) {
            Ok(mut range) => {
                if xls {
                    let repaired = workbook::repair_utf16_cells(&mut range);
                    if repaired > 0 {
                        report.warnings.push(format!(
                            "sheet `{name}`: {repaired} text cells held UTF-16 text stored as single bytes (a NUL between the letters); read as UTF-16"
                        ));
                    }
                }
                let grid = SheetGrid::new(range);
                read_sheet(&grid, rank, sheet_index, &name, source, config, report, out)?;
            }
            Err(error) => unreadable_sheet(report, &name, &error),
        }
    }
    Ok(())
}

/// XLSX through the streaming reader, a block of rows at a time (see
/// [`xlsx::XlsxBlocks`]): memory does not grow with the sheet's length.
fn read_xlsx(
    rank: u32,
    source: &Source,
    bytes: &[u8],
    config: &Config,
    report: &mut FileReport,
    out: &mut Emitter<'_>,
) -> Result<(), SinkError> {
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
            report.other_sheet(name, sheet.kind);
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
    let format = report.format.to_uppercase();
    report.fail(format!(
        "cannot open the workbook: {error}\nhint: the file is damaged or not really {format}; open and re-save it in a spreadsheet program"
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
