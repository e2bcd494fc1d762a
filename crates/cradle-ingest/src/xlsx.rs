//! XLSX and XLSM workbooks, read from their XML parts: the sheet list,
//! shared strings and number formats with quick-xml when the workbook
//! opens, then each worksheet streamed a block of rows at a time.
//!
//! Workbooks are most of a delivery's bytes and reading them was the
//! largest share of an ingest's CPU time, so a worksheet is parsed in
//! place: the part is inflated into a buffer of whole rows, quick-xml runs
//! over that buffer, and cell text is borrowed from it or copied once into
//! the block. XLS, XLSB and ODS go through calamine (see `workbook.rs`).
//!
//! Why a reader of its own (bench/README.md, scale 1.0, perf): through
//! calamine, reading the workbooks was about a third of all CPU time and an
//! ingest took 4.02 s; with quick-xml over inflated rows user time fell
//! from 7.9 s to 7.1 s, and with the row scanner to 5.7 s (3.50 s wall).
//! polars, which reads the same files through calamine, takes 6.2 s to
//! cradle's 2.9 s. The `xlsx_differential` fuzz target keeps it honest:
//! wherever calamine and this reader both accept a sheet, the cells must be
//! equal.
//!
//! Values are read as a spreadsheet program shows them (the same rules the
//! calamine reader applies, checked against it in the tests): numbers whose
//! number format is a date become dates, `<t>` text is trimmed unless it
//! says `xml:space="preserve"`, `_xHHHH_` escapes are decoded, phonetic
//! runs are left out.

use crate::grid::{Cell, Grid, MAX_BLOCK_CELLS, RowKind};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use std::borrow::Cow;
use std::io::{Cursor, Read};

/// Why a workbook or one of its sheets cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    #[error("the workbook is encrypted (password protected)")]
    Encrypted,
    #[error("not a valid ZIP archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("the workbook has no part `{0}`")]
    MissingPart(String),
    #[error("part `{part}`: {message}")]
    Part { part: String, message: String },
    #[error("row {row}: {message}")]
    Row { row: u64, message: String },
}

fn part_error(part: &str, message: impl std::fmt::Display) -> XlsxError {
    XlsxError::Part {
        part: part.to_owned(),
        message: message.to_string(),
    }
}

/// How a cell's number format shows a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Number,
    Date,
    /// Elapsed time (`[h]:mm`): a number of days, not a point in time.
    Duration,
}

/// The workbook's shared strings, in one buffer.
#[derive(Debug, Default)]
pub struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] as usize,
        };
        self.text.get(start..end)
    }

    fn push(&mut self, text: &str) -> Result<(), String> {
        self.text.push_str(text);
        let end = u32::try_from(self.text.len())
            .map_err(|_| "the shared strings exceed 4 GiB".to_owned())?;
        self.ends.push(end);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// One entry of the workbook's sheet list.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub kind: SheetKind,
    /// The worksheet part; `None` for every other kind of sheet, which
    /// holds no table.
    pub part: Option<String>,
}

/// What a sheet of a workbook is. Only worksheets hold tables; a chart
/// sheet may hold cached copies of the values it plots, which are not
/// data of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetKind {
    Worksheet,
    Chart,
    Dialog,
    Macro,
    Other,
}

impl SheetKind {
    fn of_relationship(kind: &str) -> SheetKind {
        let kind = kind.rsplit('/').next().unwrap_or_default();
        match kind.to_ascii_lowercase().as_str() {
            "worksheet" => SheetKind::Worksheet,
            "chartsheet" => SheetKind::Chart,
            "dialogsheet" => SheetKind::Dialog,
            "xlmacrosheet" | "xlintlmacrosheet" => SheetKind::Macro,
            _ => SheetKind::Other,
        }
    }

    /// As the report names it.
    pub fn as_str(self) -> &'static str {
        match self {
            SheetKind::Worksheet => "worksheet",
            SheetKind::Chart => "chart sheet",
            SheetKind::Dialog => "dialog sheet",
            SheetKind::Macro => "macro sheet",
            SheetKind::Other => "sheet of an unknown kind",
        }
    }
}

/// An opened workbook: its sheet list and what every sheet shares.
pub struct Book<'b> {
    bytes: &'b [u8],
    package: Package<'b>,
    pub sheets: Vec<Sheet>,
    strings: SharedStrings,
    /// By cell style index (`s`).
    styles: Vec<Shown>,
    date1904: bool,
}

impl std::fmt::Debug for Book<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Book")
            .field("sheets", &self.sheets)
            .field("strings", &self.strings.len())
            .finish()
    }
}

impl<'b> Book<'b> {
    pub fn open(bytes: &'b [u8]) -> Result<Book<'b>, XlsxError> {
        if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Err(XlsxError::Encrypted);
        }
        let mut package = Package::new(zip::ZipArchive::new(Cursor::new(bytes))?);
        let workbook_part = package
            .read("_rels/.rels")?
            .and_then(|rels| {
                relationships(&rels, "_rels/.rels")
                    .ok()?
                    .into_iter()
                    .find(|r| r.kind.ends_with("/officeDocument"))
                    .map(|r| resolve_target("", &r.target))
            })
            .unwrap_or_else(|| "xl/workbook.xml".to_owned());
        let workbook = package
            .read(&workbook_part)?
            .ok_or_else(|| XlsxError::MissingPart(workbook_part.clone()))?;
        let (listed, date1904) = sheet_list(&workbook, &workbook_part)?;
        let base = workbook_part
            .rsplit_once('/')
            .map_or("", |(dir, _)| dir)
            .to_owned();
        let rels_part = resolve_target(&base, &format!("_rels/{}.rels", file_name(&workbook_part)));
        let rels = package
            .read(&rels_part)?
            .ok_or_else(|| XlsxError::MissingPart(rels_part.clone()))?;
        let rels = relationships(&rels, &rels_part)?;
        let mut sheets = Vec::with_capacity(listed.len());
        let mut strings_part = None;
        let mut styles_part = None;
        for rel in &rels {
            if rel.kind.ends_with("/sharedStrings") {
                strings_part = Some(resolve_target(&base, &rel.target));
            } else if rel.kind.ends_with("/styles") {
                styles_part = Some(resolve_target(&base, &rel.target));
            }
        }
        for (name, id) in listed {
            let rel = rels.iter().find(|r| r.id == id).ok_or_else(|| {
                part_error(
                    &rels_part,
                    format!("sheet `{name}` refers to relationship `{id}`, which is missing"),
                )
            })?;
            let kind = SheetKind::of_relationship(&rel.kind);
            let part = (kind == SheetKind::Worksheet).then(|| resolve_target(&base, &rel.target));
            sheets.push(Sheet { name, kind, part });
        }
        let mut optional = |part: Option<String>| -> Result<Option<(Vec<u8>, String)>, XlsxError> {
            let Some(part) = part else { return Ok(None) };
            Ok(package.read(&part)?.map(|xml| (xml, part)))
        };
        let strings = match optional(strings_part)? {
            Some((xml, part)) => shared_strings(&xml, &part)?,
            None => SharedStrings::default(),
        };
        let styles = match optional(styles_part)? {
            Some((xml, part)) => cell_styles(&xml, &part)?,
            None => Vec::new(),
        };
        Ok(Book {
            bytes,
            package,
            sheets,
            strings,
            styles,
            date1904,
        })
    }

    /// Streams the worksheet `part` (from [`Sheet::part`]).
    pub fn blocks(&self, part: &str) -> Result<XlsxBlocks<'_>, XlsxError> {
        let index = self
            .package
            .index(part)
            .ok_or_else(|| XlsxError::MissingPart(part.to_owned()))?;
        let mut archive = self.package.archive.clone();
        let entry = archive
            .by_index(index)
            .map_err(|_| XlsxError::MissingPart(part.to_owned()))?;
        let start = entry
            .data_start()
            .ok_or_else(|| part_error(part, "its data cannot be located"))?;
        let data = usize::try_from(start)
            .ok()
            .and_then(|start| {
                let end = start.checked_add(usize::try_from(entry.compressed_size()).ok()?)?;
                self.bytes.get(start..end)
            })
            .ok_or_else(|| part_error(part, "its data lies beyond the end of the file"))?;
        let input = match entry.compression() {
            zip::CompressionMethod::Stored => Input::Stored(data),
            zip::CompressionMethod::Deflated => {
                Input::Deflated(flate2::bufread::DeflateDecoder::new(data))
            }
            other => return Err(part_error(part, format!("unsupported compression {other}"))),
        };
        Ok(XlsxBlocks {
            book: self,
            part: part.to_owned(),
            input,
            crc: crc32fast::Hasher::new(),
            expected_crc: entry.crc32(),
            declared: entry.size(),
            read: 0,
            buf: Vec::new(),
            pos: 0,
            cut: 0,
            eof: false,
            stage: Stage::Prolog,
            prefix: Vec::new(),
            row_end: b"</row>".to_vec(),
            cursor: Position::default(),
            handed_out: 0,
            late_cells: 0,
            scratch: String::new(),
            scan: true,
        })
    }
}

