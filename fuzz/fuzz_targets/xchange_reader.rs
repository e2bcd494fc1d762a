//! ETIM xChange catalogues through the whole `ingest`: whatever the
//! bytes, no panic, and the accounting holds. Input that does not start
//! like an xChange catalogue is put inside a catalogue's opening up to its
//! product array, so the fuzzer spends its time in the product reader.
#![no_main]

use cradle_fuzz::{check_outcome, ingest_bytes};
use cradle_ingest::catalog::CatalogFormat;
use libfuzzer_sys::fuzz_target;

const OPENING: &[u8] = b"{\"CatalogueId\": \"fuzz\", \"Supplier\": [{\"Product\": [";

fuzz_target!(|bytes: &[u8]| {
    let head = &bytes[..bytes.len().min(8192)];
    let input = if CatalogFormat::sniff(head) == Some(CatalogFormat::Xchange) {
        bytes.to_vec()
    } else {
        [OPENING, bytes].concat()
    };
    let (outcome, sink) = ingest_bytes("input.json", &input);
    check_outcome(&outcome, &sink);
    assert_eq!(outcome.files[0].format, "etim-xchange");
});
