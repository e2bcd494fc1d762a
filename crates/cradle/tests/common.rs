//! Helpers shared by the binary's integration tests.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// A demo delivery of `scale` generated into `dir/delivery` and ingested
/// into the workspace `dir/ws`; returns both paths.
pub fn ingested_demo(dir: &Path, scale: &str) -> (PathBuf, PathBuf) {
    let delivery = dir.join("delivery");
    let workspace = dir.join("ws");
    run_ok(&["demo-data", str_path(&delivery), "--scale", scale]);
    let ws = str_path(&workspace);
    run_ok(&["ingest", str_path(&delivery), "--workspace", ws, "--quiet"]);
    (delivery, workspace)
}

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
    cradle_test_support::python(&["deltalake"])
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

/// A minimal HTTP/1.1 client: status code and body.
pub fn get(port: u16, path: &str, key: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Some((status, body))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
