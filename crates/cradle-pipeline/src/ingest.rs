//! The ingest step: a delivery into the workspace's lakehouse as one new,
//! atomically published version, with a report for people
//! (`reports/ingest.txt`, [`summary`]) and one for machines
//! (`reports/ingest.json`, [`IngestReport`]).
//!
//! `cradle-ingest` reads the files into Arrow batches; this joins it to the
//! lakehouse: a [`Sink`] that streams batches into the tables from every
//! reader thread, then the commits and the delivery record.

use anyhow::{Context, Result};
use arrow_array::builder::{BooleanBuilder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use cradle_core::accounting::{Balance, RejectReason};
use cradle_core::config::Config;
use cradle_fs::{Workspace, WorkspaceLock};
use cradle_ingest::{FileReport, IngestOptions, MemoryBudget, Progress, Sink, SinkError};
use cradle_lake::{StagedWrite, WriteOptions};
use cradle_lakehouse::schema::{attributes, files, products, rejects};
use cradle_lakehouse::{
    ARTICLE_NO, Changes, DELIVERY_TABLES, DeliveryRecord, Lakehouse, ParallelWriter,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::text::{ellipsize, group_thousands};

/// What to ingest where.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// Files, folders or ZIP archives the customer delivered.
    pub paths: Vec<PathBuf>,
    pub workspace: Workspace,
    /// Default: `customer` in cradle.toml, else the workspace folder name.
    pub customer: Option<String>,
    /// A file that cannot be read at all stops the run before anything is
    /// published (else such files are listed and the run exits 4).
    pub strict: bool,
}

/// The machine-readable report, `reports/ingest.json`.
#[derive(Debug, Serialize)]
pub struct IngestReport {
    pub customer: String,
    /// Delta version of the `products` table after this ingest.
    pub version: u64,
    /// 1 for the first delivery into the workspace.
    pub delivery: u64,
    pub products: u64,
    /// Non-empty, non-key source cells loaded as attribute values.
    pub data_points: u64,
    pub rows: u64,
    pub loaded_rows: u64,
    pub rejected_rows: u64,
    pub rejected_by_reason: BTreeMap<RejectReason, u64>,
    pub balance: Balance,
    pub balance_ok: bool,
    pub conflicts: cradle_ingest::ConflictSummary,
    pub changes: Changes,
    pub tables: BTreeMap<String, TableVersion>,
    pub files_with_errors: u64,
    /// Files of which nothing could be read (the reason is in `files`);
    /// when there are any, the run exits 4.
    pub unreadable_files: Vec<String>,
    /// Paths of the delivery passed over on purpose (hidden files, lock
    /// files, links, devices), with the reason.
    pub skipped: Vec<cradle_ingest::Skipped>,
    pub files: Vec<FileReport>,
    pub recovered: Vec<String>,
    pub started_at: String,
    pub duration_ms: u64,
    /// Milliseconds per stage: `read` (files read, typed and joined),
    /// `write` (the rest of the four tables written), `compare` (against
    /// the previous delivery), `commit` (tables and the delivery record).
    pub phases_ms: BTreeMap<&'static str, u64>,
    /// Runs of product state that went to `<WS>/tmp/` to keep memory
    /// bounded (0 when everything fit in memory).
    pub scratch_runs: usize,
    pub cradle_version: &'static str,
}

impl IngestReport {
    /// The process exit code the run stands for: 3 when the accounting
    /// does not balance (a bug), else 4 when a file could not be read at
    /// all, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.balance_ok {
            3
        } else if !self.unreadable_files.is_empty() {
            4
        } else {
            0
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TableVersion {
    pub version: u64,
    pub rows: u64,
}

/// Streams batches into the two big tables from the reader threads, and
/// the products after them.
struct LakeSink {
    attributes: ParallelWriter,
    rejects: ParallelWriter,
    products: ParallelWriter,
}

impl Sink for LakeSink {
    fn attributes(&self, batch: RecordBatch) -> Result<(), SinkError> {
        Ok(self.attributes.write(&batch)?)
    }

    fn rejects(&self, batch: RecordBatch) -> Result<(), SinkError> {
        Ok(self.rejects.write(&batch)?)
    }

    fn products(&self, batch: RecordBatch) -> Result<(), SinkError> {
        Ok(self.products.write(&batch)?)
    }
}

/// The whole ingest: recover an interrupted one, read, write, compare,
/// commit, publish, write the reports. `progress` hears of every file.
pub fn ingest(request: &IngestRequest, progress: &dyn Progress) -> Result<IngestReport> {
    let started = Instant::now();
    let started_at = cradle_core::dates::now_rfc3339();
    let _small_pages = SmallPages::during_ingest();
    let workspace = &request.workspace;
    let _lock = WorkspaceLock::acquire(workspace.root())?;
    let config = Config::load(&workspace.config_file())?;
    let customer = request
        .customer
        .clone()
        .or_else(|| config.customer.clone())
        .unwrap_or_else(|| {
            std::fs::canonicalize(workspace.root())
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "customer".into())
        });
    let lakehouse = Lakehouse::new(workspace.lakehouse_dir());
    let recovered = lakehouse.recover()?;
    let previous = lakehouse.latest()?;
    let delivery = previous.as_ref().map_or(1, |p| p.delivery + 1);

    let app_metadata =
        serde_json::json!({ "cradle": { "delivery": delivery, "customer": customer } });
    let options = || WriteOptions {
        app_metadata: Some(app_metadata.clone()),
        ..WriteOptions::overwrite()
    };
    let sink = LakeSink {
        attributes: ParallelWriter::new(
            lakehouse.table(attributes::NAME),
            attributes::schema(),
            WriteOptions {
                // An article number repeats in runs (one per record's
                // cells): plain and compressed it is smaller than its
                // dictionary, and no hash per value.
                plain_columns: vec![attributes::ORIGINAL.into(), ARTICLE_NO.into()],
                // Rows come in source-file order, so a data file spans
                // most of the article numbers: its bounds would rarely
                // skip a file.
                columns_without_statistics: [
                    ARTICLE_NO,
                    attributes::ORIGINAL,
                    attributes::HEADER,
                    attributes::ATTRIBUTE,
                    attributes::FIELD,
                    attributes::UNIT,
                    attributes::SOURCE_SHEET,
                    attributes::SOURCE_COLUMN,
                ]
                .map(String::from)
                .to_vec(),
                ..options()
            },
        ),
        rejects: ParallelWriter::new(lakehouse.table(rejects::NAME), rejects::schema(), options()),
        // Written from one thread, in article order: one writer, in order.
        products: ParallelWriter::new(
            lakehouse.table(products::NAME),
            products::schema(),
            options(),
        ),
    };
    // Product state beyond the memory budget waits here; the workspace
    // lock makes anything left in it from a killed run stale.
    let scratch = workspace.scratch_dir().join("ingest");
    let _ = std::fs::remove_dir_all(&scratch);
    let ingest_options = IngestOptions {
        raw_dir: Some(workspace.raw_dir()),
        scratch_dir: Some(scratch.clone()),
        budget: MemoryBudget::default(),
        ..IngestOptions::new(&config)
    };
    let mut phases = Phases::start();
    let outcome = cradle_ingest::ingest(&request.paths, &ingest_options, &sink, progress);
    let _ = std::fs::remove_dir_all(&scratch);
    let outcome = outcome?;
    phases.end("read");
    let unreadable_files: Vec<String> = outcome
        .files
        .iter()
        .filter(|f| f.unreadable())
        .map(|f| f.path.clone())
        .collect();
    if request.strict && !unreadable_files.is_empty() {
        // The staged table files are removed as the writers drop.
        let mut listed = String::new();
        for file in outcome.files.iter().filter(|f| f.unreadable()) {
            let reason = file.error.as_deref().unwrap_or_default();
            listed.push_str(&format!(
                "\n  {}: {}",
                file.path,
                reason.lines().next().unwrap_or_default()
            ));
        }
        anyhow::bail!(
            "{} files could not be read at all; nothing was published (--strict):{listed}\nhint: fix or remove these files, or run without --strict to publish the rest (exit code 4)",
            unreadable_files.len()
        );
    }

    let attributes = sink.attributes.finish()?;
    let rejects = sink.rejects.finish()?;
    let products = sink.products.finish()?;
    let files_table = lakehouse.table(files::NAME);
    let mut files = files_table
        .writer(files::schema(), options())
        .with_context(|| format!("cannot write table {}", files_table.path().display()))?;
    files.write(&files_batch(&outcome.files)?)?;
    let files = files.finish()?;

    phases.end("write");
    let changes = cradle_lakehouse::compare(
        &lakehouse,
        previous.as_ref(),
        outcome
            .product_hashes
            .iter()
            .map(|(key, hash)| (key.as_ref(), *hash)),
    )?;
    phases.end("compare");

    // Publish: the four table commits, then the delivery record.
    let staged: [(&str, StagedWrite); 4] = [
        (rejects::NAME, rejects),
        (files::NAME, files),
        (attributes::NAME, attributes),
        (products::NAME, products),
    ];
    debug_assert!(
        staged
            .iter()
            .map(|(name, _)| *name)
            .eq(DELIVERY_TABLES.iter().copied())
    );
    let mut tables = BTreeMap::new();
    for (name, write) in staged {
        let rows = write.rows();
        let version = write
            .commit()
            .with_context(|| format!("cannot commit table {name}"))?;
        tables.insert(name.to_owned(), TableVersion { version, rows });
    }
    lakehouse.publish(&DeliveryRecord {
        delivery,
        tables: tables.iter().map(|(k, v)| (k.clone(), v.version)).collect(),
        customer: customer.clone(),
        committed_at: cradle_core::dates::now_rfc3339(),
    })?;
    phases.end("commit");

    let totals = &outcome.totals;
    let report = IngestReport {
        customer,
        version: tables[products::NAME].version,
        delivery,
        products: outcome.product_hashes.len() as u64,
        data_points: totals.data_points,
        rows: totals.rows,
        loaded_rows: totals.loaded_rows,
        rejected_rows: totals.rejected_rows,
        rejected_by_reason: totals.rejected_by_reason.clone(),
        balance: totals.clone(),
        balance_ok: totals.holds() && outcome.files.iter().all(|f| f.balance_ok),
        conflicts: outcome.conflicts,
        changes,
        tables,
        files_with_errors: outcome.files.iter().filter(|f| f.error.is_some()).count() as u64,
        unreadable_files,
        skipped: outcome.skipped,
        files: outcome.files,
        recovered,
        started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        phases_ms: phases.done,
        scratch_runs: outcome.scratch_runs,
        cradle_version: env!("CARGO_PKG_VERSION"),
    };
    let write = |name: &str, bytes: &[u8]| {
        let path = workspace.report(name);
        cradle_fs::write_atomic(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))
    };
    write("ingest.json", &serde_json::to_vec_pretty(&report)?)?;
    write("ingest.txt", summary(&report, workspace.root()).as_bytes())?;
    Ok(report)
}

