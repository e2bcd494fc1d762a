//! The delivery's media files with text in them: datasheet PDFs and
//! product-label pictures of a few real products of the range, and one
//! truncated PDF, so that reading text from media (and failing at it) can
//! be shown and tested.
//!
//! Both formats are written by hand, byte for byte, so they are small and
//! the same for the same seed: the PDFs are one page of Helvetica text
//! (German, then English), the PNGs black capitals of a small stroke font
//! embedded here, drawn on white large enough for OCR to read them. The
//! products' media attributes in `medien/Medienverzeichnis.xlsx` name these
//! files: the datasheet by its URL (`https://lwx.example/db/<article>.pdf`),
//! the picture as the product image (`<article>_01.png`).

use crate::catalog::{COLORS, Product};
use crate::format::num;
use crate::{Delivery, DemoError, write_bytes};
use cradle_core::manifest::ManifestFile;
use std::collections::HashSet;
use std::io::Write;

/// Datasheets written whole; one more is written truncated.
pub const DATASHEETS: usize = 6;
pub const LABELS: usize = 4;
/// Media files in every delivery: datasheets, the broken one, labels.
pub const MEDIA_FILES: usize = DATASHEETS + 1 + LABELS;

/// `count` distinct luminaires (they have the technical values a datasheet
/// shows) at places spread over the range, moved by `shift`.
fn spread<'a>(luminaires: &[&'a Product], count: usize, shift: usize) -> Vec<&'a Product> {
    let n = luminaires.len();
    let mut picked: Vec<&Product> = Vec::with_capacity(count);
    for k in 0..count.min(n) {
        let mut at = ((2 * k + 1) * n / (2 * count) + shift) % n;
        while picked.iter().any(|p| p.index == luminaires[at].index) {
            at = (at + 1) % n;
        }
        picked.push(luminaires[at]);
    }
    picked
}

fn luminaires<'a>(products: impl IntoIterator<Item = &'a Product>) -> Vec<&'a Product> {
    products.into_iter().filter(|p| p.luminaire()).collect()
}

/// The products with a datasheet PDF; the last one's file is truncated.
fn datasheet_products(products: &[Product]) -> Vec<&Product> {
    spread(&luminaires(products), DATASHEETS + 1, 0)
}

/// The products whose product image is a label picture with text.
pub fn label_products(products: &[&Product]) -> HashSet<u32> {
    let luminaires = luminaires(products.iter().copied());
    let shift = luminaires.len() / 7 + 1;
    spread(&luminaires, LABELS, shift)
        .iter()
        .map(|p| p.index)
        .collect()
}

/// The product image's file name as the media list gives it.
pub fn product_image_name(p: &Product, labels: &HashSet<u32>) -> String {
    if labels.contains(&p.index) {
        format!("{}_01.png", p.key)
    } else {
        format!("{}_01.jpg", p.key)
    }
}

pub fn write_all(d: &mut Delivery, products: &[Product]) -> Result<(), DemoError> {
    let sheets = datasheet_products(products);
    for (i, p) in sheets.iter().enumerate() {
        let mut bytes = datasheet_pdf(p);
        if i == DATASHEETS {
            // Cut inside the page's content stream, before the catalog:
            // a download that broke off.
            bytes.truncate(bytes.len() * 2 / 5);
        }
        save(d, &format!("media/{}.pdf", p.key), "pdf", &bytes)?;
    }
    let all: Vec<&Product> = products.iter().collect();
    let labels = label_products(&all);
    for p in products.iter().filter(|p| labels.contains(&p.index)) {
        save(d, &format!("media/{}_01.png", p.key), "png", &label_png(p))?;
    }
    Ok(())
}

fn save(d: &mut Delivery, path: &str, format: &str, bytes: &[u8]) -> Result<(), DemoError> {
    write_bytes(&d.dir.join(path), bytes)?;
    let file = ManifestFile {
        path: path.to_owned(),
        format: format.to_owned(),
        encoding: "binary".to_owned(),
        content: "media".to_owned(),
        ..ManifestFile::default()
    };
    d.add(file, Vec::new())
}

// ------------------------------------------------------------------- PDF

