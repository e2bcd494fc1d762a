//! Writes the tiny XLM-RoBERTa of `tests/parity.rs` into a folder, so that
//! `bench/parity-reference.sh` can embed the very files the test writes
//! with sentence-transformers and store the vectors beside the test.
//!
//! ```text
//! cargo run -p cradle-embed --example tiny_model -- DIR
//! ```

// The fixture lives with the tests that use it; this example only gives
// it a command line (same crate, so no second copy of the writer).
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: tiny_model DIR");
        std::process::exit(2);
    };
    common::write_tiny_xlm_roberta(std::path::Path::new(&dir));
}
