//! PDFs that are not the demo's friendly datasheets: encrypted, without a
//! text layer, with more pages than are read, kerned text, and a
//! decompression bomb. Built with lopdf's writer.

use cradle_media::{MAX_PAGES, MediaError, MediaKind, MediaTools, extract, pdf_text};
use lopdf::content::{Content, Operation};
use lopdf::{
    Document, EncryptionState, EncryptionVersion, Object, Permissions, Stream, dictionary,
};

/// A PDF of one page per content stream, Helvetica as `F1`.
fn pdf(pages: Vec<Vec<Operation>>) -> Document {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let font = document.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources = document.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font },
    });
    let mut kids = Vec::new();
    for operations in pages {
        let content = Content { operations }.encode().unwrap();
        let content = document.add_object(Stream::new(dictionary! {}, content));
        let page = document.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content,
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = document.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    document.trailer.set("Root", catalog);
    document
}

fn text_page(lines: &[&str]) -> Vec<Operation> {
    let mut operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 12.into()]),
        Operation::new("Td", vec![56.into(), 780.into()]),
        Operation::new("TL", vec![14.into()]),
    ];
    for line in lines {
        operations.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        operations.push(Operation::new("T*", vec![]));
    }
    operations.push(Operation::new("ET", vec![]));
    operations
}

fn bytes(mut document: Document) -> Vec<u8> {
    let mut out = Vec::new();
    document.save_to(&mut out).unwrap();
    out
}

fn encrypted(user_password: &str) -> Vec<u8> {
    let mut document = pdf(vec![text_page(&["Lichtstrom 1200 lm"])]);
    document.trailer.set(
        "ID",
        vec![
            Object::string_literal(b"0123456789abcdef".to_vec()),
            Object::string_literal(b"0123456789abcdef".to_vec()),
        ],
    );
    let version = EncryptionVersion::V2 {
        document: &document,
        owner_password: "owner",
        user_password,
        key_length: 128,
        permissions: Permissions::all(),
    };
    let state = EncryptionState::try_from(version).unwrap();
    document.encrypt(&state).unwrap();
    bytes(document)
}

#[test]
fn lines_and_kerned_words() {
    let page = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new(
            "Tm",
            vec![
                1.into(),
                0.into(),
                0.into(),
                1.into(),
                56.into(),
                700.into(),
            ],
        ),
        Operation::new(
            "TJ",
            vec![Object::Array(vec![
                Object::string_literal("Licht"),
                Object::Integer(-40),
                Object::string_literal("strom"),
                Object::Integer(-600),
                Object::string_literal("1.200 lm"),
            ])],
        ),
        // The next cell of the same line, placed by the text matrix.
        Operation::new(
            "Tm",
            vec![
                1.into(),
                0.into(),
                0.into(),
                1.into(),
                300.into(),
                700.into(),
            ],
        ),
        Operation::new("Tj", vec![Object::string_literal("IP65")]),
        Operation::new("Td", vec![0.into(), (-14).into()]),
        Operation::new("Tj", vec![Object::string_literal(b"wei\xdf".to_vec())]),
        Operation::new("ET", vec![]),
    ];
    let text = pdf_text(&bytes(pdf(vec![page]))).unwrap();
    assert_eq!(text.pages, vec!["Lichtstrom 1.200 lm IP65\nweiß\n"]);
}

#[test]
fn text_inside_form_xobjects_is_read() {
    // A footer drawn as a form, which draws a nested form; the page has
    // one line of its own.
    let mut document = pdf(vec![vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 12.into()]),
        Operation::new("Td", vec![56.into(), 780.into()]),
        Operation::new("Tj", vec![Object::string_literal("Datenblatt")]),
        Operation::new("ET", vec![]),
        Operation::new("Do", vec!["Fm1".into()]),
    ]]);
    let content = |text: &str, inner: Option<&str>| {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 8.into()]),
            Operation::new("Td", vec![56.into(), 40.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ];
        if let Some(name) = inner {
            operations.push(Operation::new("Do", vec![name.into()]));
        }
        Content { operations }.encode().unwrap()
    };
    let inner = document.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] },
        content("Seite 1 von 1", None),
    ));
    let outer = document.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Fm2" => inner } },
        },
        content("Luxwerk GmbH", Some("Fm2")),
    ));
    // The form is named in the page tree's resources, beside the font.
    let pages_id = document
        .catalog()
        .unwrap()
        .get(b"Pages")
        .unwrap()
        .as_reference()
        .unwrap();
    let resources_id = document
        .get_dictionary(pages_id)
        .unwrap()
        .get(b"Resources")
        .unwrap()
        .as_reference()
        .unwrap();
    document
        .get_dictionary_mut(resources_id)
        .unwrap()
        .set("XObject", dictionary! { "Fm1" => outer });
    let text = pdf_text(&bytes(document)).unwrap();
    assert_eq!(
        text.pages,
        vec!["Datenblatt\nLuxwerk GmbH\nSeite 1 von 1\n"]
    );
}

