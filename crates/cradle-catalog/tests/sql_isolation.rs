//! What heavy SQL must not do to the rest of the server: slow down product
//! pages (four 5-second queries made them take 4.5 s when SQL shared their
//! connections), or take memory beyond its bounds (ten rows of
//! `zeroblob(50000000)` took 2.7 GB). Its own test binary, one test at a
//! time, so the memory measured is this test's.

mod fixture;

use std::time::{Duration, Instant};

use cradle_catalog::{ProductFilter, SqlLimits, Truncation};

/// The tests measure time and memory: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_queries_leave_product_pages_fast() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, catalog) = fixture::catalog(dir.path()).await;
    let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                   SELECT count(*) FROM c";
    let limits = SqlLimits {
        timeout: Duration::from_secs(5),
        ..SqlLimits::default()
    };
    let quiet = page_latencies(&catalog, Duration::from_millis(600)).await;
    let queries: Vec<_> = (0..4)
        .map(|_| {
            let catalog = catalog.clone();
            tokio::spawn(async move { catalog.sql(endless, &limits).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let loaded = page_latencies(&catalog, Duration::from_secs(4)).await;
    let mut codes = Vec::new();
    for query in queries {
        codes.push(query.await.unwrap().unwrap_err().code());
    }
    eprintln!(
        "product page + listing: {} while 4 SQL queries ran, {} before (same run)",
        summary(&loaded),
        summary(&quiet)
    );
    // The 95th percentile, so a scheduling hiccup of a busy test machine
    // is not mistaken for starvation (which took seconds).
    let p95 = loaded[loaded.len() * 95 / 100];
    assert!(
        p95 < Duration::from_millis(100),
        "product pages slowed by SQL: {}",
        summary(&loaded)
    );
    // Two ran into their time limit; two waited for a connection as long
    // as their limit allowed.
    codes.sort();
    assert!(
        codes
            .iter()
            .all(|code| matches!(*code, "sql_timeout" | "sql_busy")),
        "{codes:?}"
    );
    assert!(codes.contains(&"sql_timeout"), "{codes:?}");
    let after = catalog.sql("SELECT count(*) FROM products", &limits).await;
    assert!(after.is_ok(), "{after:?}");
}

/// Latencies of a product page and a listing, one pair every 20 ms for
/// `during`, sorted.
async fn page_latencies(catalog: &cradle_catalog::Catalog, during: Duration) -> Vec<Duration> {
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut i = 0;
    while started.elapsed() < during {
        let lookup = Instant::now();
        let product = catalog.product(&fixture::article(i * 37 % 2000)).await;
        assert!(product.unwrap().is_some());
        let page = catalog
            .products(&ProductFilter {
                family: Some("Familie 3".to_owned()),
                ..ProductFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 200);
        latencies.push(lookup.elapsed());
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort();
    latencies
}

fn summary(sorted: &[Duration]) -> String {
    format!(
        "median {:?}, p95 {:?}, slowest {:?} of {}",
        sorted[sorted.len() / 2],
        sorted[sorted.len() * 95 / 100],
        sorted[sorted.len() - 1],
        sorted.len()
    )
}

/// The process's peak resident memory (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test]
async fn floods_take_bounded_memory() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, catalog) = fixture::catalog(dir.path()).await;
    // Resets the peak to the current resident size (Linux's clear_refs).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = peak_rss();
    let started = Instant::now();
    let ten = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)";
    let error = catalog
        .sql(
            &format!("{ten} SELECT zeroblob(50000000) FROM n"),
            &SqlLimits::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "sql_too_large");
    // Values just within SQLite's limit, many rows: stops at the default
    // byte bound (8 MiB of JSON).
    let thousand = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)";
    for value in [
        "zeroblob(4000000)",
        "randomblob(4000000)",
        "replace(hex(zeroblob(2000000)), '0', 'x')",
    ] {
        let result = catalog
            .sql(
                &format!("{thousand} SELECT {value} FROM n"),
                &SqlLimits::default(),
            )
            .await
            .unwrap();
        assert_eq!(result.truncated_by, Some(Truncation::Bytes), "{value}");
        assert!(result.bytes <= SqlLimits::default().max_bytes);
    }
    let elapsed = started.elapsed();
    let grown = peak_rss().saturating_sub(before);
    eprintln!(
        "floods: peak resident memory grew by {} MiB in {elapsed:?}",
        grown >> 20
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(grown < 100 << 20, "peak memory grew by {} MiB", grown >> 20);
}