/// A part name as the package rules compare them: without a leading
/// slash, `/`-separated (some writers use `\`), ASCII case folded
/// (`xl/SharedStrings.xml` is `xl/sharedStrings.xml`).
pub fn part_key(name: &str) -> String {
    name.trim_start_matches(['/', '\\'])
        .replace('\\', "/")
        .to_ascii_lowercase()
}

/// The ZIP archive of a workbook with its parts found by [`part_key`].
struct Package<'b> {
    archive: zip::ZipArchive<Cursor<&'b [u8]>>,
    /// Part key to entry index; the first entry wins when two names fold
    /// to one key.
    parts: std::collections::HashMap<String, usize>,
}

impl<'b> Package<'b> {
    fn new(archive: zip::ZipArchive<Cursor<&'b [u8]>>) -> Package<'b> {
        let mut parts = std::collections::HashMap::with_capacity(archive.len());
        for index in 0..archive.len() {
            if let Some(Ok(name)) = archive.name_for_index(index) {
                parts.entry(part_key(&name)).or_insert(index);
            }
        }
        Package { archive, parts }
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.parts.get(&part_key(name)).copied()
    }

    /// A whole (small) part; `None` when the package has no such part.
    fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, XlsxError> {
        let Some(index) = self.index(name) else {
            return Ok(None);
        };
        let mut entry = self.archive.by_index(index)?;
        let mut bytes = Vec::with_capacity(entry.size().min(1 << 26) as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|error| part_error(name, error))?;
        Ok(Some(bytes))
    }
}

fn file_name(part: &str) -> &str {
    part.rsplit_once('/').map_or(part, |(_, name)| name)
}

/// A relationship target as a part name: relative to `base`, or absolute.
fn resolve_target(base: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None if base.is_empty() => target,
        None => format!("{base}/{target}"),
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

struct Relationship {
    id: String,
    kind: String,
    target: String,
}

fn xml_reader(xml: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(xml);
    // A stretch of a worksheet starts inside `<sheetData>`: its end tag
    // has no start in the stretch.
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    reader
}

fn xml_error(part: &str, reader: &Reader<&[u8]>, error: impl std::fmt::Display) -> XlsxError {
    part_error(
        part,
        format!("{error} (at byte {})", reader.error_position()),
    )
}

/// The value of the attribute whose local name is `name` (any prefix).
fn attribute<'a>(
    element: &'a BytesStart<'_>,
    name: &str,
    prefixed: bool,
) -> Result<Option<Cow<'a, str>>, String> {
    for attribute in element.attributes().with_checks(false) {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = attribute.key;
        let has_prefix = key.prefix().is_some();
        if key.local_name().as_ref() == name && has_prefix == prefixed {
            return attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(Some)
                .map_err(|e| e.to_string());
        }
    }
    Ok(None)
}

fn relationships(xml: &[u8], part: &str) -> Result<Vec<Relationship>, XlsxError> {
    let mut reader = xml_reader(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "Relationship" => {
                let get = |name| {
                    attribute(&e, name, false)
                        .map(|v| v.unwrap_or_default().into_owned())
                        .map_err(|m| part_error(part, m))
                };
                out.push(Relationship {
                    id: get("Id")?,
                    kind: get("Type")?,
                    target: get("Target")?,
                });
            }
            Ok(Event::Eof) => return Ok(out),
            Ok(_) => {}
            Err(error) => return Err(xml_error(part, &reader, error)),
        }
    }
}

/// Sheet names with their relationship ids, and whether dates count from
/// 1904.
fn sheet_list(xml: &[u8], part: &str) -> Result<(Vec<(String, String)>, bool), XlsxError> {
    let mut reader = xml_reader(xml);
    let mut sheets = Vec::new();
    let mut date1904 = false;
    // The workbook ends with `</workbook>` (or `<workbook/>`): what follows
    // is not part of it, and other readers stop there too. End tags are not
    // matched to start tags in this lenient reading, so no other end tag
    // ends it.
    loop {
        let event = reader.read_event();
        let ends = match &event {
            Ok(Event::End(e)) => e.local_name().as_ref() == "workbook",
            Ok(Event::Empty(e)) => e.local_name().as_ref() == "workbook",
            _ => false,
        };
        if ends {
            return Ok((sheets, date1904));
        }
        match event {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                "sheet" => {
                    let name = attribute(&e, "name", false).map_err(|m| part_error(part, m))?;
                    let id = attribute(&e, "id", true).map_err(|m| part_error(part, m))?;
                    let (Some(name), Some(id)) = (name, id) else {
                        return Err(part_error(part, "a sheet has no name or no r:id"));
                    };
                    sheets.push((name.into_owned(), id.into_owned()));
                }
                "workbookPr" => {
                    let flag = attribute(&e, "date1904", false).map_err(|m| part_error(part, m))?;
                    date1904 = matches!(flag.as_deref(), Some("1" | "true"));
                }
                _ => {}
            },
            Ok(Event::Eof) => return Ok((sheets, date1904)),
            Ok(_) => {}
            Err(error) => return Err(xml_error(part, &reader, error)),
        }
    }
}

fn shared_strings(xml: &[u8], part: &str) -> Result<SharedStrings, XlsxError> {
    let mut reader = xml_reader(xml);
    let mut strings = SharedStrings::default();
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "si" => {
                text.clear();
                let closing = e.name().as_ref().to_owned();
                rich_text(&mut reader, &mut text, &closing)
                    .map_err(|m| xml_error(part, &reader, m))?;
                strings.push(&text).map_err(|m| part_error(part, m))?;
            }
            Ok(Event::Empty(e)) if e.local_name().as_ref() == "si" => {
                strings.push("").map_err(|m| part_error(part, m))?;
            }
            Ok(Event::Eof) => return Ok(strings),
            Ok(_) => {}
            Err(error) => return Err(xml_error(part, &reader, error)),
        }
    }
}

/// How each cell style (`cellXfs` entry) shows numbers.
fn cell_styles(xml: &[u8], part: &str) -> Result<Vec<Shown>, XlsxError> {
    let mut reader = xml_reader(xml);
    let mut custom: Vec<(String, Shown)> = Vec::new();
    let mut styles = Vec::new();
    let mut in_cell_xfs = false;
    let bad = |m: String| part_error(part, m);
    loop {
        let event = reader.read_event();
        let empty = matches!(event, Ok(Event::Empty(_)));
        match event {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                "numFmt" => {
                    let id = attribute(&e, "numFmtId", false).map_err(bad)?;
                    let code = attribute(&e, "formatCode", false).map_err(bad)?;
                    if let (Some(id), Some(code)) = (id, code) {
                        custom.push((id.into_owned(), shown_by_code(&code)));
                    }
                }
                "cellXfs" => in_cell_xfs = !empty,
                "xf" if in_cell_xfs => {
                    let id = attribute(&e, "numFmtId", false).map_err(bad)?;
                    let shown = match id {
                        None => Shown::Number,
                        Some(id) => custom
                            .iter()
                            .find(|(custom_id, _)| *custom_id == id)
                            .map(|(_, shown)| *shown)
                            .unwrap_or_else(|| shown_by_builtin_id(&id)),
                    };
                    styles.push(shown);
                }
                _ => {}
            },
            Ok(Event::End(e)) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Ok(Event::Eof) => return Ok(styles),
            Ok(_) => {}
            Err(error) => return Err(xml_error(part, &reader, error)),
        }
    }
}

fn shown_by_builtin_id(id: &str) -> Shown {
    match id.trim().parse::<u32>() {
        Ok(14..=22 | 27..=36 | 45 | 47 | 50..=58) => Shown::Date,
        Ok(46) => Shown::Duration,
        _ => Shown::Number,
    }
}

/// Whether a custom number format code shows a date: a date or time token
/// (`d`, `m`, `y`, `h`, `s`) in its first section, outside quoted text,
/// escapes and brackets; an elapsed-time bracket (`[h]`) makes it a
/// duration.
fn shown_by_code(code: &str) -> Shown {
    let mut chars = code.chars();
    let mut date = false;
    while let Some(c) = chars.next() {
        match c {
            ';' => break,
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            '[' => {
                let mut inside = String::new();
                for b in chars.by_ref() {
                    if b == ']' {
                        break;
                    }
                    inside.push(b);
                }
                if !inside.is_empty()
                    && inside
                        .chars()
                        .all(|c| matches!(c.to_ascii_lowercase(), 'h' | 'm' | 's'))
                {
                    return Shown::Duration;
                }
            }
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' => date = true,
            _ => {}
        }
    }
    if date { Shown::Date } else { Shown::Number }
}

