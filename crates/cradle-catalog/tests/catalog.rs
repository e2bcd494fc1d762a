//! Builds a small lakehouse of two published deliveries (the real
//! `products`, `attributes`, `rejects` and `files` schemas, written with
//! cradle-lake, delivery records as the `cradle` binary writes them) plus an
//! unpublished third products version, builds the catalog, and checks
//! product pages, listings, counts, history and the SQL console's bounds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cradle_catalog::{Catalog, ProductFilter, SqlLimits, build};
use cradle_lake::{Table, WriteOptions};
use cradle_lakehouse::schema::products;
use cradle_test_support::lakehouse;
use serde_json::json;

/// (article, family, brand, etim_class, name_de, content_hash).
type ProductRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const DELIVERY_1: &[ProductRow] = &[
    (
        "LW-100",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
        "Einbauleuchte 12 W",
        "h100a",
    ),
    (
        "LW-200",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
        "Einbauleuchte 24 W",
        "h200",
    ),
    (
        "OLD-1",
        "Einbauleuchten",
        "Altmarke",
        "EC001744",
        "Alte Leuchte",
        "hold",
    ),
    (
        "ZB-1",
        "Zubehör",
        "Lumatix",
        "EC002710",
        "Montagerahmen",
        "hzb1",
    ),
];

const DELIVERY_2: &[ProductRow] = &[
    (
        "LW-100",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
        "Einbauleuchte 12 W neu",
        "h100b",
    ),
    (
        "LW-200",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
        "Einbauleuchte 24 W",
        "h200",
    ),
    (
        "LW-300",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
        "Einbauleuchte 36 W",
        "h300",
    ),
    (
        "ZB-1",
        "Zubehör",
        "Lumatix",
        "EC002710",
        "Montagerahmen",
        "hzb1",
    ),
];

/// An attribute row: article, attribute, header, original, number, bool,
/// date (days), unit, no_value, file, sheet, row, column.
struct Attr {
    article: &'static str,
    attribute: &'static str,
    header: &'static str,
    original: &'static str,
    number: Option<f64>,
    boolean: Option<bool>,
    date: Option<i32>,
    unit: Option<&'static str>,
    no_value: bool,
    file: &'static str,
    sheet: Option<&'static str>,
    row: i64,
    column: &'static str,
}

fn attr(
    article: &'static str,
    attribute: &'static str,
    header: &'static str,
    original: &'static str,
    file: &'static str,
    row: i64,
    column: &'static str,
) -> Attr {
    Attr {
        article,
        attribute,
        header,
        original,
        number: None,
        boolean: None,
        date: None,
        unit: None,
        no_value: false,
        file,
        sheet: None,
        row,
        column,
    }
}

