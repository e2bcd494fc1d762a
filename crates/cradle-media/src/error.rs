//! Why text could not be had from a media file: one variant per failure,
//! each message saying what went wrong, where, and a hint to fix it.

use std::path::PathBuf;
use std::time::Duration;

/// The Debian packages that give `tesseract` with German and English.
pub const TESSERACT_PACKAGES: &str = "tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng";

/// Where the bytes of a PDF came from: a file, or a caller's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(pub Option<PathBuf>);

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(path) => write!(f, "{}", path.display()),
            None => f.write_str("the PDF given as bytes"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{path}: reading the file failed; hint: check that it exists and is readable")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{origin}: {bytes} bytes is more than the {limit} bytes read from one media file; hint: such a file is skipped, split it or leave it out of the delivery"
    )]
    TooLarge {
        origin: Origin,
        bytes: u64,
        limit: u64,
    },

    #[error(
        "{origin}: not a PDF (no %PDF header in the first 1024 bytes); hint: check the file's type, it may be misnamed"
    )]
    NotPdf { origin: Origin },

    #[error(
        "{origin}: the PDF cannot be parsed, it is broken or truncated; hint: ask the supplier for the file again, or check it in a PDF viewer"
    )]
    PdfBroken {
        origin: Origin,
        #[source]
        source: lopdf::Error,
    },

    #[error(
        "{origin}: the PDF is encrypted with a password; hint: ask the supplier for a copy without a password"
    )]
    PdfEncrypted { origin: Origin },

    #[error(
        "{origin}: reading the PDF took longer than {limit:?} (stopped after {pages_read} pages); hint: such a file is skipped, split it or leave it out of the delivery"
    )]
    PdfTimedOut {
        origin: Origin,
        pages_read: usize,
        limit: Duration,
    },

    #[error(
        "{origin}: the PDF parser failed on this file ({message}); hint: the file is malformed, ask the supplier for it again"
    )]
    PdfParserFault { origin: Origin, message: String },

    #[error(
        "{path}: the PDF has no text layer (a scan or pictures only); hint: text is read from PDFs' text layers only; deliver the pages as images to have them read by OCR"
    )]
    PdfWithoutText { path: PathBuf },

    #[error(
        "{path}: not a PNG, JPEG or TIFF image; hint: convert it to one of these for OCR, or check the file's type"
    )]
    UnsupportedImage { path: PathBuf },

    #[error(
        "{path}: an image, but neither OCR nor a vision endpoint is available; hint: install Tesseract (apt-get install {packages}) or configure a vision endpoint",
        packages = TESSERACT_PACKAGES
    )]
    NoImageReader { path: PathBuf },

    #[error(
        "OCR program {program} cannot be started; hint: install it with: apt-get install {packages} (or run scripts/tesseract.sh as root)",
        program = program.display(),
        packages = TESSERACT_PACKAGES
    )]
    TesseractMissing {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "OCR program {program}: `{arguments}` exited with {status}: {stderr}; hint: check the installation with `tesseract --version` (Debian: apt-get install {packages})",
        program = program.display(),
        packages = TESSERACT_PACKAGES
    )]
    TesseractFailed {
        program: PathBuf,
        arguments: String,
        status: String,
        stderr: String,
    },

    #[error(
        "OCR program {program} has no language data for `{language}` (it has: {available}); hint: install it with: apt-get install tesseract-ocr-{language}",
        program = program.display()
    )]
    TesseractLanguageMissing {
        program: PathBuf,
        language: String,
        available: String,
    },

    #[error(
        "OCR languages `{languages}` are not a `+`-separated list of Tesseract language codes; hint: write them like `deu+eng`"
    )]
    InvalidLanguages { languages: String },

    #[error(
        "{path}: OCR took longer than {limit:?} and was stopped; hint: a very large image; scale it down or raise the OCR timeout"
    )]
    OcrTimedOut { path: PathBuf, limit: Duration },

    #[error(
        "vision endpoint {url}: the request failed; hint: check the endpoint setting and that the server is reachable"
    )]
    VisionRequest {
        url: String,
        #[source]
        source: Box<cradle_openai::OpenAiError>,
    },

    #[error(
        "vision endpoint {url} answered HTTP {status}: {body}; hint: check the model name and API key in the vision settings"
    )]
    VisionStatus {
        url: String,
        status: u16,
        body: String,
    },

    #[error(
        "vision endpoint {url}: the answer is not an OpenAI-compatible chat completion ({detail}); hint: the endpoint must serve /v1/chat/completions"
    )]
    VisionResponse { url: String, detail: String },
}
