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

/// Progress of writing an image: a bar over the bytes of data read, with
/// the rate and the archive's size so far, on a terminal; a line per layer
/// and one every 15 s otherwise.
pub struct ImageProgress {
    bar: Option<ProgressBar>,
    quiet: bool,
    state: Mutex<ImageState>,
}

struct ImageState {
    layers: usize,
    done_layers: usize,
    total: u64,
    read: u64,
    written: u64,
    started: std::time::Instant,
    last_line: std::time::Instant,
    last_message: u64,
}

impl ImageProgress {
    pub fn new(quiet: bool) -> ImageProgress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} image [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        let now = std::time::Instant::now();
        ImageProgress {
            bar,
            quiet,
            state: Mutex::new(ImageState {
                layers: 0,
                done_layers: 0,
                total: 0,
                read: 0,
                written: 0,
                started: now,
                last_line: now,
                last_message: 0,
            }),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl cradle_image::Progress for ImageProgress {
    fn begin(&self, layers: usize, content_bytes: u64) {
        if let Ok(mut state) = self.state.lock() {
            state.layers = layers;
            state.total = content_bytes;
            state.started = std::time::Instant::now();
        }
        match &self.bar {
            Some(bar) => bar.set_length(content_bytes),
            None if !self.quiet => eprintln!(
                "image: {layers} layers, {:.1} MB of files",
                content_bytes as f64 / 1e6
            ),
            None => {}
        }
    }

    fn advance(&self, read: u64, written: u64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.read += read;
        state.written += written;
        if let Some(bar) = &self.bar {
            bar.inc(read);
            // A new message every 4 MB written is often enough to watch.
            if state.written - state.last_message >= 4 << 20 {
                state.last_message = state.written;
                bar.set_message(format!("{:.0} MB written", state.written as f64 / 1e6));
            }
        } else if !self.quiet && state.last_line.elapsed().as_secs() >= 15 {
            state.last_line = std::time::Instant::now();
            let rate = state.read as f64 / state.started.elapsed().as_secs_f64().max(1e-3);
            eprintln!(
                "image: {:.0}/{:.0} MB read, {:.0} MB written, {:.0} MB/s",
                state.read as f64 / 1e6,
                state.total as f64 / 1e6,
                state.written as f64 / 1e6,
                rate / 1e6
            );
        }
    }

    fn layer_done(&self, layer: &cradle_image::LayerReport) {
        let (done, layers) = match self.state.lock() {
            Ok(mut state) => {
                state.done_layers += 1;
                (state.done_layers, state.layers)
            }
            Err(_) => (0, 0),
        };
        let line = format!(
            "  layer {done}/{layers} {}: {} files, {:.1} MB → {:.1} MB ({})",
            layer.name,
            layer.files,
            layer.content_size as f64 / 1e6,
            layer.size as f64 / 1e6,
            short_digest(&layer.digest)
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }
}

impl cradle_deploy::DeployProgress for ImageProgress {
    fn phase_started(&self, phase: &str) {
        if self.bar.is_none() && !self.quiet {
            eprintln!("deploy: {phase}");
        }
    }

    fn phase_done(&self, phase: &cradle_deploy::Phase) {
        let line = format!(
            "  {}: {} ({:.1} s)",
            phase.name, phase.detail, phase.seconds
        );
        match &self.bar {
            Some(bar) => {
                bar.finish_and_clear();
                eprintln!("{line}");
            }
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }
}

/// `sha256:0123456789ab…`.
pub fn short_digest(digest: &str) -> String {
    match digest.char_indices().nth(19) {
        Some((at, _)) => format!("{}…", &digest[..at]),
        None => digest.to_owned(),
    }
}

/// Progress of `cradle run`: on a terminal one line per step with a bar,
/// counts, rate and ETA while it runs and its outcome after; without a
/// terminal a plain line for every change of a step and one every 15 s
/// while a step makes progress.
pub struct RunProgress {
    multi: Option<indicatif::MultiProgress>,
    bars: Mutex<std::collections::BTreeMap<String, ProgressBar>>,
    last_line: Mutex<std::collections::BTreeMap<String, std::time::Instant>>,
}

impl RunProgress {
    pub fn new() -> RunProgress {
        RunProgress {
            multi: std::io::stderr()
                .is_terminal()
                .then(indicatif::MultiProgress::new),
            bars: Mutex::new(std::collections::BTreeMap::new()),
            last_line: Mutex::new(std::collections::BTreeMap::new()),
        }
    }

    pub fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for bar in bars.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }

    fn bar(&self, multi: &indicatif::MultiProgress, step: &str) -> ProgressBar {
        let Ok(mut bars) = self.bars.lock() else {
            return ProgressBar::hidden();
        };
        bars.entry(step.to_owned())
            .or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(running_style(false));
                bar.set_prefix(step.to_owned());
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                bar
            })
            .clone()
    }
}

fn running_style(counted: bool) -> ProgressStyle {
    let template = if counted {
        "{spinner} {prefix:<9} [{bar:30}] {human_pos}/{human_len} {msg} {per_sec} ETA {eta}"
    } else {
        "{spinner} {prefix:<9} {elapsed:>4} {msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:<9} [{bar:30}] {bytes}/{total_bytes} {msg} {bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn ended_style() -> ProgressStyle {
    ProgressStyle::with_template("  {prefix:<9} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl cradle_run::Observer for RunProgress {
    fn event(&self, event: &cradle_run::Event) {
        use cradle_run::State;
        let message = event.message.clone().unwrap_or_default();
        let first = message.lines().next().unwrap_or_default().to_owned();
        if event.step == "run" {
            return;
        }
        let Some(multi) = &self.multi else {
            // Plain lines for logs.
            match event.state {
                State::Progress => {
                    let Ok(mut last) = self.last_line.lock() else {
                        return;
                    };
                    let now = std::time::Instant::now();
                    let due = last
                        .get(&event.step)
                        .is_none_or(|t| now.duration_since(*t).as_secs() >= 15);
                    if due {
                        last.insert(event.step.clone(), now);
                        match (event.done, event.total, &event.unit) {
                            (Some(done), Some(total), Some(unit)) if total > 0 => {
                                eprintln!("{}: {first} {done}/{total} {unit}", event.step)
                            }
                            _ if !first.is_empty() => eprintln!("{}: {first}", event.step),
                            _ => {}
                        }
                    }
                }
                State::Failed => eprintln!("{}: failed: {first}", event.step),
                _ => {
                    let state = serde_json::to_value(event.state)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    eprintln!("{}: {state}: {first}", event.step);
                }
            }
            return;
        };
        let bar = self.bar(multi, &event.step);
        match event.state {
            State::Started => {
                bar.set_message(first);
            }
            State::Progress => match (event.done, event.total, event.unit.as_deref()) {
                (Some(done), Some(total), Some(unit)) if total > 0 => {
                    if bar.length() != Some(total) {
                        bar.set_style(if unit == "bytes" {
                            bytes_style()
                        } else {
                            running_style(true)
                        });
                        bar.set_length(total);
                        bar.reset_eta();
                    }
                    bar.set_position(done);
                    bar.set_message(first);
                }
                _ => {
                    bar.set_style(running_style(false));
                    bar.set_length(0);
                    bar.set_message(first);
                }
            },
            State::Retrying => bar.set_message(format!("retrying: {first}")),
            State::Done | State::Skipped | State::Failed => {
                let word = match event.state {
                    State::Done => format!("done in {:.1} s", bar.elapsed().as_secs_f64()),
                    State::Skipped => "skipped".to_owned(),
                    _ => "FAILED".to_owned(),
                };
                bar.set_style(ended_style());
                bar.finish_with_message(format!("{word}: {first}"));
            }
        }
    }
}