fn attributes() -> Vec<Attr> {
    vec![
        Attr {
            number: Some(12.5),
            unit: Some("W"),
            sheet: Some("Technik"),
            ..attr(
                "LW-100",
                "EF009346",
                "Lampenleistung",
                "12,5",
                "etim.xlsx",
                4,
                "C",
            )
        },
        Attr {
            sheet: Some("Technik"),
            ..attr("LW-100", "EF000004", "Farbe", "weiß", "etim.xlsx", 4, "D")
        },
        Attr {
            number: Some(12.0),
            unit: Some("W"),
            ..attr(
                "LW-100",
                "leistung",
                "Leistung",
                "12 W",
                "preise.csv",
                2,
                "E",
            )
        },
        Attr {
            number: Some(12.0),
            unit: Some("W"),
            sheet: Some("Daten"),
            ..attr(
                "LW-100",
                "leistung",
                "Leistung (W)",
                "12",
                "stamm.xlsx",
                7,
                "F",
            )
        },
        Attr {
            boolean: Some(true),
            ..attr(
                "LW-100",
                "lieferbar",
                "Lieferbar",
                "ja",
                "preise.csv",
                2,
                "F",
            )
        },
        Attr {
            date: Some(20_513), // 2026-03-01
            ..attr(
                "LW-100",
                "gueltig_ab",
                "Gültig ab",
                "01.03.2026",
                "preise.csv",
                2,
                "G",
            )
        },
        Attr {
            no_value: true,
            ..attr(
                "LW-100",
                "bemerkung",
                "Bemerkung",
                "n/a",
                "preise.csv",
                2,
                "H",
            )
        },
        attr(
            "LW-100",
            "produktbild",
            "Produktbild",
            "LW-100_01.jpg",
            "medien.xlsx",
            3,
            "B",
        ),
        attr(
            "LW-100",
            "datenblatt_pdf",
            "Datenblatt (PDF)",
            "https://lwx.example/db/LW-100.pdf",
            "medien.xlsx",
            3,
            "D",
        ),
        attr(
            "LW-100",
            "zubehoer",
            "Zubehör",
            "ZB-1",
            "stamm.xlsx",
            7,
            "K",
        ),
        // A successor: the kind is in the sibling cell of the same record.
        attr(
            "LW-200",
            "beziehung",
            "Beziehung",
            "Nachfolger",
            "nachfolger.csv",
            2,
            "B",
        ),
        attr(
            "LW-200",
            "ziel_artnr",
            "Ziel-ArtNr",
            "LW-300",
            "nachfolger.csv",
            2,
            "C",
        ),
        // An accessory by a generic target column; one target is unknown.
        attr(
            "LW-300",
            "relation_type",
            "relation_type",
            "accessory",
            "beziehungen.csv",
            2,
            "B",
        ),
        attr(
            "LW-300",
            "target_article_no",
            "target_article_no",
            "ZB-1",
            "beziehungen.csv",
            2,
            "C",
        ),
        attr(
            "LW-300",
            "relation_type",
            "relation_type",
            "Zubehör",
            "beziehungen.csv",
            3,
            "B",
        ),
        attr(
            "LW-300",
            "target_article_no",
            "target_article_no",
            "NOPE-9",
            "beziehungen.csv",
            3,
            "C",
        ),
        attr(
            "ZB-1",
            "name_de",
            "Bezeichnung",
            "Montagerahmen",
            "stamm.xlsx",
            9,
            "B",
        ),
    ]
}

fn product_row(row: &ProductRow) -> lakehouse::ProductRow {
    let mut fields = vec![
        ("family", row.1),
        ("brand", row.2),
        ("etim_class", row.3),
        ("name_de", row.4),
        ("content_hash", row.5),
    ];
    if row.0 == "LW-100" {
        fields.extend([("gtin", "4012345000014"), ("price", "49.9")]);
    }
    lakehouse::ProductRow::new(row.0, &fields)
}

fn attribute_row(a: &Attr) -> lakehouse::AttributeRow {
    lakehouse::AttributeRow {
        article_no: a.article.into(),
        attribute: a.attribute.into(),
        header: a.header.into(),
        field: None,
        original: a.original.into(),
        number: a.number,
        boolean: a.boolean,
        date: a.date,
        unit: a.unit.map(str::to_owned),
        no_value: a.no_value,
        file: a.file.into(),
        sheet: a.sheet.map(str::to_owned),
        row: a.row,
        column: a.column.into(),
    }
}

/// A products version that no delivery record names.
fn write_products(lakehouse_dir: &Path, rows: &[ProductRow]) {
    let rows: Vec<_> = rows.iter().map(product_row).collect();
    let mut writer = Table::at(lakehouse_dir.join(products::NAME))
        .writer(products::schema(), WriteOptions::overwrite())
        .expect("writer");
    writer
        .write(&lakehouse::products_batch(&rows))
        .expect("write");
    writer.finish().expect("finish").commit().expect("commit");
}

fn write_delivery(lakehouse_dir: &Path, delivery: u64, products: &[ProductRow], attrs: &[Attr]) {
    let record = lakehouse::publish(
        lakehouse_dir,
        &lakehouse::Delivery {
            products: products.iter().map(product_row).collect(),
            attributes: attrs.iter().map(attribute_row).collect(),
            rejects: vec![lakehouse::RejectRow {
                file: "preise.csv".into(),
                sheet: None,
                row: Some(9),
                reason: "no_article_no".into(),
                detail: "the record has no article number".into(),
                cells: 3,
                content: r#"["", "12 W", "ja"]"#.into(),
            }],
            files: vec![
                lakehouse::FileRow::new("preise.csv", "ab12", 1200),
                lakehouse::FileRow::new("stamm.xlsx", "cd34", 34000),
            ],
            customer: "luxwerk".into(),
        },
    );
    assert_eq!(record.delivery, delivery);
}

