//! Text from the media files of a delivery, for the enrich stage: PDF
//! datasheets through their text layer ([`pdf_text`]), images through
//! Tesseract OCR ([`Ocr`]) or, when configured, an OpenAI-compatible vision
//! model ([`caption`]); and which products a file belongs to
//! ([`link_products`]).
//!
//! [`extract`] is the one entry point: it picks the method by the kind of
//! file and the tools at hand. Nothing here knows of tables, workspaces or
//! chunks; the caller decides what the text becomes.
//!
//! Every input is treated as hostile: sizes, pages, time and output are
//! bounded, and a bad file is an error naming it, never a panic.

mod error;
mod language;
mod link;
mod ocr;
mod pdf;
mod vision;

pub use error::{MediaError, Origin, TESSERACT_PACKAGES};
pub use language::guess_language;
pub use link::{link_products, normalise_file_name};
pub use ocr::{MAX_IMAGE_BYTES, OCR_TIMEOUT, Ocr};
pub use pdf::{MAX_PAGES, MAX_PDF_BYTES, PDF_TIME_LIMIT, PdfText, pdf_file_text, pdf_text};
pub use vision::{MAX_VISION_BYTES, VisionOptions, caption};

use cradle_core::media::MediaType;
use std::io::Read;
use std::path::Path;

/// What a media file is, for choosing how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Pdf,
    /// PNG, JPEG or TIFF.
    Image,
}

impl MediaKind {
    /// How a media type is read, if cradle reads it: PDFs by their text
    /// layer, PNG, JPEG and TIFF by OCR (or a vision model).
    pub fn of(media: MediaType) -> Option<MediaKind> {
        match media {
            MediaType::Pdf => Some(MediaKind::Pdf),
            MediaType::Png | MediaType::Jpeg | MediaType::Tiff => Some(MediaKind::Image),
            _ => None,
        }
    }

    /// By the file name's extension (`.pdf`, `.png`, `.jpg`, `.jpeg`,
    /// `.tif`, `.tiff`, any case).
    pub fn from_path(path: &Path) -> Option<MediaKind> {
        MediaType::from_extension(path.extension()?.to_str()?).and_then(MediaKind::of)
    }

    /// By the first bytes of the file (`%PDF-`, or an image signature).
    pub fn from_bytes(bytes: &[u8]) -> Option<MediaKind> {
        MediaType::from_magic(bytes).and_then(MediaKind::of)
    }

    /// By content where it is recognised, else by the name: a delivery's
    /// names lie more often than its bytes.
    pub fn detect(path: &Path) -> Result<Option<MediaKind>, MediaError> {
        let head = read_head(path, u64::MAX)?;
        Ok(MediaKind::from_bytes(&head).or_else(|| MediaKind::from_path(path)))
    }
}

/// The image formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageFormat {
    Png,
    Jpeg,
    Tiff,
}

impl ImageFormat {
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<ImageFormat> {
        match MediaType::from_magic(bytes)? {
            MediaType::Png => Some(ImageFormat::Png),
            MediaType::Jpeg => Some(ImageFormat::Jpeg),
            MediaType::Tiff => Some(ImageFormat::Tiff),
            _ => None,
        }
    }

    pub(crate) fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => MediaType::Png,
            ImageFormat::Jpeg => MediaType::Jpeg,
            ImageFormat::Tiff => MediaType::Tiff,
        }
        .mime()
    }
}

/// The tools available for images; PDFs need none.
#[derive(Debug, Clone, Default)]
pub struct MediaTools {
    pub ocr: Option<Ocr>,
    pub vision: Option<VisionOptions>,
}

/// Text read from one media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub text: String,
    /// `pdf-text`, `ocr` or `vision`.
    pub method: &'static str,
    /// `de` or `en`, guessed from the text; `None` when unclear.
    pub language: Option<&'static str>,
}

/// An OCR result with fewer letters and digits than this counts as "no
/// text" (a photo gives a few stray characters), and a vision model, when
/// configured, is asked instead.
const MIN_OCR_CHARACTERS: usize = 4;

