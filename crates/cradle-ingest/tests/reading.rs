//! Reading small deliveries end to end through the public `ingest` entry
//! point, with an in-memory sink.

use arrow_array::{Array, RecordBatch, StringArray};
use cradle_core::accounting::RejectReason;
use cradle_core::config::Config;
use cradle_ingest::{IngestOptions, IngestOutcome, Silent, Sink, SinkError, ingest};
use std::path::Path;
use std::sync::Mutex;

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

impl Memory {
    /// The whole `products` table as one batch.
    fn products(&self) -> RecordBatch {
        let batches = self.products.lock().unwrap();
        arrow_select::concat::concat_batches(
            &cradle_lakehouse::schema::products::schema(),
            batches.iter(),
        )
        .unwrap()
    }

    fn attribute_rows(&self) -> usize {
        self.attributes
            .lock()
            .unwrap()
            .iter()
            .map(RecordBatch::num_rows)
            .sum()
    }

    /// `(article_no, attribute, original, unit)` of every attribute row.
    fn values(&self) -> Vec<(String, String, String, Option<String>)> {
        let mut out = Vec::new();
        for batch in self.attributes.lock().unwrap().iter() {
            let column = |name: &str| {
                batch
                    .column_by_name(name)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .unwrap()
                    .clone()
            };
            let (article, attribute, original, unit) = (
                column("article_no"),
                column("attribute"),
                column("original"),
                column("unit"),
            );
            for i in 0..batch.num_rows() {
                out.push((
                    article.value(i).to_owned(),
                    attribute.value(i).to_owned(),
                    original.value(i).to_owned(),
                    unit.is_valid(i).then(|| unit.value(i).to_owned()),
                ));
            }
        }
        out.sort();
        out
    }
}

fn run(dir: &Path, config: &Config) -> (IngestOutcome, Memory) {
    let memory = Memory::default();
    let options = IngestOptions::new(config);
    let outcome = ingest(&[dir.to_path_buf()], &options, &memory, &Silent).unwrap();
    (outcome, memory)
}

