//! cradle's own XLSX reader against calamine on the same bytes: wherever
//! both accept a sheet, they must give the same cells (position, kind and
//! shown text). The input is the XML parts (see `xlsx_from_parts`), packed
//! into a valid ZIP so mutations reach the XML.
//!
//! Workbooks the pre-read checks refuse (shared-string counts that make
//! calamine reserve absurd memory) are skipped: calamine would abort.
#![no_main]

use cradle_fuzz::{xlsx_cells_calamine, xlsx_cells_ours, xlsx_from_parts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let xlsx = xlsx_from_parts(bytes);
    if cradle_ingest::workbook::check(&xlsx).is_err() {
        return;
    }
    let (Some(ours), Some(theirs)) = (xlsx_cells_ours(&xlsx), xlsx_cells_calamine(&xlsx)) else {
        return;
    };
    assert_eq!(
        ours.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        theirs.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "sheet lists differ"
    );
    for ((name, ours), (_, theirs)) in ours.iter().zip(&theirs) {
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            assert_eq!(ours, theirs, "sheet `{name}`: cells differ");
        }
    }
});