/// The lines of a datasheet: (bold, text); `None` is a gap.
fn datasheet_lines(p: &Product) -> Vec<Option<(bool, String)>> {
    let family = p.family();
    let lumen_de = thousands(p.lumen, '.');
    let lumen_en = thousands(p.lumen, ',');
    let line = |bold: bool, text: String| Some((bold, text));
    vec![
        line(true, p.name_de.clone()),
        line(
            false,
            format!("Produktfamilie: {}, Serie {}", family.de, p.series),
        ),
        line(false, format!("Artikelnummer: {}", p.key)),
        line(false, format!("GTIN: {}", p.gtin)),
        line(false, format!("Leistung: {} W", num(p.power, 1, ','))),
        line(false, format!("Lichtstrom: {lumen_de} lm")),
        line(false, format!("Farbtemperatur: {} K", p.cct)),
        line(false, format!("Farbwiedergabe: CRI {}", p.cri)),
        line(false, format!("Schutzart: {}", p.ip)),
        line(false, format!("Schutzklasse: {}", p.protection_class)),
        line(false, format!("Abstrahlwinkel: {}°", p.beam)),
        line(
            false,
            format!("Material: {}, Farbe {}", p.material, COLORS[p.color].0),
        ),
        None,
        line(true, p.name_en.clone()),
        line(
            false,
            format!("Product family: {}, series {}", family.en, p.series),
        ),
        line(false, format!("Article number: {}", p.key)),
        line(false, format!("Power: {} W", num(p.power, 1, '.'))),
        line(false, format!("Luminous flux: {lumen_en} lm")),
        line(false, format!("Colour temperature: {} K", p.cct)),
        line(false, format!("Colour rendering: CRI {}", p.cri)),
        line(false, format!("IP rating: {}", p.ip)),
        line(false, format!("Protection class: {}", p.protection_class)),
        line(false, format!("Beam angle: {}°", p.beam)),
        line(false, format!("Colour: {}", COLORS[p.color].1)),
    ]
}

