//! A PDF's text layer from arbitrary bytes: an error or text, never a
//! panic (libFuzzer's panic hook aborts even inside the `catch_unwind`
//! that guards lopdf, so a fault in the parser is a finding too), and the
//! page limits hold.
#![no_main]

use cradle_media::{MAX_PAGES, pdf_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = pdf_text(bytes) {
        assert!(text.pages.len() <= MAX_PAGES);
        assert!(text.pages.len() <= text.page_count);
        // Lines are trimmed of trailing blanks and never empty.
        for page in &text.pages {
            assert!(!page.contains(" \n") && !page.contains("\n\n"), "{page:?}");
        }
    }
});
