//! What a run tells while it goes: one [`Event`] per change of a step
//! (started, progress, done, skipped, failed, retrying), handed to an
//! [`Observer`]. The binary draws them (bars on a terminal, lines in a
//! log); [`JsonLines`] writes them as newline-delimited JSON for the
//! central and the console.

use serde::Serialize;
use std::io::Write;
use std::sync::Mutex;

use crate::record::RunRecord;

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Started,
    Progress,
    Done,
    Skipped,
    Failed,
    Retrying,
}

/// One event: `{"ts","step","state","done","total","unit","message"}`.
/// The last event of a run has the step `run` and carries the whole
/// record (`record`, equal to `reports/run.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// RFC 3339 with milliseconds, UTC.
    pub ts: String,
    pub step: String,
    pub state: State,
    pub done: Option<u64>,
    pub total: Option<u64>,
    /// What `done` and `total` count: `files`, `texts`, `bytes`, ...
    pub unit: Option<String>,
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Box<RunRecord>>,
}

impl Event {
    pub fn new(step: &str, state: State) -> Event {
        Event {
            ts: now_millis(),
            step: step.to_owned(),
            state,
            done: None,
            total: None,
            unit: None,
            message: None,
            record: None,
        }
    }

    pub fn message(mut self, message: impl Into<String>) -> Event {
        self.message = Some(message.into());
        self
    }

    pub fn counts(mut self, done: u64, total: u64, unit: &str) -> Event {
        self.done = Some(done);
        self.total = Some(total);
        self.unit = Some(unit.to_owned());
        self
    }
}

/// The time now as RFC 3339 with milliseconds.
pub fn now_millis() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    cradle_core::dates::rfc3339_millis(millis)
}

/// Hears the events of a run. Called from the run's threads (a step's
/// progress may come from its workers), so it must be `Sync`.
pub trait Observer: Sync {
    fn event(&self, event: &Event);
}

/// Hears nothing.
#[derive(Debug, Default)]
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Event) {}
}

/// Every event as one line of JSON on a writer (a file or stdout),
/// flushed at once so a reader sees it live.
pub struct JsonLines<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLines<W> {
    pub fn new(out: W) -> JsonLines<W> {
        JsonLines {
            out: Mutex::new(out),
        }
    }
}

impl<W: Write + Send> Observer for JsonLines<W> {
    fn event(&self, event: &Event) {
        let Ok(mut line) = serde_json::to_vec(event) else {
            return;
        };
        line.push(b'\n');
        if let Ok(mut out) = self.out.lock() {
            // Events are a view of the run: a closed pipe must not stop it.
            let _ = out.write_all(&line).and_then(|()| out.flush());
        }
    }
}

/// Hands every event to each observer in turn.
pub struct Fanout<'a>(pub Vec<&'a dyn Observer>);

impl Observer for Fanout<'_> {
    fn event(&self, event: &Event) {
        for observer in &self.0 {
            observer.event(event);
        }
    }
}
