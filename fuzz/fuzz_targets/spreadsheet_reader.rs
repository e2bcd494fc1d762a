//! Workbooks: every calamine reader (XLSX, XLS, XLSB, ODS, and the
//! auto-detecting one ingest uses) is run on the bytes directly so a panic
//! in calamine is seen (ingest catches reader panics per file), then the
//! whole `ingest` of the bytes as `input.xlsx` with its accounting checked.
#![no_main]

use calamine::{Ods, Reader, Xls, Xlsb, Xlsx};
use cradle_fuzz::{check_outcome, ingest_bytes, read_all};
use cradle_ingest::detect::Format;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|bytes: &[u8]| {
    let data = bytes;
    if let Ok(workbook) = calamine::open_workbook_auto_from_rs(Cursor::new(data)) {
        read_all(workbook);
    }
    if let Ok(workbook) = Xlsx::new(Cursor::new(data)) {
        read_all(workbook);
    }
    if let Ok(workbook) = Xls::new(Cursor::new(data)) {
        read_all(workbook);
    }
    if let Ok(workbook) = Xlsb::new(Cursor::new(data)) {
        read_all(workbook);
    }
    if let Ok(workbook) = Ods::new(Cursor::new(data)) {
        read_all(workbook);
    }

    for name in ["input.xlsx", "input.ods", "input.xls"] {
        let _ = Format::detect(name, bytes);
    }
    // Which name it has only matters to ingest for bytes without a known
    // magic (then all three are read as a workbook the same way): vary it
    // by the input length so each name is exercised.
    let name = ["input.xlsx", "input.ods", "input.xls"][bytes.len() % 3];
    let (outcome, sink) = ingest_bytes(name, bytes);
    check_outcome(&outcome, &sink);
});
