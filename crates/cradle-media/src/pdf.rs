//! The text layer of a PDF, page by page, with lopdf doing the parsing
//! (cross-reference tables, object streams, filters, font encodings and
//! ToUnicode maps) and a small walk over each page's content stream
//! turning text operators into lines.
//!
//! Hostile or odd files are expected: sizes, pages, decompressed content and
//! time are bounded, encrypted files without an empty user password are an
//! error, and a fault inside the parser becomes an error, not a panic.

use crate::error::{MediaError, Origin};
use lopdf::content::Content;
use lopdf::{Document, Encoding, LoadOptions, Object};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The largest PDF read, in bytes.
pub const MAX_PDF_BYTES: u64 = 64 << 20;
/// Pages read from one PDF; the rest are counted, not read.
pub const MAX_PAGES: usize = 1_000;
/// What one stream may decompress to while loading, and one page's content.
const MAX_DECOMPRESSED: usize = 16 << 20;
/// Text kept from one PDF.
const MAX_TEXT_BYTES: usize = 8 << 20;
/// Time for reading one PDF's pages (loading is bounded by its size).
pub const PDF_TIME_LIMIT: Duration = Duration::from_secs(30);

/// The text of a PDF, one string per page read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PdfText {
    /// Page texts in page order; lines end with `\n`. An image-only page
    /// gives an empty string.
    pub pages: Vec<String>,
    /// Pages the document has; more than `pages.len()` when it was cut at
    /// [`MAX_PAGES`] or at the text limit.
    pub page_count: usize,
}

impl PdfText {
    /// All pages, separated by blank lines, trimmed.
    pub fn joined(&self) -> String {
        let pages: Vec<&str> = self
            .pages
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect();
        pages.join("\n\n")
    }

    /// True when no page has any text: a scan or a PDF of pictures.
    pub fn is_empty(&self) -> bool {
        self.pages.iter().all(|p| p.trim().is_empty())
    }
}

/// The text layer of the PDF in `bytes`.
///
/// An image-only PDF gives pages of empty text; a broken, truncated,
/// encrypted or oversized one an error. Never panics.
pub fn pdf_text(bytes: &[u8]) -> Result<PdfText, MediaError> {
    read(bytes, Origin(None))
}

/// [`pdf_text`] of a file, with its path in errors.
pub fn pdf_file_text(path: &Path) -> Result<PdfText, MediaError> {
    let bytes = crate::read_limited(path, MAX_PDF_BYTES)?;
    read(&bytes, Origin(Some(path.to_path_buf())))
}

pub(crate) fn read(bytes: &[u8], origin: Origin) -> Result<PdfText, MediaError> {
    if bytes.len() as u64 > MAX_PDF_BYTES {
        return Err(MediaError::TooLarge {
            origin,
            bytes: bytes.len() as u64,
            limit: MAX_PDF_BYTES,
        });
    }
    // Readers accept junk before the header; lopdf looks for it too.
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(MediaError::NotPdf { origin });
    }
    // lopdf is safe Rust, but a malformed file can still hit an unwrap or an
    // index out of bounds in it; such a fault is this file's error, not the
    // caller's crash.
    let outcome = std::panic::catch_unwind(|| read_unguarded(bytes, &origin));
    match outcome {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(MediaError::PdfParserFault { origin, message })
        }
    }
}

fn read_unguarded(bytes: &[u8], origin: &Origin) -> Result<PdfText, MediaError> {
    let started = Instant::now();
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_DECOMPRESSED),
        ..LoadOptions::default()
    };
    let document =
        Document::load_mem_with_options(bytes, options).map_err(|source| match source {
            lopdf::Error::Decryption(_)
            | lopdf::Error::InvalidPassword
            | lopdf::Error::UnsupportedSecurityHandler(_) => MediaError::PdfEncrypted {
                origin: origin.clone(),
            },
            source => MediaError::PdfBroken {
                origin: origin.clone(),
                source,
            },
        })?;
    // lopdf opens files encrypted with an empty user password (the common
    // "no printing" protection) by itself; what is still encrypted needs a
    // password.
    if document.is_encrypted() && !document.was_encrypted() {
        return Err(MediaError::PdfEncrypted {
            origin: origin.clone(),
        });
    }
    let pages = document.get_pages();
    let mut text = PdfText {
        pages: Vec::new(),
        page_count: pages.len(),
    };
    let mut total = 0usize;
    for page_id in pages.values().take(MAX_PAGES) {
        if started.elapsed() > PDF_TIME_LIMIT {
            return Err(MediaError::PdfTimedOut {
                origin: origin.clone(),
                pages_read: text.pages.len(),
                limit: PDF_TIME_LIMIT,
            });
        }
        let page = page_text(&document, *page_id, started).ok_or(MediaError::PdfTimedOut {
            origin: origin.clone(),
            pages_read: text.pages.len(),
            limit: PDF_TIME_LIMIT,
        })?;
        total += page.len();
        if total > MAX_TEXT_BYTES {
            break;
        }
        text.pages.push(page);
    }
    Ok(text)
}

