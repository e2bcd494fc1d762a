//! The 27 files of the delivery and the mess in each.
//!
//! Every file is written through [`Table`], which counts it; this module
//! only decides what goes where. Attribute names are kept distinct across
//! one-row-per-product files (`Nettogewicht` here, `Bruttogewicht` there)
//! so that the only conflicting values are the deliberate ones.

use crate::catalog::{COLORS, FAMILIES, Product};
use crate::format::{date_de, date_iso, excel_serial, num, price};
use crate::rng::Rng;
use crate::table::{Cell, CsvSink, Table, XlsxSink, t};
use crate::{Delivery, DemoError, write_bytes};
use cradle_core::manifest::{ManifestFile, ManifestSheet};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
use std::collections::HashSet;

type Tables = Vec<(ManifestSheet, HashSet<u32>)>;

pub(crate) const COMPANY: &str = "Luxwerk GmbH";
pub(crate) const COPYRIGHT: &str = "© 2026 Luxwerk GmbH, Leuchtenstraße 12, 59755 Arnsberg";

pub fn write_all(d: &mut Delivery, products: &[Product]) -> Result<(), DemoError> {
    let all: Vec<&Product> = products.iter().collect();
    let luminaires: Vec<&Product> = products.iter().filter(|p| p.luminaire()).collect();
    let components: Vec<&Product> = products.iter().filter(|p| !p.luminaire()).collect();
    let accessories: Vec<&Product> = products.iter().filter(|p| p.family == 10).collect();

    master_luminaires(d, &luminaires)?;
    master_components(d, &components)?;
    technical_xlsx(
        d,
        &luminaires,
        &[0, 1],
        "technik/technische_daten_downlights_strahler.xlsx",
        3,
        true,
    )?;
    technical_xlsx(
        d,
        &luminaires,
        &[2, 3, 4],
        "technik/technische_daten_innenleuchten.xlsx",
        4,
        true,
    )?;
    technical_xlsx(
        d,
        &luminaires,
        &[5, 6],
        "technik/technische_daten_aussen_notlicht.xlsx",
        5,
        false,
    )?;
    prices_eur(d, &all)?;
    prices_chf(d, &all)?;
    logistics(d, &all)?;
    media_xlsx(d, &all)?;
    etim_luminaires(d, &luminaires)?;
    tender_xlsx(d, &all)?;
    discontinued(d, &all)?;

    changes_csv(d, &all)?;
    technical_components_csv(d, &components)?;
    photometry_csv(d, &luminaires)?;
    etim_components_csv(d, &components)?;
    etim_extra_csv(d, &luminaires)?;
    accessories_csv(d, &luminaires, &accessories)?;
    successors_csv(d, &all)?;
    tender_de_csv(d, &all)?;
    tender_en_csv(d, &all)?;
    country_prices_csv(d, &all)?;
    tier_prices_csv(d, &all)?;
    stock_csv(d, &all)?;
    compliance_csv(d, &all)?;
    media_links_csv(d, &all)?;
    pim_csv(d, &all)?;
    crate::media::write_all(d, products)?;
    Ok(())
}

// ---------------------------------------------------------------- plumbing

#[derive(Clone, Copy)]
enum Enc {
    Utf8,
    Utf8Bom,
    Windows1252,
}

struct CsvSpec {
    path: &'static str,
    encoding: Enc,
    delimiter: char,
    decimal: char,
    content: &'static str,
}

impl CsvSpec {
    fn sink(&self, quote_all: bool) -> CsvSink {
        // Windows-1252 files come from Windows tools: CRLF.
        CsvSink::new(
            self.delimiter,
            matches!(self.encoding, Enc::Windows1252),
            quote_all,
        )
    }

    fn save(
        &self,
        d: &mut Delivery,
        sink: CsvSink,
        finished: (ManifestSheet, HashSet<u32>),
    ) -> Result<(), DemoError> {
        let bytes: Vec<u8> = match self.encoding {
            Enc::Utf8 => sink.text.into_bytes(),
            Enc::Utf8Bom => {
                let mut bytes = vec![0xEF, 0xBB, 0xBF];
                bytes.extend_from_slice(sink.text.as_bytes());
                bytes
            }
            Enc::Windows1252 => {
                let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&sink.text);
                debug_assert!(!unmappable, "{}: text outside Windows-1252", self.path);
                bytes.into_owned()
            }
        };
        write_bytes(&d.dir.join(self.path), &bytes)?;
        let file = ManifestFile {
            path: self.path.to_owned(),
            format: "csv".to_owned(),
            encoding: match self.encoding {
                Enc::Utf8 => "utf-8",
                Enc::Utf8Bom => "utf-8-bom",
                Enc::Windows1252 => "windows-1252",
            }
            .to_owned(),
            delimiter: Some(self.delimiter.to_string()),
            decimal_separator: Some(self.decimal.to_string()),
            content: self.content.to_owned(),
            ..ManifestFile::default()
        };
        d.add(file, vec![finished])
    }
}

fn workbook() -> Workbook {
    let mut workbook = Workbook::new();
    // A fixed creation time: docProps/core.xml would otherwise hold "now"
    // and the same seed would not give the same bytes.
    let created = ExcelDateTime::from_ymd(2026, 3, 1)
        .and_then(|d| d.and_hms(8, 0, 0))
        .expect("a valid date");
    let properties = DocProperties::new()
        .set_creation_datetime(&created)
        .set_author("Luxwerk ERP Export")
        .set_company(COMPANY);
    workbook.set_properties(&properties);
    workbook
}

fn save_xlsx(
    d: &mut Delivery,
    mut workbook: Workbook,
    path: &str,
    content: &str,
    tables: Tables,
) -> Result<(), DemoError> {
    let full = d.dir.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).map_err(|source| DemoError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    workbook.save(&full).map_err(|source| DemoError::Xlsx {
        path: full.clone(),
        source,
    })?;
    let file = ManifestFile {
        path: path.to_owned(),
        format: "xlsx".to_owned(),
        encoding: "binary".to_owned(),
        content: content.to_owned(),
        ..ManifestFile::default()
    };
    d.add(file, tables)
}

