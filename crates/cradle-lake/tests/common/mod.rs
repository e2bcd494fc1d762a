//! Shared fixtures for the integration tests: a mixed-type schema and
//! deterministic batches of it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{
    Array, BooleanArray, Date32Array, Float32Array, Float64Array, Int16Array, Int32Array,
    Int64Array, LargeStringArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use cradle_lake::{Snapshot, Table, WriteOptions};

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("qty", DataType::Int32, true),
        Field::new("code", DataType::Int16, true),
        Field::new("price", DataType::Float64, true),
        Field::new("weight", DataType::Float32, true),
        Field::new("active", DataType::Boolean, true),
        Field::new("day", DataType::Date32, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("note", DataType::LargeUtf8, true),
    ]))
}

/// Rows `start..start+n`; every 7th row has nulls in the nullable columns.
pub fn batch(start: i64, n: usize) -> RecordBatch {
    let ids: Vec<i64> = (start..start + n as i64).collect();
    let null = |i: &i64| i % 7 == 3;
    let cols: Vec<Arc<dyn Array>> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        Arc::new(StringArray::from_iter(
            ids.iter().map(|i| (!null(i)).then(|| format!("name-{i}"))),
        )),
        Arc::new(Int32Array::from_iter(
            ids.iter().map(|i| (!null(i)).then_some((*i * 2) as i32)),
        )),
        Arc::new(Int16Array::from_iter(
            ids.iter().map(|i| (!null(i)).then_some((*i % 100) as i16)),
        )),
        Arc::new(Float64Array::from_iter(
            ids.iter().map(|i| (!null(i)).then_some(*i as f64 * 0.5)),
        )),
        Arc::new(Float32Array::from_iter(
            ids.iter().map(|i| (!null(i)).then_some(*i as f32 * 0.25)),
        )),
        Arc::new(BooleanArray::from_iter(
            ids.iter().map(|i| (!null(i)).then_some(i % 2 == 0)),
        )),
        Arc::new(Date32Array::from_iter(
            ids.iter().map(|i| (!null(i)).then_some(19_000 + *i as i32)),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter(
                ids.iter()
                    .map(|i| (!null(i)).then_some(1_700_000_000_000_000 + i * 1_000_001)),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(LargeStringArray::from_iter(ids.iter().map(|i| {
            (!null(i)).then(|| format!("note {i} {}", "x".repeat((*i % 50) as usize)))
        }))),
    ];
    RecordBatch::try_new(schema(), cols).unwrap()
}

/// Writes `batches` with `options` and commits; returns the version.
pub fn write(table: &Table, options: WriteOptions, batches: &[RecordBatch]) -> u64 {
    let mut writer = table.writer(batches[0].schema(), options).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.finish().unwrap().commit().unwrap()
}

/// All values of the `id` column of a snapshot, sorted.
pub fn ids(snapshot: &Snapshot) -> Vec<i64> {
    let mut out = Vec::new();
    for batch in snapshot.scan(Some(&["id"])).unwrap() {
        let batch = batch.unwrap();
        let col = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        out.extend(col.values().iter().copied());
    }
    out.sort_unstable();
    out
}

/// Concatenated rows of a full scan, as (batch) list.
pub fn scan_all(snapshot: &Snapshot) -> Vec<RecordBatch> {
    snapshot
        .scan(None)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// A Python with the `deltalake` package (see `cradle-test-support`).
pub fn python() -> PathBuf {
    cradle_test_support::python(&["deltalake"])
}
