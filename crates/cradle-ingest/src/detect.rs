//! Sniffing what a file is before reading it: format by content (magic
//! bytes, and the part names inside a ZIP; the name only breaks ties),
//! text encoding, CSV delimiter.

use cradle_core::fields::CanonicalField;
use cradle_core::media::MediaType;
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::borrow::Cow;
use std::io::{Read, Seek};

/// What a delivered file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text: CSV, TSV, TXT.
    Text,
    /// A workbook: XLSX, XLSM, XLSB, XLS, ODS.
    Workbook,
    /// An archive (ZIP, gzip; tar is named but not read); its entries are
    /// sources of their own.
    Archive,
    /// A picture or document that is not a table (kept, not read as rows).
    Media,
    /// A product catalogue in an exchange format (BMEcat, ETIM xChange).
    Catalog(crate::catalog::CatalogFormat),
    Empty,
}

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1F, 0x8B])
}

fn extension(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

impl Format {
    /// The format by content; the name decides only between formats the
    /// content does not tell apart (`xlsx` and `xlsm`, `csv` and `tsv`).
    pub fn detect(name: &str, bytes: &[u8]) -> (Format, &'static str) {
        if bytes.is_empty() {
            return (Format::Empty, "empty");
        }
        if is_zip(bytes) {
            return match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
                Ok(mut archive) => zip_format(name, &mut archive),
                Err(_) => damaged_zip_format(name),
            };
        }
        if bytes.starts_with(&CFB_MAGIC) {
            // XLS, or an encrypted OOXML workbook (a compound file too);
            // Word and Outlook files are documents.
            return match extension(name).as_str() {
                "doc" | "ppt" | "msg" | "dot" => (Format::Media, "document"),
                "xlsx" => (Format::Workbook, "xlsx"),
                "xlsm" => (Format::Workbook, "xlsm"),
                "xlsb" => (Format::Workbook, "xlsb"),
                _ => (Format::Workbook, "xls"),
            };
        }
        if is_gzip(bytes) {
            return (Format::Archive, "gz");
        }
        if bytes.get(257..262) == Some(b"ustar") {
            return (Format::Archive, "tar");
        }
        if let Some(media) = MediaType::from_magic(bytes) {
            return (Format::Media, media.name());
        }
        if let Some(catalog) = crate::catalog::CatalogFormat::sniff(&bytes[..bytes.len().min(8192)])
        {
            return (Format::Catalog(catalog), catalog.name());
        }
        match extension(name).as_str() {
            "svg" => (Format::Media, MediaType::Svg.name()),
            "tsv" | "tab" => (Format::Text, "tsv"),
            "txt" => (Format::Text, "txt"),
            _ => (Format::Text, "csv"),
        }
    }

    /// A warning when the name says another format than the content.
    pub fn mismatch(name: &str, detected: &'static str) -> Option<String> {
        let extension = extension(name);
        let agrees = |said: &[&str]| said.contains(&extension.as_str());
        let named = match extension.as_str() {
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => "a workbook",
            "csv" | "tsv" | "tab" | "txt" => "text",
            "zip" => "a ZIP archive",
            _ => return None,
        };
        let fits = match detected {
            "xlsx" | "xlsm" => agrees(&["xlsx", "xlsm"]),
            "xlsb" | "xls" | "ods" => agrees(&[detected]),
            "csv" | "tsv" | "txt" => agrees(&["csv", "tsv", "tab", "txt"]),
            "zip" => agrees(&["zip"]),
            "empty" => true,
            _ => false,
        };
        (!fits).then(|| {
            format!(
                "the name says {named} (.{extension}) but the content is {detected}; it was read as {detected}"
            )
        })
    }
}