/// One page's text; `None` when the time limit passed while reading it.
/// A page whose resources or content cannot be read gives what could be
/// read (often nothing): one bad page does not lose the others.
fn page_text(document: &Document, page_id: lopdf::ObjectId, started: Instant) -> Option<String> {
    let encodings: BTreeMap<Vec<u8>, Encoding> = document
        .get_page_fonts(page_id)
        .map(|fonts| {
            fonts
                .into_iter()
                .filter_map(|(name, font)| {
                    font.get_font_encoding_with_limit(document, MAX_DECOMPRESSED)
                        .ok()
                        .map(|encoding| (name, encoding))
                })
                .collect()
        })
        .unwrap_or_default();
    let Ok(content) = document.get_page_content_with_limit(page_id, MAX_DECOMPRESSED) else {
        return Some(String::new());
    };
    let mut walk = Walk {
        text: String::new(),
        encoding: None,
        line_y: None,
    };
    for (n, operation) in Content::decode_iter(&content).enumerate() {
        if n % 4096 == 4095 && started.elapsed() > PDF_TIME_LIMIT {
            return None;
        }
        // A content stream that stops parsing keeps the text before it.
        let Ok(operation) = operation else { break };
        walk.operation(&operation.operator, &operation.operands, &encodings);
        if walk.text.len() > MAX_TEXT_BYTES {
            break;
        }
    }
    Some(walk.finish())
}

/// The state of reading one content stream: the text so far, the current
/// font's encoding and the baseline of the current line.
struct Walk<'a> {
    text: String,
    encoding: Option<&'a Encoding<'a>>,
    line_y: Option<f32>,
}

/// A `TJ` adjustment (thousandths of an em) wider than this is a space.
const TJ_SPACE: f32 = 200.0;

impl<'a> Walk<'a> {
    fn operation(
        &mut self,
        operator: &str,
        operands: &[Object],
        encodings: &'a BTreeMap<Vec<u8>, Encoding<'a>>,
    ) {
        match operator {
            "Tf" => {
                self.encoding = operands
                    .first()
                    .and_then(|name| name.as_name().ok())
                    .and_then(|name| encodings.get(name));
            }
            "Tm" => {
                let y = operands.get(5).and_then(|y| y.as_float().ok());
                self.move_to(y);
            }
            "Td" | "TD" => {
                let dy = operands
                    .get(1)
                    .and_then(|y| y.as_float().ok())
                    .unwrap_or(0.0);
                if dy.abs() > 0.5 {
                    self.newline();
                    self.line_y = self.line_y.map(|y| y + dy);
                } else {
                    self.space();
                }
            }
            "T*" => self.newline(),
            "Tj" => self.show(operands.first()),
            "'" => {
                self.newline();
                self.show(operands.first());
            }
            "\"" => {
                self.newline();
                self.show(operands.get(2));
            }
            "TJ" => {
                let Some(Ok(parts)) = operands.first().map(Object::as_array) else {
                    return;
                };
                for part in parts {
                    match part {
                        Object::String(..) => self.show(Some(part)),
                        number => {
                            if number.as_float().is_ok_and(|n| n < -TJ_SPACE) {
                                self.space();
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// A new text matrix: a new line when the baseline moved, else a gap.
    fn move_to(&mut self, y: Option<f32>) {
        match (self.line_y, y) {
            (Some(old), Some(new)) if (old - new).abs() <= 0.5 => self.space(),
            _ => self.newline(),
        }
        self.line_y = y;
    }

    fn show(&mut self, string: Option<&Object>) {
        let Some(Ok(bytes)) = string.map(Object::as_str) else {
            return;
        };
        let decoded = match self.encoding {
            Some(encoding) => Document::decode_text(encoding, bytes).ok(),
            None => None,
        };
        match decoded {
            Some(text) => self.text.extend(text.chars().filter(|c| *c != '\0')),
            // No usable font encoding: the bytes as Latin-1, printable only.
            None => self.text.extend(
                bytes
                    .iter()
                    .map(|b| char::from(*b))
                    .filter(|c| !c.is_control()),
            ),
        }
    }

    fn newline(&mut self) {
        let trimmed = self.text.trim_end_matches([' ', '\t']).len();
        self.text.truncate(trimmed);
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    fn space(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with(char::is_whitespace) {
            self.text.push(' ');
        }
    }

    fn finish(mut self) -> String {
        self.newline();
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_not_a_pdf() {
        assert!(matches!(pdf_text(b"hello"), Err(MediaError::NotPdf { .. })));
        assert!(matches!(pdf_text(b""), Err(MediaError::NotPdf { .. })));
    }

    #[test]
    fn a_header_alone_is_broken() {
        let error = pdf_text(b"%PDF-1.4\n%%EOF\n").unwrap_err();
        assert!(matches!(error, MediaError::PdfBroken { .. }), "{error:?}");
        assert!(error.to_string().contains("the PDF given as bytes"));
    }
}
