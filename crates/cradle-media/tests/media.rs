//! Text from the demo delivery's media files, OCR with the real Tesseract
//! (installed by `scripts/tesseract.sh`), and captions from a vision
//! endpoint played by a local test server.

use cradle_media::{
    Extracted, MediaError, MediaKind, MediaTools, Ocr, VisionOptions, caption, extract, pdf_text,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// A small demo delivery in a temporary folder.
struct Demo {
    dir: tempfile::TempDir,
}

impl Demo {
    fn new() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        cradle_demo::generate(
            dir.path(),
            &cradle_demo::DemoOptions {
                scale: 0.002,
                seed: 42,
            },
        )
        .unwrap();
        Demo { dir }
    }

    /// The delivery's media files with the given extension, sorted.
    fn media(&self, extension: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("media"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .collect();
        files.sort();
        files
    }
}

/// `LW-100123` from `.../LW-100123.pdf` or `.../LW-100123_01.png`.
fn article_of(path: &Path) -> String {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    stem.split('_').next().unwrap().to_owned()
}

fn tesseract() -> Ocr {
    Ocr::detect("tesseract", "deu+eng").unwrap_or_else(|e| {
        panic!("{e}\n(the OCR tests need Tesseract: run scripts/tesseract.sh as root)")
    })
}

/// The delivery's PDFs and what reading them gave.
fn all_pdfs(demo: &Demo) -> Vec<(PathBuf, Result<cradle_media::PdfText, MediaError>)> {
    demo.media("pdf")
        .into_iter()
        .map(|path| {
            let result = pdf_text(&std::fs::read(&path).unwrap());
            (path, result)
        })
        .collect()
}

#[test]
fn datasheets_give_their_article_number_and_values_in_both_languages() {
    let demo = Demo::new();
    let results = all_pdfs(&demo);
    assert_eq!(results.len(), 7, "six datasheets and a broken one");
    let mut read = 0;
    for (path, result) in &results {
        let Ok(text) = result else { continue };
        read += 1;
        assert_eq!(text.pages.len(), 1);
        assert_eq!(text.page_count, 1);
        let page = &text.pages[0];
        let article = article_of(path);
        assert!(
            page.contains(&format!("Artikelnummer: {article}")),
            "{page}"
        );
        assert!(
            page.contains(&format!("Article number: {article}")),
            "{page}"
        );
        // One line per text line, technical values with their units.
        let line = |prefix: &str| {
            page.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} line in {page}"))
                .to_owned()
        };
        assert!(line("Leistung: ").ends_with(" W"));
        assert!(line("Lichtstrom: ").ends_with(" lm"));
        assert!(line("Luminous flux: ").ends_with(" lm"));
        assert!(line("Farbtemperatur: ").ends_with(" K"));
        assert!(line("IP rating: IP").len() > "IP rating: IP".len());
        // WinAnsi text decoded: the degree sign and German letters.
        assert!(line("Abstrahlwinkel: ").ends_with('°'), "{page}");
        assert!(page.contains("Lichtstrom"));

        let extracted = extract(path, MediaKind::Pdf, &MediaTools::default()).unwrap();
        assert_eq!(extracted.method, "pdf-text");
        assert!(extracted.text.contains(&article));
    }
    assert_eq!(read, 6);
}

#[test]
fn the_truncated_pdf_is_an_error_naming_the_file() {
    let demo = Demo::new();
    let broken: Vec<_> = all_pdfs(&demo)
        .into_iter()
        .filter(|(_, result)| result.is_err())
        .collect();
    assert_eq!(broken.len(), 1);
    let (path, result) = &broken[0];
    assert!(
        matches!(result, Err(MediaError::PdfBroken { .. })),
        "{result:?}"
    );
    let error = extract(path, MediaKind::Pdf, &MediaTools::default()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("broken or truncated"), "{message}");
    assert!(message.contains("hint:"), "{message}");

    // Every cut of a good datasheet is an error or text, never a panic.
    let good = demo
        .media("pdf")
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .find(|bytes| pdf_text(bytes).is_ok())
        .unwrap();
    for end in (0..good.len()).step_by(37) {
        let _ = pdf_text(&good[..end]);
    }
    // Flipped bytes, too.
    for at in (0..good.len()).step_by(53) {
        let mut bad = good.clone();
        bad[at] ^= 0x5A;
        let _ = pdf_text(&bad);
    }
}

#[test]
fn kinds_of_the_demo_media() {
    let demo = Demo::new();
    for path in demo.media("pdf") {
        assert_eq!(MediaKind::from_path(&path), Some(MediaKind::Pdf));
        assert_eq!(MediaKind::detect(&path).unwrap(), Some(MediaKind::Pdf));
    }
    let pngs = demo.media("png");
    assert_eq!(pngs.len(), 4);
    for path in pngs {
        assert_eq!(MediaKind::detect(&path).unwrap(), Some(MediaKind::Image));
    }
}

#[test]
fn ocr_reads_the_article_number_on_every_label() {
    let demo = Demo::new();
    let ocr = tesseract();
    assert!(ocr.version().starts_with("tesseract"), "{}", ocr.version());
    let tools = MediaTools {
        ocr: Some(ocr),
        vision: None,
    };
    for path in demo.media("png") {
        let Extracted { text, method, .. } = extract(&path, MediaKind::Image, &tools).unwrap();
        assert_eq!(method, "ocr");
        let article = article_of(&path);
        assert!(
            text.contains(&article),
            "{}: {article} not in {text:?}",
            path.display()
        );
        assert!(text.contains("LUXWERK"), "{text:?}");
    }
}

