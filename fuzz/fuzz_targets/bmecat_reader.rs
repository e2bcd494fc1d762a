//! BMEcat catalogues through the whole `ingest`: whatever the bytes, no
//! panic, and the accounting holds (every cell of a record loaded, naming
//! another, or rejected; the balance closes). Input that does not start
//! like a BMEcat is put inside a `BMECAT`/`T_NEW_CATALOG` opening, so the
//! fuzzer spends its time in the record reader, not in the CSV path.
#![no_main]

use cradle_fuzz::{check_outcome, ingest_bytes};
use cradle_ingest::catalog::CatalogFormat;
use libfuzzer_sys::fuzz_target;

const OPENING: &[u8] = b"<BMECAT version=\"2005\"><T_NEW_CATALOG>";

fuzz_target!(|bytes: &[u8]| {
    let head = &bytes[..bytes.len().min(8192)];
    let input = if CatalogFormat::sniff(head) == Some(CatalogFormat::Bmecat) {
        bytes.to_vec()
    } else {
        [OPENING, bytes].concat()
    };
    let (outcome, sink) = ingest_bytes("input.xml", &input);
    check_outcome(&outcome, &sink);
    let file = &outcome.files[0];
    // A refused document is unreadable and holds no cells; a broken one
    // keeps what came before the break, counted.
    if file.format == "bmecat" && file.unreadable() {
        assert_eq!(file.balance.data_points, 0);
    }
});