/// Transparent huge pages off while ingesting. The allocator asks for huge
/// pages on its arenas; ingest frees and takes fresh buffers all the time,
/// and the kernel then zeroed 2 MB pages for each: about 11 % of the CPU
/// samples at scale 1.0 (perf). Without them, four interleaved pairs of
/// runs took 2.5 % less CPU time (system time 1.1-1.3 s -> 0.5-0.7 s) and
/// 1.6 % less wall time. Switched back on afterwards (`cradle demo` goes
/// on to embed).
struct SmallPages;

impl SmallPages {
    fn during_ingest() -> SmallPages {
        #[cfg(target_os = "linux")]
        let _ = rustix::thread::disable_transparent_huge_pages(true);
        SmallPages
    }
}

impl Drop for SmallPages {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        let _ = rustix::thread::disable_transparent_huge_pages(false);
    }
}

/// Stage timings for the report.
struct Phases {
    since: Instant,
    done: BTreeMap<&'static str, u64>,
}

impl Phases {
    fn start() -> Phases {
        Phases {
            since: Instant::now(),
            done: BTreeMap::new(),
        }
    }

    fn end(&mut self, name: &'static str) {
        self.done
            .insert(name, self.since.elapsed().as_millis() as u64);
        self.since = Instant::now();
    }
}

