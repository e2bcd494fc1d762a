//! The OCR program's failures, played by small shell scripts standing in
//! for `tesseract`: one that hangs, one that fails.

use cradle_media::{MediaError, Ocr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A `tesseract` that knows deu and eng and does `ocr` when asked to read.
fn fake_tesseract(dir: &Path, ocr: &str) -> PathBuf {
    let path = dir.join("tesseract");
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n  --version) echo 'tesseract 5.3.0' ;;\n  --list-langs) printf 'List of available languages in \"/x/\" (2):\\ndeu\\neng\\n' ;;\n  *) {ocr} ;;\nesac\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn png(dir: &Path) -> PathBuf {
    let path = dir.join("label.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n\0\0\0\0").unwrap();
    path
}

#[test]
fn a_hanging_ocr_run_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    // Without `exec`: the shell is killed, its `sleep` child keeps the pipes.
    let program = fake_tesseract(dir.path(), "sleep 30");
    let ocr = Ocr::detect(&program, "deu+eng")
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    assert_eq!(ocr.version(), "tesseract 5.3.0");
    let started = Instant::now();
    let error = ocr.image_text(&png(dir.path())).unwrap_err();
    assert!(matches!(error, MediaError::OcrTimedOut { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(error.to_string().contains("label.png"));
}

#[test]
fn a_failing_ocr_run_reports_its_error_output() {
    let dir = tempfile::tempdir().unwrap();
    let program = fake_tesseract(
        dir.path(),
        "echo 'Error in pixReadStream: Unknown format' >&2; exit 1",
    );
    let ocr = Ocr::detect(&program, "eng").unwrap();
    let error = ocr.image_text(&png(dir.path())).unwrap_err();
    assert!(
        matches!(error, MediaError::TesseractFailed { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("Unknown format"), "{error}");
}

#[test]
fn ocr_output_is_tidied() {
    let dir = tempfile::tempdir().unwrap();
    let program = fake_tesseract(dir.path(), "printf 'LUXWERK  \\n\\n\\n\\nLW-100002\\n\\f'");
    let ocr = Ocr::detect(&program, "deu").unwrap();
    assert_eq!(
        ocr.image_text(&png(dir.path())).unwrap(),
        "LUXWERK\n\nLW-100002\n"
    );
}