/// Two published deliveries and an unpublished products version with a
/// product that must not appear.
fn lakehouse(dir: &Path) -> PathBuf {
    let lakehouse = dir.join("lakehouse");
    let first: Vec<Attr> = attributes()
        .into_iter()
        .filter(|a| a.article != "LW-300")
        .collect();
    write_delivery(&lakehouse, 1, DELIVERY_1, &first);
    write_delivery(&lakehouse, 2, DELIVERY_2, &attributes());
    let mut ghost = DELIVERY_2.to_vec();
    ghost.push((
        "GHOST-1",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
        "Unveröffentlicht",
        "hg",
    ));
    write_products(&lakehouse, &ghost);
    lakehouse
}

async fn built(dir: &Path) -> (PathBuf, Catalog) {
    let lakehouse = lakehouse(dir);
    let out = dir.join("index").join("catalog.db");
    let report = build(&lakehouse, &out).await.expect("build");
    assert_eq!(report.delivery, 2);
    assert_eq!(report.products, 4);
    assert_eq!(report.attributes, attributes().len() as u64);
    assert_eq!(report.rejects, 1);
    assert_eq!(report.files, 2);
    assert_eq!(report.relations, 3);
    assert_eq!(report.media, 2);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let catalog = Catalog::open(&out).await.expect("open");
    (out, catalog)
}