/// The text of the media file at `path`.
///
/// - PDF: its text layer; a PDF without one (a scan) is
///   [`MediaError::PdfWithoutText`].
/// - Image: OCR when `tools.ocr` is set; the vision model when OCR is not
///   set or finds no text and `tools.vision` is set; with neither,
///   [`MediaError::NoImageReader`]. OCR that finds nothing, with no vision
///   model to ask, is an empty text.
pub fn extract(path: &Path, kind: MediaKind, tools: &MediaTools) -> Result<Extracted, MediaError> {
    let (text, method) = match kind {
        MediaKind::Pdf => {
            let text = pdf::pdf_file_text(path)?;
            if text.is_empty() {
                return Err(MediaError::PdfWithoutText {
                    path: path.to_path_buf(),
                });
            }
            (text.joined(), "pdf-text")
        }
        MediaKind::Image => {
            let ocr_text = match &tools.ocr {
                Some(ocr) => Some(ocr.image_text(path)?),
                None => None,
            };
            let readable = |text: &str| {
                text.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_OCR_CHARACTERS
            };
            match (ocr_text, &tools.vision) {
                (Some(text), _) if readable(&text) => (text, "ocr"),
                (_, Some(vision)) => (vision::caption(vision, path)?, "vision"),
                (Some(text), None) => (text, "ocr"),
                (None, None) => {
                    return Err(MediaError::NoImageReader {
                        path: path.to_path_buf(),
                    });
                }
            }
        }
    };
    let language = guess_language(&text);
    Ok(Extracted {
        text,
        method,
        language,
    })
}

/// The whole file, refusing one over `limit` bytes before reading it.
pub(crate) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, MediaError> {
    let read_error = |source| MediaError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let bytes = file.metadata().map_err(read_error)?.len();
    if bytes > limit {
        return Err(MediaError::TooLarge {
            origin: Origin(Some(path.to_path_buf())),
            bytes,
            limit,
        });
    }
    let mut content = Vec::with_capacity(bytes as usize);
    // `take`: the file may grow while it is read.
    file.take(limit + 1)
        .read_to_end(&mut content)
        .map_err(read_error)?;
    if content.len() as u64 > limit {
        return Err(MediaError::TooLarge {
            origin: Origin(Some(path.to_path_buf())),
            bytes: content.len() as u64,
            limit,
        });
    }
    Ok(content)
}

/// The first `n` bytes of a file (fewer if it is shorter), after checking
/// it is not over `limit` bytes.
pub(crate) fn read_head(path: &Path, limit: u64) -> Result<Vec<u8>, MediaError> {
    let read_error = |source| MediaError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let bytes = file.metadata().map_err(read_error)?.len();
    if bytes > limit {
        return Err(MediaError::TooLarge {
            origin: Origin(Some(path.to_path_buf())),
            bytes,
            limit,
        });
    }
    let mut head = Vec::with_capacity(16);
    file.take(16).read_to_end(&mut head).map_err(read_error)?;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_content() {
        for (name, kind) in [
            ("a.pdf", Some(MediaKind::Pdf)),
            ("A.PDF", Some(MediaKind::Pdf)),
            ("b.png", Some(MediaKind::Image)),
            ("c.JPeG", Some(MediaKind::Image)),
            ("d.tif", Some(MediaKind::Image)),
            ("e.ldt", None),
            ("pdf", None),
        ] {
            assert_eq!(MediaKind::from_path(Path::new(name)), kind, "{name}");
        }
        for (bytes, kind) in [
            (&b"%PDF-1.7\n"[..], Some(MediaKind::Pdf)),
            (b"\x89PNG\r\n\x1a\n\0\0", Some(MediaKind::Image)),
            (b"\xFF\xD8\xFF\xE0", Some(MediaKind::Image)),
            (b"II*\0\x08\0", Some(MediaKind::Image)),
            (b"MM\0*\0\0", Some(MediaKind::Image)),
            (b"GIF89a", None),
            (b"", None),
        ] {
            assert_eq!(MediaKind::from_bytes(bytes), kind, "{bytes:?}");
        }
    }
}
