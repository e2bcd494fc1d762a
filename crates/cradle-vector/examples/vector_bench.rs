//! Benchmark of the vector index: build time, file size, recall@k against
//! exact search and single-threaded query latency, on clustered synthetic
//! unit vectors or on real vectors from a file. Writes the vectors, the
//! queries and the exact answers next to each other so `bench/vector.sh`
//! can run LanceDB on exactly the same data.
//!
//! ```sh
//! cargo run --release -p cradle-vector --example vector_bench -- \
//!     [--vectors N] [--dimension D] [--queries Q] [--k K] [--seed S] \
//!     [--input FILE.f32 [--keys FILE.keys]] [--out DIR] \
//!     [--lists L] [--train-per-list T] [--iterations I]
//! ```
//!
//! `--input`: raw little-endian f32, `D` per vector (unit length; they are
//! normalised if not); `--keys`: one key per line, else `row-<n>`. The
//! queries are `Q` vectors held out of the index (every `N/Q`-th of the
//! input, or `Q` extra synthetic ones), moved a little and normalised.
//!
//! Output: `name: value` lines on stdout; in `--out` (default a temporary
//! folder): `base.f32`, `queries.f32`, `truth.u32` (`Q × K` rows of the
//! exact answers, best first) and `cradle.idx`.

use std::path::PathBuf;
use std::time::Instant;

use cradle_vector::{BuildParams, SearchParams, VectorIndex, build};

struct Options {
    vectors: usize,
    dimension: usize,
    queries: usize,
    k: usize,
    seed: u64,
    input: Option<PathBuf>,
    keys: Option<PathBuf>,
    out: Option<PathBuf>,
    build: BuildParams,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        vectors: 300_000,
        dimension: 384,
        queries: 1_000,
        k: 10,
        seed: 42,
        input: None,
        keys: None,
        out: None,
        build: BuildParams::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |text: String| {
            text.replace('_', "")
                .parse::<usize>()
                .map_err(|e| format!("{text}: {e}"))
        };
        match flag.as_str() {
            "--vectors" => options.vectors = number(value()?)?,
            "--dimension" => options.dimension = number(value()?)?,
            "--queries" => options.queries = number(value()?)?,
            "--k" => options.k = number(value()?)?,
            "--seed" => options.seed = number(value()?)? as u64,
            "--input" => options.input = Some(PathBuf::from(value()?)),
            "--keys" => options.keys = Some(PathBuf::from(value()?)),
            "--out" => options.out = Some(PathBuf::from(value()?)),
            "--lists" => options.build.lists = Some(number(value()?)?),
            "--train-per-list" => options.build.train_per_list = number(value()?)?,
            "--iterations" => options.build.iterations = number(value()?)?,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (see the file's doc comment)"
                ));
            }
        }
    }
    Ok(options)
}

/// SplitMix64 and Box-Muller: reproducible synthetic data.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f32 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
}

/// Unit vectors around `count / 150` random centres (cluster sizes skewed,
/// each cluster with its own spread: cosine to the centre 0.6 to 0.9),
/// like chunks of product families.
fn clustered(count: usize, dimension: usize, seed: u64) -> Vec<f32> {
    let clusters = (count / 150).max(1);
    let mut random = Random(seed);
    let mut centres = vec![0f32; clusters * dimension];
    centres.iter_mut().for_each(|v| *v = random.gaussian());
    centres.chunks_mut(dimension).for_each(normalize);
    let spreads: Vec<f32> = (0..clusters)
        .map(|_| 0.5 + 0.8 * random.uniform() as f32)
        .collect();
    let noise_scale = 1.0 / (dimension as f32).sqrt();
    let mut vectors = vec![0f32; count * dimension];
    for vector in vectors.chunks_mut(dimension) {
        let cluster = (random.uniform().powi(2) * clusters as f64) as usize;
        let centre = &centres[cluster * dimension..(cluster + 1) * dimension];
        for (value, c) in vector.iter_mut().zip(centre) {
            *value = c + spreads[cluster] * noise_scale * random.gaussian();
        }
        normalize(vector);
    }
    vectors
}

fn perturb(queries: &mut [f32], dimension: usize, seed: u64) {
    let mut random = Random(seed ^ 0x5eed);
    let noise_scale = 0.3 / (dimension as f32).sqrt();
    for query in queries.chunks_mut(dimension) {
        query
            .iter_mut()
            .for_each(|v| *v += noise_scale * random.gaussian());
        normalize(query);
    }
}

fn write_f32(path: &std::path::Path, values: &[f32]) -> std::io::Result<()> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes)
}

