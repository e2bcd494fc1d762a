//! Builds the catalog of a real lakehouse and prints what it derived, until
//! a `cradle` subcommand does:
//! `cargo run -p cradle-catalog --example catalog_of -- <lakehouse> <catalog.db>`

use std::path::PathBuf;

use cradle_catalog::{Catalog, SqlLimits, build};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).map(PathBuf::from);
    let (Some(lakehouse), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: catalog_of <lakehouse> <catalog.db>");
        std::process::exit(2);
    };
    let report = match build(&lakehouse, &out).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    println!("{}", serde_json::to_string_pretty(&report).expect("report"));
    let catalog = Catalog::open(&out).await.expect("open");
    for query in [
        "SELECT relation, count(*) FROM relations GROUP BY relation",
        "SELECT kind, count(*) FROM media GROUP BY kind",
        "SELECT status, delivery, count(*) FROM product_history GROUP BY status, delivery",
        "SELECT count(DISTINCT code), count(*) FROM features",
    ] {
        let result = catalog
            .sql(query, &SqlLimits::default())
            .await
            .expect(query);
        println!("{query}\n  {:?} ({} ms)", result.rows, result.elapsed_ms);
    }
}
