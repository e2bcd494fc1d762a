//! Query embedding latency: the server embeds one short query per search
//! request. Embeds each line of a file alone, several rounds, and prints
//! the median and 99th percentile per thread count.
//!
//! ```text
//! cargo run --release -p cradle-embed --example query_latency -- \
//!     MODEL_DIR QUERIES.txt [ROUNDS] [THREADS...]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use cradle_embed::{Embedder, LocalEmbedder, LocalOptions, Role};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: query_latency MODEL_DIR QUERIES.txt [ROUNDS] [THREADS...]".into());
    }
    let text = std::fs::read_to_string(&args[1])?;
    let queries: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let rounds: usize = args.get(2).map(|r| r.parse()).transpose()?.unwrap_or(3);
    let threads: Vec<usize> = if args.len() > 3 {
        args[3..]
            .iter()
            .map(|t| t.parse())
            .collect::<Result<_, _>>()?
    } else {
        vec![1, 2]
    };
    for &n in &threads {
        let options = LocalOptions {
            batch_size: 16,
            max_length: None,
            threads: Some(n),
        };
        let model = LocalEmbedder::open(&PathBuf::from(&args[0]), &options)?;
        for query in queries.iter().take(5) {
            model.embed(&[query], Role::Query)?;
        }
        let mut ms = Vec::new();
        for _ in 0..rounds {
            for query in &queries {
                let start = Instant::now();
                model.embed(&[query], Role::Query)?;
                ms.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        println!(
            "{{\"threads\":{n},\"queries\":{},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
            ms.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}
