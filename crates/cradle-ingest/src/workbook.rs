//! Workbooks before and around their readers: checks on an Office Open
//! XML workbook before it is read (a workbook is a ZIP archive, and its
//! parts can be bombs or can announce sizes that make a reader reserve
//! absurd amounts of memory, which aborts the process instead of returning
//! an error), and opening the formats calamine reads (XLS, XLSB, ODS) so
//! that password protection, chart sheets and text stored the wrong way
//! are told apart from damage.

use crate::source::{MAX_COMPRESSION_RATIO, MAX_ENTRY_EXPANDED};
use calamine::{Data, Range, Reader, SheetType};
use std::io::{Cursor, Read};

/// Why a workbook is refused before reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkbookError {
    #[error(
        "workbook part `{part}` expands to {expanded} bytes from {compressed}; this looks like a ZIP bomb"
    )]
    Bomb {
        part: String,
        compressed: u64,
        expanded: u64,
    },
    #[error(
        "workbook part `{part}` announces {announced} distinct shared strings but holds only {bytes} bytes; the file is damaged or hostile"
    )]
    SharedStrings {
        part: String,
        announced: u64,
        bytes: u64,
    },
}

/// Returns an error for a workbook that must not be read. Files that are
/// not ZIP archives (XLS) or cannot be opened pass: the reader will say
/// what is wrong with them.
pub fn check(bytes: &[u8]) -> Result<(), WorkbookError> {
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(());
    };
    for index in 0..archive.len() {
        let Ok(mut entry) = archive.by_index(index) else {
            continue;
        };
        let part = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let compressed = entry.compressed_size().max(1);
        let expanded = entry.size();
        if expanded > MAX_ENTRY_EXPANDED
            || (expanded > 1 << 20 && expanded / compressed > MAX_COMPRESSION_RATIO)
        {
            return Err(WorkbookError::Bomb {
                part,
                compressed,
                expanded,
            });
        }
        if crate::xlsx::part_key(&part) == "xl/sharedstrings.xml" {
            let mut head = Vec::with_capacity(4096);
            let _ = (&mut entry).take(4096).read_to_end(&mut head);
            let head = String::from_utf8_lossy(&head);
            // Readers size the table of strings by `uniqueCount`, the
            // number of `<si>` elements, each at least `<si/>`: five bytes.
            // `count` is the number of cells that use a string, which is
            // far larger in every price list ("Stück" on every row) and
            // sizes nothing.
            if let Some(announced) = number_after(&head, "uniqueCount=\"")
                && announced > expanded / 5 + 16
            {
                return Err(WorkbookError::SharedStrings {
                    part,
                    announced,
                    bytes: expanded,
                });
            }
        }
    }
    Ok(())
}

fn number_after(text: &str, prefix: &str) -> Option<u64> {
    let start = text.find(prefix)? + prefix.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .take(20)
        .collect();
    digits
        .parse()
        .ok()
        .or(Some(u64::MAX))
        .filter(|_| !digits.is_empty())
}

/// A workbook calamine reads, opened by its detected format.
pub type CalamineBook<'b> = calamine::Sheets<Cursor<&'b [u8]>>;

/// Why a workbook calamine reads does not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the workbook is password-protected (encrypted); nothing of it can be read")]
    PasswordProtected,
    #[error("{0}")]
    Unreadable(String),
}

/// Opens XLS (and any compound file: an encrypted XLSX is one too), XLSB
/// or ODS. `format` is the detected format's name.
pub fn open_calamine<'b>(format: &str, bytes: &'b [u8]) -> Result<CalamineBook<'b>, OpenError> {
    use calamine::{Ods, OdsError, Xls, XlsError, Xlsb, XlsbError, Xlsx, XlsxError};
    let cursor = || Cursor::new(bytes);
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return match Xls::new(cursor()) {
            Ok(book) => Ok(calamine::Sheets::Xls(book)),
            Err(XlsError::Password) => Err(OpenError::PasswordProtected),
            // Office encrypts XLSX, XLSM and XLSB into a compound file with
            // an `EncryptedPackage` stream, which the XLSX reader knows.
            Err(error) => match Xlsx::new(cursor()) {
                Err(XlsxError::Password) => Err(OpenError::PasswordProtected),
                _ => Err(OpenError::Unreadable(error.to_string())),
            },
        };
    }
    match format {
        "xlsb" => match Xlsb::new(cursor()) {
            Ok(book) => Ok(calamine::Sheets::Xlsb(book)),
            Err(XlsbError::Password) => Err(OpenError::PasswordProtected),
            Err(error) => Err(OpenError::Unreadable(error.to_string())),
        },
        "ods" => match Ods::new(cursor()) {
            Ok(book) => Ok(calamine::Sheets::Ods(book)),
            Err(OdsError::Password) => Err(OpenError::PasswordProtected),
            Err(error) => Err(OpenError::Unreadable(error.to_string())),
        },
        _ => calamine::open_workbook_auto_from_rs(cursor())
            .map_err(|error| OpenError::Unreadable(error.to_string())),
    }
}