/// Runs `body` on a new constant-memory sheet of `workbook`.
fn sheet<F>(
    d: &Delivery,
    workbook: &mut Workbook,
    path: &str,
    name: &str,
    body: F,
) -> Result<(ManifestSheet, HashSet<u32>), DemoError>
where
    F: FnOnce(&mut Table<'_>) -> Result<(), DemoError>,
{
    let full = d.dir.join(path);
    let xlsx_error = |source| DemoError::Xlsx {
        path: full.clone(),
        source,
    };
    let worksheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?
        .set_name(name)
        .map_err(xlsx_error)?;
    let mut sink = XlsxSink::new(worksheet, full);
    let mut table = Table::new(&mut sink, Some(name));
    body(&mut table)?;
    Ok(table.finish())
}

/// How much mess a table gets; at least a few of each kind at any scale.
struct Mess {
    no_key: usize,
    too_many: usize,
    /// A blank row after every this many products (0: none).
    blank_every: usize,
    /// A single-cell heading whenever this text changes (`Serie AERO`).
    heading: Option<fn(&Product) -> String>,
}

impl Mess {
    fn some(items: usize) -> Mess {
        Mess {
            no_key: (items / 8000).max(2),
            too_many: 0,
            blank_every: (items / 4).clamp(7, 2500),
            heading: None,
        }
    }

    fn csv(items: usize) -> Mess {
        Mess {
            too_many: (items / 10_000).max(2),
            ..Mess::some(items)
        }
    }
}

/// `count` positions spread evenly over `0..len`, shifted by `offset`.
fn spread(count: usize, len: usize, offset: usize) -> HashSet<usize> {
    if len == 0 {
        return HashSet::new();
    }
    (0..count)
        .map(|k| ((2 * k + 1) * len / (2 * count) + offset) % len)
        .collect()
}

/// Writes the records of `items`, with the mess of `mess` mixed in.
/// `rows` gives the records of one product (one for wide tables, several
/// for long ones); the key is written in the table's key column by `rows`.
fn emit<F>(
    table: &mut Table<'_>,
    items: &[&Product],
    key_column: usize,
    mess: &Mess,
    rng: &mut Rng,
    mut rows: F,
) -> Result<(), DemoError>
where
    F: FnMut(&Product, &mut Rng) -> Vec<Vec<Cell>>,
{
    let no_key = spread(mess.no_key, items.len(), 0);
    let too_many = spread(mess.too_many, items.len(), items.len() / 7 + 1);
    let mut heading = String::new();
    for (i, product) in items.iter().enumerate() {
        if let Some(heading_of) = mess.heading {
            let text = heading_of(product);
            if text != heading {
                table.record(&[t(&text)], None)?;
                heading = text;
            }
        }
        let records = rows(product, rng);
        for record in &records {
            table.record(record, Some(product.index))?;
        }
        let Some(first) = records.first() else {
            continue;
        };
        if no_key.contains(&i) {
            // The same record once more, its key lost on the way.
            let mut broken = first.clone();
            broken[key_column] = Cell::Empty;
            table.record(&broken, None)?;
        }
        if too_many.contains(&i) {
            // A value slipped past the last column (an unquoted separator in
            // the source system).
            let mut broken = first.clone();
            broken.resize(table.width(), Cell::Empty);
            broken.push(t("Restposten – siehe Anhang"));
            table.record(&broken, Some(product.index))?;
        }
        if mess.blank_every > 0 && i % mess.blank_every == mess.blank_every - 1 {
            table.blank()?;
        }
    }
    Ok(())
}

fn footer(table: &mut Table<'_>, count: usize) -> Result<(), DemoError> {
    table.record(&[t(format!("Summe: {count} Artikel"))], None)?;
    table.record(&[t(COPYRIGHT)], None)
}

/// Products of a file's subset: a stable, seed-dependent share.
fn subset<'a>(d: &Delivery, items: &[&'a Product], stream: u64, share: f64) -> Vec<&'a Product> {
    let picked: Vec<&Product> = items
        .iter()
        .filter(|p| Rng::derive(d.seed, (stream << 40) ^ p.index as u64).chance(share))
        .copied()
        .collect();
    if picked.len() >= 3.min(items.len()) {
        picked
    } else {
        items.iter().take(3).copied().collect()
    }
}

fn series_heading(p: &Product) -> String {
    format!("Serie {}", p.series)
}

fn no_value(rng: &mut Rng) -> &'static str {
    rng.pick(&["k.A.", "n/a", "-", "k. A."])
}

/// A number cell, or now and then the same number stored as text with a
/// decimal comma (a classic of Excel exports).
fn xnum(x: f64, rng: &mut Rng) -> Cell {
    if rng.chance(0.12) {
        t(num(x, 3, ','))
    } else {
        Cell::Number(x)
    }
}

fn yes_no_de(b: bool) -> &'static str {
    if b { "ja" } else { "nein" }
}

fn info_sheet(table: &mut Table<'_>, lines: &[&[&str]]) -> Result<(), DemoError> {
    for line in lines {
        let cells: Vec<Cell> = line.iter().map(|s| t(*s)).collect();
        table.record(&cells, None)?;
    }
    Ok(())
}

const HINWEISE: &[&[&str]] = &[
    &["Hinweise zu diesem Export"],
    &["Alle Angaben ohne Gewähr. Technische Änderungen vorbehalten."],
    &[],
    &["Begriff", "Erklärung"],
    &["VPE", "Verpackungseinheit (Stück je Karton)"],
    &["k.A.", "keine Angabe"],
    &["Lieferzeit", "Arbeitstage ab Werk Arnsberg"],
    &["Preise", "netto in EUR zzgl. gesetzl. MwSt., ab Werk"],
    &[],
    &["Rückfragen: produktdaten@luxwerk.example, Tel. +49 2931 5550-0"],
];

// ------------------------------------------------------------- XLSX files

fn master_luminaires(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "stammdaten/Luxwerk_Artikelstamm_Leuchten_2026.xlsx";
    let mut workbook = workbook();
    let mut tables = Vec::new();
    let mut rng = Rng::derive(d.seed, 101);
    let d_seed = d.seed;
    for (family, spec) in FAMILIES.iter().enumerate().filter(|(_, f)| f.luminaire) {
        let of_family: Vec<&Product> = items
            .iter()
            .filter(|p| p.family == family)
            .copied()
            .collect();
        tables.push(sheet(d, &mut workbook, path, spec.de, |table| {
            table.title(&format!("{COMPANY} – Artikelstamm {}", spec.de))?;
            table.title("Stand: 01.03.2026")?;
            table.blank()?;
            table.header(
                &[
                    "Artikelnummer",
                    "GTIN",
                    "Herstellernummer",
                    "Bezeichnung",
                    "Bezeichnung EN",
                    "Langtext",
                    "Familie",
                    "Serie",
                    "Marke",
                    "ETIM-Klasse",
                    "Status",
                    "Gültig ab",
                    "Gehäusefarbe",
                    "RAL",
                    "Material",
                    "Garantie [Jahre]",
                ],
                0,
            )?;
            let mess = Mess {
                heading: Some(series_heading),
                ..Mess::some(of_family.len())
            };
            emit(table, &of_family, 0, &mess, &mut rng, |p, rng| {
                let color = COLORS[p.color];
                vec![vec![
                    t(&p.key),
                    t(&p.gtin),
                    t(&p.mpn),
                    t(&p.name_de),
                    t(&p.name_en),
                    if rng.chance(0.7) {
                        t(format!(
                            "{} der Serie {} aus {}. Hochwertige LED-Technik von Luxwerk, {} W.",
                            p.family().noun_de,
                            p.series,
                            p.material,
                            num(p.power, 1, ',')
                        ))
                    } else {
                        Cell::Empty
                    },
                    t(p.family().de),
                    t(p.series),
                    t("Luxwerk"),
                    etim_class(p, d_seed),
                    t(p.status),
                    Cell::Date(p.valid_from),
                    t(color.0),
                    if color.2 == "—" {
                        t(no_value(rng))
                    } else {
                        t(color.2)
                    },
                    t(p.material),
                    Cell::Number(p.warranty as f64),
                ]]
            })?;
            footer(table, of_family.len())
        })?);
    }
    tables.push(sheet(d, &mut workbook, path, "Hinweise", |table| {
        info_sheet(table, HINWEISE)
    })?);
    save_xlsx(d, workbook, path, "master", tables)
}

