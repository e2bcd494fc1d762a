//! The history of `cradle run` in a workspace (`reports/runs.jsonl`, one
//! JSON line per run, appended by `cradle-run`), read for the console's
//! admin page: newest first, bounded, and forgiving. A line that is not a
//! run (cut short, edited by hand, of a future format) is counted and
//! left out, never an error, so the page always renders.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The most bytes read from the end of the file: far more than the runs
/// a page shows (a line is about 2 KB), and a bound however long the
/// history grows.
const MAX_TAIL_BYTES: u64 = 4 << 20;

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStep {
    pub name: String,
    /// `done`, `skipped` or `failed`.
    pub state: String,
    pub seconds: f64,
}

/// One run, with the numbers the admin page shows; anything else on the
/// line is ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    #[serde(default)]
    pub customer: String,
    #[serde(default)]
    pub cradle_version: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub ok: Option<bool>,
    #[serde(default)]
    pub delivery_version: Option<u64>,
    pub steps: Vec<RunStep>,
    #[serde(default)]
    pub products: Option<u64>,
    #[serde(default)]
    pub files: Option<u64>,
    #[serde(default)]
    pub data_points: Option<u64>,
    #[serde(default)]
    pub rejected_rows: Option<u64>,
    #[serde(default)]
    pub chunks: Option<u64>,
    #[serde(default)]
    pub vectors: Option<u64>,
    #[serde(default)]
    pub classified: Option<u64>,
    #[serde(default)]
    pub image_digest: Option<String>,
    #[serde(default)]
    pub image_size: Option<u64>,
    #[serde(default)]
    pub healthy_ms: Option<f64>,
    pub seconds: f64,
}

/// The newest runs and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunHistory {
    /// Newest first.
    pub runs: Vec<Run>,
    /// Lines that are not runs (left out).
    pub unreadable: usize,
    /// Whether the file could not be read at all (absent: no run yet).
    pub problem: Option<String>,
}

/// The newest `limit` runs of the history file at `path`.
pub fn read(path: &Path, limit: usize) -> RunHistory {
    let text = match tail(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return RunHistory::default();
        }
        Err(error) => {
            return RunHistory {
                problem: Some(format!("cannot read {}: {error}", path.display())),
                ..RunHistory::default()
            };
        }
    };
    let mut history = RunHistory::default();
    for line in text.lines().rev() {
        if history.runs.len() == limit {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Run>(line) {
            Ok(run) => history.runs.push(run),
            Err(_) => history.unreadable += 1,
        }
    }
    history
}

/// The file's last [`MAX_TAIL_BYTES`], starting at a whole line.
fn tail(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let length = file.metadata()?.len();
    let start = length.saturating_sub(MAX_TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    if start > 0 {
        // The first line is cut; it begins after the first newline.
        let cut = bytes
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..cut);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_bounded_and_bad_lines_counted() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("runs.jsonl");
        let run = |n: u64| {
            format!(
                r#"{{"customer":"acme","cradle_version":"0.1.0","delivery_version":{n},"steps":[{{"name":"ingest","state":"done","seconds":1.5,"message":""}}],"products":10,"seconds":{n}.0}}"#
            )
        };
        let text = format!(
            "{}\n{{not json\n{}\n\n{}\n{{\"steps\": 3}}\n",
            run(1),
            run(2),
            run(3)
        );
        std::fs::write(&path, text).expect("write");
        let history = read(&path, 2);
        let versions: Vec<Option<u64>> = history.runs.iter().map(|r| r.delivery_version).collect();
        assert_eq!(versions, [Some(3), Some(2)]);
        assert_eq!(history.unreadable, 1, "only lines looked at are counted");
        assert_eq!(history.runs[0].steps[0].name, "ingest");
        let all = read(&path, 50);
        assert_eq!(all.runs.len(), 3);
        assert_eq!(all.unreadable, 2);
        assert_eq!(
            read(&dir.path().join("none.jsonl"), 50),
            RunHistory::default()
        );
    }
}