fn files_batch(files: &[FileReport]) -> Result<RecordBatch> {
    let mut text: Vec<StringBuilder> = (0..9).map(|_| StringBuilder::new()).collect();
    let mut counts: Vec<Int64Builder> = (0..9).map(|_| Int64Builder::new()).collect();
    let mut balance_ok = BooleanBuilder::new();
    for file in files {
        text[0].append_value(&file.path);
        text[1].append_value(&file.sha256);
        text[2].append_value(&file.format);
        text[3].append_value(file.kind);
        text[4].append_option(file.encoding);
        text[5].append_option(file.delimiter.as_deref());
        text[6].append_option(file.decimal_separator);
        text[7].append_option(file.error.as_deref());
        text[8].append_value(serde_json::to_string(&file.sheets)?);
        let b = &file.balance;
        for (builder, value) in counts.iter_mut().zip([
            file.bytes,
            b.rows,
            b.loaded_rows,
            b.rejected_rows,
            b.data_points,
            b.non_empty_cells,
            b.header_cells,
            b.key_cells,
            b.rejected_cells,
        ]) {
            builder.append_value(value as i64);
        }
        balance_ok.append_value(file.balance_ok);
    }
    let mut t = text
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut c = counts
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut next_text = || t.next().expect("nine text columns");
    let (path, sha, format, kind, encoding, delimiter, decimal, error, sheets) = (
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
        next_text(),
    );
    let mut next_count = || c.next().expect("nine count columns");
    let columns: Vec<ArrayRef> = vec![
        path,
        sha,
        next_count(),
        format,
        kind,
        encoding,
        delimiter,
        decimal,
        next_count(),
        next_count(),
        next_count(),
        next_count(),
        next_count(),
        next_count(),
        next_count(),
        next_count(),
        Arc::new(balance_ok.finish()),
        error,
        sheets,
    ];
    debug_assert!(columns.iter().all(|c| c.len() == files.len()));
    Ok(RecordBatch::try_new(files::schema(), columns)?)
}