#[test]
fn a_password_is_an_error_and_an_empty_one_is_not() {
    let error = pdf_text(&encrypted("secret")).unwrap_err();
    assert!(
        matches!(error, MediaError::PdfEncrypted { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("without a password"));

    let text = pdf_text(&encrypted("")).unwrap();
    assert_eq!(text.pages, vec!["Lichtstrom 1200 lm\n"]);
}

#[test]
fn a_pdf_without_text_is_empty_and_extract_says_so() {
    let drawing = vec![
        Operation::new("q", vec![]),
        Operation::new("re", vec![10.into(), 10.into(), 100.into(), 100.into()]),
        Operation::new("f", vec![]),
        Operation::new("Q", vec![]),
    ];
    let data = bytes(pdf(vec![drawing.clone(), drawing]));
    let text = pdf_text(&data).unwrap();
    assert_eq!(text.page_count, 2);
    assert!(text.is_empty());
    assert_eq!(text.joined(), "");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.pdf");
    std::fs::write(&path, &data).unwrap();
    let error = extract(&path, MediaKind::Pdf, &MediaTools::default()).unwrap_err();
    assert!(
        matches!(error, MediaError::PdfWithoutText { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("scan.pdf"));
}

#[test]
fn pages_beyond_the_limit_are_counted_not_read() {
    let pages: Vec<Vec<Operation>> = (0..MAX_PAGES + 3)
        .map(|n| text_page(&[&format!("Seite {}", n + 1)]))
        .collect();
    let text = pdf_text(&bytes(pdf(pages))).unwrap();
    assert_eq!(text.page_count, MAX_PAGES + 3);
    assert_eq!(text.pages.len(), MAX_PAGES);
    assert_eq!(text.pages[0], "Seite 1\n");
    assert_eq!(text.pages[MAX_PAGES - 1], format!("Seite {MAX_PAGES}\n"));
}

#[test]
fn a_decompression_bomb_gives_no_text_quickly() {
    // 64 MiB of spaces that deflate to a few kilobytes.
    let mut operations = text_page(&["Vorher"]);
    operations.push(Operation::new(
        "Tj",
        vec![Object::string_literal(vec![b' '; 64 << 20])],
    ));
    let mut document = pdf(vec![operations]);
    for object in document.objects.values_mut() {
        if let Object::Stream(stream) = object {
            stream.compress().unwrap();
        }
    }
    let data = bytes(document);
    assert!(data.len() < 1 << 20, "{} bytes", data.len());
    let started = std::time::Instant::now();
    let text = pdf_text(&data).unwrap();
    assert!(
        text.is_empty(),
        "{:?}",
        &text.pages[0][..40.min(text.pages[0].len())]
    );
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn oversized_pdfs_are_refused_before_reading() {
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(cradle_media::MAX_PDF_BYTES as usize + 1, b' ');
    let error = pdf_text(&big).unwrap_err();
    assert!(matches!(error, MediaError::TooLarge { .. }), "{error:?}");

    // A file is measured, not read: a sparse file of the size will do.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("katalog.pdf");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(cradle_media::MAX_PDF_BYTES + 1).unwrap();
    let error = extract(&path, MediaKind::Pdf, &MediaTools::default()).unwrap_err();
    assert!(matches!(error, MediaError::TooLarge { .. }), "{error:?}");
    assert!(error.to_string().contains("katalog.pdf"));
}
