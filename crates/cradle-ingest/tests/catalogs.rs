//! BMEcat and ETIM xChange catalogues end to end through `ingest`: the
//! public samples in `tests/data/formats/`, generated catalogues of
//! thousands of products, a catalogue and a spreadsheet of the same
//! products, and broken or hostile documents. Counts are exact.

mod support;

use arrow_array::{Array, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use cradle_core::accounting::RejectReason;
use cradle_core::config::Config;
use cradle_ingest::{FileReport, IngestOptions, IngestOutcome, Silent, Sink, SinkError, ingest};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use support::trade;

#[derive(Default)]
struct Memory {
    attributes: Mutex<Vec<RecordBatch>>,
    rejects: Mutex<Vec<RecordBatch>>,
    products: Mutex<Vec<RecordBatch>>,
}

impl Sink for Memory {
    fn attributes(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.attributes.lock().unwrap().push(batch);
        Ok(())
    }
    fn rejects(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.rejects.lock().unwrap().push(batch);
        Ok(())
    }
    fn products(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.products.lock().unwrap().push(batch);
        Ok(())
    }
}

/// One attribute row, the columns the tests look at.
#[derive(Debug, Clone)]
struct Row {
    article: String,
    attribute: String,
    header: String,
    field: Option<String>,
    original: String,
    number: Option<f64>,
    boolean: Option<bool>,
    unit: Option<String>,
    no_value: bool,
    sheet: String,
    row: i64,
    column: String,
}

fn text(batch: &RecordBatch, name: &str) -> StringArray {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
        .clone()
}

impl Memory {
    fn rows(&self) -> Vec<Row> {
        let mut out = Vec::new();
        for batch in self.attributes.lock().unwrap().iter() {
            let (article, attribute, header, field, original, unit, sheet, column) = (
                text(batch, "article_no"),
                text(batch, "attribute"),
                text(batch, "header"),
                text(batch, "field"),
                text(batch, "original"),
                text(batch, "unit"),
                text(batch, "source_sheet"),
                text(batch, "source_column"),
            );
            let number = batch.column_by_name("value_number").unwrap();
            let number = number.as_any().downcast_ref::<Float64Array>().unwrap();
            let boolean = batch.column_by_name("value_bool").unwrap();
            let boolean = boolean.as_any().downcast_ref::<BooleanArray>().unwrap();
            let no_value = batch.column_by_name("no_value").unwrap();
            let no_value = no_value.as_any().downcast_ref::<BooleanArray>().unwrap();
            let line = batch.column_by_name("source_row").unwrap();
            let line = line.as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..batch.num_rows() {
                let opt = |a: &StringArray| a.is_valid(i).then(|| a.value(i).to_owned());
                out.push(Row {
                    article: article.value(i).to_owned(),
                    attribute: attribute.value(i).to_owned(),
                    header: header.value(i).to_owned(),
                    field: opt(&field),
                    original: original.value(i).to_owned(),
                    number: number.is_valid(i).then(|| number.value(i)),
                    boolean: boolean.is_valid(i).then(|| boolean.value(i)),
                    unit: opt(&unit),
                    no_value: no_value.value(i),
                    sheet: opt(&sheet).unwrap_or_default(),
                    row: line.value(i),
                    column: column.value(i).to_owned(),
                });
            }
        }
        out
    }

    fn products(&self) -> RecordBatch {
        let batches = self.products.lock().unwrap();
        arrow_select::concat::concat_batches(
            &cradle_lakehouse::schema::products::schema(),
            batches.iter(),
        )
        .unwrap()
    }

    /// A canonical text field of a product.
    fn field(&self, article: &str, column: &str) -> Option<String> {
        let products = self.products();
        let keys = text(&products, "article_no");
        let values = text(&products, column);
        (0..products.num_rows())
            .find(|&i| keys.value(i) == article)
            .and_then(|i| values.is_valid(i).then(|| values.value(i).to_owned()))
    }

    fn reject_rows(&self) -> Vec<(String, String, i64)> {
        let mut out = Vec::new();
        for batch in self.rejects.lock().unwrap().iter() {
            let (reason, sheet) = (text(batch, "reason"), text(batch, "source_sheet"));
            let cells = batch.column_by_name("cells").unwrap();
            let cells = cells.as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..batch.num_rows() {
                out.push((
                    reason.value(i).to_owned(),
                    if sheet.is_valid(i) {
                        sheet.value(i).to_owned()
                    } else {
                        String::new()
                    },
                    cells.value(i),
                ));
            }
        }
        out
    }
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/formats")
        .join(name)
}

fn run(paths: &[PathBuf]) -> (IngestOutcome, Memory) {
    let config = Config::default();
    let sink = Memory::default();
    let outcome = ingest(paths, &IngestOptions::new(&config), &sink, &Silent).unwrap();
    (outcome, sink)
}

fn file<'o>(outcome: &'o IngestOutcome, suffix: &str) -> &'o FileReport {
    outcome
        .files
        .iter()
        .find(|f| f.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no file {suffix} in {:?}", outcome.files))
}