/// Appends the text of a `<si>` or `<is>` element (the start tag, named
/// `closing`, already read) to `out`: plain or rich text, without
/// phonetic runs. The element ends at the first end tag of its own name,
/// and a `<t>` at the first `</t>`, whatever comes between (end tags are
/// not matched to start tags in this lenient reading; calamine reads
/// damaged text the same way, which the differential fuzz target checks).
fn rich_text(reader: &mut Reader<&[u8]>, out: &mut String, closing: &str) -> Result<(), String> {
    let mut phonetic = false;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => match e.local_name().as_ref() {
                "rPh" => phonetic = true,
                "t" if !phonetic => {
                    let preserve = attribute(&e, "space", true)?.as_deref() == Some("preserve");
                    let start = out.len();
                    text_until(reader, out, e.name().as_ref())?;
                    finish_text(out, start, preserve);
                }
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == closing => return Ok(()),
            Event::End(e) if e.local_name().as_ref() == "rPh" => phonetic = false,
            Event::Eof => return Err("the text ends before its element closes".to_owned()),
            _ => {}
        }
    }
}

/// Appends the text up to the end tag named `closing` to `out`; elements
/// in between are passed over.
fn text_until(reader: &mut Reader<&[u8]>, out: &mut String, closing: &str) -> Result<(), String> {
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Text(t) => out.push_str(&t.xml10_content()),
            Event::CData(t) => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => push_reference(&r, out)?,
            Event::End(e) if e.name().as_ref() == closing => return Ok(()),
            Event::Eof => return Err("the text ends before its element closes".to_owned()),
            _ => {}
        }
    }
}

/// `<t>` text as shown: trimmed of XML whitespace unless preserved, with
/// `_xHHHH_` escapes decoded.
fn finish_text(out: &mut String, start: usize, preserve: bool) {
    if !preserve {
        let text = &out[start..];
        let trimmed = text.trim_matches([' ', '\t', '\r', '\n']);
        if trimmed.len() != text.len() {
            let trimmed = trimmed.to_owned();
            out.truncate(start);
            out.push_str(&trimmed);
        }
    }
    if out[start..].contains("_x")
        && let Cow::Owned(decoded) = unescape_ooxml(&out[start..])
    {
        out.truncate(start);
        out.push_str(&decoded);
    }
}

/// Decodes `_xHHHH_`, the escape Office uses for characters XML cannot
/// hold (`_x000D_` is a carriage return, `_x005F_` an underscore).
fn unescape_ooxml(text: &str) -> Cow<'_, str> {
    if !text.contains("_x") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_x") {
        let (before, tail) = rest.split_at(at);
        out.push_str(before);
        let hex = tail.get(2..6);
        let decoded = hex
            .filter(|h| {
                h.bytes().all(|b| b.is_ascii_hexdigit()) && tail.as_bytes().get(6) == Some(&b'_')
            })
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Appends the text of the element whose start tag was just read, up to
/// its end tag, to `out`.
fn element_text(reader: &mut Reader<&[u8]>, out: &mut String) -> Result<(), String> {
    let mut depth = 1usize;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Text(t) => out.push_str(&t.xml10_content()),
            Event::CData(t) => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => push_reference(&r, out)?,
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
            Event::Eof => return Err("the text ends before its element closes".to_owned()),
            _ => {}
        }
    }
}

fn push_reference(reference: &BytesRef<'_>, out: &mut String) -> Result<(), String> {
    if let Some(c) = reference.resolve_char_ref().map_err(|e| e.to_string())? {
        out.push(c);
        return Ok(());
    }
    out.push(match &**reference {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        other => return Err(format!("unknown entity `&{other};`")),
    });
    Ok(())
}

/// A cell value in a block: text lives in the block's buffer or in the
/// workbook's shared strings.
#[derive(Debug, Clone, Copy)]
enum Value {
    Shared(u32),
    Text(u32, u32),
    Number(f64),
    Bool(bool),
    Date(f64),
    Error(u32, u32),
}

/// A block of rows of one worksheet (see [`XlsxBlocks`]).
pub struct XlsxGrid<'b> {
    /// The sheet row (0-based) of `rows[0]`.
    first: u32,
    cells: Vec<(u32, Value)>,
    /// For each row from `first`, the range of `cells` it owns.
    rows: Vec<(u32, u32)>,
    texts: String,
    strings: &'b SharedStrings,
}

impl<'b> XlsxGrid<'b> {
    pub fn empty(book: &'b Book<'_>) -> XlsxGrid<'b> {
        XlsxGrid {
            first: 0,
            cells: Vec::new(),
            rows: Vec::new(),
            texts: String::new(),
            strings: &book.strings,
        }
    }

    fn row(&self, row: usize) -> &[(u32, Value)] {
        let Some(offset) = row.checked_sub(self.first as usize) else {
            return &[];
        };
        match self.rows.get(offset) {
            Some(&(start, end)) => &self.cells[start as usize..end as usize],
            None => &[],
        }
    }
}

impl Grid for XlsxGrid<'_> {
    fn height(&self) -> usize {
        self.first as usize + self.rows.len()
    }

    fn first_row(&self) -> usize {
        self.first as usize
    }

    fn width(&self, row: usize) -> usize {
        self.row(row).last().map_or(0, |(c, _)| *c as usize + 1)
    }

    fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        let cells = self.row(row);
        let Ok(index) = cells.binary_search_by_key(&(column as u32), |(c, _)| *c) else {
            return Cell::Empty;
        };
        match cells[index].1 {
            Value::Shared(i) => Cell::Text(self.strings.get(i as usize).unwrap_or_default()),
            Value::Text(start, end) => Cell::Text(&self.texts[start as usize..end as usize]),
            Value::Number(n) => Cell::Number(n),
            Value::Bool(b) => Cell::Bool(b),
            Value::Date(serial) => Cell::Date(serial),
            Value::Error(start, end) => {
                Cell::Error(Cow::Borrowed(&self.texts[start as usize..end as usize]))
            }
        }
    }

    fn location(&self, row: usize) -> u64 {
        row as u64 + 1
    }

    fn row_kind(&self) -> RowKind {
        RowKind::SheetRow
    }
}

enum Input<'b> {
    Stored(&'b [u8]),
    Deflated(flate2::bufread::DeflateDecoder<&'b [u8]>),
}

impl Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Stored(data) => data.read(buf),
            Input::Deflated(decoder) => decoder.read(buf),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before `<sheetData>`.
    Prolog,
    Rows,
    Done,
}

/// Where the next cell goes when it does not say (`r` is optional).
#[derive(Debug, Default, Clone, Copy)]
struct Position {
    row: u32,
    column: u32,
}

/// Bytes inflated per read.
const CHUNK: usize = 256 * 1024;

/// Reads a worksheet a block of rows at a time, so a sheet of a million
/// rows never sits in memory whole. A block ends only where a new row
/// begins; cells of a row that come after its block was handed out (rows
/// out of order in the XML, which spreadsheet programs do not write) go
/// into the next block and are counted in `late_cells`.
pub struct XlsxBlocks<'b> {
    book: &'b Book<'b>,
    part: String,
    input: Input<'b>,
    crc: crc32fast::Hasher,
    expected_crc: u32,
    declared: u64,
    read: u64,
    /// Inflated XML; `buf[pos..cut]` holds whole rows not parsed yet.
    buf: Vec<u8>,
    pos: usize,
    cut: usize,
    eof: bool,
    stage: Stage,
    /// The sheet's namespace prefix with its colon (`x:`), often empty.
    prefix: Vec<u8>,
    /// `</row>` with the prefix.
    row_end: Vec<u8>,
    cursor: Position,
    /// Rows below this were handed out in earlier blocks.
    handed_out: u32,
    pub late_cells: u64,
    scratch: String,
    /// Rows go through [`scan_row`] first (off in tests, to check that
    /// both ways read the same).
    scan: bool,
}

/// How parsing a stretch of rows ended.
enum Stop {
    /// Every row of the stretch was read.
    Consumed,
    /// The block is full; the next row starts this many bytes in.
    Full(usize),
    /// `</sheetData>`.
    End,
    /// One row was read, as asked; it ended this many bytes in.
    Row(usize),
}

/// Cells collected for one block.
struct Collected {
    cells: Vec<(u32, u32, Value)>,
    texts: String,
    last_row: Option<u32>,
}

