//! Properties over generated small deliveries: no non-empty cell is lost,
//! and the result does not depend on the order of the files or on product
//! state moved out of memory.

use arrow_array::RecordBatch;
use cradle_core::config::Config;
use cradle_ingest::{IngestOptions, MemoryBudget, Silent, Sink, SinkError, ingest};
use proptest::prelude::*;
use std::sync::Mutex;

#[derive(Default)]
struct Count {
    attributes: Mutex<usize>,
    rejected_cells: Mutex<i64>,
    products: Mutex<Vec<RecordBatch>>,
}

impl Sink for Count {
    fn attributes(&self, batch: RecordBatch) -> Result<(), SinkError> {
        *self.attributes.lock().unwrap() += batch.num_rows();
        Ok(())
    }
    fn rejects(&self, batch: RecordBatch) -> Result<(), SinkError> {
        let cells = batch
            .column_by_name("cells")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap();
        *self.rejected_cells.lock().unwrap() += cells.values().iter().sum::<i64>();
        Ok(())
    }
    fn products(&self, batch: RecordBatch) -> Result<(), SinkError> {
        self.products.lock().unwrap().push(batch);
        Ok(())
    }
}

/// A cell: empty, a key-like word, a number with a decimal comma, text with
/// a separator or newline that must be quoted.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        2 => "[A-Z]-[0-9]{1,3}",
        2 => (0u32..10_000, 0u32..100).prop_map(|(a, b)| format!("{a},{b}")),
        1 => "[a-zäöü]{1,8}( [a-z;]{1,5})?",
        1 => Just("Zeile 1\nZeile 2".to_owned()),
        1 => Just("k.A.".to_owned()),
    ]
}

fn quote(cell: &str) -> String {
    if cell.contains([';', '\n', '"']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// A table: a header with the key first, then rows of up to width+1 cells.
fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
    (2usize..6)
        .prop_flat_map(|width| {
            prop::collection::vec(prop::collection::vec(cell(), 1..=width + 1), 0..25)
        })
        .prop_map(|rows| rows)
}

fn render(width: usize, rows: &[Vec<String>]) -> String {
    let mut text = String::from("ArtNr");
    for c in 1..width {
        text.push_str(&format!(";Merkmal {c}"));
    }
    text.push('\n');
    for row in rows {
        // A row that is entirely empty would be a blank line: still a valid input.
        text.push_str(&row.iter().map(|c| quote(c)).collect::<Vec<_>>().join(";"));
        text.push('\n');
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn no_cell_is_lost_and_order_does_not_matter(tables in prop::collection::vec((2usize..6, table()), 1..4)) {
        let non_empty: u64 = tables
            .iter()
            .map(|(width, rows)| {
                let header = *width as u64;
                header + rows.iter().flatten().filter(|c| !c.trim().is_empty()).count() as u64
            })
            .sum();
        let mut results = Vec::new();
        // Forward, backward, and backward with product state moved to
        // disk after every few products (and run files merged in passes).
        for (reverse, spill) in [(false, false), (true, false), (true, true)] {
            let dir = tempfile::tempdir().unwrap();
            for (index, (width, rows)) in tables.iter().enumerate() {
                let name = if reverse { tables.len() - index } else { index };
                std::fs::write(dir.path().join(format!("{name}.csv")), render(*width, rows)).unwrap();
            }
            let sink = Count::default();
            let config = Config::default();
            let scratch = tempfile::tempdir().unwrap();
            let mut options = IngestOptions::new(&config);
            if spill {
                options.scratch_dir = Some(scratch.path().to_path_buf());
                options.budget = MemoryBudget { products_per_file: 300, runs_in_memory: 0, run_files: 3 };
            }
            let delivery = [dir.path().to_path_buf()];
            let outcome = ingest(&delivery, &options, &sink, &Silent).unwrap();
            let totals = &outcome.totals;
            prop_assert!(totals.holds(), "{totals:?}");
            prop_assert_eq!(totals.non_empty_cells, non_empty);
            prop_assert_eq!(*sink.attributes.lock().unwrap() as u64, totals.data_points);
            prop_assert_eq!(*sink.rejected_cells.lock().unwrap() as u64, totals.rejected_cells);
            let products = arrow_select::concat::concat_batches(
                &cradle_lakehouse::schema::products::schema(),
                sink.products.lock().unwrap().iter(),
            )
            .unwrap();
            results.push((outcome.product_hashes, totals.clone(), products));
        }
        prop_assert_eq!(&results[0], &results[1]);
        prop_assert_eq!(&results[1], &results[2]);
    }
}