fn master_components(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "stammdaten/luxwerk_master_components.xlsx";
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 102);
    let d_seed = d.seed;
    let table = sheet(d, &mut workbook, path, "Components", |table| {
        table.title("Luxwerk GmbH – Master data components / Stammdaten Komponenten")?;
        table.groups(&[
            ("Article", 5),
            ("Classification", 4),
            ("Lifecycle", 3),
            ("Design", 2),
        ])?;
        table.header(
            &[
                "Article No.",
                "EAN",
                "MPN",
                "Name DE",
                "Name EN",
                "Product family",
                "Series",
                "Brand",
                "ETIM class",
                "Status",
                "Valid from",
                "Warranty (years)",
                "Colour",
                "Material",
            ],
            0,
        )?;
        let mess = Mess {
            heading: Some(|p| format!("Series {}", p.series)),
            ..Mess::some(items.len())
        };
        emit(table, items, 0, &mess, &mut rng, |p, rng| {
            vec![vec![
                t(&p.key),
                t(&p.gtin),
                t(&p.mpn),
                t(&p.name_de),
                t(&p.name_en),
                t(p.family().en),
                t(p.series),
                t("LUXWERK"),
                etim_class(p, d_seed),
                t(match p.status {
                    "aktiv" => "active",
                    "neu" => "new",
                    _ => "phase-out",
                }),
                Cell::Date(p.valid_from),
                xnum(p.warranty as f64, rng),
                t(COLORS[p.color].1),
                if rng.chance(0.05) {
                    t("n/a")
                } else {
                    t(p.material)
                },
            ]]
        })?;
        footer(table, items.len())
    })?;
    save_xlsx(d, workbook, path, "master", vec![table])
}

fn technical_xlsx(
    d: &mut Delivery,
    items: &[&Product],
    families: &[usize],
    path: &str,
    stream: u64,
    merged: bool,
) -> Result<(), DemoError> {
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 200 + stream);
    let mut tables = Vec::new();
    // Each workbook of this kind spells the key differently.
    let key = ["Art.-Nr.", "Artikel-Nr.", "ArtNr"][(stream as usize) % 3];
    for &family in families {
        let spec = &FAMILIES[family];
        let of_family: Vec<&Product> = items
            .iter()
            .filter(|p| p.family == family)
            .copied()
            .collect();
        let outdoor = family >= 5;
        tables.push(sheet(d, &mut workbook, path, spec.de, |table| {
            if merged {
                table.title(&format!("Technische Daten {} – Luxwerk 2026", spec.de))?;
                table.groups(&[
                    ("Artikel", 1),
                    ("Elektrisch", 5),
                    ("Lichttechnik", 4),
                    ("Mechanik", 6),
                    ("Betrieb", 2),
                ])?;
            } else {
                table.title(&format!("{COMPANY} – Technische Daten {}", spec.de))?;
                table.title("Alle Angaben vorbehaltlich technischer Änderungen")?;
                table.title("Stand: 01.03.2026")?;
                table.blank()?;
            }
            let last: [&str; 2] = if outdoor {
                ["Schlagfestigkeit", "Notlichtdauer [h]"]
            } else {
                ["Lebensdauer [h]", "Umgebungstemperatur [°C]"]
            };
            table.header(
                &[
                    key,
                    "Leistung [W]",
                    "Spannung [V]",
                    "Schutzklasse",
                    "Dimmbar",
                    "Dimmart",
                    "Lichtstrom [lm]",
                    "Farbtemperatur [K]",
                    "CRI",
                    "Abstrahlwinkel [°]",
                    "IP-Schutzart",
                    "Nettogewicht [kg]",
                    "Länge [mm]",
                    "Breite [mm]",
                    "Höhe [mm]",
                    "Einbautiefe [mm]",
                    last[0],
                    last[1],
                ],
                0,
            )?;
            let mess = Mess {
                heading: if merged { None } else { Some(series_heading) },
                ..Mess::some(of_family.len())
            };
            emit(table, &of_family, 0, &mess, &mut rng, |p, rng| {
                let extra: [Cell; 2] = if outdoor {
                    [
                        t(rng.pick(&["IK06", "IK08", "IK10"])),
                        if p.family == 6 {
                            Cell::Number(rng.pick(&[1.0, 3.0, 8.0]))
                        } else {
                            t("-")
                        },
                    ]
                } else {
                    [
                        Cell::Number(p.lifetime as f64),
                        t(format!("-20…+{}", rng.range(35, 50))),
                    ]
                };
                let [a, b] = extra;
                vec![vec![
                    t(&p.key),
                    xnum(p.power, rng),
                    Cell::Number(p.voltage as f64),
                    t(p.protection_class),
                    t(yes_no_de(p.dimmable)),
                    if p.dimmable {
                        t(p.dimming)
                    } else {
                        Cell::Empty
                    },
                    xnum(p.lumen as f64, rng),
                    Cell::Number(p.cct as f64),
                    t(format!("Ra>{}", p.cri - 1)),
                    if p.family == 4 || rng.chance(0.04) {
                        t("k.A.")
                    } else {
                        Cell::Number(p.beam as f64)
                    },
                    t(p.ip),
                    xnum(p.weight, rng),
                    Cell::Number(p.length as f64),
                    Cell::Number(p.width as f64),
                    Cell::Number(p.height as f64),
                    if p.family <= 1 {
                        Cell::Number((p.height as f64 * 0.9).round())
                    } else {
                        Cell::Empty
                    },
                    a,
                    b,
                ]]
            })?;
            footer(table, of_family.len())
        })?);
    }
    save_xlsx(d, workbook, path, "technical", tables)
}

fn discount_group(p: &Product) -> String {
    format!("RG{:02}", 10 + p.family * 3 + (p.index as usize % 3))
}

/// Rows per sheet before a list continues on the next sheet: Excel holds
/// 1,048,576 rows, and exports split long lists the same way.
const MAX_SHEET_ROWS: usize = 1_000_000;

/// Sheets of at most `per_sheet` items each, `Name`, `Name (2)`, ..., each
/// written by `body` for its share of the items; no items still make one
/// sheet.
fn split_sheets<'p, F>(
    d: &Delivery,
    workbook: &mut Workbook,
    path: &str,
    name: &str,
    items: &[&'p Product],
    per_sheet: usize,
    mut body: F,
) -> Result<Vec<(ManifestSheet, HashSet<u32>)>, DemoError>
where
    F: FnMut(&mut Table<'_>, &[&'p Product]) -> Result<(), DemoError>,
{
    let none: &[&Product] = &[];
    let parts = items
        .chunks(per_sheet)
        .chain(items.is_empty().then_some(none));
    let mut sheets = Vec::new();
    for (part, chunk) in parts.enumerate() {
        let name = sheet_part_name(name, part);
        sheets.push(sheet(d, workbook, path, &name, |table| body(table, chunk))?);
    }
    Ok(sheets)
}