#[tokio::test]
async fn product_page_has_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (_, catalog) = built(dir.path()).await;
    let product = catalog.product("LW-100").await.unwrap().expect("LW-100");
    assert_eq!(product.text("name_de"), Some("Einbauleuchte 12 W neu"));
    assert_eq!(product.text("gtin"), Some("4012345000014"));
    assert_eq!(product.fields["price"], json!(49.9));
    assert_eq!(product.etim_class.as_deref(), Some("EC001744"));
    assert!(
        !product.fields.contains_key("price_chf"),
        "nulls are left out"
    );

    let names: Vec<&str> = product.attributes.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "EF000004",
            "EF009346",
            "bemerkung",
            "datenblatt_pdf",
            "gueltig_ab",
            "leistung",
            "lieferbar",
            "produktbild",
            "zubehoer"
        ]
    );
    let power = &product.attributes[5];
    assert_eq!(power.values.len(), 2);
    assert_eq!(power.values[0].provenance.file, "preise.csv");
    assert_eq!(power.values[0].provenance.sheet, None);
    assert_eq!(power.values[0].original, "12 W");
    assert_eq!(power.values[1].provenance.sheet.as_deref(), Some("Daten"));
    assert_eq!(power.values[1].provenance.row, 7);
    assert_eq!(power.values[1].provenance.column, "F");
    assert_eq!(power.values[1].header, "Leistung (W)");
    assert_eq!(power.values[1].value, json!(12.0));
    assert_eq!(power.values[1].unit.as_deref(), Some("W"));
    let value_of = |name: &str| {
        product
            .attributes
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.values[0].value.clone())
    };
    assert_eq!(value_of("lieferbar"), Some(json!(true)));
    assert_eq!(value_of("gueltig_ab"), Some(json!("2026-03-01")));
    assert_eq!(value_of("bemerkung"), Some(json!(null)));
    assert_eq!(value_of("EF000004"), Some(json!("weiß")));

    let features: Vec<(&str, &str, serde_json::Value, Option<&str>)> = product
        .features
        .iter()
        .map(|f| {
            (
                f.code.as_str(),
                f.name.as_str(),
                f.value.clone(),
                f.unit.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        features,
        [
            ("EF000004", "Farbe", json!("weiß"), None),
            ("EF009346", "Lampenleistung", json!(12.5), Some("W")),
        ]
    );

    let media: Vec<(&str, &str)> = product
        .media
        .iter()
        .map(|m| (m.kind.as_str(), m.reference.as_str()))
        .collect();
    assert_eq!(
        media,
        [
            ("image", "LW-100_01.jpg"),
            ("pdf", "https://lwx.example/db/LW-100.pdf"),
        ]
    );

    let relations: Vec<(&str, &str, &str, Option<&str>)> = product
        .relations
        .iter()
        .map(|r| {
            (
                r.relation.as_str(),
                r.direction.as_str(),
                r.article_no.as_str(),
                r.name_de.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        relations,
        [("accessory", "outgoing", "ZB-1", Some("Montagerahmen"))]
    );

    let history: Vec<(u64, &str, Option<&str>)> = product
        .history
        .iter()
        .map(|h| (h.delivery, h.status.as_str(), h.content_hash.as_deref()))
        .collect();
    assert_eq!(
        history,
        [(1, "added", Some("h100a")), (2, "changed", Some("h100b"))]
    );
    assert_eq!(
        product.history[1].committed_at.as_deref(),
        Some("2026-03-02T10:00:00Z")
    );
}

#[tokio::test]
async fn relations_in_both_directions_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let (_, catalog) = built(dir.path()).await;
    let relations = |product: &cradle_catalog::Product| -> Vec<(String, String, String)> {
        product
            .relations
            .iter()
            .map(|r| {
                (
                    r.relation.clone(),
                    r.direction.clone(),
                    r.article_no.clone(),
                )
            })
            .collect()
    };
    let accessory = catalog.product("ZB-1").await.unwrap().unwrap();
    assert_eq!(
        relations(&accessory),
        [
            ("accessory".into(), "incoming".into(), "LW-100".into()),
            ("accessory".into(), "incoming".into(), "LW-300".into()),
        ]
    );
    let new = catalog.product("LW-300").await.unwrap().unwrap();
    assert_eq!(
        relations(&new),
        [
            ("accessory".into(), "outgoing".into(), "ZB-1".into()),
            ("successor".into(), "incoming".into(), "LW-200".into()),
        ]
    );
    let statuses = |product: &cradle_catalog::Product| -> Vec<(u64, String)> {
        product
            .history
            .iter()
            .map(|h| (h.delivery, h.status.clone()))
            .collect()
    };
    assert_eq!(statuses(&new), [(2, "added".to_owned())]);
    let unchanged = catalog.product("LW-200").await.unwrap().unwrap();
    assert_eq!(statuses(&unchanged), [(1, "added".to_owned())]);

    // Removed products have no page but keep their history.
    assert_eq!(catalog.product("OLD-1").await.unwrap(), None);
    let removed: Vec<(u64, String, Option<String>)> = catalog
        .history("OLD-1")
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.delivery, h.status, h.content_hash))
        .collect();
    assert_eq!(
        removed,
        [
            (1, "added".to_owned(), Some("hold".to_owned())),
            (2, "removed".to_owned(), None)
        ]
    );
    // The unpublished products version is not read.
    assert_eq!(catalog.product("GHOST-1").await.unwrap(), None);
}

