//! Valid files as other writers make them, and damaged or hostile ones:
//! each is read (or refused with the reason) and every cell is accounted
//! for exactly. The fixtures are generated here: workbooks with shared
//! strings as Excel writes them, part names as other writers spell them,
//! XLS files (BIFF8 in a compound file), text in legacy encodings.

use arrow_array::{Array, Int64Array, RecordBatch, StringArray};
use cradle_core::accounting::RejectReason;
use cradle_core::config::Config;
use cradle_ingest::{FileReport, IngestOptions, IngestOutcome, Silent, Sink, SinkError, ingest};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Mutex;

#[derive(Default)]
struct Memory {
    attributes: Mutex<Vec<RecordBatch>>,
    rejects: Mutex<Vec<RecordBatch>>,
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
    fn products(&self, _: RecordBatch) -> Result<(), SinkError> {
        Ok(())
    }
}

fn strings(batch: &RecordBatch, name: &str) -> StringArray {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
        .clone()
}

fn integers(batch: &RecordBatch, name: &str) -> Int64Array {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .clone()
}

impl Memory {
    /// `(article_no, attribute, original, source_row)`, sorted.
    fn values(&self) -> Vec<(String, String, String, i64)> {
        let mut out = Vec::new();
        for batch in self.attributes.lock().unwrap().iter() {
            let (article, attribute, original) = (
                strings(batch, "article_no"),
                strings(batch, "attribute"),
                strings(batch, "original"),
            );
            let row = integers(batch, "source_row");
            for i in 0..batch.num_rows() {
                out.push((
                    article.value(i).to_owned(),
                    attribute.value(i).to_owned(),
                    original.value(i).to_owned(),
                    row.value(i),
                ));
            }
        }
        out.sort();
        out
    }