#[test]
fn ocr_refuses_what_is_not_an_image() {
    let demo = Demo::new();
    let ocr = tesseract();
    let pdf = &demo.media("pdf")[0];
    assert!(matches!(
        ocr.image_text(pdf),
        Err(MediaError::UnsupportedImage { .. })
    ));
    let missing = demo.dir.path().join("media/nothing.png");
    assert!(matches!(
        ocr.image_text(&missing),
        Err(MediaError::Read { .. })
    ));
}

#[test]
fn a_missing_tesseract_says_what_to_install() {
    let error = Ocr::detect("/nonexistent/bin/tesseract", "deu+eng").unwrap_err();
    assert!(
        matches!(error, MediaError::TesseractMissing { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("apt-get install tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng"),
        "{message}"
    );
    assert!(message.contains("/nonexistent/bin/tesseract"), "{message}");
}

#[test]
fn a_missing_language_names_its_package() {
    let error = Ocr::detect("tesseract", "deu+xyz").unwrap_err();
    match &error {
        MediaError::TesseractLanguageMissing {
            language,
            available,
            ..
        } => {
            assert_eq!(language, "xyz");
            assert!(available.contains("deu"), "{available}");
        }
        other => panic!("{other:?} (run scripts/tesseract.sh as root)"),
    }
    assert!(
        error
            .to_string()
            .contains("apt-get install tesseract-ocr-xyz")
    );
}

#[test]
fn images_without_any_reader_are_an_error() {
    let demo = Demo::new();
    let png = &demo.media("png")[0];
    let error = extract(png, MediaKind::Image, &MediaTools::default()).unwrap_err();
    assert!(matches!(error, MediaError::NoImageReader { .. }));
    assert!(error.to_string().contains("tesseract-ocr-deu"));
}

/// One HTTP exchange on a local socket: the request (head and body) is
/// sent back over the channel, `answer` is the response.
fn serve_once(status: u16, answer: &str) -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    let answer = answer.to_owned();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        sender
            .send((head, String::from_utf8(body).unwrap()))
            .unwrap();
    });
    (url, receiver)
}

#[test]
fn vision_sends_the_image_as_a_data_url_and_returns_the_caption() {
    let demo = Demo::new();
    let (url, request) = serve_once(
        200,
        r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"  LUXWERK LW-100001\nA white downlight.  "},"finish_reason":"stop"}]}"#,
    );
    let options = VisionOptions {
        endpoint: url,
        model: "qwen2.5-vl".to_owned(),
        api_key: Some("sk-test".to_owned()),
    };
    let png = &demo.media("png")[0];
    let text = caption(&options, png).unwrap();
    assert_eq!(text, "LUXWERK LW-100001\nA white downlight.");
    let (head, body) = request.recv().unwrap();
    assert!(
        head.starts_with("POST /v1/chat/completions HTTP/1.1"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer sk-test")
    );
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["model"], "qwen2.5-vl");
    let parts = body["messages"][0]["content"].as_array().unwrap();
    let image = parts.iter().find(|p| p["type"] == "image_url").unwrap()["image_url"]["url"]
        .as_str()
        .unwrap();
    assert!(
        image.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{}",
        &image[..40]
    );
    // The whole file, encoded.
    let size = std::fs::metadata(png).unwrap().len() as usize;
    let encoded = image.len() - "data:image/png;base64,".len();
    assert_eq!(encoded, size.div_ceil(3) * 4);
}

#[test]
fn vision_is_asked_when_there_is_no_ocr() {
    let demo = Demo::new();
    let (url, _request) = serve_once(
        200,
        r#"{"choices":[{"message":{"content":[{"type":"text","text":"Ein weißer Strahler mit der Artikelnummer LW-1 und dem Lichtstrom 900 lm."}]}}]}"#,
    );
    let tools = MediaTools {
        ocr: None,
        vision: Some(VisionOptions {
            endpoint: format!("{url}/v1"),
            model: "m".to_owned(),
            api_key: None,
        }),
    };
    let extracted = extract(&demo.media("png")[0], MediaKind::Image, &tools).unwrap();
    assert_eq!(extracted.method, "vision");
    assert_eq!(extracted.language, Some("de"));
    assert!(extracted.text.starts_with("Ein weißer Strahler"));
}

#[test]
fn vision_errors_say_where_and_why() {
    let demo = Demo::new();
    let png = &demo.media("png")[0];
    let (url, _request) = serve_once(401, r#"{"error":{"message":"invalid api key"}}"#);
    let options = VisionOptions {
        endpoint: url.clone(),
        model: "m".to_owned(),
        api_key: Some("wrong".to_owned()),
    };
    let error = caption(&options, png).unwrap_err();
    assert!(
        matches!(error, MediaError::VisionStatus { status: 401, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&url) && message.contains("invalid api key"),
        "{message}"
    );

    let (url, _request) = serve_once(200, r#"{"object":"list","data":[]}"#);
    let options = VisionOptions {
        endpoint: url,
        model: "m".to_owned(),
        api_key: None,
    };
    assert!(matches!(
        caption(&options, png),
        Err(MediaError::VisionResponse { .. })
    ));

    // Nobody listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = VisionOptions {
        endpoint: format!("http://127.0.0.1:{port}"),
        model: "m".to_owned(),
        api_key: None,
    };
    assert!(matches!(
        caption(&options, png),
        Err(MediaError::VisionRequest { .. })
    ));
}
