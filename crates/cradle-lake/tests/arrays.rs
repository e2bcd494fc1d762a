//! Lists of primitives are stored as Delta `array` columns (embedding
//! vectors are `array<float>`): cradle-lake reads back what it wrote, and
//! the PyPI `deltalake` package reads the same values with the same type.

mod common;

use std::process::Command;
use std::sync::Arc;

use arrow_array::builder::{Float32Builder, ListBuilder};
use arrow_array::{Array, Float32Array, Int64Array, ListArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use cradle_lake::{Table, WriteOptions};

fn vectors(rows: usize, dim: usize) -> RecordBatch {
    let item = Arc::new(Field::new("element", DataType::Float32, false));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("vector", DataType::List(item.clone()), false),
    ]));
    let mut list = ListBuilder::new(Float32Builder::new()).with_field(item);
    for row in 0..rows {
        for d in 0..dim {
            list.values().append_value((row * dim + d) as f32 / 8.0);
        }
        list.append(true);
    }
    let ids = Int64Array::from_iter_values(0..rows as i64);
    RecordBatch::try_new(schema, vec![Arc::new(ids), Arc::new(list.finish())]).unwrap()
}

#[test]
fn float_vectors_round_trip_and_read_in_delta_rs() {
    let dir = tempfile::tempdir().unwrap();
    let table = Table::at(dir.path().join("embeddings"));
    let batch = vectors(300, 4);
    let mut writer = table
        .writer(batch.schema(), WriteOptions::overwrite())
        .unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap().commit().unwrap();

    let snapshot = table.snapshot(None).unwrap();
    let read: Vec<RecordBatch> = snapshot
        .scan(Some(&["vector", "id"]))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(read.iter().map(RecordBatch::num_rows).sum::<usize>(), 300);
    let lists = read[0]
        .column(0)
        .as_any()
        .downcast_ref::<ListArray>()
        .unwrap();
    let row7 = lists.value(7);
    let row7 = row7.as_any().downcast_ref::<Float32Array>().unwrap();
    assert_eq!(row7.values(), &[3.5, 3.625, 3.75, 3.875]);
    let log =
        std::fs::read_to_string(table.path().join("_delta_log/00000000000000000000.json")).unwrap();
    assert!(
        log.contains(r#"{\"containsNull\":false,\"elementType\":\"float\",\"type\":\"array\"}"#),
        "{log}"
    );

    // `os._exit`: the reader's runtime sometimes aborts during interpreter
    // teardown ("terminate called without an active exception") after the
    // answer is out.
    let python = common::python();
    let script = "import sys, json\nfrom deltalake import DeltaTable\n\
        t = DeltaTable(sys.argv[1]).to_pyarrow_table()\n\
        v = t.column('vector')\n\
        print(json.dumps({'rows': t.num_rows, 'type': str(v.type), 'row7': v[7].as_py()}), flush=True)\n\
        import os\n\
        os._exit(0)";
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(table.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["rows"], 300);
    assert!(
        seen["type"].as_str().unwrap().starts_with("list<"),
        "{seen}"
    );
    assert_eq!(seen["row7"], serde_json::json!([3.5, 3.625, 3.75, 3.875]));
}
