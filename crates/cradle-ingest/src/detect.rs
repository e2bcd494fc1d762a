//! Sniffing what a file is before reading it: format by magic bytes and
//! name, text encoding, CSV delimiter.

use cradle_core::fields::CanonicalField;
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::borrow::Cow;

/// What a delivered file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text: CSV, TSV, TXT.
    Text,
    /// A workbook calamine reads: XLSX, XLSM, XLSB, XLS, ODS.
    Workbook,
    /// A ZIP archive; its entries are sources of their own.
    Archive,
    /// A picture or document that is not a table (kept, not read as rows).
    Media,
    Empty,
}

impl Format {
    pub fn detect(name: &str, bytes: &[u8]) -> (Format, &'static str) {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
        if bytes.is_empty() {
            return (Format::Empty, "empty");
        }
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            return match ext {
                "xlsx" => (Format::Workbook, "xlsx"),
                "xlsm" => (Format::Workbook, "xlsm"),
                "xlsb" => (Format::Workbook, "xlsb"),
                "ods" => (Format::Workbook, "ods"),
                "docx" | "pptx" | "odt" => (Format::Media, "document"),
                _ if looks_like_xlsx(bytes) => (Format::Workbook, "xlsx"),
                _ => (Format::Archive, "zip"),
            };
        }
        if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            return (Format::Workbook, "xls");
        }
        const MEDIA: &[(&[u8], &str)] = &[
            (b"%PDF", "pdf"),
            (b"\x89PNG", "png"),
            (b"\xFF\xD8\xFF", "jpeg"),
            (b"GIF8", "gif"),
            (b"RIFF", "webp"),
        ];
        for (magic, kind) in MEDIA {
            if bytes.starts_with(magic) {
                return (Format::Media, kind);
            }
        }
        match ext {
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => (Format::Workbook, "xlsx"),
            "pdf" | "png" | "jpg" | "jpeg" | "gif" | "tif" | "tiff" | "svg" | "webp" | "docx"
            | "doc" => (Format::Media, "media"),
            "tsv" | "tab" => (Format::Text, "tsv"),
            "txt" => (Format::Text, "txt"),
            _ => (Format::Text, "csv"),
        }
    }
}

fn looks_like_xlsx(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map(|archive| {
            archive
                .file_names()
                .any(|n| n.is_ok_and(|n| n == "xl/workbook.xml" || n == "content.xml"))
        })
        .unwrap_or(false)
}

/// A text file's encoding, as found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf8Bom => "utf-8-bom",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }

    pub fn from_label(label: &str) -> Option<TextEncoding> {
        match label.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "utf-8-bom" | "utf-8-sig" => Some(TextEncoding::Utf8Bom),
            "utf-16le" | "utf-16" => Some(TextEncoding::Utf16Le),
            "utf-16be" => Some(TextEncoding::Utf16Be),
            "windows-1252" | "cp1252" | "latin-1" | "latin1" | "iso-8859-1" | "ansi" => {
                Some(TextEncoding::Windows1252)
            }
            _ => None,
        }
    }

    fn encoding(self) -> &'static Encoding {
        match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => UTF_8,
            TextEncoding::Utf16Le => UTF_16LE,
            TextEncoding::Utf16Be => UTF_16BE,
            TextEncoding::Windows1252 => WINDOWS_1252,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "this is not text: {control} control bytes ({nul} of them NUL) in the first {sampled} bytes; a binary file with a text name?"
    )]
    Binary {
        nul: usize,
        control: usize,
        sampled: usize,
    },
    #[error("{malformed} byte sequences are not valid {encoding}")]
    Malformed {
        encoding: &'static str,
        malformed: usize,
    },
}

/// Finds the encoding (BOM, UTF-16 without BOM, valid UTF-8, else
/// Windows-1252) and decodes. Binary content is refused, not garbled.
pub fn decode(
    bytes: &[u8],
    forced: Option<TextEncoding>,
) -> Result<(Cow<'_, str>, TextEncoding), DecodeError> {
    let encoding = match forced {
        Some(encoding) => encoding,
        None => sniff_encoding(bytes)?,
    };
    let body = match encoding {
        TextEncoding::Utf8Bom if bytes.starts_with(b"\xEF\xBB\xBF") => &bytes[3..],
        TextEncoding::Utf16Le if bytes.starts_with(b"\xFF\xFE") => &bytes[2..],
        TextEncoding::Utf16Be if bytes.starts_with(b"\xFE\xFF") => &bytes[2..],
        _ => bytes,
    };
    if matches!(encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom) {
        return match std::str::from_utf8(body) {
            Ok(text) => Ok((Cow::Borrowed(text), encoding)),
            Err(_) => {
                let (_, had_errors) = UTF_8.decode_without_bom_handling(body);
                debug_assert!(had_errors);
                Err(DecodeError::Malformed {
                    encoding: "UTF-8",
                    malformed: body
                        .utf8_chunks()
                        .filter(|c| !c.invalid().is_empty())
                        .count(),
                })
            }
        };
    }
    let (text, had_errors) = encoding.encoding().decode_without_bom_handling(body);
    if had_errors {
        let malformed = text.matches('\u{FFFD}').count();
        return Err(DecodeError::Malformed {
            encoding: encoding.as_str(),
            malformed,
        });
    }
    Ok((text, encoding))
}

