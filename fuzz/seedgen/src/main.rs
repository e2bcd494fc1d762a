//! `cargo run --manifest-path fuzz/seedgen/Cargo.toml -- fuzz/seeds/spreadsheet_reader`
//! writes a few small, valid workbooks shaped like customer deliveries.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use std::io::Write;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/seeds/spreadsheet_reader".into()),
    );
    std::fs::create_dir_all(&out)?;
    write(&out, "wide.xlsx", &wide()?)?;
    write(&out, "title_and_groups.xlsx", &title_and_groups()?)?;
    write(&out, "long_two_sheets.xlsx", &long_two_sheets()?)?;
    write(&out, "sparse_offset.xlsx", &sparse_offset()?)?;
    write(&out, "wide.ods", &ods()?)?;
    // The xlsx_parts target's seeds: the XML parts of the same workbooks,
    // NUL-separated (sheet1, sharedStrings, styles, workbook).
    let parts_dir = out.with_file_name("xlsx_parts");
    std::fs::create_dir_all(&parts_dir)?;
    for name in ["wide", "title_and_groups", "long_two_sheets", "sparse_offset"] {
        let bytes = std::fs::read(out.join(format!("{name}.xlsx")))?;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
        let mut joined = Vec::new();
        for (i, part) in ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml", "xl/workbook.xml"]
            .iter()
            .enumerate()
        {
            if i > 0 {
                joined.push(0);
            }
            if let Ok(mut file) = archive.by_name(part) {
                std::io::Read::read_to_end(&mut file, &mut joined)?;
            }
        }
        write(&parts_dir, &format!("{name}.parts"), &joined)?;
    }
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(dir.join(name), bytes)?;
    println!("{} ({} bytes)", dir.join(name).display(), bytes.len());
    Ok(())
}

/// A plain wide product list: header in row 1, numbers, text, booleans, a date.
fn wide() -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Artikel")?;
    for (c, h) in ["Artikelnummer", "Bezeichnung", "Leistung [W]", "GTIN", "Dimmbar", "Gültig ab"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h)?;
    }
    let rows: [(&str, &str, f64, &str, bool); 3] = [
        ("1001", "Downlight", 12.5, "4006381333931", true),
        ("1002", "Panel 62x62", 36.0, "4006381333932", false),
        ("1003", "Strip", 4.8, "", true),
    ];
    for (r, (key, name, watts, gtin, dim)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *key)?;
        sheet.write_string(r, 1, *name)?;
        sheet.write_number(r, 2, *watts)?;
        if !gtin.is_empty() {
            sheet.write_string(r, 3, *gtin)?;
        }
        sheet.write_boolean(r, 4, *dim)?;
        sheet.write_datetime_with_format(r, 5, &ExcelDateTime::from_ymd(2026, 3, r as u8)?, &date)?;
    }
    sheet.write_formula(4, 2, "=SUM(C2:C4)")?;
    workbook.save_to_buffer()
}

/// A title row, an empty row, a group header row above the real header,
/// a footer, and a row with more fields than the header.
fn title_and_groups() -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "Preisliste 2026 – Leuchten")?;
    sheet.write_string(2, 2, "Elektrisch")?;
    sheet.write_string(2, 4, "Mechanisch")?;
    for (c, h) in ["Art.-Nr.", "Name", "Spannung", "Leistung", "IP", "Gewicht"]
        .iter()
        .enumerate()
    {
        sheet.write_string(3, c as u16, *h)?;
    }
    sheet.write_string(4, 0, "A-1")?;
    sheet.write_string(4, 1, "Spot")?;
    sheet.write_string(4, 2, "230 V")?;
    sheet.write_string(4, 3, "7,5 W")?;
    sheet.write_string(4, 4, "IP65")?;
    sheet.write_number(4, 5, 0.35)?;
    sheet.write_string(5, 1, "ohne Nummer")?;
    sheet.write_string(5, 3, "k.A.")?;
    sheet.write_string(6, 0, "A-2")?;
    sheet.write_number(6, 7, 1.0)?;
    sheet.write_string(8, 0, "Alle Preise netto")?;
    workbook.save_to_buffer()
}

/// ETIM long format on one sheet, relations on another.
fn long_two_sheets() -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Merkmale")?;
    for (c, h) in ["Artikelnummer", "Merkmal", "Wert", "Einheit"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    let rows = [
        ("1001", "EF000008", "12,5", "W"),
        ("1001", "EF000009", "ja", ""),
        ("1002", "EF000008", "36", "W"),
    ];
    for (r, (a, f, v, u)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *a)?;
        sheet.write_string(r, 1, *f)?;
        sheet.write_string(r, 2, *v)?;
        if !u.is_empty() {
            sheet.write_string(r, 3, *u)?;
        }
    }
    let sheet = workbook.add_worksheet();
    sheet.set_name("Zubehör")?;
    sheet.write_string(0, 0, "Artikelnummer")?;
    sheet.write_string(0, 1, "Zubehör-Artikelnummer")?;
    sheet.write_string(0, 2, "Beziehung")?;
    sheet.write_string(1, 0, "1001")?;
    sheet.write_string(1, 1, "2001")?;
    sheet.write_string(1, 2, "accessory")?;
    sheet.write_url(2, 3, "https://example.com/datenblatt.pdf")?;
    workbook.save_to_buffer()
}

/// Data that starts far from A1, numeric keys, merged cells.
fn sparse_offset() -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.merge_range(1, 3, 1, 5, "Produktdaten", &Format::new())?;
    sheet.write_string(2, 3, "ArtNr")?;
    sheet.write_string(2, 4, "Farbe")?;
    sheet.write_string(2, 5, "Lichtfarbe")?;
    for r in 0..4u32 {
        sheet.write_number(3 + r, 3, 10_000.0 + f64::from(r))?;
        sheet.write_string(3 + r, 4, ["weiß", "schwarz", "", "alu"][r as usize])?;
        sheet.write_string(3 + r, 5, "3000 K")?;
    }
    workbook.save_to_buffer()
}

/// A minimal OpenDocument spreadsheet.
fn ods() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet>
<table:table table:name="Artikel">
<table:table-row><table:table-cell office:value-type="string"><text:p>Artikelnummer</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Name</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Leistung</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Datum</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="float" office:value="1001"><text:p>1001</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Downlight</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="12.5"><text:p>12,5</text:p></table:table-cell><table:table-cell office:value-type="date" office:date-value="2026-03-01"><text:p>01.03.2026</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="4"/></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>1002</text:p></table:table-cell><table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>WAHR</text:p></table:table-cell><table:table-cell table:number-columns-repeated="2" office:value-type="percentage" office:value="0.5"><text:p>50 %</text:p></table:table-cell></table:table-row>
</table:table>
</office:spreadsheet></office:body></office:document-content>
"#;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#;
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored)?;
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")?;
        zip.start_file("content.xml", stored)?;
        zip.write_all(content.as_bytes())?;
        zip.start_file("META-INF/manifest.xml", stored)?;
        zip.write_all(manifest.as_bytes())?;
        zip.finish()?;
    }
    Ok(buffer.into_inner())
}
