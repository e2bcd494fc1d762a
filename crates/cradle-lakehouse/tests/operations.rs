//! Sequences of lake operations as a user's deliveries produce them:
//! a delivery published, the same delivery again, a changed one, an
//! ingest killed after some of its table commits (or before any, leaving
//! data files no commit names), each followed by the recovery every
//! writing command runs first. Whatever the sequence, the newest delivery
//! record names table versions that hold exactly the last published
//! delivery, read by cradle's own reader and by the reference Delta reader
//! (Python `deltalake`) alike, and no data file outside a commit is left.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use arrow_array::{Array, StringArray};
use cradle_lake::WriteOptions;
use cradle_lakehouse::schema::{attributes, products, rejects};
use cradle_lakehouse::{ARTICLE_NO, DELIVERY_TABLES, Lakehouse};
use cradle_test_support::lakehouse::{
    AttributeRow, Delivery, FileRow, ProductRow, attributes_batch, files_batch, products_batch,
    publish, rejects_batch,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Operation {
    /// Publish a delivery of these article numbers.
    Publish(Vec<u16>),
    /// Publish the last delivery again.
    Again,
    /// Commit the first `commits` of the four tables of a delivery of
    /// these products, then die (0: die with data files written but no
    /// commit).
    Crash { products: Vec<u16>, commits: usize },
}

fn operation() -> impl Strategy<Value = Operation> {
    let products = proptest::collection::vec(0u16..40, 0..12);
    prop_oneof![
        products.clone().prop_map(Operation::Publish),
        Just(Operation::Again),
        (products, 0usize..4)
            .prop_map(|(products, commits)| Operation::Crash { products, commits }),
    ]
}

fn delivery(articles: &[u16]) -> Delivery {
    let mut articles = articles.to_vec();
    articles.sort_unstable();
    articles.dedup();
    let key = |a: &u16| format!("A-{a:03}");
    Delivery {
        products: articles
            .iter()
            .map(|a| ProductRow::new(&key(a), &[("name_de", "Leuchte")]))
            .collect(),
        attributes: articles
            .iter()
            .map(|a| AttributeRow::text(&key(a), "Farbe", "Farbe", "weiß", "f.csv", 2, "B"))
            .collect(),
        rejects: Vec::new(),
        files: vec![FileRow::new("f.csv", "ab", 10)],
        customer: "c".into(),
    }
}

/// An ingest killed after `commits` table commits of `delivery`.
fn crash(lakehouse_dir: &Path, delivery: &Delivery, commits: usize) {
    let lakehouse = Lakehouse::new(lakehouse_dir);
    let batches = [
        rejects_batch(&delivery.rejects),
        files_batch(&delivery.files),
        attributes_batch(&delivery.attributes),
        products_batch(&delivery.products),
    ];
    for (i, (name, batch)) in DELIVERY_TABLES.iter().zip(batches).enumerate() {
        let mut writer = lakehouse
            .table(name)
            .writer(batch.schema(), WriteOptions::overwrite())
            .expect("writer");
        writer.write(&batch).expect("write");
        let staged = writer.finish().expect("finish");
        if i < commits {
            staged.commit().expect("commit");
        } else {
            // Killed with this table's data files written, uncommitted.
            return;
        }
    }
}

/// Article numbers of `products` at `version`, by cradle's reader.
fn articles_by_cradle(lakehouse: &Lakehouse, version: u64) -> Vec<String> {
    let snapshot = lakehouse
        .table(products::NAME)
        .snapshot(Some(version))
        .expect("snapshot");
    let mut out = Vec::new();
    for batch in snapshot.scan(Some(&[ARTICLE_NO])).expect("scan") {
        let batch = batch.expect("batch");
        let keys = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("strings");
        out.extend((0..keys.len()).map(|i| keys.value(i).to_owned()));
    }
    out.sort();
    out
}

/// Every table at the versions of `tables`, by the reference reader:
/// table name to (rows, sorted article numbers of `products`).
fn read_by_reference(
    lakehouse_dir: &Path,
    tables: &BTreeMap<String, Option<u64>>,
) -> serde_json::Value {
    let script = r#"
import json, sys
from deltalake import DeltaTable
root, wanted = sys.argv[1], json.loads(sys.argv[2])
out = {}
for name, version in wanted.items():
    data = DeltaTable(f"{root}/{name}", version=version).to_pyarrow_table()
    entry = {"rows": data.num_rows}
    if name == "products":
        entry["articles"] = sorted(data.column("article_no").to_pylist())
    out[name] = entry
print(json.dumps(out), flush=True)
import os
os._exit(0)
"#;
    let output = Command::new(cradle_test_support::python(&["deltalake"]))
        .args([
            "-c",
            script,
            lakehouse_dir.to_str().expect("a UTF-8 path"),
            &serde_json::to_string(tables).expect("json"),
        ])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "the reference reader failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the reader's JSON")
}