/// What a ZIP holds, by its part names: an Office or OpenDocument file,
/// or an archive of files.
pub fn zip_format<R: Read + Seek>(
    name: &str,
    archive: &mut zip::ZipArchive<R>,
) -> (Format, &'static str) {
    let keys: std::collections::HashSet<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| crate::xlsx::part_key(&name))
        .collect();
    let has = |key: &str| keys.contains(key);
    let extension = extension(name);
    if has("xl/workbook.xml") {
        return if extension == "xlsm" || has("xl/vbaproject.bin") {
            (Format::Workbook, "xlsm")
        } else {
            (Format::Workbook, "xlsx")
        };
    }
    if has("xl/workbook.bin") {
        return (Format::Workbook, "xlsb");
    }
    if has("content.xml") && has("mimetype") {
        let mut mimetype = String::new();
        if let Ok(entry) = archive.by_name("mimetype") {
            let _ = entry.take(200).read_to_string(&mut mimetype);
        }
        return if mimetype.contains("spreadsheet") {
            (Format::Workbook, "ods")
        } else {
            (Format::Media, "document")
        };
    }
    if has("[content_types].xml") {
        return (Format::Media, "document");
    }
    (Format::Archive, "zip")
}

/// A ZIP that cannot be opened: what its name says it should have been,
/// so the right reader names the damage.
pub fn damaged_zip_format(name: &str) -> (Format, &'static str) {
    match extension(name).as_str() {
        "xlsx" => (Format::Workbook, "xlsx"),
        "xlsm" => (Format::Workbook, "xlsm"),
        "xlsb" => (Format::Workbook, "xlsb"),
        "ods" => (Format::Workbook, "ods"),
        "docx" | "pptx" | "odt" => (Format::Media, "document"),
        _ => (Format::Archive, "zip"),
    }
}

/// A text file's encoding, as found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
    /// Any other encoding of the WHATWG Encoding Standard.
    Other(&'static Encoding),
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf8Bom => "utf-8-bom",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Windows1252 => "windows-1252",
            TextEncoding::Other(encoding) => encoding.name(),
        }
    }

    /// An encoding as `cradle.toml` may name it: every label of the WHATWG
    /// Encoding Standard (`shift_jis`, `windows-1250`, `iso-8859-2`,
    /// `gb18030`, `koi8-r`, ...), plus `utf-8-bom`/`utf-8-sig`, `utf-16`
    /// (little-endian) and `ansi`.
    pub fn from_label(label: &str) -> Option<TextEncoding> {
        let label = label.trim().to_ascii_lowercase();
        match label.replace('_', "-").as_str() {
            "utf-8-bom" | "utf-8-sig" | "utf8-bom" | "utf8-sig" => {
                return Some(TextEncoding::Utf8Bom);
            }
            "utf-16" | "utf16" | "utf-16le" | "utf16le" | "ucs-2" => {
                return Some(TextEncoding::Utf16Le);
            }
            "utf-16be" | "utf16be" => return Some(TextEncoding::Utf16Be),
            "ansi" | "latin-1" | "cp-1252" => return Some(TextEncoding::Windows1252),
            _ => {}
        }
        let encoding = Encoding::for_label_no_replacement(label.as_bytes())
            .or_else(|| Encoding::for_label_no_replacement(label.replace('_', "-").as_bytes()))?;
        Some(TextEncoding::of(encoding))
    }

    fn of(encoding: &'static Encoding) -> TextEncoding {
        if encoding == UTF_8 {
            TextEncoding::Utf8
        } else if encoding == UTF_16LE {
            TextEncoding::Utf16Le
        } else if encoding == UTF_16BE {
            TextEncoding::Utf16Be
        } else if encoding == WINDOWS_1252 {
            TextEncoding::Windows1252
        } else {
            TextEncoding::Other(encoding)
        }
    }

    fn encoding(self) -> &'static Encoding {
        match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => UTF_8,
            TextEncoding::Utf16Le => UTF_16LE,
            TextEncoding::Utf16Be => UTF_16BE,
            TextEncoding::Windows1252 => WINDOWS_1252,
            TextEncoding::Other(encoding) => encoding,
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

/// Decoded text with how sure the decoding is.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: TextEncoding,
    /// Set when the encoding was guessed from few or ambiguous bytes: the
    /// reason, for a warning that names the guess.
    pub unsure: Option<String>,
}

