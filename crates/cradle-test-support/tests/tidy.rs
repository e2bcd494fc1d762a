//! The house rules that a reader of the code relies on, checked over the
//! whole workspace: every source file says what it is for, no file reaches
//! into another crate's files (`#[path]`), no test is ignored, and ARCHITECTURE.md is the true map (every
//! crate it names exists and every crate is named; every file it names
//! exists; every invariant stands under a crate that exists).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .to_path_buf()
}

/// Every `.rs` file below `dir`, skipping build output.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn workspace_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("fuzz"), &mut files);
    files.sort();
    files
}

fn crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_source_file_starts_with_what_it_is_for() {
    let missing: Vec<String> = workspace_sources()
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|path| relative(path))
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not begin with a `//!` comment saying what they are for:\n{}",
        missing.join("\n")
    );
}

/// The crate folder (`crates/<name>` or `fuzz`) a file belongs to.
fn crate_dir(path: &Path) -> PathBuf {
    let relative = path.strip_prefix(root()).unwrap_or(path);
    let mut parts = relative.components();
    let first = parts.next().map(|c| c.as_os_str().to_owned());
    match first {
        Some(first) if first == "crates" => root().join("crates").join(parts.next().unwrap()),
        Some(first) => root().join(first),
        None => root(),
    }
}

/// Where a `#[path = "..."]` attribute on a line of `file` points.
fn path_target(file: &Path, line: &str) -> Option<PathBuf> {
    let value = line.split('"').nth(1)?;
    let mut target = file.parent()?.to_path_buf();
    for part in Path::new(value).components() {
        match part {
            std::path::Component::ParentDir => {
                target.pop();
            }
            std::path::Component::Normal(name) => target.push(name),
            _ => {}
        }
    }
    Some(target)
}

#[test]
fn no_file_includes_another_crates_by_path_and_no_test_is_ignored() {
    let mut offenders = Vec::new();
    for path in workspace_sources() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_start();
            let foreign = line.starts_with("#[path")
                && path_target(&path, line).is_none_or(|t| !t.starts_with(crate_dir(&path)));
            if foreign || line.starts_with("#[ignore") {
                offenders.push(format!("{}:{}: {line}", relative(&path), number + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "shared test code belongs in cradle-test-support, and a test that cannot run here is a \
         test that is missing:\n{}",
        offenders.join("\n")
    );
}

/// The `### \`crate\`` sections of ARCHITECTURE.md with their text.
fn architecture_sections() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line
            .strip_prefix("### `")
            .and_then(|rest| rest.split('`').next())
        {
            sections.push((name.to_owned(), String::new()));
        } else if line.starts_with("## ") {
            sections.push((String::new(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    sections
}

#[test]
fn architecture_names_every_crate_and_only_crates_that_exist() {
    let named: BTreeSet<String> = architecture_sections()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !name.is_empty())
        .collect();
    let crates = crates();
    let unknown: Vec<&String> = named.difference(&crates).collect();
    let unmapped: Vec<&String> = crates.difference(&named).collect();
    assert!(
        unknown.is_empty() && unmapped.is_empty(),
        "ARCHITECTURE.md names crates that do not exist: {unknown:?}; crates it does not map: {unmapped:?}"
    );
}

#[test]
fn files_and_invariants_in_architecture_exist() {
    let mut problems = Vec::new();
    for (name, body) in architecture_sections() {
        if name.is_empty() {
            continue;
        }
        let dir = root().join("crates").join(&name);
        // Every `something.rs` (or `dir/something.rs`) named in a crate's
        // section is a file of that crate.
        for token in body.split('`').skip(1).step_by(2) {
            let token = token.trim();
            if !token.ends_with(".rs") || token.contains(' ') {
                continue;
            }
            let found = [
                dir.join("src").join(token),
                dir.join(token),
                root().join(token),
            ]
            .iter()
            .any(|p| p.exists());
            if !found {
                problems.push(format!("{name}: names {token}, which does not exist"));
            }
        }
        if body.contains("Architecture invariant:") && !dir.exists() {
            problems.push(format!("{name}: has invariants but no crate"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