fn percentile(sorted: &[f64], share: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * share).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let options = parse()?;
    let dimension = options.dimension;
    let started = Instant::now();
    let (base, keys, queries, source) = match &options.input {
        Some(input) => {
            let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
            if bytes.len() % (4 * dimension) != 0 {
                return Err(format!(
                    "{} has {} bytes, not a whole number of {dimension}-float vectors \
                     (pass --dimension)",
                    input.display(),
                    bytes.len()
                ));
            }
            let mut all: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            all.chunks_mut(dimension).for_each(normalize);
            let count = all.len() / dimension;
            let all_keys: Vec<String> = match &options.keys {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .lines()
                    .map(str::to_string)
                    .collect(),
                None => (0..count).map(|row| format!("row-{row}")).collect(),
            };
            if all_keys.len() != count {
                return Err(format!("{} keys for {count} vectors", all_keys.len()));
            }
            let queries_wanted = options.queries.min(count / 2);
            let stride = count / queries_wanted.max(1);
            let mut base = Vec::with_capacity(all.len());
            let mut keys = Vec::with_capacity(count);
            let mut queries = Vec::with_capacity(queries_wanted * dimension);
            for (row, (vector, key)) in all.chunks(dimension).zip(all_keys).enumerate() {
                if row % stride == 0 && queries.len() < queries_wanted * dimension {
                    queries.extend_from_slice(vector);
                } else {
                    base.extend_from_slice(vector);
                    keys.push(key);
                }
            }
            (base, keys, queries, input.display().to_string())
        }
        None => {
            let mut all = clustered(options.vectors + options.queries, dimension, options.seed);
            let queries = all.split_off(options.vectors * dimension);
            let keys = (0..options.vectors)
                .map(|row| format!("A{:06}#{}", row / 3, row % 3))
                .collect();
            (all, keys, queries, "synthetic clustered".to_string())
        }
    };
    let mut queries = queries;
    perturb(&mut queries, dimension, options.seed);
    let count = keys.len();
    let query_count = queries.len() / dimension;
    let k = options.k;

    let temporary;
    let out = match &options.out {
        Some(out) => out.clone(),
        None => {
            temporary = std::env::temp_dir().join(format!("vector-bench-{}", std::process::id()));
            temporary.clone()
        }
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    write_f32(&out.join("base.f32"), &base).map_err(|e| e.to_string())?;
    write_f32(&out.join("queries.f32"), &queries).map_err(|e| e.to_string())?;
    println!("data: {source}");
    println!("vectors: {count}");
    println!("dimension: {dimension}");
    println!("queries: {query_count}");
    println!("k: {k}");
    println!("threads: {}", rayon::current_num_threads());
    println!("data_seconds: {:.1}", started.elapsed().as_secs_f64());

    let path = out.join("cradle.idx");
    let meta = format!(r#"{{"model":"benchmark","dimension":{dimension}}}"#);
    let stats = build(&path, dimension, &keys, &base, &meta, &options.build)
        .map_err(|e| format!("{e:#}"))?;
    drop(base);
    println!("build_seconds: {:.2}", stats.total_time.as_secs_f64());
    println!(
        "build_clustering_seconds: {:.2}",
        stats.clustering_time.as_secs_f64()
    );
    println!(
        "build_lists: {} (largest {}, {} k-means iterations)",
        stats.lists, stats.largest_list, stats.iterations
    );
    println!(
        "index_bytes: {} ({:.1} MB; raw f32 vectors {:.1} MB)",
        stats.file_bytes,
        stats.file_bytes as f64 / 1e6,
        (count * dimension * 4) as f64 / 1e6
    );

    let opened = Instant::now();
    let index = VectorIndex::open(&path).map_err(|e| format!("{e}"))?;
    println!("open_ms: {:.2}", opened.elapsed().as_secs_f64() * 1e3);

    let exact_started = Instant::now();
    let truth = index
        .exact_search_many(&queries, k)
        .map_err(|e| format!("{e}"))?;
    println!(
        "exact_seconds: {:.2} ({} queries, all threads)",
        exact_started.elapsed().as_secs_f64(),
        query_count
    );
    let truth_bytes: Vec<u8> = truth
        .iter()
        .flat_map(|hits| hits.iter().flat_map(|hit| hit.row.to_le_bytes()))
        .collect();
    std::fs::write(out.join("truth.u32"), truth_bytes).map_err(|e| e.to_string())?;

    // Single-threaded exact search latency on a few queries, for scale.
    let mut exact_times = Vec::new();
    for query in queries.chunks(dimension).take(20) {
        let started = Instant::now();
        std::hint::black_box(index.exact_search(query, k).map_err(|e| e.to_string())?);
        exact_times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    exact_times.sort_by(f64::total_cmp);
    println!(
        "exact_p50_ms: {:.2} (single thread, 20 queries)",
        percentile(&exact_times, 0.5)
    );

    let defaults = index.default_params();
    let lists = index.lists();
    let mut settings = vec![("default", defaults)];
    for (name, probes, rerank) in [
        ("probes=lists/32", lists.div_ceil(32), 100),
        ("probes=lists/8", lists.div_ceil(8), 100),
        ("probes=lists/16,rerank=50", lists.div_ceil(16), 50),
        ("probes=lists/16,rerank=200", lists.div_ceil(16), 200),
    ] {
        settings.push((
            name,
            SearchParams {
                probes: Some(probes.max(1)),
                rerank: Some(rerank),
            },
        ));
    }
    for (name, params) in settings {
        let run = |measure: bool| -> Result<(f64, Vec<f64>), String> {
            let mut found = 0usize;
            let mut times = Vec::with_capacity(query_count);
            for (query, exact) in queries.chunks(dimension).zip(&truth) {
                let started = Instant::now();
                let hits = index
                    .search_with(query, k, &params)
                    .map_err(|e| e.to_string())?;
                if measure {
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                }
                found += hits
                    .iter()
                    .filter(|hit| exact.iter().any(|t| t.row == hit.row))
                    .count();
            }
            Ok((found as f64 / (k * truth.len()).max(1) as f64, times))
        };
        run(false)?; // warm the page cache
        let (recall, mut times) = run(true)?;
        times.sort_by(f64::total_cmp);
        println!(
            "search[{name}]: probes={} rerank={} recall@{k}={recall:.4} p50_ms={:.3} p99_ms={:.3} mean_ms={:.3}",
            params.probes.unwrap_or(0),
            params.rerank.unwrap_or(0),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.iter().sum::<f64>() / times.len().max(1) as f64,
        );
    }
    println!("out: {}", out.display());
    Ok(())
}