impl Collected {
    /// Stores a cell read by either path: its inline text (already in
    /// `texts` from `text_start`) or its `<v>`, typed. A cell that holds
    /// nothing leaves no trace.
    fn store(
        &mut self,
        (row, column): (u32, u32),
        text_start: usize,
        inline_text: bool,
        value_text: Option<&str>,
        kind: CellKind<'_>,
        book: &Book<'_>,
    ) -> Result<(), String> {
        let value = match (inline_text, value_text) {
            (true, _) => Some(Value::Text(text_start as u32, self.texts.len() as u32)),
            (false, Some(v)) => typed_value(kind, v, book, &mut self.texts)?,
            (false, None) => None,
        };
        match value {
            Some(value) => {
                self.cells.push((row, column, value));
                self.last_row = Some(self.last_row.map_or(row, |last| last.max(row)));
            }
            None => self.texts.truncate(text_start),
        }
        Ok(())
    }

    /// Whether the block ends before sheet row `row` begins: it holds
    /// `limit` cells and the header look-ahead (`min_rows`) is in, or it
    /// holds [`MAX_BLOCK_CELLS`] whatever the look-ahead asks; and `row`
    /// is a new row (a block ends only between rows).
    fn full_before(&self, row: u32, min_rows: usize, limit: usize) -> bool {
        (self.cells.len() >= limit && row as usize >= min_rows
            || self.cells.len() >= MAX_BLOCK_CELLS)
            && self.last_row.is_none_or(|last| row > last)
    }
}

impl<'b> XlsxBlocks<'b> {
    /// Inflates the next chunk into `buf` (after dropping what was parsed).
    fn fill(&mut self) -> Result<(), XlsxError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.cut -= self.pos.min(self.cut);
            self.pos = 0;
        }
        let before = self.buf.len();
        let got = (&mut self.input)
            .take(CHUNK as u64)
            .read_to_end(&mut self.buf)
            .map_err(|error| part_error(&self.part, format!("cannot inflate: {error}")))?;
        self.crc.update(&self.buf[before..]);
        self.read += got as u64;
        if self.read > self.declared {
            return Err(part_error(
                &self.part,
                "it expands beyond the size it declares; the file is damaged or hostile",
            ));
        }
        if got == 0 {
            self.eof = true;
            let crc = std::mem::take(&mut self.crc).finalize();
            if crc != self.expected_crc || self.read != self.declared {
                return Err(part_error(
                    &self.part,
                    "its checksum does not match; the file is damaged",
                ));
            }
        }
        Ok(())
    }

    /// Reads up to `<sheetData>` and learns the sheet's namespace prefix.
    fn prolog(&mut self) -> Result<(), XlsxError> {
        let mut searched = 0;
        loop {
            if let Some(found) = memchr::memmem::find(&self.buf[searched..], b"sheetData") {
                let at = searched + found;
                let open = self.buf[..at].iter().rposition(|&b| b == b'<');
                let Some(close) = memchr::memchr(b'>', &self.buf[at..]).map(|c| at + c) else {
                    if self.eof {
                        return Err(part_error(&self.part, "the sheet data is cut off"));
                    }
                    self.fill()?;
                    continue;
                };
                let prefix = open.map(|o| &self.buf[o + 1..at]);
                match prefix {
                    Some(prefix)
                        if prefix
                            .iter()
                            .all(|&b| b.is_ascii_alphanumeric() || b == b':' || b == b'_')
                            && (prefix.is_empty() || prefix.ends_with(b":")) =>
                    {
                        let prefix = prefix.to_vec();
                        self.row_end = [b"</".as_slice(), &prefix, b"row>"].concat();
                        self.prefix = prefix;
                        self.stage = if self.buf[close - 1] == b'/' {
                            Stage::Done
                        } else {
                            Stage::Rows
                        };
                        self.pos = close + 1;
                        self.cut = self.pos;
                        return Ok(());
                    }
                    // `sheetData` inside something else (an attribute).
                    _ => searched = at + 1,
                }
            } else {
                if self.eof {
                    return Err(part_error(
                        &self.part,
                        "it has no sheet data (not a worksheet)",
                    ));
                }
                searched = self
                    .buf
                    .len()
                    .saturating_sub(16)
                    .max(searched.min(self.buf.len()));
                self.fill()?;
            }
        }
    }

    /// Moves `cut` past the last whole row in `buf`, inflating more as
    /// needed. False at the end of the part with nothing left.
    fn more_rows(&mut self) -> Result<bool, XlsxError> {
        loop {
            if self.pos < self.cut {
                return Ok(true);
            }
            let from = self.cut.max(self.pos);
            if let Some(found) = memchr::memmem::rfind(&self.buf[from..], &self.row_end) {
                self.cut = from + found + self.row_end.len();
                return Ok(true);
            }
            if self.eof {
                if self.pos < self.buf.len() {
                    self.cut = self.buf.len();
                    return Ok(true);
                }
                return Ok(false);
            }
            self.fill()?;
        }
    }

    /// The next block: every row below sheet row `min_rows`, and beyond
    /// that whole rows until about `cells` cells are held. `None` at the
    /// end of the sheet.
    pub fn next(
        &mut self,
        min_rows: usize,
        cells: usize,
    ) -> Result<Option<XlsxGrid<'b>>, XlsxError> {
        if self.stage == Stage::Prolog {
            self.prolog()?;
        }
        let mut collected = Collected {
            cells: Vec::new(),
            texts: String::new(),
            last_row: None,
        };
        while self.stage == Stage::Rows {
            if !self.more_rows()? {
                self.stage = Stage::Done;
                break;
            }
            let limits = (min_rows, cells);
            let stop = self.rows(&mut collected, limits)?;
            match stop {
                Stop::Consumed | Stop::Row(_) => {}
                Stop::Full(_) => break,
                Stop::End => self.stage = Stage::Done,
            }
        }
        if collected.cells.is_empty() {
            return Ok(None);
        }
        for (row, _, _) in &collected.cells {
            if *row < self.handed_out {
                self.late_cells += 1;
            }
        }
        if let Some(last) = collected.last_row {
            self.handed_out = self.handed_out.max(last + 1);
        }
        Ok(Some(grid(collected, &self.book.strings)))
    }
}

impl XlsxBlocks<'_> {
    /// Reads the whole rows in `buf[pos..cut]` until the block is full:
    /// each with [`scan_row`], and with quick-xml where that gives up.
    fn rows(
        &mut self,
        collected: &mut Collected,
        limits: (usize, usize),
    ) -> Result<Stop, XlsxError> {
        let row_error = |(row, message): (u32, String)| XlsxError::Row {
            row: u64::from(row) + 1,
            message,
        };
        while self.pos < self.cut {
            let saved = (
                collected.cells.len(),
                collected.texts.len(),
                collected.last_row,
                self.cursor,
            );
            let xml = &self.buf[self.pos..self.cut];
            let scanned = match self.scan {
                true => scan_row(
                    xml,
                    &self.prefix,
                    self.book,
                    &mut self.cursor,
                    collected,
                    limits,
                ),
                false => None,
            };
            match scanned {
                Some(Scanned::Row(length)) => self.pos += length,
                Some(Scanned::Full(offset)) => {
                    self.pos += offset;
                    return Ok(Stop::Full(0));
                }
                None => {
                    collected.cells.truncate(saved.0);
                    collected.texts.truncate(saved.1);
                    collected.last_row = saved.2;
                    self.cursor = saved.3;
                    let stop = parse_rows(
                        xml,
                        self.book,
                        &mut self.cursor,
                        collected,
                        &mut self.scratch,
                        limits,
                        true,
                    )
                    .map_err(row_error)?;
                    match stop {
                        Stop::Consumed => self.pos = self.cut,
                        Stop::Row(length) => self.pos += length,
                        Stop::Full(offset) => {
                            self.pos += offset;
                            return Ok(Stop::Full(0));
                        }
                        Stop::End => {
                            self.pos = self.cut;
                            return Ok(Stop::End);
                        }
                    }
                }
            }
        }
        Ok(Stop::Consumed)
    }
}

/// How [`scan_row`] ended.
enum Scanned {
    /// A whole row of this many bytes was read.
    Row(usize),
    /// The block is full; the row starts this many bytes in.
    Full(usize),
}