/// The line of the first occurrence of `needle` in a text file.
fn line_of(path: &Path, needle: &str) -> i64 {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() as i64 + 1
}

#[test]
fn bmecat_2005_sample_every_cell_accounted_for() {
    let path = data("bmecat-2005-weidmueller-sample.xml");
    let (outcome, sink) = run(std::slice::from_ref(&path));
    let report = file(&outcome, ".xml");
    assert_eq!(report.format, "bmecat");
    assert!(report.error.is_none(), "{:?}", report.error);
    let catalog = report.catalog.as_ref().unwrap();
    assert_eq!(catalog.version, "BMEcat 2005");
    assert_eq!(catalog.records, 1);
    assert_eq!(report.products, 1);
    // 325 cells: 13 outside the product (header, root version), 312 in it:
    // the key, 52 feature names (FT_ID of each FEATURE, all with a value)
    // and 259 attribute rows, 58 of them feature values.
    let b = &report.balance;
    assert_eq!(b.non_empty_cells, 325);
    assert_eq!(b.header_cells, 13 + 52);
    assert_eq!(b.key_cells, 1);
    assert_eq!(b.data_points, 259);
    assert_eq!(b.rejected_cells, 0);
    assert!(report.balance_ok);
    assert_eq!(catalog.header_cells, 13);
    assert_eq!(catalog.feature_values, 58);
    let rows = sink.rows();
    assert_eq!(rows.len(), 259);
    assert!(rows.iter().all(|r| r.article == "1609801044"));

    assert_eq!(
        sink.field("1609801044", "name_de").as_deref(),
        Some("Klemmenmarkierung")
    );
    assert_eq!(
        sink.field("1609801044", "name_en").as_deref(),
        Some("Terminal marking")
    );
    assert_eq!(
        sink.field("1609801044", "gtin").as_deref(),
        Some("4008190397111")
    );
    assert_eq!(
        sink.field("1609801044", "manufacturer_no").as_deref(),
        Some("1609801044")
    );
    assert_eq!(
        sink.field("1609801044", "brand").as_deref(),
        Some("Weidmueller Group")
    );
    assert!(
        sink.field("1609801044", "description_de")
            .unwrap()
            .starts_with("Dekafix, Klemmenmarkierung")
    );

    // Provenance: the net weight is the third FEATURE's FVALUE.
    let weight = rows
        .iter()
        .find(|r| r.attribute == "0173-1#02-AAF040#004")
        .unwrap();
    assert_eq!(
        weight.sheet,
        "/BMECAT/T_NEW_CATALOG/PRODUCT[1]/PRODUCT_FEATURES/FEATURE[3]/FVALUE"
    );
    assert_eq!(weight.column, "PRODUCT_FEATURES/FEATURE[3]/FVALUE");
    assert_eq!(weight.row, line_of(&path, "<FVALUE>0.00013</FVALUE>"));
    assert_eq!(weight.number, Some(0.00013));
    assert_eq!(weight.header, "ECLASS-9.0 27141137 / FVALUE");
    // A value given by reference, and its description as its own row.
    let construction = rows
        .iter()
        .find(|r| r.attribute == "0173-1#02-AAR080#005")
        .unwrap();
    assert_eq!(construction.original, "0173-1#01-ADS444#005");
    assert!(
        rows.iter()
            .any(|r| r.attribute == "0173-1#02-AAR080#005/FVALUE_DETAILS"
                && r.original == "Mechanische und elektrische Konstruktion (s)")
    );
    // Features inside a FEATURE_GROUP carry the group's classification.
    let grouped = rows
        .iter()
        .filter(|r| r.sheet.contains("/FEATURE_GROUP"))
        .filter(|r| r.header.ends_with("/ FVALUE") || r.header.ends_with("/ VALUE_IDREF"))
        .collect::<Vec<_>>();
    assert!(!grouped.is_empty());
    assert!(grouped.iter().all(|r| r.header.starts_with("ECLASS-9.0 ")));
    // Keywords in both languages, the ECLASS class, the price's type.
    assert_eq!(
        rows.iter()
            .filter(|r| r.attribute == "PRODUCT_DETAILS/KEYWORD (deu)")
            .count(),
        4
    );
    assert!(rows.iter().any(|r| r.attribute
        == "PRODUCT_FEATURES/REFERENCE_FEATURE_GROUP_ID (ECLASS-9.0)"
        && r.original == "27141137"));
    assert!(rows.iter().any(
        |r| r.attribute == "PRODUCT_PRICE_DETAILS/PRODUCT_PRICE/@price_type"
            && r.original == "net_customer"
    ));
    // The one media reference is a URL, not a delivered file.
    assert_eq!(catalog.media_references, 1);
    assert_eq!(catalog.media_delivered, 0);
}

