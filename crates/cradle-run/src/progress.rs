//! The steps' own progress (files read, texts embedded, bytes written, the
//! phases of a deployment) turned into [`Event`]s of one step, at most a
//! few per second so a log or an event file stays small.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::event::{Event, Observer, State};
use crate::step::Step;

/// Progress events closer together than this are dropped (never the first
/// or last of a stage).
const EVERY: Duration = Duration::from_millis(250);

struct Counts {
    done: u64,
    total: u64,
    unit: &'static str,
    message: String,
    last: Option<Instant>,
    /// Ingest: files done and in all.
    files: (usize, usize),
}

/// Reports the progress of one step.
pub struct StepProgress<'a> {
    step: Step,
    observer: &'a dyn Observer,
    counts: Mutex<Counts>,
}

impl<'a> StepProgress<'a> {
    pub fn new(step: Step, observer: &'a dyn Observer) -> StepProgress<'a> {
        StepProgress {
            step,
            observer,
            counts: Mutex::new(Counts {
                done: 0,
                total: 0,
                unit: "",
                message: String::new(),
                last: None,
                files: (0, 0),
            }),
        }
    }

    /// Sends the counts now if `force` or if the last event is old enough.
    fn send(&self, counts: &mut Counts, force: bool) {
        if !force && counts.last.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        counts.last = Some(Instant::now());
        let mut event = Event::new(self.step.name(), State::Progress).counts(
            counts.done,
            counts.total,
            counts.unit,
        );
        if !counts.message.is_empty() {
            event = event.message(counts.message.clone());
        }
        self.observer.event(&event);
    }

    /// A new stage of the step: counts start again.
    pub fn begin(&self, message: &str, total: u64, unit: &'static str) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.done = 0;
            counts.total = total;
            counts.unit = unit;
            counts.message = message.to_owned();
            self.send(&mut counts, true);
        }
    }

    /// `done` of the stage's total so far.
    pub fn set(&self, done: u64, total: u64) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.done = done;
            counts.total = total;
            self.send(&mut counts, done >= total);
        }
    }

    /// A message without counts (a phase of a deployment).
    pub fn note(&self, message: &str) {
        self.begin(message, 0, "");
    }
}

impl cradle_ingest::Progress for StepProgress<'_> {
    fn begin(&self, files: usize, bytes: u64) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.files = (0, files);
        }
        StepProgress::begin(self, &format!("0/{files} files read"), bytes, "bytes");
    }

    fn file_done(&self, report: &cradle_ingest::FileReport) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.files.0 += 1;
            // Archive entries are inside their archive's bytes.
            if !report.path.contains(".zip/") {
                counts.done += report.bytes;
            }
            counts.message = format!("{}/{} files read", counts.files.0, counts.files.1);
            let last = counts.files.0 == counts.files.1;
            self.send(&mut counts, last);
        }
    }
}

impl cradle_enrich::Progress for StepProgress<'_> {
    fn stage(&self, name: &str, total: u64) {
        let unit = if name.contains("embedding") {
            "texts"
        } else {
            "items"
        };
        StepProgress::begin(self, name, total, unit);
    }

    fn advance(&self, n: u64) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.done += n;
            self.send(&mut counts, false);
        }
    }

    fn finish_stage(&self) {
        if let Ok(mut counts) = self.counts.lock() {
            self.send(&mut counts, true);
        }
    }
}

impl cradle_image::Progress for StepProgress<'_> {
    fn begin(&self, layers: usize, content_bytes: u64) {
        StepProgress::begin(
            self,
            &format!("writing {layers} layers"),
            content_bytes,
            "bytes",
        );
    }

    fn advance(&self, read: u64, _written: u64) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.done += read;
            self.send(&mut counts, false);
        }
    }

    fn layer_done(&self, layer: &cradle_image::LayerReport) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.message = format!("layer {} written", layer.name);
            self.send(&mut counts, true);
        }
    }
}

impl cradle_deploy::DeployProgress for StepProgress<'_> {
    fn phase_started(&self, phase: &str) {
        self.note(phase);
    }

    fn phase_done(&self, phase: &cradle_deploy::Phase) {
        self.note(&format!(
            "{}: {} ({:.1} s)",
            phase.name, phase.detail, phase.seconds
        ));
    }
}
