//! A small real data directory for the console's tests (and cradle-mcp's,
//! which include this file): a lakehouse of one
//! published delivery (the real `products`, `attributes`, `rejects` and
//! `files` schemas, written with cradle-lake, the delivery record as the
//! `cradle` binary writes it), its search index (`cradle_index::build`)
//! and its catalog (`cradle_catalog::build`), laid out as the server
//! expects: `<data>/lakehouse`, `<data>/index/search`, `<data>/index/catalog.db`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use cradle_console::DataLayout;
use cradle_ingest::{ATTRIBUTES_SCHEMA, PRODUCTS_SCHEMA, REJECTS_SCHEMA};
use cradle_lake::{Table, WriteOptions};
use serde_json::json;

/// (article, name_de, family, brand, etim_class).
pub const PRODUCTS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "LW-100234",
        "Einbauleuchte LED 12 W",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
    ),
    (
        "LW-100299",
        "Einbauleuchte LED 24 W",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
    ),
    (
        "SL-200100",
        "Straßenleuchte Avenue",
        "Außenleuchten",
        "Nordlicht",
        "EC002892",
    ),
    (
        "PL-300",
        "Pendelleuchte Linea",
        "Pendelleuchten",
        "Lumatix",
        "EC001743",
    ),
    (
        "DR-350",
        "LED-Treiber 350 mA",
        "Zubehör",
        "Voltix",
        "EC002710",
    ),
];

/// (article, attribute, header, original, number, boolean, unit).
type Attribute = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<f64>,
    Option<bool>,
    Option<&'static str>,
);

const ATTRIBUTES: &[Attribute] = &[
    (
        "LW-100234",
        "Leistung",
        "Leistung [W]",
        "12,5",
        Some(12.5),
        None,
        Some("W"),
    ),
    (
        "LW-100234",
        "Dimmbar",
        "Dimmbar",
        "ja",
        None,
        Some(true),
        None,
    ),
    (
        "LW-100299",
        "Leistung",
        "Leistung [W]",
        "24",
        Some(24.0),
        None,
        Some("W"),
    ),
    (
        "SL-200100",
        "Leistung",
        "Leistung [W]",
        "60",
        Some(60.0),
        None,
        Some("W"),
    ),
    (
        "PL-300",
        "Leistung",
        "Leistung [W]",
        "18",
        Some(18.0),
        None,
        Some("W"),
    ),
];

fn text(values: Vec<Option<&str>>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn products_batch() -> RecordBatch {
    let schema = PRODUCTS_SCHEMA.clone();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            let name = field.name().as_str();
            match field.data_type() {
                DataType::Utf8 => text(
                    PRODUCTS
                        .iter()
                        .map(|p| match name {
                            "article_no" => Some(p.0),
                            "name_de" => Some(p.1),
                            "family" => Some(p.2),
                            "brand" => Some(p.3),
                            "etim_class" => Some(p.4),
                            "content_hash" => Some("hash"),
                            _ => None,
                        })
                        .collect(),
                ),
                DataType::Float64 => Arc::new(Float64Array::from(vec![None; PRODUCTS.len()])),
                DataType::Int64 => Arc::new(Int64Array::from(vec![1; PRODUCTS.len()])),
                other => panic!("unexpected products column type {other}"),
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).expect("products batch")
}

fn attributes_batch() -> RecordBatch {
    let rows = ATTRIBUTES;
    let n = rows.len();
    let columns: Vec<ArrayRef> = vec![
        text(rows.iter().map(|r| Some(r.0)).collect()),
        text(rows.iter().map(|r| Some(r.1)).collect()),
        text(rows.iter().map(|r| Some(r.2)).collect()),
        text(vec![None; n]),
        text(rows.iter().map(|r| Some(r.3)).collect()),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.5).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(vec![None; n])),
        text(rows.iter().map(|r| r.6).collect()),
        Arc::new(BooleanArray::from(vec![false; n])),
        text(vec![Some("stamm.csv"); n]),
        text(vec![None; n]),
        Arc::new(Int64Array::from((2..2 + n as i64).collect::<Vec<_>>())),
        text(vec![Some("C"); n]),
    ];
    RecordBatch::try_new(ATTRIBUTES_SCHEMA.clone(), columns).expect("attributes batch")
}

fn rejects_batch() -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        text(vec![Some("stamm.csv")]),
        text(vec![None]),
        Arc::new(Int64Array::from(vec![Some(9)])),
        text(vec![Some("no_article_no")]),
        text(vec![Some("the record has no article number")]),
        Arc::new(Int64Array::from(vec![3])),
        text(vec![Some(r#"["", "12 W", "ja"]"#)]),
    ];
    RecordBatch::try_new(REJECTS_SCHEMA.clone(), columns).expect("rejects batch")
}

fn files_batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("sha256", DataType::Utf8, false),
        Field::new("bytes", DataType::Int64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        text(vec![Some("stamm.csv")]),
        text(vec![Some("ab12")]),
        Arc::new(Int64Array::from(vec![1200])),
    ];
    RecordBatch::try_new(schema, columns).expect("files batch")
}

fn write_table(path: &Path, batch: &RecordBatch) -> u64 {
    let mut writer = Table::at(path)
        .writer(batch.schema(), WriteOptions::overwrite())
        .expect("writer");
    writer.write(batch).expect("write");
    writer.finish().expect("finish").commit().expect("commit")
}

/// Writes the lakehouse, the index and the catalog into `data_dir`.
pub async fn write_data_dir(data_dir: &Path) {
    let layout = DataLayout::new(data_dir);
    let lakehouse = layout.lakehouse();
    let mut tables = BTreeMap::new();
    for (name, batch) in [
        ("rejects", rejects_batch()),
        ("files", files_batch()),
        ("attributes", attributes_batch()),
        ("products", products_batch()),
    ] {
        tables.insert(name, write_table(&lakehouse.join(name), &batch));
    }
    let records = lakehouse.join("_cradle").join("deliveries");
    std::fs::create_dir_all(&records).expect("records dir");
    let record = json!({
        "delivery": 1,
        "tables": tables,
        "customer": "luxwerk",
        "committed_at": "2026-03-01T10:00:00Z",
    });
    std::fs::write(
        records.join(format!("{:010}.json", 1)),
        serde_json::to_string_pretty(&record).expect("record"),
    )
    .expect("write record");
    std::fs::create_dir_all(data_dir.join("index")).expect("index dir");
    cradle_index::build(
        &lakehouse,
        &layout.search_index(),
        &cradle_index::BuildOptions::default(),
    )
    .expect("build the index");
    cradle_catalog::build(&lakehouse, &layout.catalog())
        .await
        .expect("build the catalog");
}
