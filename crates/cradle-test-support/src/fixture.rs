//! A small, real data folder as the server opens it: one published
//! delivery of five lighting products (two with a power attribute and a
//! dimmable flag, one rejected record), its search index and its catalog,
//! at `<data>/lakehouse`, `<data>/index/search`, `<data>/index/catalog.db`.

use std::path::Path;

use crate::lakehouse::{AttributeRow, Delivery, FileRow, ProductRow, RejectRow, publish};

/// (article, name_de, family, brand, etim_class) of the products.
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

/// The delivery of the data folder.
pub fn delivery() -> Delivery {
    let power = |article: &str, original: &str, watts: f64, row: i64| {
        AttributeRow::text(
            article,
            "Leistung",
            "Leistung [W]",
            original,
            "stamm.csv",
            row,
            "C",
        )
        .number(watts, Some("W"))
    };
    Delivery {
        products: PRODUCTS
            .iter()
            .map(|(article, name, family, brand, class)| {
                ProductRow::new(
                    article,
                    &[
                        ("name_de", name),
                        ("family", family),
                        ("brand", brand),
                        ("etim_class", class),
                    ],
                )
            })
            .collect(),
        attributes: vec![
            power("LW-100234", "12,5", 12.5, 2),
            AttributeRow::text("LW-100234", "Dimmbar", "Dimmbar", "ja", "stamm.csv", 3, "C")
                .boolean(true),
            power("LW-100299", "24", 24.0, 4),
            power("SL-200100", "60", 60.0, 5),
            power("PL-300", "18", 18.0, 6),
        ],
        rejects: vec![RejectRow {
            file: "stamm.csv".into(),
            sheet: None,
            row: Some(9),
            reason: "no_article_no".into(),
            detail: "the record has no article number".into(),
            cells: 3,
            content: r#"["", "12 W", "ja"]"#.into(),
        }],
        files: vec![FileRow::new("stamm.csv", "ab12", 1200)],
        customer: "luxwerk".into(),
    }
}

/// Writes the lakehouse, the search index and the catalog into
/// `data_dir`, as `cradle ingest` and `cradle index` would.
pub async fn write_data_dir(data_dir: &Path) {
    let lakehouse = data_dir.join("lakehouse");
    publish(&lakehouse, &delivery());
    let index = data_dir.join("index");
    std::fs::create_dir_all(&index).expect("index dir");
    cradle_index::build(
        &lakehouse,
        &index.join("search"),
        &cradle_index::BuildOptions::default(),
    )
    .expect("build the index");
    cradle_catalog::build(&lakehouse, &index.join("catalog.db"))
        .await
        .expect("build the catalog");
}
