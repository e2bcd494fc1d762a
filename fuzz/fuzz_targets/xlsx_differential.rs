//! cradle's own XLSX reader against calamine on the same bytes: wherever
//! both accept a sheet, they must give the same cells (position, kind and
//! shown text). The input is the XML parts (see `xlsx_from_parts`), packed
//! into a valid ZIP so mutations reach the XML.
//!
//! Workbooks the pre-read checks refuse (shared-string counts that make
//! calamine reserve absurd memory) are skipped: calamine would abort.
//!
//! Two known differences are allowed, both where calamine departs from the
//! XML rules on input Excel never writes: a tab, CR or LF written literally
//! in a sheet name's attribute is a space (calamine keeps it), and CDATA in
//! a worksheet is text (calamine drops it from `t="str"` values), so sheets
//! with CDATA are not compared.
#![no_main]

use cradle_fuzz::{xlsx_cells_calamine, xlsx_cells_ours, xlsx_from_parts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let sheet = bytes.split(|&b| b == 0).next().unwrap_or_default();
    if sheet.windows(9).any(|w| w == b"<![CDATA[") {
        return;
    }
    let xlsx = xlsx_from_parts(bytes);
    if cradle_ingest::workbook::check(&xlsx).is_err() {
        return;
    }
    let (Some(ours), Some(theirs)) = (xlsx_cells_ours(&xlsx), xlsx_cells_calamine(&xlsx)) else {
        return;
    };
    let normalized = |name: &String| name.replace("\r\n", "\n").replace(['\t', '\n', '\r'], " ");
    assert_eq!(
        ours.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
        theirs.iter().map(|(name, _)| normalized(name)).collect::<Vec<_>>(),
        "sheet lists differ"
    );
    for ((name, ours), (_, theirs)) in ours.iter().zip(&theirs) {
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            assert_eq!(ours, theirs, "sheet `{name}`: cells differ");
        }
    }
});