/// Finds the encoding (BOM, UTF-16 without BOM, valid UTF-8, else the
/// legacy encoding the bytes fit best) and decodes. Binary content is
/// refused, not garbled.
pub fn decode(
    bytes: &[u8],
    forced: Option<TextEncoding>,
) -> Result<(Cow<'_, str>, TextEncoding), DecodeError> {
    decode_text(bytes, forced).map(|decoded| (decoded.text, decoded.encoding))
}

/// [`decode`], with whether the encoding is a guess.
pub fn decode_text(bytes: &[u8], forced: Option<TextEncoding>) -> Result<Decoded<'_>, DecodeError> {
    let (encoding, unsure) = match forced {
        Some(encoding) => (encoding, None),
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
            Ok(text) => Ok(Decoded {
                text: Cow::Borrowed(text),
                encoding,
                unsure,
            }),
            Err(_) => Err(DecodeError::Malformed {
                encoding: "UTF-8",
                malformed: body
                    .utf8_chunks()
                    .filter(|c| !c.invalid().is_empty())
                    .count(),
            }),
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
    Ok(Decoded {
        text,
        encoding,
        unsure,
    })
}

/// Text of any encoding, invalid sequences replaced: to count what a
/// file that could not be decoded held.
pub fn decode_lossy(bytes: &[u8], encoding: TextEncoding) -> Cow<'_, str> {
    encoding.encoding().decode_without_bom_handling(bytes).0
}

/// Bytes sampled to sniff an encoding.
const SAMPLE: usize = 64 * 1024;

fn sniff_encoding(bytes: &[u8]) -> Result<(TextEncoding, Option<String>), DecodeError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Ok((TextEncoding::Utf8Bom, None));
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Ok((TextEncoding::Utf16Le, None));
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Ok((TextEncoding::Utf16Be, None));
    }
    let sample = &bytes[..bytes.len().min(SAMPLE)];
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
            return Ok((TextEncoding::Utf16Le, None));
        }
        if even * 10 >= half * 9 && odd * 10 < half {
            return Ok((TextEncoding::Utf16Be, None));
        }
    }
    // Control bytes other than the ones text uses mark binary content. A
    // few NUL bytes do not: exports write stray NULs into fields, and
    // those are kept as data.
    let control = sample
        .iter()
        .filter(|&&b| b != 0 && b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A))
        .count();
    if control * 100 > sample.len() || (nul > 16 && nul * 100 > sample.len()) {
        return Err(DecodeError::Binary {
            nul,
            control: control + nul,
            sampled: sample.len(),
        });
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Ok((TextEncoding::Utf8, None));
    }
    Ok(guess_legacy(bytes))
}

/// The legacy encoding non-UTF-8 text fits best (chardetng, the detector
/// of Firefox, over the first megabyte), and why that is only a guess when
/// it is. Windows-1252 wins whenever the bytes read the same in it: the
/// German and English exports cradle sees are nearly all in it.
fn guess_legacy(bytes: &[u8]) -> (TextEncoding, Option<String>) {
    let sample = &bytes[..bytes.len().min(1 << 20)];
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(sample, sample.len() == bytes.len());
    let (guess, confident) = detector.guess_assess(None, false);
    let (as_guess, guess_errors) = guess.decode_without_bom_handling(sample);
    let (as_1252, _) = WINDOWS_1252.decode_without_bom_handling(sample);
    if guess_errors {
        return (
            TextEncoding::Windows1252,
            Some(format!(
                "the bytes look most like {} but are not valid in it; the encoding was guessed",
                guess.name()
            )),
        );
    }
    if guess != WINDOWS_1252 && as_guess == as_1252 {
        return (TextEncoding::Windows1252, None);
    }
    // Sure when the detector is, and enough bytes outside ASCII told it:
    // one `è` (windows-1252) is a `č` in windows-1250 just as well.
    let telling = sample.iter().filter(|b| !b.is_ascii()).count();
    let alternative = if guess == WINDOWS_1252 {
        encoding_rs::WINDOWS_1250
    } else {
        WINDOWS_1252
    };
    let differs = alternative.decode_without_bom_handling(sample).0 != as_guess;
    let unsure = (!confident || (telling < TELLING_BYTES && differs)).then(|| {
        format!(
            "the encoding was guessed from {telling} bytes outside ASCII ({} reads them differently)",
            alternative.name()
        )
    });
    (TextEncoding::of(guess), unsure)
}

