//! Manual throughput measurement: writes N rows (default 8,000,000) of 10
//! columns (5 strings, 5 integers) to a fresh table, commits, then scans it.
//!
//! `cargo run -p cradle-lake --example write_throughput -- [rows] [dir]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use cradle_lake::{Table, WriteOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map_or(8_000_000, |a| a.parse().expect("rows"));
    let dir = args.next().map_or_else(
        || std::env::temp_dir().join("cradle-lake-throughput"),
        Into::into,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let schema = Arc::new(Schema::new(vec![
        Field::new("sku", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, true),
        Field::new("brand", DataType::Utf8, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("ean", DataType::Utf8, true),
        Field::new("id", DataType::Int64, false),
        Field::new("stock", DataType::Int64, true),
        Field::new("price_cents", DataType::Int64, true),
        Field::new("year", DataType::Int32, true),
        Field::new("pack", DataType::Int32, true),
    ]));
    let batch_rows = 65_536;
    let table = Table::at(&dir);
    let mut writer = table
        .writer(schema.clone(), WriteOptions::default())
        .unwrap();
    let (mut gen_time, mut write_time) = (Duration::ZERO, Duration::ZERO);
    let start = Instant::now();
    let mut done = 0;
    while done < rows {
        let n = batch_rows.min(rows - done);
        let t = Instant::now();
        let ids: Vec<i64> = (done as i64..(done + n) as i64).collect();
        let s = |f: &dyn Fn(i64) -> String| -> Arc<dyn Array> {
            Arc::new(StringArray::from_iter_values(ids.iter().map(|i| f(*i))))
        };
        let cols: Vec<Arc<dyn Array>> = vec![
            s(&|i| format!("SKU-{i:010}")),
            s(&|i| format!("Product title number {i} with some words")),
            s(&|i| format!("Brand {}", i % 500)),
            s(&|i| format!("Category/{}/{}", i % 20, i % 300)),
            s(&|i| format!("{:013}", 4_000_000_000_000 + i * 7)),
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Int64Array::from_iter_values(ids.iter().map(|i| i % 1000))),
            Arc::new(Int64Array::from_iter_values(
                ids.iter().map(|i| 99 + (i * 37) % 100_000),
            )),
            Arc::new(Int32Array::from_iter_values(
                ids.iter().map(|i| 1990 + (i % 35) as i32),
            )),
            Arc::new(Int32Array::from_iter_values(
                ids.iter().map(|i| 1 + (i % 12) as i32),
            )),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
        gen_time += t.elapsed();
        let t = Instant::now();
        writer.write(&batch).unwrap();
        write_time += t.elapsed();
        done += n;
    }
    let t = Instant::now();
    let version = writer.finish().unwrap().commit().unwrap();
    write_time += t.elapsed();
    let total = start.elapsed();
    let snap = table.snapshot(None).unwrap();
    let bytes: i64 = snap.files.iter().map(|f| f.size).sum();
    println!(
        "wrote {rows} rows x 10 cols as version {version}: {} files, {:.1} MB",
        snap.files.len(),
        bytes as f64 / 1e6
    );
    println!(
        "total {:.2}s ({:.0} rows/s); batch generation {:.2}s; write+commit {:.2}s ({:.0} rows/s)",
        total.as_secs_f64(),
        rows as f64 / total.as_secs_f64(),
        gen_time.as_secs_f64(),
        write_time.as_secs_f64(),
        rows as f64 / write_time.as_secs_f64()
    );
    let t = Instant::now();
    let scanned: usize = snap
        .scan(None)
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum();
    println!(
        "scan {scanned} rows in {:.2}s ({:.0} rows/s)",
        t.elapsed().as_secs_f64(),
        scanned as f64 / t.elapsed().as_secs_f64()
    );
}
