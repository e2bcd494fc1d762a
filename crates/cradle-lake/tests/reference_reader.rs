//! The reference-reader test: a table written by cradle-lake is read with
//! the PyPI `deltalake` package (delta-rs) and `pyarrow` via
//! `tests/python/read_delta.py`, and what they see is checked here:
//! versions, time travel, row counts, values, types, statistics, history.
//! The latest version is also read with DuckDB's `delta_scan`.
//!
//! Needs a Python with `deltalake`, `pyarrow`, `duckdb==1.4.4` and
//! `duckdb-ext-delta==1.4.4.20260205`: `$CRADLE_PYTHON`, else
//! `$HOME/.cache/cradle/venv/bin/python`. Without one the test fails (run
//! `bash scripts/test.sh`, which creates the venv).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{batch, python, write};
use cradle_lake::{Table, WriteMode, WriteOptions};
use serde_json::{Value, json};

#[test]
fn delta_rs_reads_cradle_tables() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path().join("products"));

    // v0: three batches rolled into three files.
    let mut v0 = WriteOptions {
        target_file_rows: 1000,
        row_group_rows: 400,
        ..WriteOptions::default()
    };
    v0.app_metadata = Some(json!({"delivery": "d-001"}));
    write(
        &table,
        v0,
        &[batch(0, 1200), batch(1200, 1200), batch(2400, 600)],
    );
    // v1: overwrite.
    write(&table, WriteOptions::overwrite(), &[batch(10_000, 500)]);
    // v2: append.
    let append = WriteOptions {
        mode: WriteMode::Append,
        ..WriteOptions::default()
    };
    write(&table, append, &[batch(20_000, 100)]);
    // v3: restore v0.
    assert_eq!(table.restore(0).unwrap(), 3);

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/read_delta.py");
    let python = python();
    let out = Command::new(&python)
        .arg(&script)
        .arg(table.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "read_delta.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ctx = serde_json::to_string_pretty(&seen).unwrap();
    eprintln!(
        "deltalake {} / pyarrow {}",
        seen["deltalake_version"], seen["pyarrow_version"]
    );

    assert_eq!(seen["latest"], 3, "{ctx}");
    let v = |i: usize| &seen["versions"][i];
    let sum = |r: std::ops::Range<i64>| r.sum::<i64>();

    // Version 0 (time travel).
    assert_eq!(v(0)["version"], 0);
    assert_eq!(v(0)["num_rows"], 3000);
    assert_eq!(v(0)["first_id"], 0);
    assert_eq!(v(0)["last_id"], 2999);
    assert_eq!(v(0)["id_sum"], sum(0..3000));
    assert_eq!(v(0)["files"], 3);
    assert_eq!(v(0)["protocol"], json!([1, 2]));
    let mut counts: Vec<u64> = v(0)["stats_num_records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [1000, 1000, 1000], "{ctx}");
    let mut min_ids: Vec<i64> = v(0)["stats_min_id"]
        .as_array()
        .unwrap_or_else(|| panic!("delta-rs parsed no min.id stats: {ctx}"))
        .iter()
        .map(|c| c.as_i64().unwrap())
        .collect();
    min_ids.sort_unstable();
    assert_eq!(min_ids, [0, 1000, 2000]);
    // Date and timestamp statistics are parsed by delta-rs.
    let max_days = v(0)["stats_max_day"].as_array().unwrap();
    // id 2998 (2999 has a null day).
    assert!(max_days.contains(&json!("2030-03-25")), "{ctx}");
    let min_ts = v(0)["stats_min_ts"].as_array().unwrap();
    assert!(
        min_ts
            .iter()
            .any(|t| t.as_str().unwrap().starts_with("2023-11-14T22:13:20")),
        "{ctx}"
    );
    let null_names: u64 = v(0)["null_count_name"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(null_names, (0..3000).filter(|i| i % 7 == 3).count() as u64);

    // Types as delta-rs reads them.
    let types = &v(0)["types"];
    assert_eq!(types["id"], "int64");
    assert_eq!(types["name"], "string");
    assert_eq!(types["qty"], "int32");
    assert_eq!(types["code"], "int16");
    assert_eq!(types["price"], "double");
    assert_eq!(types["weight"], "float");
    assert_eq!(types["active"], "bool");
    assert_eq!(types["day"], "date32[day]");
    assert_eq!(types["ts"], "timestamp[us, tz=UTC]");
    assert!(types["note"].as_str().unwrap().contains("string"));

    // Values.
    let row1 = &v(0)["rows"]["1"];
    assert_eq!(row1["name"], "name-1");
    assert_eq!(row1["qty"], 2);
    assert_eq!(row1["price"], 0.5);
    assert_eq!(row1["active"], false);
    assert_eq!(row1["day"], "2022-01-09");
    assert_eq!(row1["ts"], "2023-11-14T22:13:21.000001+00:00");
    assert_eq!(row1["note"], "note 1 x");
    let row3 = &v(0)["rows"]["3"];
    assert_eq!(row3["name"], Value::Null);
    assert_eq!(row3["ts"], Value::Null);

    // Version 1: only the overwrite's rows.
    assert_eq!(v(1)["num_rows"], 500);
    assert_eq!(v(1)["first_id"], 10_000);
    assert_eq!(v(1)["id_sum"], sum(10_000..10_500));
    assert_eq!(v(1)["rows"]["10001"]["name"], "name-10001");
    assert_eq!(v(1)["files"], 1);
    assert_eq!(v(1)["metadata_id"], v(0)["metadata_id"]);
    // Version 2: append.
    assert_eq!(v(2)["num_rows"], 600);
    assert_eq!(v(2)["id_sum"], sum(10_000..10_500) + sum(20_000..20_100));
    assert_eq!(v(2)["files"], 2);
    // Version 3: restored version 0.
    assert_eq!(v(3)["num_rows"], 3000);
    assert_eq!(v(3)["id_sum"], sum(0..3000));
    assert_eq!(v(3)["files"], 3);

    // History, newest first in delta-rs.
    let ops: Vec<(i64, String)> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["version"].as_i64().unwrap(),
                h["operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            (3, "RESTORE".to_owned()),
            (2, "WRITE".to_owned()),
            (1, "WRITE".to_owned()),
            (0, "WRITE".to_owned()),
        ],
        "{ctx}"
    );
    assert_eq!(seen["history"][3]["app"], json!({"delivery": "d-001"}));
    assert_eq!(seen["history"][2]["parameters"]["mode"], "Overwrite");

    // Predicates (pruned with the statistics) give the right rows.
    assert_eq!(seen["filtered_id_rows"], 10);
    let day_rows = (2915..3000).filter(|i| i % 7 != 3).count();
    assert_eq!(seen["dataset_rows_day_ge"], day_rows as u64, "{ctx}");

    // DuckDB (delta-kernel-rs) sees the restored version 0.
    let duck = &seen["duckdb"];
    assert_eq!(duck["rows"], 3000, "{ctx}");
    assert_eq!(duck["id_sum"], sum(0..3000));
    assert_eq!(duck["min_name"], "name-0");
    assert_eq!(duck["max_day"], "2030-03-25");
}