fn check(operations: &[Operation]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let lakehouse_dir = dir.path().join("lakehouse");
    let lakehouse = Lakehouse::new(&lakehouse_dir);
    let mut last: Option<Delivery> = None;
    let mut publishes = 0;
    for operation in operations {
        // What every writing command does first.
        lakehouse.recover().expect("recover");
        match operation {
            Operation::Publish(articles) => {
                let next = delivery(articles);
                publish(&lakehouse_dir, &next);
                last = Some(next);
                publishes += 1;
            }
            Operation::Again => {
                if let Some(previous) = &last {
                    publish(&lakehouse_dir, previous);
                    publishes += 1;
                }
            }
            Operation::Crash { products, commits } => {
                crash(&lakehouse_dir, &delivery(products), *commits)
            }
        }
    }
    lakehouse.recover().expect("recover");
    let Some(expected) = last else {
        assert!(lakehouse.latest().expect("records").is_none());
        return;
    };
    let record = lakehouse.latest().expect("records").expect("a delivery");
    assert_eq!(record.delivery, publishes);
    let mut want: Vec<String> = expected
        .products
        .iter()
        .map(|p| p.article_no.clone())
        .collect();
    want.sort();
    assert_eq!(
        articles_by_cradle(&lakehouse, record.tables[products::NAME]),
        want
    );
    let recorded: BTreeMap<String, Option<u64>> = record
        .tables
        .iter()
        .map(|(name, version)| (name.clone(), Some(*version)))
        .collect();
    let latest: BTreeMap<String, Option<u64>> = record
        .tables
        .keys()
        .map(|name| (name.clone(), None))
        .collect();
    // After recovery a reader of the latest versions (as DuckDB and Spark
    // read by default) sees exactly the published delivery too.
    for versions in [recorded, latest] {
        let reference = read_by_reference(&lakehouse_dir, &versions);
        assert_eq!(
            reference[products::NAME]["articles"],
            serde_json::json!(want)
        );
        assert_eq!(reference[products::NAME]["rows"], want.len());
        assert_eq!(reference[attributes::NAME]["rows"], want.len());
        assert_eq!(reference[rejects::NAME]["rows"], 0);
    }
    let newest = lakehouse
        .table(products::NAME)
        .latest_version()
        .expect("versions")
        .expect("a products table");
    assert_eq!(articles_by_cradle(&lakehouse, newest), want);
    for name in DELIVERY_TABLES {
        assert!(
            lakehouse
                .table(name)
                .vacuum_uncommitted(std::time::Duration::ZERO)
                .expect("vacuum")
                .is_empty(),
            "{name}: data files of a killed ingest were left"
        );
    }
}

proptest! {
    // Each case starts the reference reader once (about a second).
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn recovered_lakehouses_read_the_same_everywhere(
        operations in proptest::collection::vec(operation(), 1..7)
    ) {
        check(&operations);
    }
}

#[test]
fn a_crash_after_every_commit_but_the_last_is_rolled_back() {
    check(&[
        Operation::Publish(vec![1, 2, 3]),
        Operation::Crash {
            products: vec![4, 5],
            commits: 3,
        },
        Operation::Publish(vec![2, 3, 9]),
        Operation::Crash {
            products: vec![],
            commits: 0,
        },
    ]);
}