#[test]
fn xchange_sample_features_arrive_with_their_class() {
    let path = data("etim-xchange-2.0.sample.json");
    let (outcome, sink) = run(std::slice::from_ref(&path));
    let report = file(&outcome, ".json");
    assert_eq!(report.format, "etim-xchange");
    assert!(report.error.is_none(), "{:?}", report.error);
    let catalog = report.catalog.as_ref().unwrap();
    assert_eq!(catalog.version, "ETIM xChange 2.0");
    assert_eq!(catalog.records, 1);
    assert_eq!(report.products, 1);
    // 404 cells: 31 catalogue and supplier fields, 373 in the product:
    // the key, 65 that name or qualify others (feature codes with a value,
    // language tags) and 307 rows.
    let b = &report.balance;
    assert_eq!(b.non_empty_cells, 404);
    assert_eq!(b.header_cells, 31 + 65);
    assert_eq!(b.key_cells, 1);
    assert_eq!(b.data_points, 307);
    assert!(report.balance_ok);
    let rows = sink.rows();
    assert!(rows.iter().all(|r| r.article == "221099"));
    assert_eq!(
        sink.field("221099", "etim_class").as_deref(),
        Some("EC011533")
    );
    assert_eq!(
        sink.field("221099", "manufacturer_no").as_deref(),
        Some("04011969")
    );
    assert_eq!(
        sink.field("221099", "gtin").as_deref(),
        Some("04047621001104")
    );
    assert_eq!(
        sink.field("221099", "name_en").as_deref(),
        Some("Example product")
    );
    assert_eq!(sink.field("221099", "brand").as_deref(), Some("Mymake"));
    assert_eq!(sink.field("221099", "currency").as_deref(), Some("GBP"));

    // The 36 features of class EC011533: 38 values (two ranges have a
    // lower and an upper bound), each named by its feature code.
    let class_rows: Vec<&Row> = rows
        .iter()
        .filter(|r| r.header.starts_with("EC011533 / "))
        .collect();
    assert_eq!(class_rows.len(), 38);
    let mut features: Vec<&str> = class_rows.iter().map(|r| r.attribute.as_str()).collect();
    features.sort();
    features.dedup();
    assert_eq!(features.len(), 36);
    assert!(
        features
            .iter()
            .all(|f| f.starts_with("EF") || f.starts_with("EFI"))
    );
    let logical = class_rows
        .iter()
        .filter(|r| r.header.ends_with("EtimValueLogical"))
        .count();
    assert_eq!(logical, 14);
    assert!(
        class_rows
            .iter()
            .filter(|r| r.header.ends_with("EtimValueLogical"))
            .all(|r| r.boolean.is_some())
    );
    let no_value: Vec<&&Row> = class_rows.iter().filter(|r| r.no_value).collect();
    assert_eq!(no_value.len(), 3);
    assert!(
        no_value
            .iter()
            .all(|r| ["MV", "NA", "UN"].contains(&r.original.as_str()))
    );
    // Provenance: a JSON pointer and the line.
    let first = class_rows.first().unwrap();
    assert_eq!(first.attribute, "EF002169");
    assert_eq!(first.original, "EV000138");
    assert_eq!(
        first.sheet,
        "/Supplier/0/Product/0/EtimClassification/0/EtimFeatures/0/EtimValueCode"
    );
    assert_eq!(first.row, line_of(&path, "\"EtimValueCode\": \"EV000138\""));
    // Every feature value of the document: 38, the modelling ports' 14,
    // and one of the other (ECLASS) classification.
    assert_eq!(catalog.feature_values, 53);
    let eclass = rows
        .iter()
        .find(|r| r.attribute == "Rated error current")
        .unwrap();
    assert_eq!(eclass.unit.as_deref(), Some("ampere (A)"));
    assert_eq!(
        eclass.header,
        "ECLASS 27-14-22-01 / ClassificationFeatureValue1"
    );
    // The price, with the catalogue's currency.
    let price = rows
        .iter()
        .find(|r| r.field.as_deref() == Some("price"))
        .unwrap();
    assert_eq!(price.original, "23");
    assert_eq!(price.unit.as_deref(), Some("GBP"));
    assert_eq!(catalog.media_references, 4);
}