fn thousands(n: u32, separator: char) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// A PDF string literal in WinAnsiEncoding: `(`, `)` and `\` escaped,
/// bytes above ASCII as octal escapes.
fn pdf_string(text: &str) -> String {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let mut out = String::from("(");
    for &b in bytes.iter() {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push(')');
    out
}

/// One A4 page: a title line, the German block, the English block, a footer.
fn datasheet_pdf(p: &Product) -> Vec<u8> {
    let mut content = String::new();
    content.push_str("BT /F2 9 Tf 56 800 Td ");
    content.push_str(&pdf_string(&format!(
        "{} – Datenblatt / Datasheet",
        crate::files::COMPANY
    )));
    content.push_str(" Tj ET\n");
    let mut y = 760;
    for line in datasheet_lines(p) {
        match line {
            None => y -= 12,
            Some((bold, text)) => {
                let (font, size, step) = if bold { ("F2", 14, 22) } else { ("F1", 11, 16) };
                content.push_str(&format!(
                    "BT /{font} {size} Tf 1 0 0 1 56 {y} Tm {} Tj ET\n",
                    pdf_string(&text)
                ));
                y -= step;
            }
        }
    }
    content.push_str("BT /F1 8 Tf 56 40 Td ");
    content.push_str(&pdf_string(crate::files::COPYRIGHT));
    content.push_str(" Tj ET\n");

    // The content stream comes first in the file, so that a truncated copy
    // loses the catalog and page tree, as a broken-off download would.
    let objects: Vec<(u32, String)> = vec![
        (
            6,
            format!(
                "<< /Length {} >>\nstream\n{content}endstream",
                content.len()
            ),
        ),
        (1, "<< /Type /Catalog /Pages 2 0 R >>".to_owned()),
        (2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned()),
        (
            3,
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
             /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
                .to_owned(),
        ),
        (
            4,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .to_owned(),
        ),
        (
            5,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
                .to_owned(),
        ),
        (
            7,
            format!(
                "<< /Title {} /Author {} /Producer (cradle-demo) /CreationDate (D:20260301080000Z) >>",
                pdf_string(&format!("Datenblatt {}", p.key)),
                pdf_string(crate::files::COMPANY)
            ),
        ),
    ];
    let mut pdf: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = [0usize; 8];
    for (number, body) in &objects {
        offsets[*number as usize] = pdf.len();
        pdf.extend_from_slice(format!("{number} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let xref = pdf.len();
    let mut table = String::from("xref\n0 8\n0000000000 65535 f \n");
    for offset in &offsets[1..] {
        table.push_str(&format!("{offset:010} 00000 n \n"));
    }
    pdf.extend_from_slice(table.as_bytes());
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 8 /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n")
            .as_bytes(),
    );
    pdf
}

// ------------------------------------------------------------------- PNG

/// A point of a glyph: x in 0..=4 (left to right), y in 0..=8 (top to
/// bottom, the baseline at 8).
type Point = (f32, f32);

const O_RING: &[Point] = &[
    (1.0, 0.0),
    (3.0, 0.0),
    (4.0, 1.0),
    (4.0, 7.0),
    (3.0, 8.0),
    (1.0, 8.0),
    (0.0, 7.0),
    (0.0, 1.0),
    (1.0, 0.0),
];
const P_BOWL: &[Point] = &[
    (0.0, 8.0),
    (0.0, 0.0),
    (3.0, 0.0),
    (4.0, 1.0),
    (4.0, 3.0),
    (3.0, 4.0),
    (0.0, 4.0),
];

/// A small stroke font: each glyph is polylines, drawn with a round pen.
/// Plain, open shapes (an unslashed zero narrower than the O, a seven with
/// a bent stem) so that OCR tells the digits apart.
const FONT: &[(char, &[&[Point]])] = &[
    (
        'A',
        &[
            &[(0.0, 8.0), (2.0, 0.0), (4.0, 8.0)],
            &[(0.7, 5.3), (3.3, 5.3)],
        ],
    ),
    (
        'B',
        &[
            &[
                (0.0, 0.0),
                (0.0, 8.0),
                (3.0, 8.0),
                (4.0, 7.0),
                (4.0, 5.0),
                (3.0, 4.0),
                (0.0, 4.0),
            ],
            &[(0.0, 0.0), (2.8, 0.0), (3.7, 0.9), (3.7, 3.1), (2.8, 4.0)],
        ],
    ),
    (
        'C',
        &[&[
            (4.0, 1.0),
            (3.0, 0.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (0.0, 7.0),
            (1.0, 8.0),
            (3.0, 8.0),
            (4.0, 7.0),
        ]],
    ),
    (
        'D',
        &[&[
            (0.0, 0.0),
            (0.0, 8.0),
            (2.5, 8.0),
            (4.0, 6.5),
            (4.0, 1.5),
            (2.5, 0.0),
            (0.0, 0.0),
        ]],
    ),
    (
        'E',
        &[
            &[(4.0, 0.0), (0.0, 0.0), (0.0, 8.0), (4.0, 8.0)],
            &[(0.0, 4.0), (3.0, 4.0)],
        ],
    ),
    (
        'F',
        &[
            &[(4.0, 0.0), (0.0, 0.0), (0.0, 8.0)],
            &[(0.0, 4.0), (3.0, 4.0)],
        ],
    ),
    (
        'G',
        &[&[
            (4.0, 1.0),
            (3.0, 0.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (0.0, 7.0),
            (1.0, 8.0),
            (3.0, 8.0),
            (4.0, 7.0),
            (4.0, 4.5),
            (2.2, 4.5),
        ]],
    ),
    (
        'H',
        &[
            &[(0.0, 0.0), (0.0, 8.0)],
            &[(4.0, 0.0), (4.0, 8.0)],
            &[(0.0, 4.0), (4.0, 4.0)],
        ],
    ),
    (
        'I',
        &[
            &[(2.0, 0.0), (2.0, 8.0)],
            &[(1.0, 0.0), (3.0, 0.0)],
            &[(1.0, 8.0), (3.0, 8.0)],
        ],
    ),
    (
        'J',
        &[&[
            (1.5, 0.0),
            (4.0, 0.0),
            (4.0, 7.0),
            (3.0, 8.0),
            (1.0, 8.0),
            (0.0, 7.0),
        ]],
    ),
    (
        'K',
        &[
            &[(0.0, 0.0), (0.0, 8.0)],
            &[(4.0, 0.0), (0.0, 5.0)],
            &[(1.5, 3.5), (4.0, 8.0)],
        ],
    ),
    ('L', &[&[(0.0, 0.0), (0.0, 8.0), (4.0, 8.0)]]),
    (
        'M',
        &[&[(0.0, 8.0), (0.0, 0.0), (2.0, 5.0), (4.0, 0.0), (4.0, 8.0)]],
    ),
    ('N', &[&[(0.0, 8.0), (0.0, 0.0), (4.0, 8.0), (4.0, 0.0)]]),
    ('O', &[O_RING]),
    ('P', &[P_BOWL]),
    ('Q', &[O_RING, &[(2.5, 6.0), (4.0, 8.5)]]),
    ('R', &[P_BOWL, &[(2.0, 4.0), (4.0, 8.0)]]),
    (
        'S',
        &[&[
            (4.0, 1.0),
            (3.0, 0.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (0.0, 3.0),
            (1.0, 4.0),
            (3.0, 4.0),
            (4.0, 5.0),
            (4.0, 7.0),
            (3.0, 8.0),
            (1.0, 8.0),
            (0.0, 7.0),
        ]],
    ),
    ('T', &[&[(0.0, 0.0), (4.0, 0.0)], &[(2.0, 0.0), (2.0, 8.0)]]),
    (
        'U',
        &[&[
            (0.0, 0.0),
            (0.0, 7.0),
            (1.0, 8.0),
            (3.0, 8.0),
            (4.0, 7.0),
            (4.0, 0.0),
        ]],
    ),
    ('V', &[&[(0.0, 0.0), (2.0, 8.0), (4.0, 0.0)]]),
    (
        'W',
        &[&[(0.0, 0.0), (1.0, 8.0), (2.0, 3.0), (3.0, 8.0), (4.0, 0.0)]],
    ),
    ('X', &[&[(0.0, 0.0), (4.0, 8.0)], &[(4.0, 0.0), (0.0, 8.0)]]),
    (
        'Y',
        &[
            &[(0.0, 0.0), (2.0, 4.0), (4.0, 0.0)],
            &[(2.0, 4.0), (2.0, 8.0)],
        ],
    ),
    ('Z', &[&[(0.0, 0.0), (4.0, 0.0), (0.0, 8.0), (4.0, 8.0)]]),
    (
        '0',
        &[&[
            (1.2, 0.0),
            (2.8, 0.0),
            (3.6, 1.0),
            (3.6, 7.0),
            (2.8, 8.0),
            (1.2, 8.0),
            (0.4, 7.0),
            (0.4, 1.0),
            (1.2, 0.0),
        ]],
    ),
    (
        '1',
        &[
            &[(0.8, 1.6), (2.2, 0.0), (2.2, 8.0)],
            &[(0.8, 8.0), (3.6, 8.0)],
        ],
    ),
    (
        '2',
        &[&[
            (0.0, 1.2),
            (1.0, 0.0),
            (3.0, 0.0),
            (4.0, 1.0),
            (4.0, 3.0),
            (0.0, 8.0),
            (4.0, 8.0),
        ]],
    ),
    (
        '3',
        &[
            &[
                (0.0, 1.0),
                (1.0, 0.0),
                (3.0, 0.0),
                (4.0, 1.0),
                (4.0, 3.0),
                (3.0, 4.0),
                (1.5, 4.0),
            ],
            &[
                (3.0, 4.0),
                (4.0, 5.0),
                (4.0, 7.0),
                (3.0, 8.0),
                (1.0, 8.0),
                (0.0, 7.0),
            ],
        ],
    ),
    ('4', &[&[(3.0, 8.0), (3.0, 0.0), (0.0, 5.5), (4.0, 5.5)]]),
    (
        '5',
        &[&[
            (4.0, 0.0),
            (0.5, 0.0),
            (0.2, 3.7),
            (1.0, 3.3),
            (3.0, 3.3),
            (4.0, 4.3),
            (4.0, 7.0),
            (3.0, 8.0),
            (1.0, 8.0),
            (0.0, 7.0),
        ]],
    ),
    (
        '6',
        &[&[
            (3.6, 0.4),
            (2.6, 0.0),
            (1.0, 0.0),
            (0.0, 1.2),
            (0.0, 7.0),
            (1.0, 8.0),
            (3.0, 8.0),
            (4.0, 7.0),
            (4.0, 4.5),
            (3.0, 3.5),
            (1.0, 3.5),
            (0.0, 4.5),
        ]],
    ),
    (
        '7',
        &[&[(0.0, 0.0), (4.0, 0.0), (4.0, 1.0), (2.5, 4.0), (2.0, 8.0)]],
    ),
    (
        '8',
        &[
            &[
                (1.0, 0.0),
                (3.0, 0.0),
                (3.8, 0.8),
                (3.8, 3.0),
                (3.0, 3.8),
                (1.0, 3.8),
                (0.2, 3.0),
                (0.2, 0.8),
                (1.0, 0.0),
            ],
            &[
                (1.0, 3.8),
                (0.0, 4.8),
                (0.0, 7.0),
                (1.0, 8.0),
                (3.0, 8.0),
                (4.0, 7.0),
                (4.0, 4.8),
                (3.0, 3.8),
            ],
        ],
    ),
    (
        '9',
        &[&[
            (0.4, 7.6),
            (1.4, 8.0),
            (3.0, 8.0),
            (4.0, 6.8),
            (4.0, 1.0),
            (3.0, 0.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (0.0, 3.5),
            (1.0, 4.5),
            (3.0, 4.5),
            (4.0, 3.5),
        ]],
    ),
    ('-', &[&[(0.4, 4.5), (3.6, 4.5)]]),
    ('.', &[&[(2.0, 7.7), (2.0, 8.0)]]),
    (',', &[&[(2.2, 7.6), (2.2, 8.0), (1.6, 9.0)]]),
    (':', &[&[(2.0, 2.7), (2.0, 3.0)], &[(2.0, 7.7), (2.0, 8.0)]]),
    ('/', &[&[(4.0, 0.0), (0.0, 8.0)]]),
    (
        '(',
        &[&[
            (3.0, 0.0),
            (2.0, 1.0),
            (1.5, 3.0),
            (1.5, 5.0),
            (2.0, 7.0),
            (3.0, 8.0),
        ]],
    ),
    (
        ')',
        &[&[
            (1.0, 0.0),
            (2.0, 1.0),
            (2.5, 3.0),
            (2.5, 5.0),
            (2.0, 7.0),
            (1.0, 8.0),
        ]],
    ),
    ('+', &[&[(2.0, 2.0), (2.0, 7.0)], &[(0.0, 4.5), (4.0, 4.5)]]),
];

/// Pixels per font unit: capitals 40 px high, which Tesseract reads well.
const UNIT: f32 = 5.0;
/// The pen's width, in font units.
const PEN: f32 = 0.8;
/// Advance from one character to the next, and from line to line, in units.
const ADVANCE: f32 = 6.0;
const LEADING: f32 = 13.0;
const MARGIN: f32 = 40.0;

/// Capitals for the label font: umlauts spelled out, anything else the
/// font lacks a space.
fn label_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_uppercase) {
        match c {
            'Ä' => out.push_str("AE"),
            'Ö' => out.push_str("OE"),
            'Ü' => out.push_str("UE"),
            'ß' => out.push_str("SS"),
            c if c == ' ' || FONT.iter().any(|(g, _)| *g == c) => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

fn label_lines(p: &Product) -> Vec<String> {
    vec![
        crate::files::COMPANY.to_owned(),
        format!("{} {}", p.family().noun_en, p.series),
        p.key.clone(),
        format!("{} W  {} K  {}", num(p.power, 1, '.'), p.cct, p.ip),
        format!("GTIN {}", p.gtin),
    ]
    .into_iter()
    .map(|line| label_text(&line))
    .collect()
}

/// An 8-bit greyscale PNG of the label's lines: each pixel as dark as it
/// is near a stroke, with a one-pixel soft edge.
fn label_png(p: &Product) -> Vec<u8> {
    let lines = label_lines(p);
    let columns = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let width = (2.0 * MARGIN + columns as f32 * ADVANCE * UNIT) as usize;
    let height = (2.0 * MARGIN + ((lines.len() - 1) as f32 * LEADING + 9.0) * UNIT) as usize;
    let mut pixels = vec![255u8; width * height];
    let radius = PEN * UNIT / 2.0;
    for (row, line) in lines.iter().enumerate() {
        for (column, c) in line.chars().enumerate() {
            let Some((_, strokes)) = FONT.iter().find(|(g, _)| *g == c) else {
                continue;
            };
            let left = MARGIN + column as f32 * ADVANCE * UNIT;
            let top = MARGIN + row as f32 * LEADING * UNIT;
            let segments: Vec<[f32; 4]> = strokes
                .iter()
                .flat_map(|stroke| stroke.windows(2))
                .map(|w| {
                    [
                        left + w[0].0 * UNIT,
                        top + w[0].1 * UNIT,
                        left + w[1].0 * UNIT,
                        top + w[1].1 * UNIT,
                    ]
                })
                .collect();
            let x0 = (left - radius - 2.0).max(0.0) as usize;
            let x1 = ((left + 4.0 * UNIT + radius + 2.0) as usize).min(width);
            let y0 = (top - radius - 2.0).max(0.0) as usize;
            let y1 = ((top + 9.0 * UNIT + radius + 2.0) as usize).min(height);
            for y in y0..y1 {
                for x in x0..x1 {
                    let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                    let distance = segments
                        .iter()
                        .map(|s| segment_distance(px, py, s))
                        .fold(f32::INFINITY, f32::min);
                    let light = (distance - radius + 0.5).clamp(0.0, 1.0);
                    let value = (255.0 * light) as u8;
                    let pixel = &mut pixels[y * width + x];
                    *pixel = (*pixel).min(value);
                }
            }
        }
    }
    png_greyscale(width, height, &pixels)
}

/// Distance from a point to the segment `[ax, ay, bx, by]`.
fn segment_distance(px: f32, py: f32, [ax, ay, bx, by]: &[f32; 4]) -> f32 {
    let (dx, dy) = (bx - ax, by - ay);
    let length = dx * dx + dy * dy;
    let t = if length == 0.0 {
        0.0
    } else {
        (((px - ax) * dx + (py - ay) * dy) / length).clamp(0.0, 1.0)
    };
    let (ex, ey) = (px - ax - t * dx, py - ay - t * dy);
    (ex * ex + ey * ey).sqrt()
}

fn png_greyscale(width: usize, height: usize, pixels: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&raw).expect("writing to memory");
    let compressed = encoder.finish().expect("writing to memory");

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    // 8 bits, greyscale, deflate, no filter method, no interlace.
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &compressed);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyphs_stay_in_their_box_and_cover_the_labels() {
        for (c, strokes) in FONT {
            for &(x, y) in strokes.iter().flat_map(|s| s.iter()) {
                assert!((0.0..=4.0).contains(&x) && (0.0..=9.0).contains(&y), "{c}");
            }
        }
        let text = label_text(crate::files::COMPANY);
        assert!(
            text.chars()
                .all(|c| c == ' ' || FONT.iter().any(|(g, _)| *g == c))
        );
        assert_eq!(label_text("Außen 3,5 W"), "AUSSEN 3,5 W");
    }

    #[test]
    fn pdf_strings_escape() {
        assert_eq!(pdf_string("a(b)\\"), "(a\\(b\\)\\\\)");
        assert_eq!(pdf_string("weiß 36°"), "(wei\\337 36\\260)");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1170, '.'), "1.170");
        assert_eq!(thousands(120, ','), "120");
        assert_eq!(thousands(1234567, ','), "1,234,567");
    }

    #[test]
    fn the_xref_points_at_the_objects() {
        let products = crate::catalog::build(20, 1);
        let p = datasheet_products(&products)[0];
        let pdf = datasheet_pdf(p);
        let find = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle);
        let xref = find(b"\nxref\n").unwrap() + 1;
        let tail = std::str::from_utf8(&pdf[xref..]).unwrap();
        let startxref: usize = tail
            .split("startxref\n")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(startxref, xref);
        for (number, line) in tail.lines().skip(3).take(7).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", number + 1).as_bytes()),
                "object {}",
                number + 1
            );
        }
    }

    #[test]
    fn picks_are_distinct_luminaires_at_any_size() {
        for count in [20, 200, 5000] {
            let products = crate::catalog::build(count, 1);
            let sheets = datasheet_products(&products);
            assert_eq!(sheets.len(), DATASHEETS + 1);
            let distinct: HashSet<u32> = sheets.iter().map(|p| p.index).collect();
            assert_eq!(distinct.len(), sheets.len());
            assert!(sheets.iter().all(|p| p.luminaire()));
            let all: Vec<&Product> = products.iter().collect();
            assert_eq!(label_products(&all).len(), LABELS, "{count}");
        }
    }
}