    /// `(source_file, reason, cells)` of every reject row.
    fn rejects(&self) -> Vec<(String, String, i64)> {
        let mut out = Vec::new();
        for batch in self.rejects.lock().unwrap().iter() {
            let (file, reason) = (strings(batch, "source_file"), strings(batch, "reason"));
            let cells = integers(batch, "cells");
            for i in 0..batch.num_rows() {
                out.push((
                    file.value(i).to_owned(),
                    reason.value(i).to_owned(),
                    cells.value(i),
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
    assert!(outcome.totals.holds(), "{:?}", outcome.totals);
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

fn file<'o>(outcome: &'o IngestOutcome, path: &str) -> &'o FileReport {
    outcome
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in {:?}", paths(outcome)))
}

fn paths(outcome: &IngestOutcome) -> Vec<&str> {
    outcome.files.iter().map(|f| f.path.as_str()).collect()
}

/// `(rows, loaded, rejected, header cells, key cells, data points, rejected cells)`.
fn counts(file: &FileReport) -> (u64, u64, u64, u64, u64, u64, u64) {
    let b = &file.balance;
    assert!(file.balance_ok, "{}: {b:?}", file.path);
    (
        b.rows,
        b.loaded_rows,
        b.rejected_rows,
        b.header_cells,
        b.key_cells,
        b.data_points,
        b.rejected_cells,
    )
}

/// A price list as Excel writes it: numeric article numbers, and a few
/// strings (unit, currency, three names) in every row, so the shared
/// strings table counts `rows * 3` uses of five strings.
fn price_list(rows: u32) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, header) in [
        "Artikelnummer",
        "Bezeichnung",
        "Einheit",
        "Währung",
        "Preis",
    ]
    .iter()
    .enumerate()
    {
        sheet.write(0, column as u16, *header).unwrap();
    }
    let names = ["Downlight", "Strahler", "Pendelleuchte"];
    for row in 1..=rows {
        sheet.write(row, 0, 100_000 + row).unwrap();
        sheet.write(row, 1, names[row as usize % 3]).unwrap();
        sheet.write(row, 2, "Stück").unwrap();
        sheet.write(row, 3, "EUR").unwrap();
        sheet.write(row, 4, f64::from(row) * 1.5).unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The same parts under other names.
fn renamed(bytes: &[u8], rename: &[(&str, &str)]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        let name = rename
            .iter()
            .find(|(from, _)| *from == name)
            .map_or(name.clone(), |(_, to)| (*to).to_owned());
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&content).unwrap();
    }
    writer.finish().unwrap();
    out.into_inner()
}

#[test]
fn shared_strings_repeated_thousands_of_times_load() {
    let bytes = price_list(2_000);
    let sst = part(&bytes, "xl/sharedStrings.xml");
    // Written the way Excel writes it: far more uses than bytes.
    assert!(sst.contains(r#"count="6005""#), "{sst}");
    assert!(sst.contains(r#"uniqueCount="10""#), "{sst}");
    // The old bound (`count` against the part's size) refused it.
    assert!(6005 > sst.len() / 5 + 16, "{} bytes", sst.len());
    let dir = delivery(&[("preise.xlsx", &bytes)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let report = file(&outcome, "preise.xlsx");
    assert_eq!(report.error, None);
    assert_eq!(counts(report), (2_000, 2_000, 0, 5, 2_000, 8_000, 0));
    assert_eq!(report.balance.non_empty_cells, 10_005);
    let values = memory.values();
    assert_eq!(values.len(), 8_000);
    assert!(values.contains(&("100007".into(), "Einheit".into(), "Stück".into(), 8)));
}

#[test]
fn part_names_with_backslashes_and_capitals_are_found() {
    let bytes = price_list(20);
    let odd = renamed(
        &bytes,
        &[
            ("xl/worksheets/sheet1.xml", "xl\\worksheets\\sheet1.xml"),
            ("xl/sharedStrings.xml", "xl/SharedStrings.xml"),
            ("xl/workbook.xml", "XL/Workbook.xml"),
        ],
    );
    let dir = delivery(&[("plain.xlsx", &bytes), ("odd.xlsx", &odd)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    for path in ["plain.xlsx", "odd.xlsx"] {
        let report = file(&outcome, path);
        assert_eq!(
            (report.format.as_str(), report.error.as_deref()),
            ("xlsx", None)
        );
        assert_eq!(counts(report), (20, 20, 0, 5, 20, 80, 0), "{path}");
    }
    // The same cells from both, strings included.
    let values = memory.values();
    assert_eq!(values.len(), 160);
    let stueck = values.iter().filter(|v| v.2 == "Stück").count();
    assert_eq!(stueck, 40);
}

/// BIFF8 records and compound-file packing for XLS fixtures.
mod xls {
    use std::io::Write;

    pub enum Cell<'a> {
        /// A LABEL with these raw bytes, flagged as single-byte text.
        Bytes(&'a [u8]),
        Number(f64),
    }

    pub struct Sheet<'a> {
        pub name: &'a str,
        /// BoundSheet8 `dt`: 0 worksheet, 2 chart sheet.
        pub kind: u8,
        pub cells: Vec<(u16, u16, Cell<'a>)>,
    }

    fn record(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
        out.extend(kind.to_le_bytes());
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
    }

    fn bof(out: &mut Vec<u8>, substream: u16) {
        let mut data = Vec::new();
        data.extend(0x0600u16.to_le_bytes());
        data.extend(substream.to_le_bytes());
        data.extend([0u8; 12]);
        record(out, 0x0809, &data);
    }

    /// The Workbook stream. `password`: a FilePass record (encrypted).
    pub fn workbook(sheets: &[Sheet<'_>], password: bool) -> Vec<u8> {
        let mut globals = Vec::new();
        bof(&mut globals, 0x0005);
        if password {
            record(&mut globals, 0x002F, &[1, 0, 0, 0]);
        }
        // CodePage: windows-1252.
        record(&mut globals, 0x0042, &1252u16.to_le_bytes());
        let mut positions = Vec::new();
        for sheet in sheets {
            positions.push(globals.len() + 4);
            let mut data = vec![0u8; 4];
            data.extend([0, sheet.kind, sheet.name.len() as u8, 0]);
            data.extend(sheet.name.as_bytes());
            record(&mut globals, 0x0085, &data);
        }
        record(&mut globals, 0x000A, &[]);
        let mut stream = globals;
        for (index, sheet) in sheets.iter().enumerate() {
            let at = (stream.len() as u32).to_le_bytes();
            stream[positions[index]..positions[index] + 4].copy_from_slice(&at);
            bof(&mut stream, if sheet.kind == 2 { 0x0020 } else { 0x0010 });
            for (row, column, cell) in &sheet.cells {
                let mut data = Vec::new();
                data.extend(row.to_le_bytes());
                data.extend(column.to_le_bytes());
                data.extend(0u16.to_le_bytes());
                match cell {
                    Cell::Bytes(bytes) => {
                        data.extend((bytes.len() as u16).to_le_bytes());
                        data.push(0);
                        data.extend(*bytes);
                        record(&mut stream, 0x0204, &data);
                    }
                    Cell::Number(n) => {
                        data.extend(n.to_le_bytes());
                        record(&mut stream, 0x0203, &data);
                    }
                }
            }
            record(&mut stream, 0x000A, &[]);
        }
        stream
    }

    /// A compound file with these streams.
    pub fn compound(streams: &[(&str, &[u8])]) -> Vec<u8> {
        let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        for (name, bytes) in streams {
            let mut stream = file.create_stream(format!("/{name}")).unwrap();
            stream.write_all(bytes).unwrap();
        }
        file.flush().unwrap();
        file.into_inner().into_inner()
    }
}

#[test]
fn xls_text_stored_as_utf16_bytes_is_decoded() {
    // BIFF8 short text is the low bytes of UTF-16; with a windows-1252
    // code page record the reader hands out a NUL after every letter.
    let workbook = xls::workbook(
        &[xls::Sheet {
            name: "Daten",
            kind: 0,
            cells: vec![
                (0, 0, xls::Cell::Bytes(b"ArtNr")),
                (0, 1, xls::Cell::Bytes(b"Bezeichnung")),
                (0, 2, xls::Cell::Bytes(b"Preis")),
                (1, 0, xls::Cell::Bytes(b"X-1")),
                (1, 1, xls::Cell::Bytes(b"Gr\xF6\xDFe M \x80")),
                (1, 2, xls::Cell::Number(12.5)),
                (2, 0, xls::Cell::Bytes(b"X-2")),
                (2, 1, xls::Cell::Bytes(b"plain")),
            ],
        }],
        false,
    );
    let bytes = xls::compound(&[("Workbook", &workbook)]);
    let dir = delivery(&[("alt.xls", &bytes)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let report = file(&outcome, "alt.xls");
    assert_eq!(
        (report.format.as_str(), report.error.as_deref()),
        ("xls", None)
    );
    assert_eq!(counts(report), (2, 2, 0, 3, 2, 3, 0));
    assert_eq!(report.sheets[0].key_column.as_deref(), Some("ArtNr"));
    assert!(
        report.warnings.iter().any(|w| w.contains("UTF-16")),
        "{:?}",
        report.warnings
    );
    assert_eq!(
        memory.values(),
        [
            ("X-1".into(), "name_de".into(), "Größe M €".into(), 2),
            ("X-1".into(), "price".into(), "12.5".into(), 2),
            ("X-2".into(), "name_de".into(), "plain".into(), 3),
        ]
    );
}

#[test]
fn chart_sheets_hold_no_table_and_leak_no_values() {
    // XLS: a chart sheet whose substream holds a cached number.
    let workbook = xls::workbook(
        &[
            xls::Sheet {
                name: "Daten",
                kind: 0,
                cells: vec![
                    (0, 0, xls::Cell::Bytes(b"ArtNr")),
                    (0, 1, xls::Cell::Bytes(b"Watt")),
                    (1, 0, xls::Cell::Bytes(b"C-1")),
                    (1, 1, xls::Cell::Number(40.0)),
                ],
            },
            xls::Sheet {
                name: "Diagramm",
                kind: 2,
                cells: vec![
                    (0, 0, xls::Cell::Number(40.0)),
                    (0, 1, xls::Cell::Number(7.0)),
                ],
            },
        ],
        false,
    );
    let xls_bytes = xls::compound(&[("Workbook", &workbook)]);
    // XLSX: a chart sheet next to its data.
    let mut book = rust_xlsxwriter::Workbook::new();
    let data = book.add_worksheet().set_name("Daten").unwrap();
    data.write(0, 0, "ArtNr").unwrap();
    data.write(0, 1, "Watt").unwrap();
    data.write(1, 0, "C-2").unwrap();
    data.write(1, 1, 12).unwrap();
    let mut chart = rust_xlsxwriter::Chart::new_column();
    chart.add_series().set_values("Daten!$B$2:$B$2");
    let sheet = book.add_chartsheet().set_name("Diagramm").unwrap();
    sheet.insert_chart(0, 0, &chart).unwrap();
    let xlsx_bytes = book.save_to_buffer().unwrap();
    let dir = delivery(&[("chart.xls", &xls_bytes), ("chart.xlsx", &xlsx_bytes)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    for path in ["chart.xls", "chart.xlsx"] {
        let report = file(&outcome, path);
        assert_eq!(report.error, None, "{path}");
        assert_eq!(counts(report), (1, 1, 0, 2, 1, 1, 0), "{path}");
        assert_eq!(report.sheets.len(), 1, "{path}");
        assert_eq!(report.other_sheets.len(), 1, "{path}");
        assert_eq!(report.other_sheets[0].name, "Diagramm");
        assert_eq!(report.other_sheets[0].kind, "chart sheet");
    }
    assert_eq!(memory.values().len(), 2);
}

#[test]
fn encrypted_workbooks_say_password_protected() {
    let encrypted_xlsx = xls::compound(&[
        ("EncryptionInfo", &[4, 0, 4, 0, 0x40, 0, 0, 0][..]),
        ("EncryptedPackage", &[7u8; 600][..]),
    ]);
    let workbook = xls::workbook(
        &[xls::Sheet {
            name: "Daten",
            kind: 0,
            cells: vec![(0, 0, xls::Cell::Bytes(b"ArtNr"))],
        }],
        true,
    );
    let encrypted_xls = xls::compound(&[("Workbook", &workbook)]);
    let dir = delivery(&[
        ("geheim.xlsx", &encrypted_xlsx),
        ("geheim.xls", &encrypted_xls),
    ]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    for path in ["geheim.xlsx", "geheim.xls"] {
        let report = file(&outcome, path);
        assert!(report.unreadable(), "{path}");
        let error = report.error.as_deref().unwrap();
        assert!(error.contains("password-protected"), "{path}: {error}");
        assert!(error.contains("hint:"), "{path}: {error}");
        assert_eq!(counts(report), (0, 0, 0, 0, 0, 0, 0));
    }
    assert_eq!(memory.rejects().len(), 2);
}

#[test]
fn carriage_return_line_ends_give_true_rows() {
    let csv =
        "Preisliste\rArtNr;Name;Preis\rA-1;Spot;1,5\r\rA-2;\"Panel\rzweizeilig\";2\rA-3;Pendel;3\r";
    let dir = delivery(&[("mac.csv", csv.as_bytes())]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    let report = file(&outcome, "mac.csv");
    assert_eq!(counts(report), (3, 3, 0, 4, 3, 6, 0));
    assert_eq!(report.sheets[0].header_row, Some(2));
    let rows: Vec<(String, i64)> = memory
        .values()
        .into_iter()
        .map(|(article, _, _, row)| (article, row))
        .collect();
    assert_eq!(
        rows,
        [
            ("A-1".into(), 3),
            ("A-1".into(), 3),
            ("A-2".into(), 5),
            ("A-2".into(), 5),
            ("A-3".into(), 7),
            ("A-3".into(), 7)
        ]
    );
}

#[test]
fn a_nul_in_a_field_is_data_and_a_refused_file_counts_its_cells() {
    let with_nul = b"ArtNr;Name;Farbe\nN-1;Sp\x00ot;wei\xc3\x9f\nN-2;Panel;\x00\n";
    // Windows-1252 bytes in a file cradle.toml says is UTF-8.
    let mislabelled = b"ArtNr;Name\nM-1;Gr\xF6\xDFe\nM-2;klein\n";
    let dir = delivery(&[("nul.csv", with_nul), ("falsch.csv", mislabelled)]);
    let config: Config =
        toml::from_str("[[file]]\nmatch = \"falsch.csv\"\nencoding = \"utf-8\"\n").unwrap();
    let (outcome, memory) = run(dir.path(), &config);
    let report = file(&outcome, "nul.csv");
    assert_eq!(report.error, None);
    assert_eq!(counts(report), (2, 2, 0, 3, 2, 4, 0));
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("2 NUL") && w.contains("line 2")),
        "{:?}",
        report.warnings
    );
    let values = memory.values();
    assert!(values.contains(&("N-1".into(), "name_en".into(), "Sp\0ot".into(), 2)));
    assert!(values.contains(&("N-2".into(), "Farbe".into(), "\0".into(), 3)));

    let refused = file(&outcome, "falsch.csv");
    assert!(refused.unreadable());
    let error = refused.error.as_deref().unwrap();
    assert!(error.contains("not valid UTF-8"), "{error}");
    assert!(error.contains("the bytes fit windows-1252"), "{error}");
    // Six non-empty cells, none of them read: all six rejected.
    assert_eq!(refused.unread_cells, 6);
    assert_eq!(counts(refused), (0, 0, 0, 0, 0, 0, 6));
    assert_eq!(refused.balance.non_empty_cells, 6);
    assert_eq!(
        memory.rejects(),
        [(
            "falsch.csv".into(),
            RejectReason::Undecodable.as_str().into(),
            6
        )]
    );
}

#[test]
fn legacy_encodings_are_read_and_can_be_named() {
    let japanese = "品番;名称;光束\nJ-1;天井照明ダウンライト;800 lm\nJ-2;スポットライト 白色;450 lm\nJ-3;非常用照明器具;120 lm\n";
    let (shift_jis, _, _) = encoding_rs::SHIFT_JIS.encode(japanese);
    let czech = "ArtNr;Název;Barva\nC-1;Stropní svítidlo žluťoučké;bílá\nC-2;Nástěnné světlo ďábelské;černá\nC-3;Závěsné svítidlo úpěl;šedá\n";
    let (windows_1250, _, _) = encoding_rs::WINDOWS_1250.encode(czech);
    let german = "ArtNr;Bezeichnung\nU-1;Größe\nU-2;Maße €\n";
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(german.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be_no_bom: Vec<u8> = german.encode_utf16().flat_map(u16::to_be_bytes).collect();
    // A short file with one telling byte: 0xE8 is è in windows-1252 and č
    // in windows-1250.
    let ambiguous = b"ArtNr;Name\nK-1;Kr\xE8ma\n";
    let dir = delivery(&[
        ("sjis.csv", &shift_jis),
        ("cz.csv", &windows_1250),
        ("le.csv", &utf16le),
        ("be.csv", &utf16be_no_bom),
        ("unsure.csv", ambiguous),
        ("forced.csv", &shift_jis),
    ]);
    let config: Config = toml::from_str(
        "[mapping]\n\"品番\" = \"article_no\"\n[[file]]\nmatch = \"forced.csv\"\nencoding = \"shift_jis\"\n",
    )
    .unwrap();
    let (outcome, memory) = run(dir.path(), &config);
    let expect = [
        ("sjis.csv", "Shift_JIS", (3, 3, 0, 3, 3, 6, 0)),
        ("forced.csv", "Shift_JIS", (3, 3, 0, 3, 3, 6, 0)),
        ("cz.csv", "windows-1250", (3, 3, 0, 3, 3, 6, 0)),
        ("le.csv", "utf-16le", (2, 2, 0, 2, 2, 2, 0)),
        ("be.csv", "utf-16be", (2, 2, 0, 2, 2, 2, 0)),
    ];
    for (path, encoding, balance) in expect {
        let report = file(&outcome, path);
        assert_eq!(report.encoding, Some(encoding), "{path}");
        assert_eq!(counts(report), balance, "{path}");
    }
    let values = memory.values();
    assert!(values.contains(&(
        "J-1".into(),
        "名称".into(),
        "天井照明ダウンライト".into(),
        2
    )));
    assert!(values.contains(&("C-3".into(), "Barva".into(), "šedá".into(), 4)));
    assert!(values.contains(&("U-2".into(), "name_de".into(), "Maße €".into(), 3)));
    let unsure = file(&outcome, "unsure.csv");
    assert_eq!(counts(unsure), (1, 1, 0, 2, 1, 1, 0));
    let warning = unsure
        .warnings
        .iter()
        .find(|w| w.contains("guessed"))
        .unwrap_or_else(|| panic!("no warning: {:?}", unsure.warnings));
    assert!(
        warning.contains(unsure.encoding.unwrap())
            && warning.contains("unsure.csv")
            && warning.contains("hint:"),
        "{warning}"
    );
}

#[test]
fn gzip_files_are_read_like_an_archive_entry() {
    use flate2::write::GzEncoder;
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(b"ArtNr;Name;Preis\nZ-1;Spot;1,5\nZ-2;Panel;2\n")
        .unwrap();
    let gz = encoder.finish().unwrap();
    let dir = delivery(&[("preise.csv.gz", &gz)]);
    let (outcome, memory) = run(dir.path(), &Config::default());
    assert_eq!(
        paths(&outcome),
        ["preise.csv.gz", "preise.csv.gz/preise.csv"]
    );
    assert_eq!(file(&outcome, "preise.csv.gz").kind, "archive");
    let inner = file(&outcome, "preise.csv.gz/preise.csv");
    assert_eq!(counts(inner), (2, 2, 0, 3, 2, 4, 0));
    assert_eq!(memory.values().len(), 4);
}

#[test]
fn content_decides_the_format_and_a_file_is_read_once() {
    let workbook = price_list(3);
    let text = b"ArtNr;Name\nT-1;Spot\n";
    let zip = {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut out);
        writer
            .start_file("inner.csv", zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(text).unwrap();
        writer.finish().unwrap();
        out.into_inner()
    };
    let dir = delivery(&[
        ("liste.csv", &workbook),
        ("text.xlsx", text),
        ("archiv.dat", &zip),
        (".versteckt.csv", text),
        ("ordner/.git/config", b"x"),
        ("~$liste.xlsx", b"x"),
    ]);
    let (outcome, _) = run(dir.path(), &Config::default());
    assert_eq!(
        paths(&outcome),
        [
            "archiv.dat",
            "archiv.dat/inner.csv",
            "liste.csv",
            "text.xlsx"
        ]
    );
    let workbook = file(&outcome, "liste.csv");
    assert_eq!((workbook.format.as_str(), workbook.kind), ("xlsx", "table"));
    assert_eq!(counts(workbook), (3, 3, 0, 5, 3, 12, 0));
    assert!(
        workbook
            .warnings
            .iter()
            .any(|w| w.contains("name says text")),
        "{:?}",
        workbook.warnings
    );
    let text = file(&outcome, "text.xlsx");
    assert_eq!((text.format.as_str(), text.error.as_deref()), ("csv", None));
    assert_eq!(counts(text), (1, 1, 0, 2, 1, 1, 0));
    assert_eq!(
        counts(file(&outcome, "archiv.dat/inner.csv")),
        (1, 1, 0, 2, 1, 1, 0)
    );
    let skipped: Vec<(&str, &str)> = outcome
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert_eq!(skipped[0].0, ".versteckt.csv");
    assert!(skipped[0].1.contains("hidden file"));
    assert_eq!(skipped[1].0, "ordner/.git");
    assert!(skipped[1].1.contains("hidden folder"));
    assert_eq!(skipped[2].0, "~$liste.xlsx");
}