fn write(dir: &Path, name: &str, body: impl FnOnce(&mut std::fs::File)) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    body(&mut file);
    path
}

#[test]
fn generated_bmecat_streams_thousands_of_products() {
    let dir = tempfile::tempdir().unwrap();
    let products = 3000;
    for (name, version) in [
        ("catalog-2005.xml", trade::Bmecat::V2005Prefixed),
        ("catalog-12.xml", trade::Bmecat::V12Latin1),
    ] {
        let path = write(dir.path(), name, |f| {
            trade::bmecat(products, version, f).unwrap()
        });
        let (outcome, sink) = run(&[path]);
        let report = file(&outcome, name);
        assert_eq!(report.format, "bmecat", "{name}");
        assert!(report.error.is_none(), "{name}: {:?}", report.error);
        let counts = trade::bmecat_counts();
        let n = products as u64;
        let b = &report.balance;
        assert_eq!(report.products, n, "{name}");
        assert_eq!(b.loaded_rows, n);
        assert_eq!(b.key_cells, n);
        assert_eq!(b.data_points, counts.rows * n, "{name}");
        assert_eq!(
            b.header_cells,
            trade::BMECAT_HEADER_CELLS + counts.naming * n,
            "{name}"
        );
        assert_eq!(
            b.non_empty_cells,
            trade::BMECAT_HEADER_CELLS + counts.cells * n
        );
        assert!(report.balance_ok, "{name}");
        let catalog = report.catalog.as_ref().unwrap();
        assert_eq!(catalog.feature_values, trade::FEATURE_VALUES as u64 * n);
        assert_eq!(outcome.product_hashes.len(), products);
        let rows = sink.rows();
        // Latin-1 decoded, entities resolved.
        let last = trade::article(products - 1);
        assert_eq!(
            sink.field(&last, "name_de").as_deref(),
            Some(format!("Downlight Größe {}", products - 1).as_str())
        );
        assert_eq!(
            sink.field(&last, "description_en").as_deref(),
            Some(format!("Surface-mounted luminaire & more, no. {}", products - 1).as_str())
        );
        assert_eq!(sink.field(&last, "etim_class").as_deref(), Some("EC001744"));
        assert_eq!(sink.field(&last, "gtin"), Some(trade::gtin(products - 1)));
        assert_eq!(sink.field(&last, "currency").as_deref(), Some("EUR"));
        let root = if version == trade::Bmecat::V12Latin1 {
            "/BMECAT/T_NEW_CATALOG/ARTICLE"
        } else {
            "/BMECAT/T_NEW_CATALOG/PRODUCT"
        };
        let range: Vec<&Row> = rows
            .iter()
            .filter(|r| r.article == last && r.attribute == "EF001003")
            .collect();
        assert_eq!(range.len(), 2, "{name}");
        assert_eq!(range[0].unit.as_deref(), Some("CEL"));
        assert_eq!(range[0].number, Some(-20.0));
        assert_eq!(
            range[1].sheet,
            format!(
                "{root}[{products}]/{}_FEATURES/FEATURE[4]/FVALUE[2]",
                &root[22..]
            )
        );
        let power = rows
            .iter()
            .find(|r| r.article == last && r.attribute == "EF001000")
            .unwrap();
        assert_eq!(power.unit.as_deref(), Some("W"));
        assert_eq!(power.header, "ETIM-8.0 EC001744 / FVALUE");
        let dash = rows
            .iter()
            .find(|r| r.article == last && r.attribute == "EF001007")
            .unwrap();
        assert!(dash.no_value);
        // No media file was delivered with the catalogue.
        assert_eq!(catalog.media_references, n);
        assert_eq!(catalog.media_delivered, 0);
    }
}