fn sniff_encoding(bytes: &[u8]) -> Result<TextEncoding, DecodeError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Ok(TextEncoding::Utf8Bom);
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Ok(TextEncoding::Utf16Le);
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Ok(TextEncoding::Utf16Be);
    }
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    let nul = sample.iter().filter(|&&b| b == 0).count();
    if nul > 0 && sample.len() >= 4 {
        // UTF-16 text without a BOM has a NUL in every other byte.
        let even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
        let odd = sample
            .iter()
            .skip(1)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count();
        let half = sample.len() / 2;
        if odd * 10 >= half * 9 && even * 10 < half {
            return Ok(TextEncoding::Utf16Le);
        }
        if even * 10 >= half * 9 && odd * 10 < half {
            return Ok(TextEncoding::Utf16Be);
        }
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if nul > 0 || control * 100 > sample.len() {
        return Err(DecodeError::Binary {
            nul,
            control,
            sampled: sample.len(),
        });
    }
    if std::str::from_utf8(bytes).is_ok() {
        Ok(TextEncoding::Utf8)
    } else {
        Ok(TextEncoding::Windows1252)
    }
}

/// The field separator of delimited text. Each candidate splits the first
/// records with a real CSV parser (quotes respected); a candidate under
/// which some record holds an article-number header as a field of its own
/// wins outright, otherwise the one that gives the most records the same
/// number of fields (more than one).
pub fn sniff_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 4] = [b';', b',', b'\t', b'|'];
    const SAMPLE_RECORDS: usize = 200;
    let sample = &text[..floor_char_boundary(text, 256 * 1024)];
    let mut best = (b',', false, 0usize, 0usize);
    for candidate in CANDIDATES {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(candidate)
            .has_headers(false)
            .flexible(true)
            .from_reader(sample.as_bytes());
        let mut frequency = std::collections::HashMap::new();
        let mut names_key = false;
        for record in reader.records().take(SAMPLE_RECORDS) {
            let Ok(record) = record else { break };
            if record.len() > 1 {
                *frequency.entry(record.len()).or_insert(0usize) += 1;
                names_key |= record.iter().any(|field| {
                    CanonicalField::from_header(field) == Some(CanonicalField::ArticleNo)
                });
            }
        }
        let Some((&fields, &records)) = frequency.iter().max_by_key(|&(fields, n)| (*n, *fields))
        else {
            continue;
        };
        if (names_key, records, fields) > (best.1, best.2, best.3) {
            best = (candidate, names_key, records, fields);
        }
    }
    best.0
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode(b"a;b\n", None).unwrap().1, TextEncoding::Utf8);
        assert_eq!(decode(b"\xEF\xBB\xBFa;b\n", None).unwrap().0, "a;b\n");
        let (text, encoding) = decode(b"Gr\xF6\xDFe;\x80\n", None).unwrap();
        assert_eq!(
            (text.as_ref(), encoding),
            ("Größe;€\n", TextEncoding::Windows1252)
        );
        let utf16: Vec<u8> = "Größe;1\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&utf16, None).unwrap().0, "Größe;1\n");
        let with_bom: Vec<u8> = [0xFF, 0xFE].into_iter().chain(utf16).collect();
        assert_eq!(
            decode(&with_bom, None).unwrap(),
            (Cow::Borrowed("Größe;1\n"), TextEncoding::Utf16Le)
        );
        assert!(matches!(
            decode(b"\x00\x01\x02\x03binary\x00\x00\x07", None),
            Err(DecodeError::Binary { .. })
        ));
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter("Titel\na;b;c\n1;2,5;3\n4;5,5;6\n"), b';');
        assert_eq!(sniff_delimiter("a,b,c\n1,\"x;y\",3\n4,5,6\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter("a;b\n\"multi\nline; text\";2\n3;4\n"), b';');
    }
}