#[tokio::test]
async fn listings_filter_page_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let (_, catalog) = built(dir.path()).await;
    let articles = |page: &cradle_catalog::Page<cradle_catalog::ProductSummary>| -> Vec<String> {
        page.items.iter().map(|p| p.article_no.clone()).collect()
    };
    let all = catalog.products(&ProductFilter::default()).await.unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(articles(&all), ["LW-100", "LW-200", "LW-300", "ZB-1"]);
    assert_eq!(
        all.items[0].name_de.as_deref(),
        Some("Einbauleuchte 12 W neu")
    );
    assert_eq!(all.items[0].gtin.as_deref(), Some("4012345000014"));

    let family = ProductFilter {
        family: Some("Einbauleuchten".into()),
        limit: 2,
        offset: 2,
        ..ProductFilter::default()
    };
    let page = catalog.products(&family).await.unwrap();
    assert_eq!(
        (page.total, articles(&page)),
        (3, vec!["LW-300".to_owned()])
    );
    let both = ProductFilter {
        brand: Some("Lumatix".into()),
        etim_class: Some("EC002710".into()),
        ..ProductFilter::default()
    };
    let page = catalog.products(&both).await.unwrap();
    assert_eq!((page.total, articles(&page)), (1, vec!["ZB-1".to_owned()]));
    let none = ProductFilter {
        brand: Some("Altmarke".into()),
        ..ProductFilter::default()
    };
    assert_eq!(catalog.products(&none).await.unwrap().total, 0);
    let huge = ProductFilter {
        limit: 1_000_000,
        ..ProductFilter::default()
    };
    assert_eq!(
        catalog.products(&huge).await.unwrap().limit,
        cradle_catalog::MAX_PAGE
    );

    assert_eq!(
        catalog.classes().await.unwrap(),
        [("EC001744".to_owned(), 3), ("EC002710".to_owned(), 1)]
    );
    assert_eq!(
        catalog.families().await.unwrap(),
        [("Einbauleuchten".to_owned(), 3), ("Zubehör".to_owned(), 1)]
    );

    let stats = catalog.stats().await.unwrap();
    assert_eq!(
        (stats.products, stats.attributes, stats.rejects, stats.files),
        (4, attributes().len() as u64, 1, 2)
    );
    assert_eq!((stats.delivery, stats.relations, stats.media), (2, 3, 2));
    assert_eq!(stats.customer, "luxwerk");
    assert_eq!(stats.tables["products"], 1);
    assert!(stats.size_bytes > 0);
    assert!(stats.built_at.ends_with('Z'), "{}", stats.built_at);
}

fn limits(max_rows: usize) -> SqlLimits {
    SqlLimits {
        max_rows,
        ..SqlLimits::default()
    }
}

