//! Writes the same generated products twice, as a BMEcat 2005 catalogue
//! and as an XLSX price list, into two delivery folders (for
//! `bench/bmecat.sh`):
//!
//!     cargo run --release -p cradle-ingest --example trade_delivery -- PRODUCTS OUT_DIR
//!
//! creates `OUT_DIR/bmecat/catalog.xml` and `OUT_DIR/xlsx/prices.xlsx`.

#[path = "../tests/support/trade.rs"]
mod trade;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: trade_delivery PRODUCTS OUT_DIR";
    let products: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{usage}"));
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| panic!("{usage}")));
    let bmecat = out.join("bmecat");
    let xlsx = out.join("xlsx");
    std::fs::create_dir_all(&bmecat).expect("create the BMEcat folder");
    std::fs::create_dir_all(&xlsx).expect("create the XLSX folder");
    let mut file = std::fs::File::create(bmecat.join("catalog.xml")).expect("create catalog.xml");
    trade::bmecat(products, trade::Bmecat::V2005Prefixed, &mut file).expect("write catalog.xml");
    trade::xlsx(products, &xlsx.join("prices.xlsx"));
}
