//! `cradle demo-data` and `cradle ingest` driven as a user would, checked
//! against the generator's ground truth and the reference Delta reader.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn files_by_path(report: &Value) -> BTreeMap<String, Value> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

fn check_against_manifest(delivery: &std::path::Path, workspace: &std::path::Path) -> Value {
    let manifest = json(&delivery.join("manifest.json"));
    let report = json(&workspace.join("reports/ingest.json"));
    for field in [
        "products",
        "data_points",
        "rejected_rows",
        "rows",
        "loaded_rows",
    ] {
        assert_eq!(report[field], manifest[field], "{field}");
    }
    assert_eq!(report["balance_ok"], true);
    assert_eq!(
        report["conflicts"]["products"], manifest["conflicting_products"],
        "products with conflicting values"
    );
    let files = files_by_path(&report);
    for expected in manifest["files"].as_array().unwrap() {
        let path = expected["path"].as_str().unwrap();
        let actual = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from the report"));
        assert_eq!(actual["balance_ok"], true, "{path}");
        assert!(actual["sha256"].as_str().unwrap().len() == 64, "{path}");
        if expected["format"] == "csv" {
            assert_eq!(actual["encoding"], expected["encoding"], "{path}: encoding");
            assert_eq!(
                actual["delimiter"].as_str().map(|d| d.replace("\\t", "\t")),
                expected["delimiter"].as_str().map(str::to_owned),
                "{path}: delimiter"
            );
        }
        let sum = |file: &Value, key: &str| {
            file["sheets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s[key].as_u64().unwrap())
                .sum::<u64>()
        };
        for key in ["rows", "loaded_rows", "rejected_rows", "data_points"] {
            assert_eq!(
                actual[key].as_u64().unwrap(),
                sum(expected, key),
                "{path}: {key}"
            );
        }
        for sheet in expected["sheets"].as_array().unwrap() {
            let found = actual["sheets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["sheet"] == sheet["name"])
                .unwrap_or_else(|| panic!("{path}: sheet {} missing", sheet["name"]));
            for key in [
                "rows",
                "loaded_rows",
                "rejected_rows",
                "data_points",
                "products",
            ] {
                assert_eq!(
                    found[key], sheet[key],
                    "{path} sheet {}: {key}",
                    sheet["name"]
                );
            }
            assert_eq!(
                found["header_rows"], sheet["header_rows"],
                "{path} sheet {}: header rows",
                sheet["name"]
            );
        }
    }
    report
}

#[test]
fn a_small_demo_delivery_matches_its_ground_truth_and_reads_in_deltalake() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("delivery");
    let workspace = dir.path().join("ws");
    run_ok(&[
        "demo-data",
        str_path(&delivery),
        "--scale",
        "0.02",
        "--seed",
        "7",
    ]);
    let output = run_ok(&[
        "ingest",
        str_path(&delivery),
        "--workspace",
        str_path(&workspace),
        "--customer",
        "acme",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("balanced"), "{stdout}");
    assert!(stdout.contains("  time: read "), "{stdout}");
    let report = check_against_manifest(&delivery, &workspace);
    assert_eq!(report["customer"], "acme");
    assert_eq!(report["version"], 0);
    assert!(workspace.join("reports/ingest.txt").exists());
    assert!(
        !workspace.join("tmp/ingest").exists(),
        "the ingest's scratch folder is removed"
    );

    // Every delivered file is kept, content-addressed.
    for file in report["files"].as_array().unwrap() {
        if !file["path"].as_str().unwrap().contains(".zip/") {
            assert!(
                workspace
                    .join("raw")
                    .join(file["sha256"].as_str().unwrap())
                    .exists()
            );
        }
    }

    let tables = read_with_deltalake(
        &workspace.join("lakehouse"),
        &[
            ("products", None),
            ("attributes", None),
            ("rejects", None),
            ("files", None),
        ],
    );
    assert_eq!(tables["products"]["rows"], report["products"]);
    assert_eq!(tables["attributes"]["rows"], report["data_points"]);
    let file_errors = report["files_with_errors"].as_u64().unwrap();
    assert_eq!(
        tables["rejects"]["rows"].as_u64().unwrap(),
        report["rejected_rows"].as_u64().unwrap() + file_errors
    );
    assert_eq!(
        tables["files"]["rows"].as_u64().unwrap(),
        report["files"].as_array().unwrap().len() as u64
    );
    // Where the time went, stage by stage, within the whole.
    let phases = report["phases_ms"].as_object().unwrap();
    let stages: Vec<&str> = phases.keys().map(String::as_str).collect();
    assert_eq!(stages, ["commit", "compare", "read", "write"], "{phases:?}");
    let spent: u64 = phases.values().map(|v| v.as_u64().unwrap()).sum();
    assert!(spent <= report["duration_ms"].as_u64().unwrap(), "{report}");
    let columns = tables["attributes"]["columns"].as_array().unwrap();
    for column in [
        "article_no",
        "attribute",
        "original",
        "unit",
        "source_file",
        "source_sheet",
        "source_row",
        "source_column",
    ] {
        assert!(
            columns.iter().any(|c| c == column),
            "attributes lacks {column}"
        );
    }
}

#[test]
fn a_second_delivery_is_a_new_version_with_changes_listed() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    let workspace = dir.path().join("ws");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(
        first.join("stamm.csv"),
        "Artikelnummer;Bezeichnung;Preis EUR\nA-1;Spot;10,00\nA-2;Panel;20,00\nA-3;Pendel;30,00\n",
    )
    .unwrap();
    std::fs::write(second.join("stamm.csv"), "Artikelnummer;Bezeichnung;Preis EUR\nA-1;Spot;10,00\nA-2;Panel;25,00\nA-4;Strahler;40,00\n").unwrap();
    run_ok(&[
        "ingest",
        str_path(&first),
        "--workspace",
        str_path(&workspace),
    ]);
    run_ok(&[
        "ingest",
        str_path(&second),
        "--workspace",
        str_path(&workspace),
    ]);
    let report = json(&workspace.join("reports/ingest.json"));
    assert_eq!(report["delivery"], 2);
    assert_eq!(report["version"], 1);
    let changes = &report["changes"];
    assert_eq!(
        (
            changes["added"].as_u64(),
            changes["changed"].as_u64(),
            changes["removed"].as_u64(),
            changes["unchanged"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1))
    );
    assert_eq!(changes["examples"]["changed"][0], "A-2");
    assert_eq!(changes["examples"]["removed"][0], "A-3");
    // The previous version stays readable (time travel).
    let tables = read_with_deltalake(
        &workspace.join("lakehouse"),
        &[("products", Some(0)), ("products", None)],
    );
    assert_eq!(tables["products"]["version"], 1);
    let old = read_with_deltalake(&workspace.join("lakehouse"), &[("products", Some(0))]);
    assert_eq!(old["products"]["rows"], 3);
}

#[test]
fn bad_inputs_are_named_and_the_rest_is_loaded() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("delivery");
    let workspace = dir.path().join("ws");
    std::fs::create_dir_all(&delivery).unwrap();
    std::fs::write(
        delivery.join("good.csv"),
        "ArtNr;Name\nG-1;Spot\nG-2;<b>Panel</b> & Co\n",
    )
    .unwrap();
    std::fs::write(
        delivery.join("corrupt.xlsx"),
        b"PK\x03\x04\x14\x00garbage that is not a workbook",
    )
    .unwrap();
    std::fs::write(delivery.join("empty.csv"), b"").unwrap();
    let mut binary = b"\x7fELF\x02\x01\x01\x00".to_vec();
    binary.extend((0..4096u32).map(|i| (i % 251) as u8));
    std::fs::write(delivery.join("binary.csv"), binary).unwrap();
    let big = format!("ArtNr;Text\nB-1;{}\nB-2;klein\n", "y".repeat(50 << 20));
    std::fs::write(delivery.join("big-cell.csv"), big).unwrap();
    let zip_bytes = |entries: &[(&str, Vec<u8>)]| {
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut cursor);
        for (name, content) in entries {
            writer
                .start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap();
        cursor.into_inner()
    };
    std::fs::write(
        delivery.join("escape.zip"),
        zip_bytes(&[
            ("../../evil.csv", b"ArtNr;X\nE-1;1\n".to_vec()),
            ("fine.csv", b"ArtNr;X\nZ-1;1\n".to_vec()),
        ]),
    )
    .unwrap();
    std::fs::write(
        delivery.join("bomb.zip"),
        zip_bytes(&[("bomb.csv", vec![b'0'; 300 << 20])]),
    )
    .unwrap();
    let full = zip_bytes(&[("t.csv", b"ArtNr;X\nT-1;1\n".repeat(1000))]);
    std::fs::write(delivery.join("truncated.zip"), &full[..full.len() / 2]).unwrap();

    // Published, but files that could not be read at all: exit 4.
    let output = run(&[
        "ingest",
        str_path(&delivery),
        "--workspace",
        str_path(&workspace),
    ]);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = json(&workspace.join("reports/ingest.json"));
    let files = files_by_path(&report);
    let error = |path: &str| {
        files[path]["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} has no error"))
            .to_owned()
    };
    assert!(error("corrupt.xlsx").contains("cannot open the workbook"));
    assert!(error("binary.csv").contains("not text"));
    assert!(error("escape.zip/../../evil.csv").contains("outside the archive"));
    assert!(error("bomb.zip/bomb.csv").contains("ZIP bomb"));
    assert!(
        files
            .keys()
            .any(|p| p.starts_with("truncated.zip") && files[p]["error"].is_string())
    );
    assert_eq!(files["empty.csv"]["kind"], "empty");
    assert_eq!(files["big-cell.csv"]["loaded_rows"], 1);
    assert_eq!(
        files["big-cell.csv"]["balance"]["rejected_by_reason"]["cell_too_large"],
        1
    );
    assert_eq!(files["escape.zip/fine.csv"]["loaded_rows"], 1);
    assert_eq!(files["good.csv"]["loaded_rows"], 2);
    assert_eq!(report["products"], 4);
    assert!(
        stdout.contains("corrupt.xlsx") && stdout.contains("error:"),
        "{stdout}"
    );
    // Nothing escaped the workspace.
    assert!(!dir.path().join("evil.csv").exists());
    // HTML in a value is data, kept verbatim.
    let tables = read_with_deltalake(&workspace.join("lakehouse"), &[("attributes", None)]);
    assert_eq!(tables["attributes"]["rows"], report["data_points"]);
}