/// `Preisliste`, `Preisliste (2)`, ...
fn sheet_part_name(name: &str, part: usize) -> String {
    if part == 0 {
        name.to_owned()
    } else {
        format!("{name} ({})", part + 1)
    }
}

fn prices_eur(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "preise/Preisliste_EUR_2026.xlsx";
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 301);
    // Products listed twice with a different price: a correction appended by
    // hand without removing the old line.
    let conflicts = spread((items.len() / 2000).max(3), items.len(), 5);
    let conflict_keys: HashSet<u32> = conflicts.iter().map(|&i| items[i].index).collect();
    let mut tables = Vec::new();
    tables.extend(split_sheets(
        d,
        &mut workbook,
        path,
        "Preisliste",
        items,
        MAX_SHEET_ROWS,
        |table, chunk| {
            table.title("Luxwerk GmbH – Preisliste 2026")?;
            table.title("Bruttolistenpreise in EUR, gültig ab 01.03.2026")?;
            table.title("Stand: 01.03.2026")?;
            table.blank()?;
            table.header(
                &[
                    "Art.-Nr.",
                    "Artikeltext",
                    "Preis EUR",
                    "Preiseinheit",
                    "Rabattgruppe",
                    "Preis gültig ab",
                ],
                0,
            )?;
            let mess = Mess {
                heading: Some(|p| p.family().de.to_uppercase()),
                ..Mess::some(chunk.len())
            };
            emit(table, chunk, 0, &mess, &mut rng, |p, rng| {
                let row = vec![
                    t(&p.key),
                    t(&p.name_de),
                    xnum(p.price_eur, rng),
                    t(if p.vpe >= 10 { "100 Stk" } else { "1 Stk" }),
                    t(discount_group(p)),
                    Cell::Date(excel_serial(2026, 3, 1)),
                ];
                if conflict_keys.contains(&p.index) {
                    let mut again = row.clone();
                    again[2] = Cell::Number(((p.price_eur * 1.07) * 100.0).round() / 100.0);
                    vec![row, again]
                } else {
                    vec![row]
                }
            })?;
            footer(table, chunk.len())
        },
    )?);
    d.conflicts.extend(conflict_keys);
    tables.push(sheet(d, &mut workbook, path, "Hinweise", |table| {
        info_sheet(table, HINWEISE)
    })?);
    save_xlsx(d, workbook, path, "prices", tables)
}

fn prices_chf(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "preise/Preisliste_CHF_2026.xlsx";
    let items = subset(d, items, 302, 0.5);
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 302);
    let tables = split_sheets(
        d,
        &mut workbook,
        path,
        "CH",
        &items,
        MAX_SHEET_ROWS,
        |table, chunk| {
            table.title("Luxwerk (Schweiz) AG – Preisliste CHF 2026")?;
            table.header(
                &[
                    "Artikel-Nr.",
                    "Preis CHF",
                    "Preiseinheit CH",
                    "MWST-Code",
                    "VOC/VRG-Gebühr",
                ],
                0,
            )?;
            emit(
                table,
                chunk,
                0,
                &Mess::some(chunk.len()),
                &mut rng,
                |p, rng| {
                    vec![vec![
                        t(&p.key),
                        if rng.chance(0.1) {
                            t(price(p.price_chf, '.'))
                        } else {
                            Cell::Number(p.price_chf)
                        },
                        t("1 Stk"),
                        t("N8.1"),
                        if p.luminaire() {
                            t(format!("{:.2}", 0.5 + (p.weight * 0.3).round() / 10.0))
                        } else {
                            Cell::Empty
                        },
                    ]]
                },
            )?;
            footer(table, chunk.len())
        },
    )?;
    save_xlsx(d, workbook, path, "prices", tables)
}

fn logistics(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "logistik/Logistikdaten_2026.xlsx";
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 401);
    let tables = split_sheets(
        d,
        &mut workbook,
        path,
        "Logistik",
        items,
        MAX_SHEET_ROWS,
        |table, chunk| {
            table.header(
                &[
                    "Materialnummer",
                    "VPE",
                    "Zolltarifnummer",
                    "Ursprungsland",
                    "Bruttogewicht [kg]",
                    "Verpackung L x B x H [mm]",
                    "Lieferzeit [Tage]",
                    "Lagerartikel",
                ],
                0,
            )?;
            emit(
                table,
                chunk,
                0,
                &Mess::some(chunk.len()),
                &mut rng,
                |p, rng| {
                    vec![vec![
                        t(&p.key),
                        Cell::Number(p.vpe as f64),
                        t(p.family().customs),
                        t(p.origin),
                        xnum(((p.weight * 1.15 + 0.05) * 1000.0).round() / 1000.0, rng),
                        t(format!(
                            "{} x {} x {}",
                            p.length + 20,
                            p.width + 20,
                            p.height + 20
                        )),
                        Cell::Number(p.lead_days as f64),
                        if p.lead_days <= 5 {
                            t("x")
                        } else {
                            Cell::Empty
                        },
                    ]]
                },
            )?;
            Ok(())
        },
    )?;
    save_xlsx(d, workbook, path, "logistics", tables)
}

fn media_xlsx(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "medien/Medienverzeichnis.xlsx";
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 501);
    let labels = crate::media::label_products(items);
    let tables = split_sheets(
        d,
        &mut workbook,
        path,
        "Medien",
        items,
        MAX_SHEET_ROWS,
        |table, chunk| {
            table.title("Medienverzeichnis Luxwerk – Bilder und Dokumente")?;
            table.header(
                &[
                    "Art.Nr.",
                    "Produktbild",
                    "Milieubild",
                    "Datenblatt (PDF)",
                    "Montageanleitung",
                    "Lichtverteilung (LDT)",
                ],
                0,
            )?;
            emit(
                table,
                chunk,
                0,
                &Mess::some(chunk.len()),
                &mut rng,
                |p, rng| {
                    let k = &p.key;
                    vec![vec![
                        t(k),
                        t(crate::media::product_image_name(p, &labels)),
                        if rng.chance(0.4) {
                            t(format!(
                                "milieu_{}_{}.jpg",
                                p.series.to_lowercase(),
                                p.index % 40
                            ))
                        } else {
                            Cell::Empty
                        },
                        t(format!("https://lwx.example/db/{k}.pdf")),
                        if rng.chance(0.8) {
                            t(format!("MA_{}.pdf", p.series))
                        } else {
                            t(no_value(rng))
                        },
                        if p.luminaire() {
                            t(format!("{k}.ldt"))
                        } else {
                            Cell::Empty
                        },
                    ]]
                },
            )?;
            Ok(())
        },
    )?;
    save_xlsx(d, workbook, path, "media", tables)
}