fn delivery(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

#[test]
fn title_block_bad_rows_and_balance() {
    let csv = "Preisliste 2026\nStand: 01.03.2026\n\nArt.-Nr.;Bezeichnung;Leistung [W];Preis EUR\nA-1;Spot;12,5;99,90\nA-2;Panel;36;k.A.\nSerie AERO\n;ohne Nummer;5;1\nA-3;zu viel;1;2;extra\nSumme: 3 Artikel\n";
    let dir = delivery(&[("preise.csv", csv.as_bytes())]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let file = &outcome.files[0];
    assert_eq!(file.encoding, Some("utf-8"));
    assert_eq!(file.delimiter.as_deref(), Some(";"));
    assert_eq!(file.decimal_separator, Some(","));
    assert_eq!((file.rows, file.loaded_rows, file.rejected_rows), (6, 2, 4));
    let reasons = &file.balance.rejected_by_reason;
    assert_eq!(reasons[&RejectReason::NotArticleRow], 2);
    assert_eq!(reasons[&RejectReason::NoKey], 1);
    assert_eq!(reasons[&RejectReason::TooManyFields], 1);
    assert_eq!(file.data_points, 6);
    assert!(file.balance_ok, "{:?}", file.balance);
    assert_eq!(file.balance.header_cells, 2 + 4);
    assert_eq!(memory.attribute_rows(), 6);
    let values = memory.values();
    assert!(values.contains(&(
        "A-1".into(),
        "Leistung".into(),
        "12,5".into(),
        Some("W".into())
    )));
    assert!(values.contains(&("A-1".into(), "price_eur".into(), "99,90".into(), None)));
    assert_eq!(file.sheets[0].header_row, Some(4));
}

#[test]
fn windows_1252_and_tabs_and_quoted_newlines() {
    let mut bytes = b"ArtNr\tBezeichnung\tAusschreibungstext\r\n".to_vec();
    bytes.extend(b"B-1\tGr\xF6\xDFe \x80\t\"Zeile 1\r\nZeile\t2\"\r\n");
    let dir = delivery(&[("texte.txt", &bytes)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    assert_eq!(outcome.files[0].encoding, Some("windows-1252"));
    assert_eq!(outcome.files[0].delimiter.as_deref(), Some("\\t"));
    let values = memory.values();
    assert_eq!(values.len(), 2);
    assert!(values.iter().any(|v| v.2 == "Größe €"));
    assert!(values.iter().any(|v| v.2 == "Zeile 1\r\nZeile\t2"));
}

#[test]
fn long_format_features_are_named_by_code() {
    let csv = "Artikelnummer,Merkmal,Bezeichnung Merkmal,Wert,Einheit\nC-1,EF000008,Breite,120,mm\nC-1,EF000040,Höhe,80,mm\nC-2,EF000008,Breite,60,mm\n";
    let dir = delivery(&[("etim.csv", csv.as_bytes())]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    assert_eq!(outcome.files[0].sheets[0].layout, "long");
    assert_eq!(outcome.files[0].data_points, 12);
    let values = memory.values();
    assert!(values.contains(&(
        "C-1".into(),
        "EF000040".into(),
        "80".into(),
        Some("mm".into())
    )));
    // Several features per product are not conflicts.
    assert_eq!(outcome.conflicts.products, 0);
}

#[test]
fn products_join_across_files_and_conflicts_are_kept() {
    let master =
        "Artikelnummer;Bezeichnung;EAN\nD-1;Leuchte;4006381333931\nD-2;Strahler;4006381333932\n";
    let prices = "article_no,Price EUR\nD-1,10.5\nD-1,11.0\nD-3,7\n";
    let dir = delivery(&[
        ("a/master.csv", master.as_bytes()),
        ("b/prices.csv", prices.as_bytes()),
    ]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    assert_eq!(outcome.totals.data_points, 4 + 3);
    assert_eq!(outcome.product_hashes.len(), 3);
    assert_eq!(outcome.conflicts.products, 1);
    let products = &memory.products();
    let gtin = products
        .column_by_name("gtin")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(gtin.value(0), "4006381333931");
    assert!(gtin.is_null(1), "an invalid check digit is not a GTIN");
    assert!(
        outcome.files[0]
            .warnings
            .iter()
            .any(|w| w.contains("check digit"))
    );
}

#[test]
fn broken_inputs_are_named_and_the_rest_goes_on() {
    let good = "ArtNr;Name\nE-1;ok\n";
    let mut binary = vec![0u8, 159, 146, 150, 0, 0, 1, 2, 3];
    binary.extend(std::iter::repeat_n(7u8, 100));
    let dir = delivery(&[
        ("good.csv", good.as_bytes()),
        ("binary.csv", &binary),
        ("empty.csv", b""),
        ("broken.xlsx", b"PK\x03\x04 this is not a workbook"),
    ]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let by_path = |p: &str| outcome.files.iter().find(|f| f.path == p).unwrap();
    assert!(
        by_path("binary.csv")
            .error
            .as_deref()
            .unwrap()
            .contains("not text")
    );
    assert_eq!(by_path("empty.csv").kind, "empty");
    assert!(
        by_path("broken.xlsx")
            .error
            .as_deref()
            .unwrap()
            .contains("cannot open the workbook")
    );
    assert_eq!(by_path("good.csv").loaded_rows, 1);
    assert_eq!(memory.attribute_rows(), 1);
}

#[test]
fn a_huge_cell_rejects_its_record_only() {
    let big = "x".repeat((1 << 20) + 10);
    let csv = format!("ArtNr;Text\nF-1;{big}\nF-2;fine\n");
    let dir = delivery(&[("big.csv", csv.as_bytes())]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let file = &outcome.files[0];
    assert_eq!(
        file.balance.rejected_by_reason[&RejectReason::CellTooLarge],
        1
    );
    assert_eq!(file.loaded_rows, 1);
    assert_eq!(memory.attribute_rows(), 1);
    assert!(file.balance_ok);
}

#[test]
fn config_overrides_key_and_mapping() {
    let csv = "Materialnr;Bez. kurz;Farbe\nG-1;Spot;weiß\n";
    let dir = delivery(&[("sap.csv", csv.as_bytes())]);
    let (outcome, _) = run(dir.path(), &Config::default());
    assert_eq!(
        outcome.files[0].balance.rejected_by_reason[&RejectReason::NoKeyColumn],
        2
    );
    let config: Config = toml::from_str("[mapping]\n\"Bez. kurz\" = \"name_de\"\n[[file]]\nmatch = \"sap*\"\nkey = \"Materialnr\"\n").unwrap();
    let (outcome, _) = run(dir.path(), &config);
    let file = &outcome.files[0];
    assert_eq!(file.loaded_rows, 1);
    let name = file.sheets[0]
        .columns
        .iter()
        .find(|c| c.header == "Bez. kurz")
        .unwrap();
    assert_eq!((name.field, name.evidence), (Some("name_de"), "config"));
}

#[test]
fn workbooks_with_merged_headers_and_several_sheets() {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet().set_name("Leuchten").unwrap();
    sheet.write(0, 0, "Luxwerk Preisliste").unwrap();
    sheet
        .merge_range(2, 0, 2, 1, "Artikel", &Format::new())
        .unwrap();
    sheet
        .merge_range(2, 2, 2, 3, "Elektrisch", &Format::new())
        .unwrap();
    for (c, h) in ["Artikelnummer", "Bezeichnung", "Leistung [W]", "dimmbar"]
        .iter()
        .enumerate()
    {
        sheet.write(3, c as u16, *h).unwrap();
    }
    sheet.write(4, 0, "H-1").unwrap();
    sheet.write(4, 1, "Spot").unwrap();
    sheet.write(4, 2, 12.5).unwrap();
    sheet.write(4, 3, "ja").unwrap();
    sheet
        .write_with_format(5, 0, "H-2", &Format::new())
        .unwrap();
    sheet.write(5, 2, "7,5").unwrap();
    sheet.write(5, 3, "nein").unwrap();
    let info = workbook.add_worksheet().set_name("Info").unwrap();
    info.write(0, 0, "Alle Preise netto").unwrap();
    info.write(1, 0, "Gültig ab 1.3.").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let dir = delivery(&[("liste.xlsx", &bytes)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let file = &outcome.files[0];
    assert_eq!(file.sheets.len(), 2);
    let leuchten = &file.sheets[0];
    assert_eq!((leuchten.header_row, leuchten.header_rows), (Some(4), 2));
    assert_eq!(leuchten.columns[2].header, "Elektrisch / Leistung [W]");
    assert_eq!(leuchten.balance.header_cells, 1 + 2 + 4);
    assert_eq!(leuchten.balance.data_points, 5);
    assert_eq!(
        file.sheets[1].balance.rejected_by_reason[&RejectReason::NoKeyColumn],
        2
    );
    assert!(file.balance_ok);
    let values = memory.values();
    assert!(values.contains(&(
        "H-2".into(),
        "Leistung".into(),
        "7,5".into(),
        Some("W".into())
    )));
}

#[test]
fn file_order_does_not_change_products() {
    let one = "ArtNr;Name;Preis\nK-1;a;1\nK-2;b;2\n";
    let two = "ArtNr;Name;Preis\nK-1;c;3\n";
    let forward = delivery(&[("1.csv", one.as_bytes()), ("2.csv", two.as_bytes())]);
    let backward = delivery(&[("2.csv", one.as_bytes()), ("1.csv", two.as_bytes())]);
    let (a, _) = run(forward.path(), &Config::default());
    let (b, _) = run(backward.path(), &Config::default());
    assert_eq!(a.product_hashes, b.product_hashes);
    assert_eq!(a.totals, b.totals);
}

#[test]
fn open_document_spreadsheets_are_read() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/wide.ods")).unwrap();
    let dir = delivery(&[("liste.ods", &bytes)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let file = &outcome.files[0];
    assert_eq!((file.format.as_str(), file.kind), ("ods", "table"));
    assert_eq!((file.loaded_rows, file.data_points), (2, 6));
    assert!(file.balance_ok);
    assert_eq!(memory.attribute_rows(), 6);
}

#[test]
fn product_state_moved_to_scratch_gives_the_same_products() {
    // Three files sharing products, with conflicts and canonical values.
    let mut master = String::from("Artikelnummer;Bezeichnung;EAN;Serie\n");
    let mut prices = String::from("article_no,Price EUR,Series\n");
    let mut texts = String::from("ArtNr\tLangtext\n");
    // Every product twice, far apart: runs are cut between the two rows,
    // and the table must still count each product once.
    let mut accessories = String::from("Artikelnummer;Zubehör-ArtNr\n");
    for i in 0..3000 {
        accessories.push_str(&format!("P-{:05};Z-{i:05}\n", i % 1500));
        master.push_str(&format!("P-{i:05};Leuchte {i};4006381333931;S{}\n", i % 7));
        prices.push_str(&format!(
            "P-{:05},{}.5,S{}\n",
            (i * 7) % 3001,
            i % 90,
            i % 5
        ));
        texts.push_str(&format!("P-{:05}\tText {i}\n", (i * 13) % 4000));
    }
    let dir = delivery(&[
        ("master.csv", master.as_bytes()),
        ("prices.csv", prices.as_bytes()),
        ("texts.txt", texts.as_bytes()),
        ("accessories.csv", accessories.as_bytes()),
    ]);
    let config = Config::default();
    let (whole, in_memory) = run(dir.path(), &config);
    let products_per_file = |outcome: &cradle_ingest::IngestOutcome| -> Vec<(String, u64)> {
        outcome
            .files
            .iter()
            .map(|f| (f.path.clone(), f.products))
            .collect()
    };
    assert!(
        products_per_file(&whole).contains(&("accessories.csv".to_owned(), 1500)),
        "{:?}",
        products_per_file(&whole)
    );
    assert_eq!(whole.scratch_runs, 0);

    let scratch = tempfile::tempdir().unwrap();
    let options = IngestOptions {
        scratch_dir: Some(scratch.path().join("runs")),
        // A run every few products, every run to disk, and run files
        // merged whenever there are eight.
        budget: cradle_ingest::MemoryBudget {
            products_per_file: 2_000,
            runs_in_memory: 0,
            run_files: 8,
        },
        ..IngestOptions::new(&config)
    };
    let spilled = Memory::default();
    let outcome = ingest(&[dir.path().to_path_buf()], &options, &spilled, &Silent).unwrap();
    assert!(outcome.scratch_runs > 100, "{} runs", outcome.scratch_runs);
    assert_eq!(outcome.product_hashes, whole.product_hashes);
    assert_eq!(products_per_file(&outcome), products_per_file(&whole));
    assert_eq!(outcome.totals, whole.totals);
    assert_eq!(outcome.conflicts.products, whole.conflicts.products);
    assert_eq!(outcome.conflicts.attributes, whole.conflicts.attributes);
    assert!(whole.conflicts.products > 0);
    let (a, b) = (in_memory.products(), spilled.products());
    assert_eq!(a.num_rows(), whole.product_hashes.len());
    assert!(a.num_rows() > 3000);
    assert_eq!(a, b);
    let keys = a.column(0).as_any().downcast_ref::<StringArray>().unwrap();
    assert!((1..keys.len()).all(|i| keys.value(i - 1) < keys.value(i)));

    // Some runs in memory, the rest on disk.
    let options = IngestOptions {
        budget: cradle_ingest::MemoryBudget {
            products_per_file: 2_000,
            runs_in_memory: 40_000,
            run_files: 1_000,
        },
        ..options
    };
    let mixed = Memory::default();
    let outcome = ingest(&[dir.path().to_path_buf()], &options, &mixed, &Silent).unwrap();
    assert!(outcome.scratch_runs > 50, "{} runs", outcome.scratch_runs);
    assert_eq!(outcome.product_hashes, whole.product_hashes);
    assert_eq!(mixed.products(), a);

    let left: Vec<_> = std::fs::read_dir(scratch.path().join("runs"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "scratch files are removed: {left:?}");
}
