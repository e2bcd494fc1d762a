//! Hostile shapes under a memory budget: a CSV of a million columns and a
//! nested ZIP bomb of many small entries. Each is read (or refused) with
//! exact accounting while the process's peak memory stays bounded.
//!
//! One test in its own binary: the peak is the process's (`VmHWM`, reset
//! through `/proc/self/clear_refs` before each case), so nothing else may
//! run beside it.

use arrow_array::RecordBatch;
use cradle_core::accounting::RejectReason;
use cradle_core::config::Config;
use cradle_ingest::{ArchiveLimits, IngestOptions, IngestOutcome, Silent, Sink, SinkError, ingest};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts rows and drops batches, so only the reader's memory is measured.
#[derive(Default)]
struct Counting {
    attributes: AtomicU64,
    rejects: AtomicU64,
}

impl Sink for Counting {
    fn attributes(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.attributes
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(())
    }
    fn rejects(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.rejects
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(())
    }
    fn products(&self, _: RecordBatch) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A field of `/proc/self/status` in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} missing"));
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Ingests `dir` and returns the outcome, the sink and how far the peak
/// resident memory rose above what the process held before.
fn measured(dir: &Path, archives: ArchiveLimits) -> (IngestOutcome, Counting, u64) {
    let config = Config::default();
    let options = IngestOptions {
        archives,
        ..IngestOptions::new(&config)
    };
    let sink = Counting::default();
    // Resets VmHWM to the current resident size (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_bytes("VmRSS:");
    let outcome = ingest(&[dir.to_path_buf()], &options, &sink, &Silent).unwrap();
    let peak = status_bytes("VmHWM:");
    (outcome, sink, peak.saturating_sub(before))
}

fn zip(entries: &[(String, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut cursor);
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, content) in entries {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap();
    cursor.into_inner()
}

const MIB: u64 = 1 << 20;

#[test]
fn hostile_shapes_stay_within_the_memory_budget() {
    // --- a CSV of a million columns: a header and four records, 10 MB.
    let dir = tempfile::tempdir().unwrap();
    let columns = 1_000_000;
    let mut csv = String::with_capacity(11 << 20);
    csv.push_str("ArtNr");
    for _ in 1..columns {
        csv.push_str(";x");
    }
    csv.push('\n');
    for record in 0..4 {
        csv.push_str(&format!("W-{record}"));
        for _ in 1..columns {
            csv.push_str(";1");
        }
        csv.push('\n');
    }
    assert!(csv.len() >= 10_000_000);
    std::fs::write(dir.path().join("wide.csv"), &csv).unwrap();
    drop(csv);
    let (outcome, sink, peak) = measured(dir.path(), ArchiveLimits::default());
    eprintln!(
        "million-column CSV (10 MB): peak memory +{} MiB",
        peak / MIB
    );
    let file = &outcome.files[0];
    let balance = &file.balance;
    assert!(file.balance_ok, "{balance:?}");
    assert_eq!(balance.header_cells, columns);
    assert_eq!(balance.rows, 4);
    assert_eq!(balance.rejected_by_reason[&RejectReason::TooManyFields], 4);
    assert_eq!(balance.rejected_cells, 4 * columns);
    assert_eq!(balance.non_empty_cells, 5 * columns);
    assert_eq!(sink.rejects.load(Ordering::Relaxed), 4);
    assert!(
        file.warnings.iter().any(|w| w.contains("16384")),
        "{:?}",
        file.warnings
    );
    assert!(peak < 200 * MIB, "peak memory rose by {} MiB", peak / MIB);

    // --- a nested ZIP bomb of small entries: four inner archives of 1,500
    // entries of 1 MiB each (about 1 KB compressed), 6 GB when inflated.
    let dir = tempfile::tempdir().unwrap();
    let megabyte = vec![b'0'; MIB as usize];
    let entries: Vec<(String, &[u8])> = (0..1_500)
        .map(|entry| (format!("bomb-{entry:04}.csv"), megabyte.as_slice()))
        .collect();
    let inner = zip(&entries, zip::CompressionMethod::Deflated);
    let inner_bytes = 4 * inner.len() as u64;
    let outer = zip(
        &(0..4)
            .map(|archive| (format!("inner-{archive}.zip"), inner.as_slice()))
            .collect::<Vec<_>>(),
        zip::CompressionMethod::Stored,
    );
    assert!(outer.len() < 8 << 20, "{} bytes", outer.len());
    std::fs::write(dir.path().join("delivery.zip"), &outer).unwrap();
    let (outcome, sink, peak) = measured(dir.path(), ArchiveLimits::default());
    eprintln!(
        "nested ZIP bomb ({} MB, 6,000 entries of 1 MiB): peak memory +{} MiB, {} bytes inflated",
        outer.len() / 1_000_000,
        peak / MIB,
        outcome.archive_bytes
    );
    // Only the inner archives themselves were inflated; every entry was
    // refused by its ratio and named.
    assert!(
        outcome.archive_bytes <= inner_bytes + 4,
        "{}",
        outcome.archive_bytes
    );
    assert_eq!(outcome.archive_entries, 4 + 6_000);
    let bombs = outcome
        .files
        .iter()
        .filter(|f| f.error.as_deref().is_some_and(|e| e.contains("ZIP bomb")))
        .count();
    assert_eq!(bombs, 6_000);
    assert!(outcome.files.iter().all(|f| f.balance_ok));
    assert_eq!(outcome.totals.non_empty_cells, 0);
    assert_eq!(sink.rejects.load(Ordering::Relaxed), 6_000);
    assert!(peak < 100 * MIB, "peak memory rose by {} MiB", peak / MIB);

    // The same delivery under a budget of 1,000 entries: what is left is
    // named in one line per archive, not read.
    let limits = ArchiveLimits {
        delivery_entries: 1_000,
        ..ArchiveLimits::default()
    };
    let (outcome, _, _) = measured(dir.path(), limits);
    assert_eq!(outcome.archive_entries, 1_000);
    let exhausted: Vec<&str> = outcome
        .files
        .iter()
        .filter(|f| f.error.as_deref().is_some_and(|e| e.contains("budget")))
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(exhausted[0], "delivery.zip/inner-0.zip/");
    assert!(exhausted.len() <= 4, "{exhausted:?}");
}