/// The product's ETIM class cell: empty where the delivery has no class.
fn etim_class(p: &Product, seed: u64) -> Cell {
    match crate::catalog::delivered_class(p, seed) {
        Some(code) => t(code),
        None => Cell::Empty,
    }
}

/// ETIM features of a luminaire: (code, name, unit, value as text with
/// comma, value as number if numeric). Codes are real ETIM features (see
/// cradle-classify's excerpt).
fn features(
    p: &Product,
) -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    String,
    Option<f64>,
)> {
    let color = COLORS[p.color].0;
    vec![
        (
            "EF000280",
            "Lampenleistung",
            "W",
            num(p.power, 1, ','),
            Some(p.power),
        ),
        (
            "EF018714",
            "Lichtstrom",
            "lm",
            p.lumen.to_string(),
            Some(p.lumen as f64),
        ),
        (
            "EF009346",
            "Farbtemperatur",
            "K",
            p.cct.to_string(),
            Some(p.cct as f64),
        ),
        (
            "EF000008",
            "Breite",
            "mm",
            p.width.to_string(),
            Some(p.width as f64),
        ),
        (
            "EF001456",
            "Höhe",
            "mm",
            p.height.to_string(),
            Some(p.height as f64),
        ),
        ("EF000136", "Gehäusefarbe", "", color.to_owned(), None),
        ("EF005474", "Schutzart (IP)", "", p.ip.to_owned(), None),
        (
            "EF000137",
            "Dimmbar",
            "",
            (if p.dimmable { "true" } else { "false" }).to_owned(),
            None,
        ),
    ]
}

fn etim_luminaires(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "etim/ETIM_Merkmale_Leuchten.xlsx";
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 601);
    let mut tables = Vec::new();
    for (family, spec) in FAMILIES.iter().enumerate().filter(|(_, f)| f.luminaire) {
        let of_family: Vec<&Product> = items
            .iter()
            .filter(|p| p.family == family)
            .copied()
            .collect();
        // One sheet per family; families sharing a class get the noun too.
        let name = if FAMILIES[..family]
            .iter()
            .any(|f| f.luminaire && f.etim == spec.etim)
        {
            format!("{} {}", spec.etim, spec.noun_de)
        } else {
            spec.etim.to_owned()
        };
        // Up to three rows per product: a long family continues on the
        // next sheet before Excel's row limit.
        tables.extend(split_sheets(
            d,
            &mut workbook,
            path,
            &name,
            &of_family,
            MAX_SHEET_ROWS / 3,
            |table, chunk| {
                table.title(&format!("ETIM 10.0 – {} ({})", spec.de, spec.etim))?;
                table.header(
                    &[
                        "Artikelnummer",
                        "Merkmal",
                        "Merkmalsbezeichnung",
                        "Wert",
                        "Einheit",
                    ],
                    0,
                )?;
                emit(
                    table,
                    chunk,
                    0,
                    &Mess::some(chunk.len()),
                    &mut rng,
                    |p, rng| {
                        features(p)
                            .into_iter()
                            .take(3)
                            .map(|(code, name, unit, text, number)| {
                                vec![
                                    t(&p.key),
                                    t(code),
                                    t(name),
                                    match number {
                                        Some(n) if !rng.chance(0.1) => Cell::Number(n),
                                        _ => t(text),
                                    },
                                    if unit.is_empty() {
                                        Cell::Empty
                                    } else {
                                        t(unit)
                                    },
                                ]
                            })
                            .collect()
                    },
                )
            },
        )?);
    }
    save_xlsx(d, workbook, path, "etim_features", tables)
}

fn tender_de(p: &Product) -> String {
    let color = COLORS[p.color].0;
    let dim = if p.dimmable {
        format!("Dimmbar über {}.", p.dimming)
    } else {
        "Nicht dimmbar.".to_owned()
    };
    format!(
        "{name}\nLED-{noun} der Serie {series} aus {material}, Oberfläche {color}.\n\
         Leistung {power} W, Lichtstrom {lumen} lm, Farbtemperatur {cct} K, \
         Farbwiedergabe mind. Ra {cri}.\nSchutzart {ip}, Schutzklasse {pc}. {dim}\n\
         Abmessungen: {l} × {w} × {h} mm. Lebensdauer L80/B10: {life} h bei 25 °C.\n\
         Fabrikat: Luxwerk\nTyp: {mpn}\n\
         Liefern und betriebsfertig montieren: ______ Stk. à ______ € = ______ €",
        name = p.name_de,
        noun = p.family().noun_de,
        series = p.series,
        material = p.material,
        power = num(p.power, 1, ','),
        lumen = p.lumen,
        cct = p.cct,
        cri = p.cri,
        ip = p.ip,
        pc = p.protection_class,
        l = p.length,
        w = p.width,
        h = p.height,
        life = p.lifetime,
        mpn = p.mpn,
    )
}

fn tender_en(p: &Product) -> String {
    format!(
        "{name}\nLED {noun} of the {series} series, housing made of {material}, finish {color}.\n\
         Power {power} W, luminous flux {lumen} lm, colour temperature {cct} K, CRI > {cri1}.\n\
         Protection {ip}, protection class {pc}. {dim}\n\
         Dimensions: {l} x {w} x {h} mm. Rated life L80/B10: {life} h.\n\
         Make: Luxwerk, type: {mpn}",
        name = p.name_en,
        noun = p.family().noun_en.to_lowercase(),
        series = p.series,
        material = p.material,
        color = COLORS[p.color].1,
        power = num(p.power, 1, '.'),
        lumen = p.lumen,
        cct = p.cct,
        cri1 = p.cri - 1,
        ip = p.ip,
        pc = p.protection_class,
        dim = if p.dimmable {
            format!("Dimmable ({}).", p.dimming)
        } else {
            "Not dimmable.".to_owned()
        },
        l = p.length,
        w = p.width,
        h = p.height,
        life = p.lifetime,
        mpn = p.mpn,
    )
}

/// Products with a tender text, and which of the three text files has it:
/// each product's text lives in one file only.
fn tender_slot(d: &Delivery, p: &Product) -> Option<u8> {
    let roll = Rng::derive(d.seed, (701u64 << 40) ^ p.index as u64).unit();
    match roll {
        r if r < 0.03 => Some(0),
        r if r < 0.055 => Some(1),
        r if r < 0.075 => Some(2),
        _ => None,
    }
}

fn tender_xlsx(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "texte/Ausschreibungstexte_2026.xlsx";
    let mut chosen: Vec<&Product> = items
        .iter()
        .filter(|p| tender_slot(d, p) == Some(0))
        .copied()
        .collect();
    if chosen.len() < 3 {
        chosen = items.iter().take(3).copied().collect();
    }
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 702);
    let de = sheet(d, &mut workbook, path, "Deutsch", |table| {
        table.title("Ausschreibungstexte Luxwerk 2026")?;
        table.header(&["Artikelnummer", "Ausschreibungstext DE", "Textstand"], 0)?;
        emit(
            table,
            &chosen,
            0,
            &Mess::some(chosen.len()),
            &mut rng,
            |p, _| {
                vec![vec![
                    t(&p.key),
                    t(tender_de(p)),
                    Cell::Date(excel_serial(2026, 1, 15)),
                ]]
            },
        )
    })?;
    let en = sheet(d, &mut workbook, path, "English", |table| {
        table.title("Tender texts Luxwerk 2026")?;
        table.header(&["Article number", "Tender text EN", "Text version"], 0)?;
        emit(
            table,
            &chosen,
            0,
            &Mess::some(chosen.len()),
            &mut rng,
            |p, _| vec![vec![t(&p.key), t(tender_en(p)), t("2026-01")]],
        )
    })?;
    save_xlsx(d, workbook, path, "texts", vec![de, en])
}

