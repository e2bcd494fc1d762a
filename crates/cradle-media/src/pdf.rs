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

/// Form XObjects drawn inside form XObjects, at most this deep.
const MAX_FORM_DEPTH: usize = 4;

/// Font name → encoding, for the fonts that have a usable one.
type Encodings<'a> = BTreeMap<Vec<u8>, Encoding<'a>>;
/// XObject name → object.
type XObjects = BTreeMap<Vec<u8>, lopdf::ObjectId>;

/// What a form XObject draws with.
struct Form<'a> {
    content: Vec<u8>,
    encodings: Encodings<'a>,
    xobjects: XObjects,
}

/// One page's text; `None` when the time limit passed while reading it.
/// A page whose resources or content cannot be read gives what could be
/// read (often nothing): one bad page does not lose the others.
fn page_text(document: &Document, page_id: lopdf::ObjectId, started: Instant) -> Option<String> {
    let encodings: Encodings = document
        .get_page_fonts(page_id)
        .map(|fonts| encodings_of(document, fonts.into_iter()))
        .unwrap_or_default();
    let mut xobjects = XObjects::new();
    if let Ok((inline, referenced)) = document.get_page_resources(page_id) {
        let referenced = referenced
            .into_iter()
            .filter_map(|id| document.get_dictionary(id).ok());
        for resources in inline.into_iter().chain(referenced) {
            collect_xobjects(document, resources, &mut xobjects);
        }
    }
    let Ok(content) = document.get_page_content_with_limit(page_id, MAX_DECOMPRESSED) else {
        return Some(String::new());
    };
    let mut walk = Walk {
        text: String::new(),
        line_y: None,
    };
    walk.content(document, &content, &encodings, &xobjects, 0, started)?;
    Some(walk.finish())
}

fn encodings_of<'a>(
    document: &'a Document,
    fonts: impl Iterator<Item = (Vec<u8>, &'a lopdf::Dictionary)>,
) -> Encodings<'a> {
    fonts
        .filter_map(|(name, font)| {
            font.get_font_encoding_with_limit(document, MAX_DECOMPRESSED)
                .ok()
                .map(|encoding| (name, encoding))
        })
        .collect()
}

/// The object a reference points to, or the object itself.
fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => document.get_object(*id).ok(),
        object => Some(object),
    }
}

/// Adds the `XObject` entries of a resource dictionary (name → object).
fn collect_xobjects(document: &Document, resources: &lopdf::Dictionary, into: &mut XObjects) {
    let Some(Object::Dictionary(xobjects)) = resources
        .get(b"XObject")
        .ok()
        .and_then(|x| resolve(document, x))
    else {
        return;
    };
    for (name, object) in xobjects.iter() {
        if let Object::Reference(id) = object {
            into.entry(name.clone()).or_insert(*id);
        }
    }
}

/// A form XObject's content, fonts and XObjects; `None` for images and
/// anything unreadable.
fn form(document: &Document, id: lopdf::ObjectId) -> Option<Form<'_>> {
    let Ok(Object::Stream(stream)) = document.get_object(id) else {
        return None;
    };
    if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form") {
        return None;
    }
    let content = stream
        .decompressed_content_with_limit(MAX_DECOMPRESSED)
        .ok()?;
    let resources = stream
        .dict
        .get(b"Resources")
        .ok()
        .and_then(|r| resolve(document, r))
        .and_then(|r| r.as_dict().ok());
    let mut encodings = Encodings::new();
    let mut xobjects = XObjects::new();
    if let Some(resources) = resources {
        if let Some(Object::Dictionary(fonts)) = resources
            .get(b"Font")
            .ok()
            .and_then(|f| resolve(document, f))
        {
            let fonts = fonts.iter().filter_map(|(name, font)| {
                let font = resolve(document, font)?.as_dict().ok()?;
                Some((name.clone(), font))
            });
            encodings = encodings_of(document, fonts);
        }
        collect_xobjects(document, resources, &mut xobjects);
    }
    Some(Form {
        content,
        encodings,
        xobjects,
    })
}

/// The state of reading a page: the text so far and the baseline of the
/// current line.
struct Walk {
    text: String,
    line_y: Option<f32>,
}

/// A `TJ` adjustment (thousandths of an em) wider than this is a space.
const TJ_SPACE: f32 = 200.0;

impl Walk {
    /// Reads one content stream (a page's, or a form's drawn by `Do`);
    /// `None` when the time limit passed.
    fn content(
        &mut self,
        document: &Document,
        content: &[u8],
        encodings: &Encodings,
        xobjects: &XObjects,
        depth: usize,
        started: Instant,
    ) -> Option<()> {
        let mut encoding = None;
        for (n, operation) in Content::decode_iter(content).enumerate() {
            if n % 4096 == 4095 && started.elapsed() > PDF_TIME_LIMIT {
                return None;
            }
            // A content stream that stops parsing keeps the text before it.
            let Ok(operation) = operation else { break };
            let operands = &operation.operands;
            match operation.operator.as_str() {
                "Tf" => {
                    encoding = operands
                        .first()
                        .and_then(|name| name.as_name().ok())
                        .and_then(|name| encodings.get(name));
                }
                "Do" if depth < MAX_FORM_DEPTH => {
                    let drawn = operands
                        .first()
                        .and_then(|name| name.as_name().ok())
                        .and_then(|name| xobjects.get(name))
                        .and_then(|id| form(document, *id));
                    if let Some(form) = drawn {
                        // A form without fonts of its own uses the page's.
                        let form_encodings = if form.encodings.is_empty() {
                            encodings
                        } else {
                            &form.encodings
                        };
                        self.newline();
                        self.line_y = None;
                        self.content(
                            document,
                            &form.content,
                            form_encodings,
                            &form.xobjects,
                            depth + 1,
                            started,
                        )?;
                        self.newline();
                        self.line_y = None;
                    }
                }
                operator => self.operation(operator, operands, encoding),
            }
            if self.text.len() > MAX_TEXT_BYTES {
                break;
            }
        }
        Some(())
    }

    fn operation(&mut self, operator: &str, operands: &[Object], encoding: Option<&Encoding>) {
        match operator {
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
            "Tj" => self.show(operands.first(), encoding),
            "'" => {
                self.newline();
                self.show(operands.first(), encoding);
            }
            "\"" => {
                self.newline();
                self.show(operands.get(2), encoding);
            }
            "TJ" => {
                let Some(Ok(parts)) = operands.first().map(Object::as_array) else {
                    return;
                };
                for part in parts {
                    match part {
                        Object::String(..) => self.show(Some(part), encoding),
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

    fn show(&mut self, string: Option<&Object>, encoding: Option<&Encoding>) {
        let Some(Ok(bytes)) = string.map(Object::as_str) else {
            return;
        };
        let decoded = match encoding {
            Some(encoding) => Document::decode_text(encoding, bytes).ok(),
            None => None,
        };
        // Line breaks come from the text's positions, not from control
        // characters inside strings: those become spaces.
        let visible = |c: char| if c.is_control() { ' ' } else { c };
        match decoded {
            Some(text) => self
                .text
                .extend(text.chars().filter(|c| *c != '\0').map(visible)),
            // No usable font encoding: the bytes as Latin-1.
            None => self.text.extend(
                bytes
                    .iter()
                    .filter(|b| **b != 0)
                    .map(|b| visible(char::from(*b))),
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
