//! Helpers shared by the binary's integration tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn cradle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cradle"))
}

pub fn run(args: &[&str]) -> Output {
    cradle().args(args).output().expect("cradle runs")
}

pub fn run_ok(args: &[&str]) -> Output {
    let output = run(args);
    assert!(
        output.status.success(),
        "cradle {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn str_path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The Python with the reference Delta reader (`deltalake`), set up by
/// `scripts/test.sh`. A test that needs it fails loudly without it.
pub fn python() -> PathBuf {
    if let Ok(python) = std::env::var("CRADLE_PYTHON") {
        return PathBuf::from(python);
    }
    let default = PathBuf::from(std::env::var("HOME").unwrap_or_default())
        .join(".cache/cradle/venv/bin/python");
    assert!(
        default.exists(),
        "no Python with the `deltalake` package: run the tests with `bash scripts/test.sh`, which sets it up"
    );
    default
}

/// Reads tables with the Python `deltalake` package; returns its JSON answer.
pub fn read_with_deltalake(lakehouse: &Path, versions: &[(&str, Option<u64>)]) -> Value {
    let script = r#"
import json, sys
from deltalake import DeltaTable
root, wanted = sys.argv[1], json.loads(sys.argv[2])
out = {}
for name, version in wanted:
    table = DeltaTable(f"{root}/{name}", version=version)
    data = table.to_pyarrow_table()
    out[name] = {"version": table.version(), "rows": data.num_rows, "columns": data.column_names}
print(json.dumps(out), flush=True)
# The reader's runtime sometimes aborts during interpreter teardown
# ("terminate called without an active exception"); the answer is out.
import os
os._exit(0)
"#;
    let wanted = serde_json::to_string(versions).unwrap();
    let output = Command::new(python())
        .args(["-c", script, str_path(lakehouse), &wanted])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "deltalake failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