/// Bytes outside ASCII below which a guessed legacy encoding is reported
/// as unsure.
const TELLING_BYTES: usize = 16;

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

    #[test]
    fn a_stray_nul_is_text_and_binary_is_not() {
        let (text, encoding) = decode(b"ArtNr;Name\nA-1;Sp\x00ot\n", None).unwrap();
        assert_eq!(
            (text.as_ref(), encoding),
            ("ArtNr;Name\nA-1;Sp\0ot\n", TextEncoding::Utf8)
        );
        let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
        elf.extend((0..4096u32).map(|i| (i % 251) as u8));
        assert!(matches!(
            decode(&elf, None),
            Err(DecodeError::Binary { .. })
        ));
    }

    #[test]
    fn every_whatwg_encoding_can_be_named() {
        for label in [
            "shift_jis",
            "Shift-JIS",
            "sjis",
            "windows-1250",
            "cp1250",
            "iso-8859-2",
            "latin2",
            "gb18030",
            "gbk",
            "big5",
            "euc-kr",
            "euc-jp",
            "koi8-r",
            "ibm866",
            "macintosh",
            "windows-1251",
            "iso-8859-15",
            "utf-8-bom",
            "utf-16",
            "utf-16be",
            "latin1",
            "ansi",
        ] {
            assert!(TextEncoding::from_label(label).is_some(), "{label}");
        }
        assert_eq!(
            TextEncoding::from_label("shift_jis").unwrap().as_str(),
            "Shift_JIS"
        );
        assert_eq!(
            TextEncoding::from_label("cp1252"),
            Some(TextEncoding::Windows1252)
        );
        assert_eq!(TextEncoding::from_label("UTF8"), Some(TextEncoding::Utf8));
        assert_eq!(TextEncoding::from_label("cp850"), None);
        assert_eq!(
            TextEncoding::from_label("iso-2022-kr"),
            None,
            "the replacement encoding"
        );
    }

    #[test]
    fn legacy_encodings_are_recognised() {
        let japanese = "品番;名称;光束\nA-1;天井照明ダウンライト;800 lm\nA-2;スポットライト 白色;450 lm\nA-3;非常用照明器具;120 lm\n";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(japanese);
        let decoded = decode_text(&bytes, None).unwrap();
        assert_eq!(decoded.encoding.as_str(), "Shift_JIS");
        assert_eq!(decoded.text, japanese);
        let czech = "Číslo;Název;Barva\nA-1;Stropní svítidlo žluťoučké;bílá\nA-2;Nástěnné světlo ďábelské;černá\nA-3;Závěsné svítidlo úpěl;šedá\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1250.encode(czech);
        let decoded = decode_text(&bytes, None).unwrap();
        assert_eq!(decoded.encoding.as_str(), "windows-1250");
        assert_eq!(decoded.text, czech);
        // German text reads the same in several legacy encodings: windows-1252.
        let (bytes, _, _) = WINDOWS_1252.encode("ArtNr;Größe;Preis €\nA-1;groß;12,50\n");
        assert_eq!(
            decode_text(&bytes, None).unwrap().encoding,
            TextEncoding::Windows1252
        );
    }

    #[test]
    fn formats_come_from_content_not_names() {
        assert_eq!(
            Format::detect("liste.xlsx", b"ArtNr;Name\n1;x\n"),
            (Format::Text, "csv")
        );
        assert_eq!(
            Format::detect("liste.csv", b"\x1F\x8B\x08\x00").0,
            Format::Archive
        );
        assert!(Format::mismatch("liste.xlsx", "csv").is_some());
        assert!(Format::mismatch("liste.XLSX", "xlsx").is_none());
        assert!(Format::mismatch("liste.csv", "xlsx").is_some());
        assert!(Format::mismatch("notes.dat", "csv").is_none());
    }
}
