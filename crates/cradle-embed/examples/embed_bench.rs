//! The cradle side of `bench/embed.sh`: embeds a file of sentences with the
//! local backend several times and reports the speed and peak memory.
//!
//! ```text
//! cargo run --release -p cradle-embed --example embed_bench -- \
//!     MODEL_DIR SENTENCES.txt VECTORS.f32 [BATCH MAX_LENGTH THREADS RUNS]
//! ```
//!
//! Prints one JSON line (`rates`: sentences per second of each run,
//! `peak_rss_mib`) and writes the last run's vectors as little-endian f32.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use cradle_embed::{Embedder, LocalEmbedder, LocalOptions, Role};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return Err("usage: embed_bench MODEL_DIR SENTENCES.txt VECTORS.f32 [BATCH MAX_LENGTH THREADS RUNS]".into());
    }
    let number = |i: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args
            .get(i)
            .map(|a| a.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let options = LocalOptions {
        batch_size: number(3, 32)?,
        max_length: Some(number(4, 256)?),
        threads: Some(number(5, 2)?),
    };
    let runs = number(6, 3)?;
    let text = std::fs::read_to_string(&args[1])?;
    let sentences: Vec<&str> = text.lines().collect();

    let loaded = Instant::now();
    let model = LocalEmbedder::open(&PathBuf::from(&args[0]), &options)?;
    let load_seconds = loaded.elapsed().as_secs_f64();
    let mut rates = Vec::new();
    let mut vectors = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        vectors = model.embed(&sentences, Role::Passage)?;
        rates.push(sentences.len() as f64 / start.elapsed().as_secs_f64());
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[2])?);
    for v in &vectors {
        for x in v {
            out.write_all(&x.to_le_bytes())?;
        }
    }
    out.flush()?;
    let peak_kib: f64 = std::fs::read_to_string("/proc/self/status")?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    println!(
        "{}",
        serde_json::json!({
            "tool": "cradle",
            "rates": rates,
            "peak_rss_mib": peak_kib / 1024.0,
            "load_seconds": load_seconds,
            "threads": options.threads,
        })
    );
    Ok(())
}