#[test]
fn media_references_name_delivered_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "catalog.xml", |f| {
        trade::bmecat(3, trade::Bmecat::V2005Prefixed, f).unwrap()
    });
    std::fs::create_dir(dir.path().join("images")).unwrap();
    for i in 0..2 {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        std::fs::write(
            dir.path().join(format!("images/{}.jpg", trade::article(i))),
            jpeg,
        )
        .unwrap();
    }
    let (outcome, _) = run(&[dir.path().to_path_buf()]);
    let catalog = file(&outcome, "catalog.xml").catalog.clone().unwrap();
    assert_eq!(catalog.media_references, 3);
    assert_eq!(catalog.media_delivered, 2);
    assert_eq!(
        catalog.media_missing,
        vec![format!("images/{}.jpg", trade::article(2))]
    );
}

#[test]
fn bmecat_and_spreadsheet_of_the_same_products_merge() {
    let dir = tempfile::tempdir().unwrap();
    let products = 500;
    write(dir.path(), "catalog.xml", |f| {
        trade::bmecat(products, trade::Bmecat::V2005Prefixed, f).unwrap()
    });
    trade::xlsx(products, &dir.path().join("prices.xlsx"));
    let (outcome, sink) = run(&[dir.path().to_path_buf()]);
    assert!(
        outcome
            .files
            .iter()
            .all(|f| f.balance_ok && f.error.is_none())
    );
    assert_eq!(outcome.product_hashes.len(), products);
    let merged = sink.products();
    assert_eq!(merged.num_rows(), products);
    let records = merged.column_by_name("records").unwrap();
    let records = records.as_any().downcast_ref::<Int64Array>().unwrap();
    assert!((0..products).all(|i| records.value(i) == 2));
    // The same GTIN, names, class and price from both: no conflicts.
    assert_eq!(outcome.conflicts.products, 0, "{:?}", outcome.conflicts);
    let product = trade::article(17);
    assert_eq!(sink.field(&product, "gtin"), Some(trade::gtin(17)));
    assert_eq!(
        sink.field(&product, "name_en").as_deref(),
        Some("Downlight size 17")
    );
}

#[test]
fn generated_xchange_with_several_trade_items() {
    let dir = tempfile::tempdir().unwrap();
    let products = 2000;
    let path = write(dir.path(), "catalog.json", |f| {
        trade::xchange(products, f).unwrap()
    });
    let (outcome, sink) = run(&[path]);
    let report = file(&outcome, "catalog.json");
    assert_eq!(report.format, "etim-xchange");
    assert!(report.error.is_none(), "{:?}", report.error);
    assert!(report.balance_ok);
    let extra = products / 10;
    assert_eq!(report.products as usize, products + extra);
    let catalog = report.catalog.as_ref().unwrap();
    assert_eq!(catalog.records as usize, products + extra);
    assert_eq!(catalog.feature_values as usize, 6 * products);
    // Catalogue id, version, currency, supplier name.
    assert_eq!(
        report.balance.header_cells as usize,
        4 + 5 * products + 2 * products
    );
    let second = format!("{}-B", trade::article(10));
    assert_eq!(sink.field(&second, "gtin"), Some(trade::gtin(1_000_010)));
    let rows = sink.rows();
    let price = rows
        .iter()
        .find(|r| r.article == second && r.field.as_deref() == Some("price"))
        .unwrap();
    assert_eq!(price.number, Some(99.5));
    assert_eq!(
        price.sheet,
        "/Supplier/0/Product/10/TradeItem/1/Pricing/0/GrossListPrice"
    );
    let numeric = rows
        .iter()
        .find(|r| r.article == trade::article(5) && r.attribute == "EF000008")
        .unwrap();
    assert_eq!(numeric.number, Some(15.0));
    assert_eq!(numeric.header, "EC001744 / EtimValueNumeric");
}