#[tokio::test]
async fn sql_reads_and_bounds_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (_, catalog) = built(dir.path()).await;
    let result = catalog
        .sql(
            "SELECT article_no, family FROM products ORDER BY article_no;",
            &limits(2),
        )
        .await
        .unwrap();
    assert_eq!(result.columns, ["article_no", "family"]);
    assert_eq!(
        result.rows,
        [
            vec![json!("LW-100"), json!("Einbauleuchten")],
            vec![json!("LW-200"), json!("Einbauleuchten")]
        ]
    );
    assert!(result.truncated);
    let exact = catalog
        .sql("SELECT article_no FROM products", &limits(4))
        .await
        .unwrap();
    assert_eq!((exact.rows.len(), exact.truncated), (4, false));

    let values = catalog
        .sql(
            "SELECT 1 AS i, 2.5 AS r, 'x' AS t, NULL AS n, x'00ff' AS b",
            &SqlLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(values.columns, ["i", "r", "t", "n", "b"]);
    assert_eq!(
        values.rows,
        [vec![
            json!(1),
            json!(2.5),
            json!("x"),
            json!(null),
            json!("00ff")
        ]]
    );

    let empty = catalog
        .sql(
            "SELECT article_no FROM products WHERE 0",
            &SqlLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!((empty.columns.len(), empty.rows.len()), (1, 0));

    let tables = catalog
        .sql(
            "WITH t AS (SELECT name FROM sqlite_master WHERE type IN ('table', 'view')) \
             SELECT name FROM t ORDER BY name",
            &SqlLimits::default(),
        )
        .await
        .unwrap();
    let names: Vec<&str> = tables.rows.iter().filter_map(|r| r[0].as_str()).collect();
    for expected in [
        "attributes",
        "catalog_info",
        "deliveries",
        "features",
        "files",
        "media",
        "product_history",
        "products",
        "rejects",
        "relations",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

    let features = catalog
        .sql(
            "SELECT code, value_number FROM features WHERE article_no = 'LW-100' ORDER BY code",
            &SqlLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        features.rows,
        [
            vec![json!("EF000004"), json!(null)],
            vec![json!("EF009346"), json!(12.5)]
        ]
    );
    let explain = catalog
        .sql(
            "EXPLAIN QUERY PLAN SELECT * FROM attributes WHERE article_no = 'LW-100'",
            &SqlLimits::default(),
        )
        .await
        .unwrap();
    let plan = serde_json::to_string(&explain.rows).unwrap();
    assert!(plan.contains("attributes"), "{plan}");
    let table_info = catalog
        .sql(
            "SELECT name FROM pragma_table_info('relations')",
            &SqlLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(table_info.rows.len(), 4);
}

#[tokio::test]
async fn sql_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, catalog) = built(dir.path()).await;
    let attached = dir.path().join("other.db");
    std::fs::copy(&path, &attached).unwrap();
    for query in [
        "INSERT INTO products (article_no) VALUES ('X')".to_owned(),
        "DELETE FROM attributes".to_owned(),
        "DROP TABLE products".to_owned(),
        "UPDATE products SET name_de = 'x'".to_owned(),
        "CREATE TABLE x (a)".to_owned(),
        format!("ATTACH DATABASE '{}' AS other", attached.display()),
        "ATTACH ':memory:' AS scratch".to_owned(),
        "PRAGMA query_only = OFF".to_owned(),
        "PRAGMA writable_schema = ON".to_owned(),
        "VACUUM".to_owned(),
        "WITH x AS (SELECT 1) DELETE FROM products".to_owned(),
        "WITH x AS (SELECT 1) INSERT INTO products (article_no) SELECT 'X' FROM x".to_owned(),
        "WITH x AS (SELECT 1) UPDATE products SET name_de = 'x'".to_owned(),
    ] {
        let error = catalog
            .sql(&query, &SqlLimits::default())
            .await
            .expect_err(&query);
        assert_eq!(error.code(), "sql_not_read_only", "{query}: {error}");
        assert!(error.is_request_error());
    }
    let error = catalog
        .sql("SELECT 1; DELETE FROM products", &SqlLimits::default())
        .await
        .unwrap_err();
    // SQLite compiles the second statement too, under the authorizer.
    assert_eq!(error.code(), "sql_not_read_only");
    let error = catalog
        .sql("SELECT 1; SELECT 2", &SqlLimits::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_multiple_statements");
    // Extensions cannot be loaded from SQL.
    let error = catalog
        .sql(
            "SELECT load_extension('/tmp/nothing.so')",
            &SqlLimits::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_not_read_only", "{error}");
    assert!(error.to_string().contains("load_extension"), "{error}");
    // Nothing changed.
    let count = catalog
        .sql("SELECT count(*) FROM attributes", &SqlLimits::default())
        .await
        .unwrap();
    assert_eq!(count.rows, [vec![json!(attributes().len())]]);
    let databases = catalog
        .sql(
            "SELECT name FROM pragma_database_list",
            &SqlLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(databases.rows, [vec![json!("main")]]);
}

#[tokio::test]
async fn sql_times_out_and_reports_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_, catalog) = built(dir.path()).await;
    let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) \
                SELECT count(*) FROM c";
    let started = Instant::now();
    let error = catalog
        .sql(
            slow,
            &SqlLimits {
                max_rows: 10,
                timeout: Duration::from_millis(200),
                ..SqlLimits::default()
            },
        )
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.code(), "sql_timeout", "{error}");
    assert!(error.to_string().contains("add a WHERE or LIMIT"));
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(200), "took {elapsed:?}");

    // The connections are usable afterwards, without the old deadline.
    for _ in 0..6 {
        let result = catalog
            .sql(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) \
                 SELECT count(*) FROM c",
                &SqlLimits::default(),
            )
            .await
            .unwrap();
        assert_eq!(result.rows, [vec![json!(1000)]]);
    }
    assert!(catalog.product("LW-100").await.unwrap().is_some());

    let error = catalog
        .sql("SELECT foo FROM products", &SqlLimits::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_error");
    let message = error.to_string();
    assert!(message.starts_with("no such column: foo"), "{message}");
    assert!(
        message.contains("hint: the tables are products, attributes"),
        "{message}"
    );
    let error = catalog
        .sql("SELECT * FROM nowhere", &SqlLimits::default())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no such table: nowhere"),
        "{error}"
    );
    let error = catalog
        .sql("SELEC 1", &SqlLimits::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_error");
    assert!(error.to_string().contains("syntax error"), "{error}");
    let error = catalog
        .sql("SELECT (1", &SqlLimits::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_error");
    assert!(error.to_string().starts_with("incomplete input"), "{error}");
}

fn sidecars(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "catalog.db")
        .collect()
}

