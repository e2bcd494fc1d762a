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

/// Progress of the enrich stages: one bar per stage with count, rate and
/// ETA on a terminal; a line at the start and end of each stage otherwise.
pub struct StageProgress {
    terminal: bool,
    quiet: bool,
    current: Mutex<Option<(ProgressBar, String, std::time::Instant)>>,
    /// Without a terminal: when the last line was printed.
    last_line: Mutex<std::time::Instant>,
}

impl StageProgress {
    pub fn new(quiet: bool) -> StageProgress {
        StageProgress {
            terminal: !quiet && std::io::stderr().is_terminal(),
            quiet,
            current: Mutex::new(None),
            last_line: Mutex::new(std::time::Instant::now()),
        }
    }
}

impl cradle_enrich::Progress for StageProgress {
    fn stage(&self, name: &str, total: u64) {
        let bar = if self.terminal {
            let bar = ProgressBar::new(total);
            let template = if total > 0 {
                "{spinner} {msg} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}"
            } else {
                "{spinner} {msg} {elapsed}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(name.to_owned());
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        } else {
            if !self.quiet {
                eprintln!("{name}: {total} to do");
            }
            let bar = ProgressBar::hidden();
            bar.set_length(total);
            bar
        };
        if let Ok(mut current) = self.current.lock() {
            *current = Some((bar, name.to_owned(), std::time::Instant::now()));
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(current) = self.current.lock()
            && let Some((bar, name, started)) = current.as_ref()
        {
            bar.inc(n);
            // Logs get a line every 15 s with the rate and what is left.
            if !self.terminal
                && !self.quiet
                && let Ok(mut last) = self.last_line.lock()
                && last.elapsed().as_secs() >= 15
            {
                *last = std::time::Instant::now();
                let done = bar.position();
                let total = bar.length().unwrap_or(0);
                let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
                let eta = total.saturating_sub(done) as f64 / rate.max(1e-3);
                eprintln!("{name}: {done}/{total}, {rate:.0}/s, ETA {eta:.0} s");
            }
        }
    }

    fn finish_stage(&self) {
        if let Ok(mut current) = self.current.lock()
            && let Some((bar, name, started)) = current.take()
        {
            let done = bar.position();
            bar.finish_and_clear();
            if !self.quiet {
                let seconds = started.elapsed().as_secs_f64();
                eprintln!("{name}: {done} done in {seconds:.1} s");
            }
        }
    }
}