/// The human summary: what arrived, what did not and why, what changed.
pub fn summary(report: &IngestReport, workspace: &std::path::Path) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let n = |v: u64| group_thousands(v);
    let _ = writeln!(
        out,
        "Ingested delivery {} for {} into {} (products version {}) in {:.1} s",
        report.delivery,
        report.customer,
        workspace.display(),
        report.version,
        report.duration_ms as f64 / 1000.0
    );
    let phases: Vec<String> = ["read", "write", "compare", "commit"]
        .iter()
        .filter_map(|name| {
            let ms = *report.phases_ms.get(name)?;
            Some(format!("{name} {:.1} s", ms as f64 / 1000.0))
        })
        .collect();
    if !phases.is_empty() {
        let _ = writeln!(out, "  time: {}", phases.join(", "));
    }
    if report.scratch_runs > 0 {
        let _ = writeln!(
            out,
            "  memory: product state beyond the budget went to disk in {} runs (removed again)",
            n(report.scratch_runs as u64)
        );
    }
    let _ = writeln!(
        out,
        "  {} products, {} data points from {} records in {} files",
        n(report.products),
        n(report.data_points),
        n(report.rows),
        report.files.len()
    );
    let _ = writeln!(out, "  {} records rejected:", n(report.rejected_rows));
    for (reason, count) in &report.rejected_by_reason {
        let _ = writeln!(
            out,
            "    {:>9}  {} ({})",
            n(*count),
            reason,
            reason.explain()
        );
    }
    let b = &report.balance;
    let _ = writeln!(
        out,
        "  cells: {} non-empty = {} header + {} key + {} data points + {} rejected  [{}]",
        n(b.non_empty_cells),
        n(b.header_cells),
        n(b.key_cells),
        n(b.data_points),
        n(b.rejected_cells),
        if report.balance_ok {
            "balanced"
        } else {
            "DOES NOT BALANCE"
        }
    );
    if report.conflicts.products > 0 {
        let _ = writeln!(
            out,
            "  {} products have conflicting values for {} attributes (all kept; see the attributes table)",
            n(report.conflicts.products),
            n(report.conflicts.attributes)
        );
    }
    if let Some(previous) = report.changes.previous_delivery {
        let c = &report.changes;
        let _ = writeln!(
            out,
            "  since delivery {previous}: {} added, {} changed, {} removed, {} unchanged",
            n(c.added),
            n(c.changed),
            n(c.removed),
            n(c.unchanged)
        );
    }
    for line in &report.recovered {
        let _ = writeln!(out, "  recovered: {line}");
    }
    let _ = writeln!(
        out,
        "\n  {:<58} {:>8} {:>9} {:>8} {:>10}  detected",
        "file", "rows", "loaded", "rejected", "points"
    );
    for file in &report.files {
        let detected = match file.kind {
            "table" => format!(
                "{}{}{}",
                file.format,
                file.encoding.map(|e| format!(" {e}")).unwrap_or_default(),
                file.delimiter
                    .as_deref()
                    .map(|d| format!(" sep {d}"))
                    .unwrap_or_default()
            ),
            other => other.to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:<58} {:>8} {:>9} {:>8} {:>10}  {}{}",
            ellipsize(&file.path, 58),
            n(file.rows),
            n(file.loaded_rows),
            n(file.rejected_rows),
            n(file.data_points),
            detected,
            if file.balance_ok { "" } else { "  UNBALANCED" }
        );
        if let Some(error) = &file.error {
            for line in error.lines() {
                let _ = writeln!(out, "      error: {line}");
            }
        }
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(out, "\n  {} paths skipped:", report.skipped.len());
        for skipped in &report.skipped {
            let _ = writeln!(
                out,
                "    {}: {}",
                ellipsize(&skipped.path, 58),
                skipped.reason
            );
        }
    }
    if !report.unreadable_files.is_empty() {
        let _ = writeln!(
            out,
            "\n  {} files could not be read at all (exit code 4; see the errors above):",
            report.unreadable_files.len()
        );
        for path in &report.unreadable_files {
            let _ = writeln!(out, "    {path}");
        }
    }
    let _ = writeln!(
        out,
        "\n  report: {}",
        workspace.join("reports/ingest.json").display()
    );
    out
}
