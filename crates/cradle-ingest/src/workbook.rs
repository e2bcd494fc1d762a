//! Checks on an Office Open XML workbook before it is handed to the
//! spreadsheet reader: a workbook is a ZIP archive, and its parts can be
//! bombs or can announce sizes that make the reader reserve absurd amounts
//! of memory (which aborts the process instead of returning an error).

use crate::source::{MAX_COMPRESSION_RATIO, MAX_ENTRY_EXPANDED};
use std::io::Read;

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
        "workbook part `{part}` announces {announced} shared strings but holds only {bytes} bytes; the file is damaged or hostile"
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
        if part.eq_ignore_ascii_case("xl/sharedStrings.xml") {
            let mut head = Vec::with_capacity(4096);
            let _ = (&mut entry).take(4096).read_to_end(&mut head);
            let head = String::from_utf8_lossy(&head);
            // Each string takes at least `<si/>`: five bytes.
            for attribute in ["uniqueCount=\"", "count=\""] {
                if let Some(announced) = number_after(&head, attribute)
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
        let hostile = r#"<sst count="1" uniqueCount="4416153152014368"><si><t>a</t></si></sst>"#;
        assert!(matches!(
            check(&xlsx_with_shared_strings(hostile)),
            Err(WorkbookError::SharedStrings { .. })
        ));
        let overflowing = r#"<sst uniqueCount="99999999999999999999999"><si/></sst>"#;
        assert!(check(&xlsx_with_shared_strings(overflowing)).is_err());
        assert_eq!(check(b"not a zip"), Ok(()));
    }
}
