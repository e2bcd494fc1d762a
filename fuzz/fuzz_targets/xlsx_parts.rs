//! The XLSX XML parts (sheet, shared strings, styles, workbook; see
//! `xlsx_from_parts`) packed into a valid ZIP, read by calamine directly
//! (panics visible) and by the whole `ingest`, accounting checked.
#![no_main]

use calamine::{Reader, Xlsx};
use cradle_fuzz::{check_outcome, ingest_bytes, read_all, xlsx_from_parts};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|bytes: &[u8]| {
    let xlsx = xlsx_from_parts(bytes);
    if let Ok(workbook) = Xlsx::new(Cursor::new(xlsx.as_slice())) {
        read_all(workbook);
    }
    let (outcome, sink) = ingest_bytes("input.xlsx", &xlsx);
    check_outcome(&outcome, &sink);
});