#[tokio::test]
async fn opening_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let lakehouse = lakehouse(dir.path());
    let index = dir.path().join("index");
    let out = index.join("catalog.db");
    build(&lakehouse, &out).await.unwrap();
    assert!(sidecars(&index).is_empty(), "{:?}", sidecars(&index));
    let before = std::fs::metadata(&out).unwrap();
    let bytes = std::fs::read(&out).unwrap();

    // Read-only file and directory (root ignores the bits, so also check
    // that no journal, WAL or shared-memory file appears).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&index, std::fs::Permissions::from_mode(0o555)).unwrap();
    let result = async {
        let started = Instant::now();
        let catalog = Catalog::open(&out).await?;
        let opened = started.elapsed();
        catalog.product("LW-100").await?;
        catalog.products(&ProductFilter::default()).await?;
        catalog
            .sql("SELECT * FROM attributes", &SqlLimits::default())
            .await?;
        let _ = catalog
            .sql("DELETE FROM products", &SqlLimits::default())
            .await;
        let _ = catalog
            .sql(
                "WITH x AS (SELECT 1) DELETE FROM products",
                &SqlLimits::default(),
            )
            .await;
        catalog.close().await;
        Ok::<_, Box<dyn std::error::Error>>(opened)
    }
    .await;
    std::fs::set_permissions(&index, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    let opened = result.expect("reading a read-only catalog");
    assert!(opened < Duration::from_secs(1), "open took {opened:?}");

    assert!(sidecars(&index).is_empty(), "{:?}", sidecars(&index));
    let after = std::fs::metadata(&out).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());
    assert!(
        std::fs::read(&out).unwrap() == bytes,
        "the catalog file changed"
    );
}

#[tokio::test]
async fn missing_and_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("index").join("catalog.db");
    let error = Catalog::open(&missing).await.unwrap_err();
    assert_eq!(error.code(), "catalog_missing");
    let message = error.to_string();
    assert!(message.contains("no catalog at"), "{message}");
    assert!(
        message.contains("hint: run `cradle index --workspace"),
        "{message}"
    );

    let foreign = dir.path().join("foreign.db");
    std::fs::write(&foreign, b"this is not SQLite").unwrap();
    let error = Catalog::open(&foreign).await.unwrap_err();
    assert!(
        matches!(error.code(), "catalog_open" | "catalog_incompatible"),
        "{error}"
    );

    // A lakehouse without a published delivery.
    let lakehouse = dir.path().join("lakehouse");
    write_products(&lakehouse, DELIVERY_1);
    let error = build(&lakehouse, &missing).await.unwrap_err();
    assert_eq!(error.code(), "no_delivery");
    assert!(error.to_string().contains("hint: run `cradle ingest`"));
    assert!(!missing.exists());
}

#[tokio::test]
async fn rebuilding_replaces_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let (path, old) = built(dir.path()).await;
    // Publish a third delivery (the ghost version becomes real) and rebuild
    // while the old catalog is open.
    let lakehouse = dir.path().join("lakehouse");
    let mut ghost = DELIVERY_2.to_vec();
    ghost.push((
        "GHOST-1",
        "Einbauleuchten",
        "Lumatix",
        "EC001744",
        "Unveröffentlicht",
        "hg",
    ));
    write_delivery(&lakehouse, 3, &ghost, &attributes());
    let report = build(&lakehouse, &path).await.unwrap();
    assert_eq!((report.delivery, report.products), (3, 5));
    assert_eq!(sidecars(path.parent().unwrap()), Vec::<String>::new());
    // The old handle still reads its snapshot; a new one sees the new data.
    assert!(old.product("GHOST-1").await.unwrap().is_none());
    let new = Catalog::open(&path).await.unwrap();
    let ghost = new.product("GHOST-1").await.unwrap().unwrap();
    assert_eq!(ghost.history[0].delivery, 3);
    assert_eq!(new.stats().await.unwrap().delivery, 3);
}