fn discontinued(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let path = "aktionen/Auslaufartikel_Nachfolger_2026.xlsx";
    let old: Vec<&Product> = items
        .iter()
        .filter(|p| p.status == "Auslauf")
        .copied()
        .collect();
    let old = subset(d, &old, 801, 0.25);
    let mut workbook = workbook();
    let mut rng = Rng::derive(d.seed, 801);
    let by_index: Vec<&Product> = items.to_vec();
    let table = sheet(d, &mut workbook, path, "Auslauf", |table| {
        table.title("Auslaufartikel 2026 – Abverkauf solange Vorrat reicht")?;
        table.title("Stand: 01.03.2026")?;
        table.header(
            &[
                "Art.-Nr.",
                "Auslaufdatum",
                "Nachfolger-Artikelnummer",
                "Restbestand",
                "Hinweis",
            ],
            0,
        )?;
        emit(
            table,
            &old,
            0,
            &Mess::some(old.len()),
            &mut rng,
            |p, rng| {
                let successor = by_index[(p.index as usize + 1 + rng.below(5)) % by_index.len()];
                vec![vec![
                    t(&p.key),
                    Cell::Date(excel_serial(2026, rng.range(4, 12) as u32, 30)),
                    if rng.chance(0.85) {
                        t(&successor.key)
                    } else {
                        t("kein Nachfolger")
                    },
                    Cell::Number(rng.range(0, 400) as f64),
                    if rng.chance(0.3) {
                        t("Sonderpreis auf Anfrage")
                    } else {
                        Cell::Empty
                    },
                ]]
            },
        )?;
        footer(table, old.len())
    })?;
    let info = sheet(d, &mut workbook, path, "Info", |table| {
        info_sheet(
            table,
            &[
                &["Auslaufartikel werden bis Ende 2026 ausgeliefert."],
                &["Nachfolger sind in Form, Funktion und Lichtleistung vergleichbar."],
                &[],
                &["Ansprechpartner", "Vertriebsinnendienst"],
            ],
        )
    })?;
    save_xlsx(d, workbook, path, "relations", vec![table, info])
}

// -------------------------------------------------------------- CSV files

fn changes_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "stammdaten/artikelstamm_aenderungen_q1_2026.csv",
        encoding: Enc::Utf8,
        delimiter: ';',
        decimal: ',',
        content: "master",
    };
    let chosen = subset(d, items, 901, 0.02);
    // A quarter of the changes rename the article: the master file still has
    // the old name, so the product carries two names.
    let renamed = spread((chosen.len() / 4).max(2), chosen.len(), 1);
    let renamed: HashSet<u32> = renamed.iter().map(|&i| chosen[i].index).collect();
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 901);
    table.title("Änderungsliste Artikelstamm Q1/2026")?;
    table.header(
        &[
            "Artikelnummer",
            "Bezeichnung",
            "Änderungsart",
            "Geändert am",
            "Bearbeiter",
        ],
        0,
    )?;
    emit(
        &mut table,
        &chosen,
        0,
        &Mess::csv(chosen.len()),
        &mut rng,
        |p, rng| {
            let (name, kind) = if renamed.contains(&p.index) {
                (format!("{} (neu)", p.name_de), "Bezeichnung geändert")
            } else {
                (
                    p.name_de.clone(),
                    rng.pick(&["Preisänderung", "Bild ergänzt", "Datenblatt aktualisiert"]),
                )
            };
            vec![vec![
                t(&p.key),
                t(name),
                t(kind),
                t(date_de(excel_serial(
                    2026,
                    rng.range(1, 3) as u32,
                    rng.range(1, 28) as u32,
                ))),
                t(rng.pick(&["M. Köhler", "S. Weiß", "J. Öztürk"])),
            ]]
        },
    )?;
    let finished = table.finish();
    d.conflicts.extend(renamed);
    spec.save(d, sink, finished)
}

