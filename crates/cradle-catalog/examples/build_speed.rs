//! Measures building and querying a catalog on a synthetic lakehouse:
//! `cargo run -p cradle-catalog --example build_speed -- [attribute rows]`
//! (default 1,000,000 rows, 75 per product, like the demo delivery).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::DataType;
use cradle_catalog::{Catalog, ProductFilter, SqlLimits, build};
use cradle_lake::{Table, WriteOptions};
use cradle_lakehouse::schema::{attributes, products, rejects};

const PER_PRODUCT: usize = 75;
const BATCH: usize = 65_536;

fn text(values: impl Iterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn article(index: usize) -> String {
    format!("LW-{index:07}")
}

fn products(count: usize) -> RecordBatch {
    let columns: Vec<ArrayRef> = products::schema()
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            match (field.name().as_str(), field.data_type()) {
                ("article_no", _) => text((0..count).map(|i| Some(article(i)))),
                ("family", _) => text((0..count).map(|i| Some(format!("Familie {}", i % 12)))),
                ("brand", _) => text((0..count).map(|i| Some(format!("Marke {}", i % 3)))),
                ("etim_class", _) => text((0..count).map(|i| Some(format!("EC00{:04}", i % 40)))),
                ("name_de", _) => text((0..count).map(|i| Some(format!("Leuchte {i} LED")))),
                ("content_hash", _) => text((0..count).map(|i| Some(format!("{i:016x}")))),
                (_, DataType::Utf8) => text((0..count).map(|_| None)),
                (_, DataType::Float64) => Arc::new(Float64Array::from(vec![Some(9.5); count])),
                _ => Arc::new(Int64Array::from(vec![PER_PRODUCT as i64; count])),
            }
        })
        .collect();
    RecordBatch::try_new(products::schema(), columns).expect("products")
}

fn attributes(start: usize, rows: usize) -> RecordBatch {
    let range = start..start + rows;
    let product = |i: usize| i / PER_PRODUCT;
    let slot = |i: usize| i % PER_PRODUCT;
    let columns: Vec<ArrayRef> = vec![
        text(range.clone().map(|i| Some(article(product(i))))),
        text(range.clone().map(|i| Some(format!("EF{:06}", slot(i))))),
        text(range.clone().map(|i| {
            Some(match slot(i) {
                1 => "Zubehör".to_owned(),
                n => format!("Merkmal {n}"),
            })
        })),
        text(range.clone().map(|_| None)),
        text(range.clone().map(|i| {
            Some(match slot(i) {
                0 => format!("{}_01.jpg", article(product(i))),
                1 if product(i) > 0 => article(product(i) - 1),
                _ => format!("{},5", i % 1000),
            })
        })),
        Arc::new(Float64Array::from(
            range
                .clone()
                .map(|i| Some((i % 1000) as f64 + 0.5))
                .collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(vec![None; rows])),
        Arc::new(Date32Array::from(vec![None; rows])),
        text(range.clone().map(|_| Some("W".to_owned()))),
        Arc::new(BooleanArray::from(vec![false; rows])),
        text(
            range
                .clone()
                .map(|i| Some(format!("datei_{}.xlsx", slot(i) % 20))),
        ),
        text(range.clone().map(|_| Some("Daten".to_owned()))),
        Arc::new(Int64Array::from(
            range
                .clone()
                .map(|i| product(i) as i64 + 2)
                .collect::<Vec<_>>(),
        )),
        text(range.map(|i| Some(format!("C{}", slot(i))))),
    ];
    RecordBatch::try_new(attributes::schema(), columns).expect("attributes")
}

fn commit(path: &Path, batches: impl Iterator<Item = RecordBatch>) -> u64 {
    let mut writer = None;
    for batch in batches {
        let writer = writer.get_or_insert_with(|| {
            Table::at(path)
                .writer(batch.schema(), WriteOptions::overwrite())
                .expect("writer")
        });
        writer.write(&batch).expect("write");
    }
    writer
        .expect("one batch")
        .finish()
        .expect("finish")
        .commit()
        .expect("commit")
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let lakehouse = dir.path().join("lakehouse");
    let count = rows.div_ceil(PER_PRODUCT);
    let started = Instant::now();
    let mut tables = BTreeMap::new();
    tables.insert(
        "products",
        commit(
            &lakehouse.join("products"),
            std::iter::once(products(count)),
        ),
    );
    tables.insert(
        "attributes",
        commit(
            &lakehouse.join("attributes"),
            (0..rows)
                .step_by(BATCH)
                .map(|start| attributes(start, BATCH.min(rows - start))),
        ),
    );
    let empty = RecordBatch::new_empty(rejects::schema());
    tables.insert(
        "rejects",
        commit(&lakehouse.join("rejects"), std::iter::once(empty.clone())),
    );
    tables.insert(
        "files",
        commit(&lakehouse.join("files"), std::iter::once(empty)),
    );
    let records = lakehouse.join("_cradle").join("deliveries");
    std::fs::create_dir_all(&records).expect("records dir");
    let record = serde_json::json!({
        "delivery": 1, "tables": tables, "customer": "bench", "committed_at": "2026-03-01T00:00:00Z"
    });
    std::fs::write(records.join("0000000001.json"), record.to_string()).expect("record");
    println!(
        "lakehouse: {rows} attribute rows, {count} products in {:.1?}",
        started.elapsed()
    );

    let out = dir.path().join("catalog.db");
    let report = build(&lakehouse, &out).await.expect("build");
    println!(
        "build: load {:.1?} ({:.0} attribute rows/s), indexes+analyze {:.1?}, total {:.1?}, {:.1} MB, {} relations, {} media",
        report.load_time,
        report.attribute_rows_per_second(),
        report.index_time,
        report.total_time,
        report.size_bytes as f64 / 1e6,
        report.relations,
        report.media,
    );

    let timed = Instant::now();
    let catalog = Catalog::open(&out).await.expect("open");
    println!("open: {:.1?}", timed.elapsed());
    let middle = article(count / 2);
    for round in 0..3 {
        let timed = Instant::now();
        let product = catalog
            .product(&middle)
            .await
            .expect("product")
            .expect("exists");
        println!(
            "product page #{round}: {:.2?} ({} attribute groups, {} features, {} relations, {} media)",
            timed.elapsed(),
            product.attributes.len(),
            product.features.len(),
            product.relations.len(),
            product.media.len()
        );
    }
    let timed = Instant::now();
    let filter = ProductFilter {
        family: Some("Familie 3".into()),
        offset: 500,
        ..ProductFilter::default()
    };
    let page = catalog.products(&filter).await.expect("products");
    println!(
        "products(family, offset 500): {:.2?} (total {})",
        timed.elapsed(),
        page.total
    );
    let timed = Instant::now();
    let classes = catalog.classes().await.expect("classes");
    println!(
        "classes: {:.2?} ({} classes)",
        timed.elapsed(),
        classes.len()
    );
    for query in [
        "SELECT count(*) FROM attributes",
        "SELECT attribute, avg(value_number) FROM attributes GROUP BY attribute",
        "SELECT * FROM features WHERE code = 'EF000007' AND value_number > 900",
    ] {
        let result = catalog
            .sql(query, &SqlLimits::default())
            .await
            .expect(query);
        println!(
            "sql {query:?}: {} ms, {} rows{}",
            result.elapsed_ms,
            result.rows.len(),
            if result.truncated { " (truncated)" } else { "" }
        );
    }
}