#[test]
fn truncated_bmecat_keeps_the_whole_products_before_the_break() {
    let dir = tempfile::tempdir().unwrap();
    let mut whole = Vec::new();
    trade::bmecat(10, trade::Bmecat::V2005Prefixed, &mut whole).unwrap();
    // Cut inside the eighth product, after its key and descriptions.
    let text = String::from_utf8(whole).unwrap();
    let eighth = text.match_indices("<bme:PRODUCT mode").nth(7).unwrap().0;
    let cut = eighth + text[eighth..].find("</bme:PRODUCT_DETAILS>").unwrap();
    let path = dir.path().join("cut.xml");
    std::fs::write(&path, &text[..cut]).unwrap();
    let (outcome, sink) = run(&[path]);
    let report = file(&outcome, "cut.xml");
    assert_eq!(report.kind, "table");
    let error = report.error.as_deref().unwrap();
    assert!(error.contains("line "), "{error}");
    assert!(
        error.contains("the 7 records before it were loaded"),
        "{error}"
    );
    assert_eq!(report.products, 7);
    // The broken product's cells read so far: mode, key, 4 descriptions,
    // GTIN, manufacturer number and name.
    assert_eq!(report.unread_cells, 9);
    assert!(report.balance_ok);
    let rejects = sink.reject_rows();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].2, 9);
    assert_eq!(sink.rows().len() as u64, 7 * trade::bmecat_counts().rows);
}

#[test]
fn malformed_and_hostile_documents_are_named_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE BMECAT [\n <!ENTITY a \"aaaaaaaaaa\">\n <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n]>\n<BMECAT version=\"2005\"><T_NEW_CATALOG><PRODUCT><SUPPLIER_PID>&b;</SUPPLIER_PID></PRODUCT></T_NEW_CATALOG></BMECAT>\n";
    std::fs::write(dir.path().join("bomb.xml"), bomb).unwrap();
    let mismatched = "<BMECAT version=\"2005\"><T_NEW_CATALOG>\n<PRODUCT><SUPPLIER_PID>1</SUPPLIER_PID></PRODUCT>\n<PRODUCT><SUPPLIER_PID>2</SUPPLIER_PID><X></Y></PRODUCT></T_NEW_CATALOG></BMECAT>";
    std::fs::write(dir.path().join("mismatched.xml"), mismatched).unwrap();
    let json = "{\"CatalogueId\": \"x\", \"Supplier\": [{\"Product\": [\n{\"TradeItem\": [{\"ItemIdentification\": {\"SupplierItemNumber\": \"A\"}}]},\n{\"TradeItem\": [{\"ItemIdentification\": {\"SupplierItemNumber\": \"B\", ";
    std::fs::write(dir.path().join("cut.json"), json).unwrap();
    let keyless = "<BMECAT version=\"2005\"><T_NEW_CATALOG><PRODUCT><PRODUCT_DETAILS><DESCRIPTION_SHORT lang=\"deu\">ohne Nummer</DESCRIPTION_SHORT></PRODUCT_DETAILS></PRODUCT></T_NEW_CATALOG></BMECAT>";
    std::fs::write(dir.path().join("keyless.xml"), keyless).unwrap();
    let (outcome, sink) = run(&[dir.path().to_path_buf()]);

    let bomb = file(&outcome, "bomb.xml");
    assert!(bomb.unreadable());
    assert!(bomb.error.as_deref().unwrap().contains("<!ENTITY"));
    assert_eq!(bomb.products, 0);

    let mismatched = file(&outcome, "mismatched.xml");
    assert_eq!(mismatched.products, 1);
    let error = mismatched.error.as_deref().unwrap();
    assert!(
        error.contains("malformed") && error.contains("line 3"),
        "{error}"
    );
    assert_eq!(mismatched.unread_cells, 1);
    assert!(mismatched.balance_ok);

    let cut = file(&outcome, "cut.json");
    assert_eq!(cut.products, 1);
    let error = cut.error.as_deref().unwrap();
    assert!(
        error.contains("JSON") && error.contains("line 3"),
        "{error}"
    );
    assert_eq!(cut.unread_cells, 1);
    assert!(cut.balance_ok);

    let keyless = file(&outcome, "keyless.xml");
    assert_eq!(keyless.balance.rejected_by_reason[&RejectReason::NoKey], 1);
    assert_eq!(keyless.balance.rejected_cells, 1);
    assert!(keyless.balance_ok);
    assert!(
        sink.reject_rows()
            .iter()
            .any(|(reason, sheet, cells)| reason == "no_key"
                && sheet == "/BMECAT/T_NEW_CATALOG/PRODUCT[1]"
                && *cells == 1)
    );
}