/// Reads one row of the shape spreadsheet programs write (cells with
/// `<v>`, `<f>` and plain `<is><t>`, the five XML entities and character
/// references) straight from the bytes. `None` for anything else, which
/// the caller then parses with quick-xml: comments, rich text, CDATA,
/// carriage returns, text that is not UTF-8, values that do not convert.
fn scan_row(
    xml: &[u8],
    prefix: &[u8],
    book: &Book<'_>,
    cursor: &mut Position,
    out: &mut Collected,
    (min_rows, limit): (usize, usize),
) -> Option<Scanned> {
    let mut scan = Scan { xml, at: 0, prefix };
    scan.space();
    let row_at = scan.at;
    if !scan.open(b"row") {
        return None;
    }
    let mut r = None;
    let closed = scan.attributes(|name, value| {
        if name == b"r" {
            r = Some(value);
        }
    })?;
    let row = match r {
        Some(r) => row_number(r)?,
        None => cursor.row,
    };
    if closed {
        cursor.row = row.saturating_add(1);
        cursor.column = 0;
        return Some(Scanned::Row(scan.at));
    }
    if out.full_before(row, min_rows, limit) {
        return Some(Scanned::Full(row_at));
    }
    cursor.row = row;
    cursor.column = 0;
    loop {
        scan.space();
        if scan.close(b"row") {
            cursor.row = cursor.row.saturating_add(1);
            cursor.column = 0;
            return Some(Scanned::Row(scan.at));
        }
        if !scan.open(b"c") {
            return None;
        }
        let (mut reference, mut style, mut kind) = (None, None, None);
        let closed = scan.attributes(|name, value| match name {
            b"r" => reference = Some(value),
            b"s" => style = Some(value),
            b"t" => kind = Some(value),
            _ => {}
        })?;
        let (row, column) = match reference {
            Some(r) => cell_reference(r)?,
            None => (cursor.row, cursor.column),
        };
        cursor.column = column.saturating_add(1);
        if closed {
            continue;
        }
        let typed = kind.is_some();
        let kind = std::str::from_utf8(kind.unwrap_or(b"n")).ok()?;
        let style = style.map(std::str::from_utf8).transpose().ok()?;
        let inline = matches!(kind, "inlineStr" | "is");
        let plain = plain_value(typed, kind);
        let text_start = out.texts.len();
        let mut value_text = None;
        let mut inline_text = false;
        loop {
            scan.space();
            if scan.close(b"c") {
                break;
            }
            if scan.open(b"v") {
                let text = match scan.attributes(|_, _| {})? {
                    true => Cow::Borrowed(""),
                    false => {
                        let text = match plain {
                            true => scan.plain_value()?,
                            false => scan.text()?,
                        };
                        if !scan.close(b"v") {
                            return None;
                        }
                        text
                    }
                };
                if !inline {
                    value_text = Some(text);
                }
            } else if scan.open(b"f") {
                if !scan.attributes(|_, _| {})? {
                    scan.text()?;
                    if !scan.close(b"f") {
                        return None;
                    }
                }
            } else if scan.open(b"is") {
                inline_text = true;
                if !scan.attributes(|_, _| {})? {
                    scan.space();
                    if scan.open(b"t") {
                        let mut preserve = false;
                        let closed = scan.attributes(|name, value| {
                            if name == b"xml:space" && value == b"preserve" {
                                preserve = true;
                            }
                        })?;
                        if !closed {
                            let start = out.texts.len();
                            out.texts.push_str(&scan.text()?);
                            if !scan.close(b"t") {
                                return None;
                            }
                            finish_text(&mut out.texts, start, preserve);
                        }
                        scan.space();
                    }
                    if !scan.close(b"is") {
                        return None;
                    }
                }
            } else {
                return None;
            }
        }
        let kind = CellKind { kind, typed, style };
        out.store(
            (row, column),
            text_start,
            inline_text,
            value_text.as_deref(),
            kind,
            book,
        )
        .ok()?;
    }
}

/// `needle` begins `hay`. Tag names are a few bytes: comparing them in
/// line beats a call to `memcmp`, which a slice comparison becomes.
#[inline]
fn starts(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.iter().zip(needle).all(|(a, b)| a == b)
}

/// A position in a stretch of worksheet XML, for [`scan_row`].
struct Scan<'x> {
    xml: &'x [u8],
    at: usize,
    prefix: &'x [u8],
}

impl<'x> Scan<'x> {
    fn space(&mut self) {
        while matches!(self.xml.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// `<name` (with the prefix) and the end of the name.
    fn open(&mut self, name: &[u8]) -> bool {
        let rest = &self.xml[self.at..];
        let after = 1 + self.prefix.len() + name.len();
        let matched = rest.len() > after
            && rest[0] == b'<'
            && starts(&rest[1..], self.prefix)
            && starts(&rest[1 + self.prefix.len()..], name)
            && matches!(rest[after], b' ' | b'>' | b'/' | b'\t' | b'\n' | b'\r');
        if matched {
            self.at += after;
        }
        matched
    }

    /// `</name>` (with the prefix).
    fn close(&mut self, name: &[u8]) -> bool {
        let rest = &self.xml[self.at..];
        let after = 2 + self.prefix.len() + name.len();
        let matched = rest.len() > after
            && rest[0] == b'<'
            && rest[1] == b'/'
            && starts(&rest[2..], self.prefix)
            && starts(&rest[2 + self.prefix.len()..], name)
            && rest[after] == b'>';
        if matched {
            self.at += after + 1;
        }
        matched
    }

    /// The attributes up to the end of the start tag; `Some(true)` when it
    /// closes itself (`/>`).
    fn attributes(&mut self, mut each: impl FnMut(&'x [u8], &'x [u8])) -> Option<bool> {
        loop {
            self.space();
            match *self.xml.get(self.at)? {
                b'>' => {
                    self.at += 1;
                    return Some(false);
                }
                b'/' => {
                    if self.xml.get(self.at + 1) != Some(&b'>') {
                        return None;
                    }
                    self.at += 2;
                    return Some(true);
                }
                _ => {
                    let rest = &self.xml[self.at..];
                    let equals = memchr::memchr(b'=', rest)?;
                    let name = rest[..equals].trim_ascii_end();
                    if name.iter().any(|b| matches!(b, b'<' | b'>' | b'/' | b' ')) {
                        return None;
                    }
                    self.at += equals + 1;
                    self.space();
                    let quote = *self.xml.get(self.at)?;
                    if quote != b'"' && quote != b'\'' {
                        return None;
                    }
                    let start = self.at + 1;
                    let end = start + memchr::memchr(quote, &self.xml[start..])?;
                    let value = &self.xml[start..end];
                    if memchr::memchr2(b'&', b'<', value).is_some() {
                        return None;
                    }
                    each(name, value);
                    self.at = end + 1;
                }
            }
        }
    }

    /// A value that is a number, a string index, a boolean or an error
    /// code (see [`plain_value`]): the text up to the next tag or entity,
    /// as written.
    fn plain_value(&mut self) -> Option<Cow<'x, str>> {
        let end = self.at + memchr::memchr(b'<', &self.xml[self.at..])?;
        let raw = std::str::from_utf8(&self.xml[self.at..end]).ok()?;
        self.at = end;
        let cut = raw.find('&').unwrap_or(raw.len());
        Some(Cow::Borrowed(&raw[..cut]))
    }

    /// The text up to the next tag, entities decoded.
    fn text(&mut self) -> Option<Cow<'x, str>> {
        let end = self.at + memchr::memchr(b'<', &self.xml[self.at..])?;
        let raw = &self.xml[self.at..end];
        self.at = end;
        if memchr::memchr(b'\r', raw).is_some() {
            return None;
        }
        let text = std::str::from_utf8(raw).ok()?;
        if memchr::memchr(b'&', raw).is_none() {
            return Some(Cow::Borrowed(text));
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let semicolon = rest[at..].find(';')? + at;
            let reference = BytesRef::new(&rest[at + 1..semicolon]);
            push_reference(&reference, &mut out).ok()?;
            rest = &rest[semicolon + 1..];
        }
        out.push_str(rest);
        Some(Cow::Owned(out))
    }
}

fn grid(collected: Collected, strings: &SharedStrings) -> XlsxGrid<'_> {
    let Collected {
        mut cells, texts, ..
    } = collected;
    if !cells.is_sorted_by_key(|(r, c, _)| (*r, *c)) {
        cells.sort_by_key(|(r, c, _)| (*r, *c));
    }
    let (first, last) = (cells[0].0, cells[cells.len() - 1].0);
    let mut rows = vec![(0u32, 0u32); (last - first) as usize + 1];
    let mut out = Vec::with_capacity(cells.len());
    for (index, (row, column, value)) in cells.into_iter().enumerate() {
        let span = &mut rows[(row - first) as usize];
        if span.0 == span.1 {
            span.0 = index as u32;
        }
        span.1 = index as u32 + 1;
        out.push((column, value));
    }
    XlsxGrid {
        first,
        cells: out,
        rows,
        texts,
        strings,
    }
}

/// A cell reference (`AB12`) as 0-based row and column.
fn cell_reference(reference: &[u8]) -> Option<(u32, u32)> {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let mut column = 0u32;
    for &b in &reference[..letters] {
        column = column * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    let row = row_number(&reference[letters..])?;
    Some((row, column - 1))
}

/// A 1-based row number as a 0-based row.
fn row_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 7 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    n.checked_sub(1)
}