fn technical_components_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "technik/technische_daten_komponenten.csv",
        encoding: Enc::Windows1252,
        delimiter: ';',
        decimal: ',',
        content: "technical",
    };
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1001);
    table.title(
        "Luxwerk GmbH – Technische Daten Komponenten (Treiber, Module, Schienen, Zubehör)",
    )?;
    table.title("Export vom 01.03.2026 08:00")?;
    table.header(
        &[
            "Art.-Nr.",
            "Typ",
            "Leistung",
            "Eingangsspannung",
            "Ausgangsspannung [V]",
            "Ausgangsstrom [mA]",
            "Schutzart",
            "Schutzklasse",
            "Dimmbar",
            "Schnittstelle",
            "Umgebungstemperatur",
            "Länge [mm]",
            "Breite [mm]",
            "Höhe [mm]",
            "Nettogewicht [kg]",
            "Lebensdauer [h]",
        ],
        0,
    )?;
    let mess = Mess {
        heading: Some(|p| format!("Warengruppe {}", p.family().de)),
        ..Mess::csv(items.len())
    };
    emit(&mut table, items, 0, &mess, &mut rng, |p, rng| {
        let driver = p.family == 9;
        vec![vec![
            t(&p.key),
            t(&p.mpn),
            if p.power > 0.0 {
                t(format!("{} W", num(p.power, 1, ',')))
            } else {
                t("-")
            },
            t(if p.family == 8 {
                "24 V DC"
            } else {
                "220–240 V AC"
            }),
            if driver || p.family == 8 {
                t(p.voltage.min(48).to_string())
            } else {
                Cell::Empty
            },
            if driver {
                t(rng.pick(&["350", "500", "700", "1050"]).to_string())
            } else {
                Cell::Empty
            },
            t(p.ip),
            t(p.protection_class),
            t(yes_no_de(p.dimmable)),
            if p.dimmable {
                t(p.dimming)
            } else {
                Cell::Empty
            },
            t(format!("-20…+{} °C", rng.range(40, 55))),
            t(p.length.to_string()),
            t(p.width.to_string()),
            t(p.height.to_string()),
            t(num(p.weight, 3, ',')),
            if rng.chance(0.05) {
                t("k.A.")
            } else {
                t(p.lifetime.to_string())
            },
        ]]
    })?;
    footer(&mut table, items.len())?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn photometry_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "technik/lichttechnik_leuchten.csv",
        encoding: Enc::Utf8Bom,
        delimiter: ';',
        decimal: ',',
        content: "technical",
    };
    let items = &subset(d, items, 1101, 0.7);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1101);
    table.header(
        &[
            "ArtNr",
            "UGR",
            "Lichtausbeute [lm/W]",
            "LOR [%]",
            "Lichtfarbe",
            "Blendschutz",
        ],
        0,
    )?;
    emit(
        &mut table,
        items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, rng| {
            vec![vec![
                t(&p.key),
                if rng.chance(0.1) {
                    t("-")
                } else {
                    t(format!("<{}", rng.pick(&[16, 19, 22, 25])))
                },
                t(num(p.lumen as f64 / p.power.max(1.0), 1, ',')),
                t(num(rng.range(700, 990) as f64 / 10.0, 1, ',')),
                t(match p.cct {
                    c if c <= 3000 => "warmweiß",
                    c if c <= 4000 => "neutralweiß",
                    _ => "tageslichtweiß",
                }),
                if rng.chance(0.5) { t("x") } else { Cell::Empty },
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn etim_components_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "etim/etim_features_components.csv",
        encoding: Enc::Utf8,
        delimiter: '\t',
        decimal: '.',
        content: "etim_features",
    };
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1201);
    table.header(
        &[
            "article_no",
            "feature_code",
            "feature_name",
            "value",
            "unit",
        ],
        0,
    )?;
    emit(
        &mut table,
        items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, _| {
            let rows: [(&str, &str, String, &str); 3] = [
                ("EF001438", "Length", p.length.to_string(), "mm"),
                ("EF000008", "Width", p.width.to_string(), "mm"),
                ("EF005474", "IP rating", p.ip.to_owned(), ""),
            ];
            rows.into_iter()
                .map(|(code, name, value, unit)| {
                    vec![
                        t(&p.key),
                        t(code),
                        t(name),
                        t(value),
                        if unit.is_empty() {
                            Cell::Empty
                        } else {
                            t(unit)
                        },
                    ]
                })
                .collect()
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn etim_extra_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "etim/etim_merkmale_zusatz_leuchten.csv",
        encoding: Enc::Windows1252,
        delimiter: ';',
        decimal: ',',
        content: "etim_features",
    };
    let items = subset(d, items, 1301, 0.5);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1301);
    table.title("ETIM-Merkmale (Ergänzung) – Luxwerk")?;
    table.header(
        &["Art.-Nr.", "Merkmal-Nr.", "Merkmalstext", "Wert", "Einheit"],
        0,
    )?;
    emit(
        &mut table,
        &items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, _| {
            features(p)
                .into_iter()
                .skip(4)
                .take(2)
                .map(|(code, name, unit, text, _)| {
                    vec![
                        t(&p.key),
                        t(code),
                        t(name),
                        t(text),
                        if unit.is_empty() {
                            Cell::Empty
                        } else {
                            t(unit)
                        },
                    ]
                })
                .collect()
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn accessories_csv(
    d: &mut Delivery,
    items: &[&Product],
    accessories: &[&Product],
) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "beziehungen/zubehoer_beziehungen.csv",
        encoding: Enc::Utf8,
        delimiter: ',',
        decimal: '.',
        content: "relations",
    };
    let items = subset(d, items, 1401, 0.3);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1401);
    table.header(
        &[
            "article_no",
            "relation_type",
            "target_article_no",
            "quantity",
        ],
        0,
    )?;
    emit(
        &mut table,
        &items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, rng| {
            (0..rng.range(1, 3))
                .map(|_| {
                    let target = accessories[rng.below(accessories.len())];
                    vec![
                        t(&p.key),
                        t(rng.pick(&["Zubehör", "accessory", "Zubehör (optional)"])),
                        t(&target.key),
                        t(rng.range(1, 4).to_string()),
                    ]
                })
                .collect()
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn successors_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "beziehungen/nachfolger.csv",
        encoding: Enc::Windows1252,
        delimiter: ';',
        decimal: ',',
        content: "relations",
    };
    let old: Vec<&Product> = items
        .iter()
        .filter(|p| p.status == "Auslauf")
        .copied()
        .collect();
    let old = subset(d, &old, 1501, 0.3);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1501);
    table.header(
        &["Artikelnummer", "Beziehung", "Ziel-ArtNr", "Gültig ab"],
        0,
    )?;
    emit(
        &mut table,
        &old,
        0,
        &Mess::csv(old.len()),
        &mut rng,
        |p, rng| {
            let target = items[(p.index as usize + 1 + rng.below(9)) % items.len()];
            vec![vec![
                t(&p.key),
                t(rng.pick(&["Nachfolger", "successor", "Ersatzartikel"])),
                t(&target.key),
                t(date_de(excel_serial(2026, rng.range(1, 12) as u32, 1))),
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn tender_de_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "texte/ausschreibungstexte_de.csv",
        encoding: Enc::Windows1252,
        delimiter: ';',
        decimal: ',',
        content: "texts",
    };
    let mut chosen: Vec<&Product> = items
        .iter()
        .filter(|p| tender_slot(d, p) == Some(1))
        .copied()
        .collect();
    if chosen.len() < 3 {
        chosen = items.iter().skip(3).take(3).copied().collect();
    }
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1601);
    table.title("Ausschreibungstexte – Langtexte für Leistungsverzeichnisse")?;
    table.header(
        &[
            "Artikel-Nr.",
            "Ausschreibungstext (lang)",
            "Planungshinweis",
            "Stand",
        ],
        0,
    )?;
    emit(
        &mut table,
        &chosen,
        0,
        &Mess::csv(chosen.len()),
        &mut rng,
        |p, rng| {
            vec![vec![
                t(&p.key),
                t(tender_de(p)),
                if rng.chance(0.5) {
                    t(
                        "Mindestabstand zu brennbaren Materialien 0,2 m; \"Einbau nur durch Fachkraft\"",
                    )
                } else {
                    Cell::Empty
                },
                t("01.2026"),
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn tender_en_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "texte/tender_texts_en.csv",
        encoding: Enc::Utf8,
        delimiter: ',',
        decimal: '.',
        content: "texts",
    };
    let mut chosen: Vec<&Product> = items
        .iter()
        .filter(|p| tender_slot(d, p) == Some(2))
        .copied()
        .collect();
    if chosen.len() < 3 {
        chosen = items.iter().skip(6).take(3).copied().collect();
    }
    let mut sink = spec.sink(true);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1701);
    table.header(
        &["item_number", "tender_text", "planning_note", "last_update"],
        0,
    )?;
    emit(
        &mut table,
        &chosen,
        0,
        &Mess::csv(chosen.len()),
        &mut rng,
        |p, rng| {
            vec![vec![
                t(&p.key),
                t(tender_en(p)),
                if rng.chance(0.4) {
                    t("Observe the installation manual, chapter 3, \"mounting\"")
                } else {
                    Cell::Empty
                },
                t("2026-01-15"),
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn country_prices_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "preise/preise_laender_2026.csv",
        encoding: Enc::Utf8,
        delimiter: ';',
        decimal: ',',
        content: "prices",
    };
    let items = subset(d, items, 1801, 0.12);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1801);
    table.header(
        &["Art.Nr.", "Land", "Währung", "Nettopreis", "Preiseinheit"],
        0,
    )?;
    emit(
        &mut table,
        &items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, _| {
            [
                ("DE", "EUR", p.price_eur * 0.62),
                ("AT", "EUR", p.price_eur * 0.64),
                ("CH", "CHF", p.price_chf * 0.6),
            ]
            .into_iter()
            .map(|(country, currency, net)| {
                vec![
                    t(&p.key),
                    t(country),
                    t(currency),
                    t(price(net, ',')),
                    t("1 Stk"),
                ]
            })
            .collect()
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn tier_prices_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "preise/staffelpreise_2026.csv",
        encoding: Enc::Utf8,
        delimiter: ',',
        decimal: '.',
        content: "prices",
    };
    let items = subset(d, items, 1901, 0.2);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 1901);
    table.header(
        &[
            "SKU",
            "Staffel 1 ab",
            "Staffel 1 Preis",
            "Staffel 2 ab",
            "Staffel 2 Preis",
            "Staffel 3 ab",
            "Staffel 3 Preis",
        ],
        0,
    )?;
    emit(
        &mut table,
        &items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, _| {
            vec![vec![
                t(&p.key),
                t("1"),
                t(price(p.price_eur, '.')),
                t("10"),
                t(price(p.price_eur * 0.95, '.')),
                t("50"),
                t(price(p.price_eur * 0.9, '.')),
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn stock_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "logistik/lagerbestand_2026-03-01.csv",
        encoding: Enc::Utf8,
        delimiter: '\t',
        decimal: ',',
        content: "logistics",
    };
    let items = subset(d, items, 2001, 0.6);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 2001);
    table.title("Lagerbestand Zentrallager Arnsberg, Stichtag 01.03.2026")?;
    table.header(
        &[
            "ArtNr",
            "Lager",
            "Bestand",
            "Reserviert",
            "Verfügbar ab",
            "Wiederbeschaffungszeit [Tage]",
        ],
        0,
    )?;
    emit(
        &mut table,
        &items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, rng| {
            let stock = rng.range(0, 900);
            vec![vec![
                t(&p.key),
                t(rng.pick(&["ARN-01", "ARN-02", "Außenlager"])),
                t(stock.to_string()),
                if rng.chance(0.3) {
                    t(rng.range(1, 50).to_string())
                } else {
                    Cell::Empty
                },
                if stock == 0 || rng.chance(0.2) {
                    t(date_de(excel_serial(
                        2026,
                        rng.range(3, 6) as u32,
                        rng.range(1, 28) as u32,
                    )))
                } else {
                    Cell::Empty
                },
                t(num(p.lead_days as f64 * 1.5, 1, ',')),
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn compliance_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "compliance/umwelt_compliance.csv",
        encoding: Enc::Windows1252,
        delimiter: ';',
        decimal: ',',
        content: "compliance",
    };
    let items = &subset(d, items, 2101, 0.6);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 2101);
    table.header(
        &[
            "Materialnummer",
            "RoHS-konform",
            "REACH SVHC > 0,1 %",
            "WEEE-Kategorie",
            "SCIP-Nummer",
            "Batterie enthalten",
            "CE",
            "Energieeffizienzklasse",
        ],
        0,
    )?;
    emit(
        &mut table,
        items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, rng| {
            let bools: [&str; 2] =
                rng.pick(&[["ja", "nein"], ["yes", "no"], ["1", "0"], ["x", ""]]);
            vec![vec![
                t(&p.key),
                t(bools[0]),
                t(bools[1]),
                t(if p.luminaire() {
                    "5 – Kleingeräte"
                } else {
                    "4 – Großgeräte"
                }),
                if rng.chance(0.2) {
                    t(format!("{:08x}-scip-{}", p.index, p.index % 97))
                } else {
                    Cell::Empty
                },
                t(if p.family == 6 { bools[0] } else { bools[1] }),
                t("x"),
                if p.luminaire() {
                    t(rng.pick(&["D", "E", "F"]))
                } else {
                    t(no_value(rng))
                },
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn media_links_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "medien/medien_links.csv",
        encoding: Enc::Utf8Bom,
        delimiter: ',',
        decimal: '.',
        content: "media",
    };
    let items = subset(d, items, 2201, 0.06);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 2201);
    table.header(&["Article number", "Media type", "File name", "URL"], 0)?;
    emit(
        &mut table,
        &items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, rng| {
            let kinds = ["Produktbild", "Datenblatt", "Maßzeichnung", "CAD (3D)"];
            let n = 3 + rng.below(2);
            kinds[..n]
                .iter()
                .map(|kind| {
                    let ext = match *kind {
                        "Datenblatt" => "pdf",
                        "Maßzeichnung" => "dxf",
                        "CAD (3D)" => "step",
                        _ => "jpg",
                    };
                    let file = format!(
                        "{}_{}.{ext}",
                        p.key,
                        kind.to_lowercase().replace([' ', '(', ')'], "")
                    );
                    vec![
                        t(&p.key),
                        t(*kind),
                        t(&file),
                        t(format!("https://lwx.example/m/{file}")),
                    ]
                })
                .collect()
        },
    )?;
    // A broken export that embedded the picture itself instead of its file
    // name: one field of more than 1 MiB.
    let mut blob = String::from("data:image/png;base64,");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while blob.len() < cradle_core::accounting::MAX_CELL_BYTES + 50_000 {
        let bits = rng.next_u64();
        blob.extend((0..10).map(|i| alphabet[((bits >> (i * 6)) & 63) as usize] as char));
    }
    let first = items[0];
    table.record(
        &[t(&first.key), t("Produktbild"), t("inline.png"), t(blob)],
        Some(first.index),
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}

fn pim_csv(d: &mut Delivery, items: &[&Product]) -> Result<(), DemoError> {
    let spec = CsvSpec {
        path: "pim/pim_export_marketing.csv",
        encoding: Enc::Utf8,
        delimiter: ',',
        decimal: '.',
        content: "marketing",
    };
    let items = subset(d, items, 2301, 0.3);
    let mut sink = spec.sink(false);
    let mut table = Table::new(&mut sink, None);
    let mut rng = Rng::derive(d.seed, 2301);
    table.header(
        &[
            "SUPPLIER_PID",
            "category_path",
            "application",
            "launch_date",
            "is_bestseller",
        ],
        0,
    )?;
    emit(
        &mut table,
        &items,
        0,
        &Mess::csv(items.len()),
        &mut rng,
        |p, rng| {
            vec![vec![
                t(&p.key),
                t(format!("Luxwerk > {} > {}", p.family().en, p.series)),
                t(rng.pick(&[
                    "Office",
                    "Retail",
                    "Hospitality",
                    "Residential",
                    "Industry, Logistics",
                    "Outdoor",
                ])),
                t(date_iso(p.valid_from)),
                t(if rng.chance(0.1) { "1" } else { "0" }),
            ]]
        },
    )?;
    let finished = table.finish();
    spec.save(d, sink, finished)
}
