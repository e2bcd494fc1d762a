//! The Python with the reference readers the tests compare cradle with:
//! `deltalake`, `pyarrow`, `duckdb` with its Delta extension, and the
//! official `mcp` client (`scripts/requirements-test.txt`).

use std::path::PathBuf;
use std::process::Command;

/// `$CRADLE_PYTHON`, else the venv `bash scripts/test.sh` makes; panics
/// with the command that sets it up when it is missing or cannot import
/// every module of `modules`.
pub fn python(modules: &[&str]) -> PathBuf {
    let python = std::env::var_os("CRADLE_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/cradle/venv/bin/python"))
        })
        .filter(|p| p.exists());
    let imports = format!("import {}", modules.join(", "));
    let usable = python.as_ref().is_some_and(|p| {
        modules.is_empty()
            || Command::new(p)
                .args(["-c", &imports])
                .status()
                .is_ok_and(|s| s.success())
    });
    match python {
        Some(python) if usable => python,
        _ => panic!(
            "no Python with {}: set CRADLE_PYTHON or run `bash scripts/test.sh` \
             (installs scripts/requirements-test.txt into ~/.cache/cradle/venv)",
            modules.join(", ")
        ),
    }
}