/// Parses whole rows from `xml` into `out` until the block is full.
/// Errors carry the row they happened in.
fn parse_rows(
    xml: &[u8],
    book: &Book<'_>,
    cursor: &mut Position,
    out: &mut Collected,
    scratch: &mut String,
    (min_rows, limit): (usize, usize),
    one_row: bool,
) -> Result<Stop, (u32, String)> {
    let mut reader = xml_reader(xml);
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| (cursor.row, format!("{e} (in the sheet XML)")))?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "row" => {
                let row = match attribute(&e, "r", false).map_err(|m| (cursor.row, m))? {
                    Some(r) => row_number(r.as_bytes())
                        .ok_or_else(|| (cursor.row, format!("bad row number `{r}`")))?,
                    None => cursor.row,
                };
                if empty {
                    cursor.row = row.saturating_add(1);
                    cursor.column = 0;
                    if one_row {
                        return Ok(Stop::Row(reader.buffer_position() as usize));
                    }
                    continue;
                }
                if out.full_before(row, min_rows, limit) {
                    return Ok(Stop::Full(before));
                }
                cursor.row = row;
                cursor.column = 0;
            }
            Event::End(e) if e.local_name().as_ref() == "row" => {
                cursor.row = cursor.row.saturating_add(1);
                cursor.column = 0;
                if one_row {
                    return Ok(Stop::Row(reader.buffer_position() as usize));
                }
            }
            Event::Start(e) if e.local_name().as_ref() == "c" => {
                let (_, column) = read_cell(&mut reader, &e, book, cursor, out, scratch)
                    .map_err(|m| (cursor.row, m))?;
                cursor.column = column.saturating_add(1);
            }
            Event::Empty(e) if e.local_name().as_ref() == "c" => {
                let (_, column) = cell_position(&e, cursor).map_err(|m| (cursor.row, m))?;
                cursor.column = column.saturating_add(1);
            }
            Event::Start(e) if e.local_name().as_ref() != "sheetData" => {
                reader
                    .read_to_end(e.name())
                    .map_err(|err| (cursor.row, err.to_string()))?;
            }
            Event::End(e) if e.local_name().as_ref() == "sheetData" => return Ok(Stop::End),
            Event::Eof => return Ok(Stop::Consumed),
            _ => {}
        }
    }
}

fn cell_position(e: &BytesStart<'_>, cursor: &Position) -> Result<(u32, u32), String> {
    match attribute(e, "r", false)? {
        Some(r) => cell_reference(r.as_bytes()).ok_or_else(|| format!("bad cell reference `{r}`")),
        None => Ok((cursor.row, cursor.column)),
    }
}

/// Reads one `<c>` (its start tag just read) into `out`; returns its
/// position.
fn read_cell(
    reader: &mut Reader<&[u8]>,
    start: &BytesStart<'_>,
    book: &Book<'_>,
    cursor: &Position,
    out: &mut Collected,
    scratch: &mut String,
) -> Result<(u32, u32), String> {
    let mut reference = None;
    let mut style = None;
    let mut kind = None;
    for attribute in start.attributes().with_checks(false) {
        let attribute = attribute.map_err(|e| e.to_string())?;
        match attribute.key.local_name().as_ref() {
            "r" => reference = Some(attribute.value),
            "s" => style = Some(attribute.value),
            "t" => kind = Some(attribute.value),
            _ => {}
        }
    }
    let (row, column) = match &reference {
        Some(r) => {
            cell_reference(r.as_bytes()).ok_or_else(|| format!("bad cell reference `{r}`"))?
        }
        None => (cursor.row, cursor.column),
    };
    let typed = kind.is_some();
    let kind: &str = kind.as_deref().unwrap_or("n");
    let inline = matches!(kind, "inlineStr" | "is");
    let text_start = out.texts.len();
    let mut value_text: Option<Cow<'_, str>> = None;
    let mut inline_text = false;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => match e.local_name().as_ref() {
                "v" if !inline && plain_value(typed, kind) => {
                    value_text = Some(first_text(reader, e.name())?);
                }
                "v" if !inline => value_text = Some(v_text(reader, scratch)?),
                "is" => {
                    let closing = e.name().as_ref().to_owned();
                    rich_text(reader, &mut out.texts, &closing)?;
                    inline_text = true;
                }
                _ => {
                    reader.read_to_end(e.name()).map_err(|e| e.to_string())?;
                }
            },
            Event::Empty(e) if e.local_name().as_ref() == "is" => inline_text = true,
            Event::Empty(e) if e.local_name().as_ref() == "v" && !inline => {
                value_text = Some(Cow::Borrowed(""));
            }
            Event::End(e) if e.local_name().as_ref() == "c" => break,
            Event::Eof => return Err("a cell is not closed".to_owned()),
            _ => {}
        }
    }
    let kind = CellKind {
        kind,
        typed,
        style: style.as_deref(),
    };
    out.store(
        (row, column),
        text_start,
        inline_text,
        value_text.as_deref(),
        kind,
        book,
    )?;
    Ok((row, column))
}

/// A cell's type and style, as its start tag gives them.
struct CellKind<'a> {
    /// `t`, `n` when absent.
    kind: &'a str,
    /// The cell has a `t`.
    typed: bool,
    style: Option<&'a str>,
}

/// The value of a cell of `kind` whose `<v>` holds `v`.
fn typed_value(
    CellKind { kind, typed, style }: CellKind<'_>,
    v: &str,
    book: &Book<'_>,
    texts: &mut String,
) -> Result<Option<Value>, String> {
    let text_value = |texts: &mut String, text: &str| -> Value {
        let start = texts.len();
        texts.push_str(text);
        Value::Text(start as u32, texts.len() as u32)
    };
    Ok(match kind {
        "n" => {
            if v.is_empty() {
                None
            } else {
                match v.parse::<f64>() {
                    Ok(n) => Some(number(n, style, book)),
                    Err(_) if !typed => Some(text_value(texts, v)),
                    Err(_) => return Err(format!("`{v}` is not a number")),
                }
            }
        }
        "s" => {
            if v.is_empty() {
                None
            } else {
                // As written: an index with spaces around it is damage, and
                // which string it meant is a guess (calamine takes the first).
                let index = v
                    .parse::<u32>()
                    .ok()
                    .filter(|i| (*i as usize) < book.strings.len())
                    .ok_or_else(|| {
                        format!("shared string `{v}` is not in the shared strings table")
                    })?;
                Some(Value::Shared(index))
            }
        }
        "b" => match v.trim() {
            "" => None,
            "1" | "true" => Some(Value::Bool(true)),
            "0" | "false" => Some(Value::Bool(false)),
            other => return Err(format!("`{other}` is not a boolean")),
        },
        "e" if v.is_empty() => None,
        "e" => {
            let start = texts.len();
            texts.push_str(v);
            Some(Value::Error(start as u32, texts.len() as u32))
        }
        "str" => Some(text_value(texts, &unescape_ooxml(v))),
        "d" => Some(text_value(texts, v)),
        "inlineStr" | "is" => None,
        other => return Err(format!("unknown cell type `{other}`")),
    })
}

fn number(n: f64, style: Option<&str>, book: &Book<'_>) -> Value {
    let shown = style
        // A style that is not a number is damage: read as the workbook's
        // first style, as calamine reads it.
        .map(|s| s.parse::<usize>().unwrap_or(0))
        .and_then(|s| book.styles.get(s).copied())
        .unwrap_or(Shown::Number);
    match shown {
        Shown::Date if book.date1904 => Value::Date(n + 1462.0),
        Shown::Date => Value::Date(n),
        Shown::Number | Shown::Duration => Value::Number(n),
    }
}

/// Whether a `<v>` of this cell type holds a plain value: a number, a
/// shared-string index, a boolean or an error code. Spreadsheet programs
/// write these as one run of ASCII; such a value is its first text, as
/// written, up to the first tag or entity (calamine reads them the same
/// way, which keeps the differential fuzz target meaningful on damaged
/// files).
fn plain_value(typed: bool, kind: &str) -> bool {
    !typed || matches!(kind, "n" | "s" | "b" | "e")
}

/// The first text of a plain `<v>` (see [`plain_value`]; start tag just
/// read, named `name`); the rest of the element is passed over.
fn first_text<'x>(
    reader: &mut Reader<&'x [u8]>,
    name: quick_xml::name::QName<'_>,
) -> Result<Cow<'x, str>, String> {
    let value = match reader.read_event().map_err(|e| e.to_string())? {
        Event::End(end) if end.name() == name => return Ok(Cow::Borrowed("")),
        Event::Text(text) => text.into_inner(),
        Event::Eof => return Err("a value is not closed".to_owned()),
        _ => Cow::Borrowed(""),
    };
    reader.read_to_end(name).map_err(|e| e.to_string())?;
    Ok(value)
}

