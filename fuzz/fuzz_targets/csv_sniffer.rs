//! Delimited text: decode → sniff the delimiter → split into records →
//! header detection and the record loop, in memory (panics visible), then
//! the whole `ingest` of the same bytes as `input.csv` with its accounting
//! checked against an independent count of the non-empty cells.
#![no_main]

use cradle_core::config::Config;
use cradle_fuzz::{CountingSink, check_outcome, ingest_bytes};
use cradle_ingest::detect::{self, Format};
use cradle_ingest::grid::{Grid, TextGrid};
use cradle_ingest::runs::{MemoryBudget, Runs};
use cradle_ingest::table::{self, Emitter, TableContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = Format::detect("input.csv", bytes);
    let in_memory = match detect::decode(bytes, None) {
        Ok((text, _encoding)) => {
            let delimiter = detect::sniff_delimiter(&text);
            assert!(matches!(delimiter, b';' | b',' | b'\t' | b'|'));
            Some(process(&TextGrid::parse(&text, delimiter)))
        }
        Err(_) => None,
    };

    let (outcome, sink) = ingest_bytes("input.csv", bytes);
    check_outcome(&outcome, &sink);
    // What ingest did to a text file must be what the parts did in memory.
    if let (Some(balance), Format::Text) = (&in_memory, Format::detect("input.csv", bytes).0) {
        assert_eq!(outcome.files.len(), 1);
        assert_eq!(&outcome.files[0].balance, balance, "ingest and in-memory differ");
    }
});

fn process(grid: &TextGrid) -> cradle_core::accounting::Balance {
    // Line numbers only go forward and start at 1.
    let mut previous = 1;
    for row in 0..grid.height() {
        let line = grid.location(row);
        assert!(line >= previous, "line {line} after line {previous}");
        previous = line;
    }
    // Every non-empty cell, counted without the table logic.
    let filled: u64 = (0..grid.height())
        .map(|row| {
            (0..grid.width(row))
                .filter(|&column| grid.cell(row, column).is_filled())
                .count() as u64
        })
        .sum();

    let config = Config::default();
    let sink = CountingSink::default();
    let runs = Runs::new(None, MemoryBudget::default());
    let mut emitter = Emitter::new(&sink, &runs, Default::default());
    let context = TableContext {
        file_index: 0,
        sheet_index: 0,
        path: "input.csv",
        sheet: None,
        config: &config,
        overrides: Vec::new(),
    };
    let report = table::process(grid, &context, &mut emitter).expect("the sink never fails");
    emitter.flush().expect("the sink never fails");
    let balance = report.balance;
    assert!(balance.holds(), "table balance does not hold: {balance:?}");
    assert_eq!(
        balance.non_empty_cells, filled,
        "the table accounts for {} non-empty cells, the grid has {filled}: {balance:?}",
        balance.non_empty_cells
    );
    assert_eq!(sink.attributes(), balance.data_points);
    assert_eq!(sink.rejects(), balance.rejected_rows);
    balance
}
