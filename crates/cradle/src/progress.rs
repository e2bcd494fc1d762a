//! Progress on the terminal: a bar with bytes, rate and ETA when stderr is a
//! terminal, one plain line per file otherwise (CI logs, pipes).

use cradle_ingest::{FileReport, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

pub struct IngestProgress {
    bar: Option<ProgressBar>,
    files: Mutex<(usize, usize)>,
    quiet: bool,
}

impl IngestProgress {
    pub fn new(quiet: bool) -> IngestProgress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} ingest [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        IngestProgress {
            bar,
            files: Mutex::new((0, 0)),
            quiet,
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for IngestProgress {
    fn begin(&self, files: usize, bytes: u64) {
        if let Ok(mut counts) = self.files.lock() {
            counts.1 = files;
        }
        match &self.bar {
            Some(bar) => bar.set_length(bytes),
            None if !self.quiet => eprintln!("ingest: {files} files, {bytes} bytes"),
            None => {}
        }
    }

    fn file_done(&self, report: &FileReport) {
        let (done, total) = match self.files.lock() {
            Ok(mut counts) => {
                counts.0 += 1;
                *counts
            }
            Err(_) => (0, 0),
        };
        let status = match &report.error {
            Some(error) => format!("ERROR {}", error.lines().next().unwrap_or("")),
            None => format!("{} rows, {} rejected", report.rows, report.rejected_rows),
        };
        match &self.bar {
            Some(bar) => {
                // Archive entries are inside their archive's bytes.
                if !report.path.contains(".zip/") {
                    bar.inc(report.bytes);
                }
                bar.set_message(format!("{done}/{total} files"));
                if report.error.is_some() {
                    bar.println(format!("  {}: {status}", report.path));
                }
            }
            None if !self.quiet => eprintln!("  [{done}/{total}] {}: {status}", report.path),
            None => {}
        }
    }
}