/// The sheets of a workbook calamine reads, each with what it is: only
/// worksheets hold tables.
pub fn calamine_sheets(book: &CalamineBook<'_>) -> Vec<(String, crate::xlsx::SheetKind)> {
    use crate::xlsx::SheetKind;
    book.sheets_metadata()
        .iter()
        .map(|sheet| {
            let kind = match sheet.typ {
                SheetType::WorkSheet => SheetKind::Worksheet,
                SheetType::ChartSheet => SheetKind::Chart,
                SheetType::DialogSheet => SheetKind::Dialog,
                SheetType::MacroSheet => SheetKind::Macro,
                SheetType::Vba => SheetKind::Other,
            };
            (sheet.name.clone(), kind)
        })
        .collect()
}

/// Repairs text cells that read as UTF-16 code units decoded one byte at
/// a time (`T\0i\0t\0e\0l\0`). BIFF8 stores short text as the low bytes
/// of UTF-16; a workbook whose code page record says a single-byte code
/// page (some export libraries write windows-1252) gets a NUL after every
/// letter from the reader, and so does UTF-16 stored under the wrong flag.
/// Returns how many cells were repaired.
pub fn repair_utf16_cells(range: &mut Range<Data>) -> u64 {
    let start = range.start().unwrap_or((0, 0));
    let repairs: Vec<((u32, u32), String)> = range
        .used_cells()
        .filter_map(|(row, column, value)| match value {
            Data::String(text) => repair_utf16(text)
                .map(|fixed| ((start.0 + row as u32, start.1 + column as u32), fixed)),
            _ => None,
        })
        .collect();
    let repaired = repairs.len() as u64;
    for (position, text) in repairs {
        range.set_value(position, Data::String(text));
    }
    repaired
}

/// `text` without the NUL in every second character, when every second
/// character is a NUL (the high bytes of UTF-16 code units, read as
/// characters of their own); `None` for any other text, NULs in it are data.
pub fn repair_utf16(text: &str) -> Option<String> {
    if !text.contains('\0') {
        return None;
    }
    let mut letters = String::with_capacity(text.len() / 2);
    let mut count = 0usize;
    for (index, c) in text.chars().enumerate() {
        count += 1;
        match index % 2 {
            0 => letters.push(c),
            _ if c == '\0' => {}
            _ => return None,
        }
    }
    let letters = letters.trim_end_matches('\0');
    (count >= 2 && count.is_multiple_of(2) && !letters.is_empty()).then(|| letters.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn xlsx_with_shared_strings(xml: &str) -> Vec<u8> {
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut cursor);
        writer
            .start_file(
                "xl/sharedStrings.xml",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        writer.write_all(xml.as_bytes()).unwrap();
        writer.finish().unwrap();
        cursor.into_inner()
    }

    #[test]
    fn absurd_shared_string_counts_are_refused() {
        let honest = r#"<sst count="2" uniqueCount="2"><si><t>a</t></si><si><t>b</t></si></sst>"#;
        assert_eq!(check(&xlsx_with_shared_strings(honest)), Ok(()));
        // Two strings used by 50,000 cells, as Excel writes a price list.
        let repeated =
            r#"<sst count="50000" uniqueCount="2"><si><t>Stück</t></si><si><t>EUR</t></si></sst>"#;
        assert_eq!(check(&xlsx_with_shared_strings(repeated)), Ok(()));
        let hostile = r#"<sst count="1" uniqueCount="4416153152014368"><si><t>a</t></si></sst>"#;
        assert!(matches!(
            check(&xlsx_with_shared_strings(hostile)),
            Err(WorkbookError::SharedStrings { .. })
        ));
        let overflowing = r#"<sst uniqueCount="99999999999999999999999"><si/></sst>"#;
        assert!(check(&xlsx_with_shared_strings(overflowing)).is_err());
        assert_eq!(check(b"not a zip"), Ok(()));
    }

    #[test]
    fn utf16_read_as_bytes_is_repaired() {
        assert_eq!(repair_utf16("T\0i\0t\0e\0l\0").as_deref(), Some("Titel"));
        assert_eq!(
            repair_utf16("G\0r\0ö\0ß\0e\0 \0€\0").as_deref(),
            Some("Größe €")
        );
        assert_eq!(repair_utf16("Titel"), None);
        assert_eq!(repair_utf16("a\0\0\0b"), None, "NULs that are data stay");
        assert_eq!(repair_utf16("a\0b"), None);
        assert_eq!(repair_utf16("\0\0"), None);
    }
}