#[test]
fn a_killed_ingest_leaves_the_previous_version_intact() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    let large = dir.path().join("large");
    let workspace = dir.path().join("ws");
    run_ok(&[
        "demo-data",
        str_path(&small),
        "--scale",
        "0.01",
        "--seed",
        "1",
    ]);
    run_ok(&[
        "demo-data",
        str_path(&large),
        "--scale",
        "0.15",
        "--seed",
        "2",
    ]);
    run_ok(&[
        "ingest",
        str_path(&small),
        "--workspace",
        str_path(&workspace),
        "--quiet",
    ]);
    let before = json(&workspace.join("reports/ingest.json"));
    let large_manifest = json(&large.join("manifest.json"));
    let lakehouse = workspace.join("lakehouse");
    let mut killed = 0;
    for delay_ms in [50u64, 200, 400, 800, 1500] {
        let mut child = cradle()
            .args([
                "ingest",
                str_path(&large),
                "--workspace",
                str_path(&workspace),
                "--quiet",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok();
        child.wait().unwrap();
        if finished {
            break;
        }
        killed += 1;
        // Whatever the moment, the published delivery is complete: the
        // small one, or (killed just after publishing) the large one, and
        // the reference reader agrees with it.
        let record = latest_delivery_record(&lakehouse);
        let version = |table: &str| record["tables"][table].as_u64();
        let tables = read_with_deltalake(&lakehouse, &[("products", version("products"))]);
        let attributes = read_with_deltalake(&lakehouse, &[("attributes", version("attributes"))]);
        let expected = if record["delivery"] == before["delivery"] {
            &before
        } else {
            &large_manifest
        };
        assert_eq!(
            tables["products"]["rows"], expected["products"],
            "killed at {delay_ms} ms"
        );
        assert_eq!(
            attributes["attributes"]["rows"], expected["data_points"],
            "killed at {delay_ms} ms"
        );
    }
    assert!(
        killed > 0,
        "the ingest finished before it could be killed; use a larger delivery"
    );
    // The next run recovers and publishes the large delivery.
    run_ok(&[
        "ingest",
        str_path(&large),
        "--workspace",
        str_path(&workspace),
        "--quiet",
    ]);
    let after = check_against_manifest(&large, &workspace);
    assert!(after["delivery"].as_u64().unwrap() >= 2);
    let tables = read_with_deltalake(&lakehouse, &[("products", None), ("attributes", None)]);
    assert_eq!(tables["products"]["rows"], after["products"]);
    assert_eq!(tables["attributes"]["rows"], after["data_points"]);
}

#[test]
fn the_reference_scale_delivery_matches_its_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("delivery");
    let workspace = dir.path().join("ws");
    run_ok(&["demo-data", str_path(&delivery)]);
    let manifest = json(&delivery.join("manifest.json"));
    assert_eq!(
        manifest["files"].as_array().unwrap().len(),
        27 + cradle_demo::MEDIA_FILES
    );
    assert!(manifest["products"].as_u64().unwrap() >= 100_000);
    run_ok(&[
        "ingest",
        str_path(&delivery),
        "--workspace",
        str_path(&workspace),
        "--quiet",
    ]);
    check_against_manifest(&delivery, &workspace);
}

