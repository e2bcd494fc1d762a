//! Ingests the given paths with a sink that counts and drops batches, and
//! prints per file its format, records, data points and balance, then the
//! wall time and the peak resident memory (`VmHWM`) of the process: the
//! reading side of ingest measured without Delta Lake (`bench/bmecat.sh`
//! measures the whole `cradle ingest`).
//!
//!     cargo run --release -p cradle-ingest --example ingest_peak -- PATH...

use arrow_array::RecordBatch;
use cradle_core::config::Config;
use cradle_ingest::{IngestOptions, Silent, Sink, SinkError};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
struct Counting(AtomicU64);

impl Sink for Counting {
    fn attributes(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.0.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        Ok(())
    }
    fn rejects(&self, _: RecordBatch) -> Result<(), SinkError> {
        Ok(())
    }
    fn products(&self, _: RecordBatch) -> Result<(), SinkError> {
        Ok(())
    }
}

fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    assert!(!paths.is_empty(), "usage: ingest_peak PATH...");
    let config = Config::default();
    let sink = Counting::default();
    let started = std::time::Instant::now();
    let outcome = cradle_ingest::ingest(&paths, &IngestOptions::new(&config), &sink, &Silent)
        .expect("ingest");
    let elapsed = started.elapsed();
    for file in &outcome.files {
        println!(
            "{} format={} records={} products={} data_points={} balance_ok={}",
            file.path, file.format, file.rows, file.products, file.data_points, file.balance_ok
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: unknown");
    println!(
        "attribute rows {}, {:.1} s, peak {}",
        sink.0.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        peak.trim_start_matches("VmHWM:").trim()
    );
}