/// The text of a `<v>` (start tag just read): borrowed from the XML when
/// it is one plain run, which it nearly always is.
fn v_text<'x>(reader: &mut Reader<&'x [u8]>, scratch: &mut String) -> Result<Cow<'x, str>, String> {
    let first = match reader.read_event().map_err(|e| e.to_string())? {
        Event::End(_) => return Ok(Cow::Borrowed("")),
        Event::Text(t) => t.xml10_content(),
        Event::Eof => return Err("a value is not closed".to_owned()),
        other => {
            scratch.clear();
            match other {
                Event::CData(t) => scratch.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => push_reference(&r, scratch)?,
                Event::Start(_) => {
                    element_text(reader, scratch)?;
                }
                _ => {}
            }
            element_text(reader, scratch)?;
            return Ok(Cow::Owned(std::mem::take(scratch)));
        }
    };
    match reader.read_event().map_err(|e| e.to_string())? {
        Event::End(_) => Ok(first),
        Event::Eof => Err("a value is not closed".to_owned()),
        other => {
            scratch.clear();
            scratch.push_str(&first);
            match other {
                Event::Text(t) => scratch.push_str(&t.xml10_content()),
                Event::CData(t) => scratch.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => push_reference(&r, scratch)?,
                Event::Start(_) => element_text(reader, scratch)?,
                _ => {}
            }
            element_text(reader, scratch)?;
            Ok(Cow::Owned(std::mem::take(scratch)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::SheetGrid;
    use calamine::Reader as _;

    /// Every sheet of `bytes` read by this module and by calamine, cell by
    /// cell, as text a person would see (and the cell kind).
    fn both(bytes: &[u8]) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
        let ours = read(bytes, true);
        assert_eq!(ours, read(bytes, false), "scanned and parsed rows differ");
        let mut xlsx: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(bytes)).unwrap();
        let mut theirs = Vec::new();
        for name in xlsx.sheet_names() {
            let cells = match xlsx.worksheet_range(&name) {
                Ok(range) => listing(&SheetGrid::new(range)),
                Err(_) => Vec::new(),
            };
            theirs.push(cells);
        }
        (ours, theirs)
    }

    /// Every sheet's cells, rows scanned first or all parsed by quick-xml.
    fn read(bytes: &[u8], scan: bool) -> Vec<Vec<String>> {
        let book = Book::open(bytes).unwrap();
        let mut sheets = Vec::new();
        for sheet in &book.sheets {
            let mut cells = Vec::new();
            if let Some(part) = &sheet.part {
                let mut blocks = book.blocks(part).unwrap();
                blocks.scan = scan;
                while let Some(grid) = blocks.next(0, 3).unwrap() {
                    cells.extend(listing(&grid));
                }
            }
            sheets.push(cells);
        }
        sheets
    }

    fn listing(grid: &dyn Grid) -> Vec<String> {
        let mut out = Vec::new();
        for row in grid.first_row()..grid.height() {
            for column in 0..grid.width(row) {
                let cell = grid.cell(row, column);
                if cell != Cell::Empty {
                    out.push(format!("{row},{column} {cell:?} {:?}", cell.text()));
                }
            }
        }
        out
    }

    #[test]
    fn cells_match_calamine_in_both_string_modes() {
        use rust_xlsxwriter::{Color, Format, FormatAlign, Formula, Workbook};
        let date = Format::new().set_num_format("dd.mm.yyyy");
        let custom_date = Format::new().set_num_format("[$-407]dddd, d. mmmm yyyy");
        let elapsed = Format::new().set_num_format("[h]:mm");
        let quoted = Format::new().set_num_format("0.0 \"mm\"");
        let bold = Format::new().set_bold().set_font_color(Color::Red);
        let wrap = Format::new().set_align(FormatAlign::Center);
        for constant_memory in [false, true] {
            let mut workbook = Workbook::new();
            let sheet: &mut rust_xlsxwriter::Worksheet = if constant_memory {
                workbook.add_worksheet_with_constant_memory().unwrap()
            } else {
                workbook.add_worksheet()
            };
            sheet.set_name("Daten").unwrap();
            sheet.write(0, 0, "Art.-Nr.").unwrap();
            sheet.write(0, 1, "  Leistung [W]  ").unwrap();
            sheet.write(0, 3, "A & B <c> \"d\"").unwrap();
            sheet.write(1, 0, "LW-1").unwrap();
            sheet.write(1, 1, 12.5).unwrap();
            sheet.write(1, 2, true).unwrap();
            sheet.write_with_format(1, 3, 46_082.0, &date).unwrap();
            sheet
                .write_with_format(1, 4, 46_082.25, &custom_date)
                .unwrap();
            sheet.write_with_format(1, 5, 1.5, &elapsed).unwrap();
            sheet.write_with_format(1, 6, 3.0, &quoted).unwrap();
            sheet
                .write(2, 0, "Zeile\nzwei\r\nmit_x000D_Escape")
                .unwrap();
            sheet.write(2, 1, "Grüße, ½ €").unwrap();
            sheet.write_with_format(2, 2, "fett", &wrap).unwrap();
            sheet
                .write_formula(2, 3, Formula::new("=B2*2").set_result("25"))
                .unwrap();
            sheet
                .write_formula(2, 4, Formula::new("=\"x\"&\"y\"").set_result("xy"))
                .unwrap();
            sheet
                .write_rich_string(
                    3,
                    0,
                    &[(&bold, "rot "), (&Format::default(), "und schwarz")],
                )
                .unwrap();
            sheet.write(5, 25, -0.000123).unwrap();
            sheet.write(5, 27, 1e21).unwrap();
            sheet.write(6, 0, "").unwrap();
            sheet.write(7, 0, false).unwrap();
            let second = workbook.add_worksheet();
            second.set_name("Zweites & <Blatt>").unwrap();
            for row in 0..40u32 {
                second.write(row, 0, format!("K{row}")).unwrap();
                second.write(row, 1, f64::from(row) * 1.25).unwrap();
            }
            workbook.add_worksheet().set_name("leer").unwrap();
            let bytes = workbook.save_to_buffer().unwrap();
            let (ours, theirs) = both(&bytes);
            assert_eq!(ours, theirs, "constant memory: {constant_memory}");
            assert!(
                ours[0].iter().any(|c| c.contains("Date(46082.0)")),
                "{ours:?}"
            );
            assert!(ours[0].iter().any(|c| c.contains("rot und schwarz")));
            assert_eq!(ours[1].len(), 80);
        }
    }

    /// A one-sheet workbook whose sheet XML is `rows`, with extra parts.
    fn handmade(rows: &str, extra: &[(&str, &str)], sheet_prefix: &str) -> Vec<u8> {
        use std::io::Write;
        let p = sheet_prefix;
        let colon = if p.is_empty() { "" } else { ":" };
        let sheet = format!(
            r#"<?xml version="1.0"?><{p}{colon}worksheet xmlns{colon}{p}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><{p}{colon}dimension ref="A1"/><{p}{colon}sheetData>{rows}</{p}{colon}sheetData></{p}{colon}worksheet>"#
        );
        let mut parts: Vec<(&str, String)> = vec![
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.to_owned(),
            ),
            ("xl/worksheets/sheet1.xml", sheet),
        ];
        for (name, content) in extra {
            parts.push((name, (*content).to_owned()));
        }
        let mut cursor = Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut cursor);
        for (name, content) in parts {
            writer
                .start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap();
        cursor.into_inner()
    }

    fn numbers(cells: &[(&str, f64)]) -> Vec<u8> {
        let rows: String = cells
            .iter()
            .map(|(reference, value)| {
                let row: String = reference.chars().filter(char::is_ascii_digit).collect();
                format!(r#"<row r="{row}"><c r="{reference}"><v>{value}</v></c></row>"#)
            })
            .collect();
        handmade(&rows, &[], "")
    }

    fn cells_of(grid: &XlsxGrid<'_>) -> Vec<(usize, usize, f64)> {
        let mut out = Vec::new();
        for row in grid.first_row()..grid.height() {
            for column in 0..grid.width(row) {
                if let Cell::Number(n) = grid.cell(row, column) {
                    out.push((row, column, n));
                }
            }
        }
        out
    }

    fn all_cells(
        bytes: &[u8],
        min_rows: usize,
        per_block: usize,
    ) -> (Vec<(usize, usize, f64)>, u64) {
        let book = Book::open(bytes).unwrap();
        let mut blocks = book.blocks(book.sheets[0].part.as_ref().unwrap()).unwrap();
        let mut seen = Vec::new();
        let mut min = min_rows;
        while let Some(block) = blocks.next(min, per_block).unwrap() {
            seen.extend(cells_of(&block));
            min = 0;
        }
        seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (seen, blocks.late_cells)
    }

    #[test]
    fn sheet_cells_in_and_out_of_order_give_the_same_grid() {
        let expected = vec![(0, 0, 1.0), (0, 2, 3.0), (2, 1, 5.0), (3, 0, 6.0)];
        let ordered = [("A1", 1.0), ("C1", 3.0), ("B3", 5.0), ("A4", 6.0)];
        assert_eq!(all_cells(&numbers(&ordered), 0, usize::MAX).0, expected);
        let shuffled = [("B3", 5.0), ("A1", 1.0), ("A4", 6.0), ("C1", 3.0)];
        assert_eq!(all_cells(&numbers(&shuffled), 0, usize::MAX).0, expected);
    }

    #[test]
    fn blocks_hand_out_whole_rows_and_keep_late_cells() {
        let ordered = numbers(&[
            ("A1", 1.0),
            ("B1", 2.0),
            ("A2", 3.0),
            ("B2", 4.0),
            ("A3", 5.0),
            ("A4", 6.0),
            ("B4", 7.0),
        ]);
        let book = Book::open(&ordered).unwrap();
        let mut blocks = book.blocks("xl/worksheets/sheet1.xml").unwrap();
        // At least 3 cells, cut only where a row begins: rows 1 and 2.
        let first = blocks.next(1, 3).unwrap().unwrap();
        assert_eq!((first.first_row(), first.height()), (0, 2));
        assert_eq!(
            cells_of(&first),
            [(0, 0, 1.0), (0, 1, 2.0), (1, 0, 3.0), (1, 1, 4.0)]
        );
        let second = blocks.next(0, 3).unwrap().unwrap();
        assert_eq!((second.first_row(), second.height()), (2, 4));
        assert_eq!(cells_of(&second), [(2, 0, 5.0), (3, 0, 6.0), (3, 1, 7.0)]);
        assert!(blocks.next(0, 3).unwrap().is_none());
        assert_eq!(blocks.late_cells, 0);

        // The header look-ahead wins over the block size.
        let mut blocks = book.blocks("xl/worksheets/sheet1.xml").unwrap();
        let first = blocks.next(3, 1).unwrap().unwrap();
        assert_eq!((first.first_row(), first.height()), (0, 3));

        // B1 after row 3: kept, in a later block, and counted.
        let late = numbers(&[
            ("A1", 1.0),
            ("A2", 3.0),
            ("A3", 5.0),
            ("B1", 2.0),
            ("A4", 6.0),
        ]);
        let (seen, late_cells) = all_cells(&late, 0, 1);
        assert_eq!(
            seen,
            [
                (0, 0, 1.0),
                (0, 1, 2.0),
                (1, 0, 3.0),
                (2, 0, 5.0),
                (3, 0, 6.0)
            ]
        );
        assert_eq!(late_cells, 1);
    }

    #[test]
    fn prefixed_xml_missing_references_comments_and_entities() {
        let rows = r#"<x:row r="2" spans="1:3"><x:c t="inlineStr"><x:is><x:t xml:space="preserve"> a &amp; b </x:t></x:is></x:c><!-- </x:row> is not here --><x:c><x:v>7</x:v></x:c><x:c t="str"><x:f>A1</x:f><x:v>&#x41;&lt;<![CDATA[>]]></x:v></x:c><x:c r="E2" t="s"><x:v>1</x:v></x:c></x:row><x:row/><x:row><x:c t="e"><x:v>#DIV/0!</x:v></x:c><x:c t="b"><x:v>1</x:v></x:c><x:c t="s"><x:v>0</x:v></x:c><x:c t="d"><x:v>2026-03-01T00:00:00</x:v></x:c><x:c/><x:c><x:v>1.5</x:v></x:c></x:row>"#;
        let strings = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>  plain  </t></si><si><r><t>rich</t></r><r><rPr><b/></rPr><t xml:space="preserve"> text</t></r><rPh><t>ignored</t></rPh></si><si/></sst>"#;
        let bytes = handmade(rows, &[("xl/sharedStrings.xml", strings)], "x");
        assert_eq!(read(&bytes, true), read(&bytes, false));
        let book = Book::open(&bytes).unwrap();
        let mut blocks = book.blocks("xl/worksheets/sheet1.xml").unwrap();
        let grid = blocks.next(0, usize::MAX).unwrap().unwrap();
        let texts = listing(&grid);
        assert_eq!(
            texts,
            [
                r#"1,0 Text(" a & b ") " a & b ""#,
                r#"1,1 Number(7.0) "7""#,
                r#"1,2 Text("A<>") "A<>""#,
                r#"1,4 Text("rich text") "rich text""#,
                r##"3,0 Error("#DIV/0!") "#DIV/0!""##,
                r#"3,1 Bool(true) "TRUE""#,
                r#"3,2 Text("plain") "plain""#,
                r#"3,3 Text("2026-03-01T00:00:00") "2026-03-01T00:00:00""#,
                r#"3,5 Number(1.5) "1.5""#,
            ]
        );
    }

    #[test]
    fn broken_sheets_say_where() {
        let bad_string = handmade(r#"<row r="3"><c r="A3" t="s"><v>9</v></c></row>"#, &[], "");
        let book = Book::open(&bad_string).unwrap();
        let mut blocks = book.blocks("xl/worksheets/sheet1.xml").unwrap();
        let error = blocks.next(0, 10).err().unwrap().to_string();
        assert!(
            error.contains("row 3") && error.contains("shared string"),
            "{error}"
        );

        let bad_xml = handmade(
            r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></row>"#,
            &[],
            "",
        );
        let book = Book::open(&bad_xml).unwrap();
        let mut blocks = book.blocks("xl/worksheets/sheet1.xml").unwrap();
        assert!(blocks.next(0, 10).is_err());

        let error = Book::open(b"PK\x03\x04 not a workbook").err().unwrap();
        assert!(error.to_string().contains("ZIP"), "{error}");
        let error = Book::open(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).err().unwrap();
        assert!(error.to_string().contains("encrypted"), "{error}");
    }

    #[test]
    fn the_workbook_ends_with_its_root_element() {
        let early = br#"<workbook xmlns:r="r"/><sheets><sheet name="S" r:id="rId1"/></sheets>"#;
        assert!(sheet_list(early, "xl/workbook.xml").unwrap().0.is_empty());
        let whole =
            br#"<workbook xmlns:r="r"><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>"#;
        assert_eq!(sheet_list(whole, "xl/workbook.xml").unwrap().0.len(), 1);
        // An end tag of another element does not end the document.
        let stray = br#"<workbook xmlns:r="r"><a></b></c><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>"#;
        assert_eq!(sheet_list(stray, "xl/workbook.xml").unwrap().0.len(), 1);
    }

    #[test]
    fn number_formats_that_show_dates() {
        assert_eq!(shown_by_code("dd.mm.yyyy"), Shown::Date);
        assert_eq!(shown_by_code("[$-407]d. mmmm yyyy;@"), Shown::Date);
        assert_eq!(shown_by_code("[h]:mm:ss"), Shown::Duration);
        assert_eq!(shown_by_code("#,##0.00 [$€-407]"), Shown::Number);
        assert_eq!(shown_by_code("0.0 \"mm\""), Shown::Number);
        assert_eq!(shown_by_code("[Red]0.00;[Blue]-0.00"), Shown::Number);
        assert_eq!(shown_by_code("General"), Shown::Number);
        assert_eq!(shown_by_code("0\\h"), Shown::Number);
        assert_eq!(shown_by_builtin_id("14"), Shown::Date);
        assert_eq!(shown_by_builtin_id("46"), Shown::Duration);
        assert_eq!(shown_by_builtin_id("4"), Shown::Number);
    }

    #[test]
    fn office_escapes_and_targets() {
        assert_eq!(unescape_ooxml("a_x000D_b_x005F_x0041_"), "a\rb_x0041_");
        assert_eq!(unescape_ooxml("_x12_ and _xZZZZ_"), "_x12_ and _xZZZZ_");
        assert_eq!(
            resolve_target("xl", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(resolve_target("xl", "/xl/ws/s.xml"), "xl/ws/s.xml");
        assert_eq!(resolve_target("xl/sub", "../ws/s.xml"), "xl/ws/s.xml");
        assert_eq!(cell_reference(b"AB12"), Some((11, 27)));
        assert_eq!(cell_reference(b"A0"), None);
        assert_eq!(cell_reference(b"12"), None);
    }
}