/// The newest `lakehouse/_cradle/deliveries/<n>.json`.
fn latest_delivery_record(lakehouse: &std::path::Path) -> Value {
    let dir = lakehouse.join("_cradle/deliveries");
    let mut records: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    records.sort();
    json(records.last().expect("a published delivery"))
}

#[test]
fn unreadable_files_exit_4_and_strict_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let delivery = dir.path().join("delivery");
    let workspace = dir.path().join("ws");
    std::fs::create_dir_all(delivery.join(".svn")).unwrap();
    std::fs::write(delivery.join(".svn/entries"), "x").unwrap();
    std::fs::write(
        delivery.join("good.csv"),
        "ArtNr;Name\nS-1;Spot\nS-2;Panel\n",
    )
    .unwrap();
    // A workbook under a text name: read once, as a workbook.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write(0, 0, "ArtNr").unwrap();
    sheet.write(0, 1, "Farbe").unwrap();
    sheet.write(1, 0, "S-3").unwrap();
    sheet.write(1, 1, "weiß").unwrap();
    std::fs::write(
        delivery.join("export.csv"),
        workbook.save_to_buffer().unwrap(),
    )
    .unwrap();
    std::fs::write(delivery.join("broken.xlsx"), b"PK\x03\x04 not a workbook").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(delivery.join("good.csv"), delivery.join("link.csv")).unwrap();

    // --strict: nothing published, the file named, exit 1.
    let output = run(&[
        "ingest",
        str_path(&delivery),
        "--workspace",
        str_path(&workspace),
        "--strict",
    ]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.xlsx") && stderr.contains("--strict") && stderr.contains("hint:"),
        "{stderr}"
    );
    assert!(!workspace.join("lakehouse/_cradle/deliveries").exists());
    assert!(!workspace.join("reports/ingest.json").exists());

    // Without it: published, exit 4, the file listed.
    let output = run(&[
        "ingest",
        str_path(&delivery),
        "--workspace",
        str_path(&workspace),
    ]);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("could not be read at all"), "{stdout}");
    let report = json(&workspace.join("reports/ingest.json"));
    assert_eq!(
        report["unreadable_files"],
        serde_json::json!(["broken.xlsx"])
    );
    let files = files_by_path(&report);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["broken.xlsx", "export.csv", "good.csv"],
        "an XLSX named .csv is one file, not an archive"
    );
    assert_eq!(files["export.csv"]["format"], "xlsx");
    assert_eq!(files["export.csv"]["loaded_rows"], 1);
    assert_eq!(report["products"], 3);
    assert_eq!(report["balance_ok"], true);
    let skipped: Vec<String> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_owned())
        .collect();
    let mut expected = vec![".svn"];
    if cfg!(unix) {
        expected.push("link.csv");
    }
    assert_eq!(skipped, expected);
    assert!(
        stdout.contains("paths skipped") && stdout.contains("symbolic link") || !cfg!(unix),
        "{stdout}"
    );
    let tables = read_with_deltalake(&workspace.join("lakehouse"), &[("rejects", None)]);
    assert_eq!(
        tables["rejects"]["rows"].as_u64().unwrap(),
        report["rejected_rows"].as_u64().unwrap() + report["files_with_errors"].as_u64().unwrap()
    );
}
