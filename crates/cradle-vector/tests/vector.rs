//! The vector index end to end: build into a file, open it memory-mapped,
//! search, and refuse damaged files.

use std::path::Path;

use cradle_vector::{
    BuildParams, SearchParams, VectorError, VectorIndex, VectorIndexBuilder, build,
};

/// SplitMix64, for reproducible synthetic data.
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
    vector.iter_mut().for_each(|v| *v /= norm);
}

/// `count` unit vectors around `clusters` random centres, each cluster
/// with its own spread (cosine to the centre between about 0.6 and 0.9).
fn clustered(count: usize, dimension: usize, clusters: usize, seed: u64) -> Vec<f32> {
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

/// Held-out vectors moved a little, as queries.
fn perturbed(vectors: &[f32], dimension: usize, amount: f32, seed: u64) -> Vec<f32> {
    let mut random = Random(seed);
    let noise_scale = amount / (dimension as f32).sqrt();
    let mut queries = vectors.to_vec();
    for query in queries.chunks_mut(dimension) {
        query
            .iter_mut()
            .for_each(|v| *v += noise_scale * random.gaussian());
        normalize(query);
    }
    queries
}

fn keys(count: usize) -> Vec<String> {
    (0..count)
        .map(|row| format!("A-{row:05}#{}", row % 3))
        .collect()
}

const META: &str = r#"{"model":"synthetic","dimension":64}"#;

fn build_index(path: &Path, dimension: usize, vectors: &[f32]) -> VectorIndex {
    let count = vectors.len() / dimension;
    build(
        path,
        dimension,
        &keys(count),
        vectors,
        META,
        &BuildParams::default(),
    )
    .unwrap();
    VectorIndex::open(path).unwrap()
}

#[test]
fn recall_at_10_against_exact_search_is_at_least_095() {
    let dimension = 64;
    let all = clustered(20_200, dimension, 200, 7);
    let (base, held_out) = all.split_at(20_000 * dimension);
    let queries = perturbed(held_out, dimension, 0.3, 8);
    let dir = tempfile::tempdir().unwrap();
    let index = build_index(&dir.path().join("vectors.idx"), dimension, base);
    assert_eq!(index.len(), 20_000);
    assert_eq!(index.lists(), 283);

    let exact = index.exact_search_many(&queries, 10).unwrap();
    let mut found = 0;
    for (query, truth) in queries.chunks(dimension).zip(&exact) {
        assert_eq!(truth.len(), 10);
        assert_eq!(truth, &index.exact_search(query, 10).unwrap());
        let hits = index.search(query, 10).unwrap();
        assert_eq!(hits.len(), 10);
        assert!(hits.windows(2).all(|pair| pair[0].score >= pair[1].score));
        found += hits
            .iter()
            .filter(|hit| truth.iter().any(|t| t.row == hit.row))
            .count();
    }
    let recall = found as f64 / (10 * exact.len()) as f64;
    assert!(recall >= 0.95, "recall@10 {recall}");
    let many = index.search_many(&queries[..5 * dimension], 10).unwrap();
    for (query, hits) in queries.chunks(dimension).zip(&many) {
        assert_eq!(hits, &index.search(query, 10).unwrap());
    }
    assert!(index.search_many(&queries[..dimension + 1], 10).is_err());

    // Probing a single list is worse: the default is doing real work.
    let mut found_one = 0;
    let narrow = SearchParams {
        probes: Some(1),
        rerank: Some(10),
    };
    for (query, truth) in queries.chunks(dimension).zip(&exact) {
        let hits = index.search_with(query, 10, &narrow).unwrap();
        found_one += hits
            .iter()
            .filter(|hit| truth.iter().any(|t| t.row == hit.row))
            .count();
    }
    assert!(found_one < found, "{found_one} vs {found}");
}

#[test]
fn an_index_is_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<VectorIndex>();
}

#[test]
fn a_stored_vector_finds_itself_first_with_its_key_and_cosine_one() {
    let dimension = 64;
    let vectors = clustered(3_000, dimension, 30, 11);
    let dir = tempfile::tempdir().unwrap();
    let index = build_index(&dir.path().join("v.idx"), dimension, &vectors);
    for row in [0u32, 1, 1234, 2999] {
        let query = &vectors[row as usize * dimension..(row as usize + 1) * dimension];
        let hits = index.search(query, 5).unwrap();
        assert_eq!(hits[0].row, row);
        assert!((hits[0].score - 1.0).abs() < 1e-5, "{}", hits[0].score);
        assert_eq!(index.key(row), format!("A-{row:05}#{}", row % 3));
        assert_eq!(index.vector(row), Some(query));
    }
    assert_eq!(index.get_key(3000), None);
    assert_eq!(index.dimension(), dimension);
    assert_eq!(index.meta(), META);
    assert!(!index.is_empty());
    let expected_size = std::fs::metadata(dir.path().join("v.idx")).unwrap().len();
    assert_eq!(index.file_bytes(), expected_size);

    // A query need not be unit length: scores are cosines.
    let scaled: Vec<f32> = vectors[..dimension].iter().map(|v| v * 3.0).collect();
    let hits = index.search(&scaled, 1).unwrap();
    assert_eq!(hits[0].row, 0);
    assert!((hits[0].score - 1.0).abs() < 1e-5);
}

#[test]
fn the_filter_is_respected_and_still_fills_the_result() {
    let dimension = 32;
    let vectors = clustered(5_000, dimension, 50, 21);
    let dir = tempfile::tempdir().unwrap();
    let index = build_index(&dir.path().join("v.idx"), dimension, &vectors);
    let query = &vectors[..dimension];
    // Only every 97th row: far fewer than the default probes would find.
    let allow = |row: u32| row % 97 == 5;
    let hits = index.search_filtered(query, 10, &allow).unwrap();
    assert_eq!(hits.len(), 10);
    assert!(hits.iter().all(|hit| allow(hit.row)));
    assert!(hits.windows(2).all(|pair| pair[0].score >= pair[1].score));
    let none = index.search_filtered(query, 10, &|_| false).unwrap();
    assert!(none.is_empty());
}

#[test]
fn empty_index_and_k_beyond_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.idx");
    let stats = build(&path, 8, &[], &[], "{}", &BuildParams::default()).unwrap();
    assert_eq!((stats.vectors, stats.lists), (0, 0));
    let index = VectorIndex::open(&path).unwrap();
    assert!(index.is_empty());
    assert_eq!(index.len(), 0);
    let query = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    assert!(index.search(&query, 10).unwrap().is_empty());
    assert!(index.exact_search(&query, 10).unwrap().is_empty());

    let vectors = clustered(7, 8, 2, 3);
    let mut builder = VectorIndexBuilder::new(8, "{}");
    for (row, vector) in vectors.chunks(8).enumerate() {
        builder.push(format!("k{row}"), vector).unwrap();
    }
    assert_eq!(builder.len(), 7);
    let small = dir.path().join("small.idx");
    builder.finish(&small, &BuildParams::default()).unwrap();
    let index = VectorIndex::open(&small).unwrap();
    let hits = index.search(&vectors[8..16], 50).unwrap();
    assert_eq!(hits.len(), 7);
    assert_eq!(hits[0].row, 1);
    assert_eq!(index.key(1), "k1");
    assert!(index.search(&vectors[..8], 0).unwrap().is_empty());
}

#[test]
fn dimension_mismatches_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.idx");
    let vectors = clustered(100, 16, 4, 5);
    let index = build_index(&path, 16, &vectors);
    let error = index.search(&[0.5; 12], 3).unwrap_err();
    assert!(matches!(
        error,
        VectorError::DimensionMismatch {
            expected: 16,
            got: 12,
            ..
        }
    ));
    let message = error.to_string();
    assert!(message.contains("dimension 12"), "{message}");
    assert!(message.contains("v.idx"), "{message}");
    assert!(message.contains("synthetic"), "{message}");
    assert!(index.exact_search(&[0.5; 17], 3).is_err());
    assert!(matches!(
        index.search(&[0.0; 16], 3),
        Err(VectorError::BadQuery { .. })
    ));
    assert!(matches!(
        index.search(&[f32::NAN; 16], 3),
        Err(VectorError::BadQuery { .. })
    ));

    let other = dir.path().join("other.idx");
    let shape = build(
        &other,
        16,
        &keys(3),
        &vectors[..16 * 2],
        "{}",
        &BuildParams::default(),
    );
    assert!(matches!(shape, Err(VectorError::InputShape { .. })));
    let mut long = vectors[..16].to_vec();
    long[0] += 0.5;
    let error = build(&other, 16, &keys(1), &long, "{}", &BuildParams::default()).unwrap_err();
    assert!(
        matches!(error, VectorError::NotUnitLength { row: 0, .. }),
        "{error}"
    );
    assert!(matches!(
        build(&other, 0, &[], &[], "{}", &BuildParams::default()),
        Err(VectorError::ZeroDimension)
    ));
    let mut builder = VectorIndexBuilder::new(16, "{}");
    assert!(builder.push("short", &vectors[..8]).is_err());
    assert!(!other.exists(), "failed builds leave no file");
}

#[test]
fn truncated_and_damaged_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.idx");
    let dimension = 16;
    build_index(&path, dimension, &clustered(500, dimension, 5, 9));
    let bytes = std::fs::read(&path).unwrap();

    let damaged = dir.path().join("damaged.idx");
    let check = |contents: &[u8], what: &str| {
        std::fs::write(&damaged, contents).unwrap();
        let error = VectorIndex::open(&damaged).expect_err(what);
        assert!(
            matches!(error, VectorError::Corrupt { .. }),
            "{what}: {error}"
        );
        let message = error.to_string();
        assert!(message.contains("damaged.idx"), "{what}: {message}");
        assert!(message.contains("hint:"), "{what}: {message}");
        message
    };
    let message = check(&bytes[..bytes.len() - 1], "one byte short");
    assert!(message.contains("truncated"), "{message}");
    check(&bytes[..bytes.len() / 2], "half");
    check(&bytes[..100], "inside the header");
    check(&[], "empty file");
    let mut flipped = bytes.clone();
    flipped[0] ^= 0x01;
    assert!(check(&flipped, "magic").contains("magic"));
    let mut version = bytes.clone();
    version[8] = 9;
    check(&version, "version");
    let mut count = bytes.clone();
    count[24] ^= 0x01;
    check(&count, "count (caught by the checksum)");

    // The row table (right after the vectors) naming a row twice.
    let rows_at =
        u64::from_le_bytes(bytes[48 + 5 * 16..48 + 5 * 16 + 8].try_into().unwrap()) as usize;
    let mut rows = bytes.clone();
    rows.copy_within(rows_at + 4..rows_at + 8, rows_at);
    check(&rows, "row table");

    let missing = VectorIndex::open(&dir.path().join("missing.idx")).unwrap_err();
    assert!(matches!(missing, VectorError::Open { .. }));
    assert!(missing.to_string().contains("missing.idx"));
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let dimension = 24;
    let vectors = clustered(4_000, dimension, 40, 13);
    let first = dir.path().join("first.idx");
    let second = dir.path().join("second.idx");
    build(
        &first,
        dimension,
        &keys(4_000),
        &vectors,
        META,
        &BuildParams::default(),
    )
    .unwrap();
    build(
        &second,
        dimension,
        &keys(4_000),
        &vectors,
        META,
        &BuildParams::default(),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap()
    );

    // Independent of the number of threads.
    let single = dir.path().join("single.idx");
    let params = BuildParams::default();
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| build(&single, dimension, &keys(4_000), &vectors, META, &params))
        .unwrap();
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&single).unwrap()
    );
    std::fs::remove_file(&single).unwrap();

    // Rebuilding over an existing index replaces it whole and leaves no
    // temporary file behind.
    build(
        &first,
        dimension,
        &keys(10),
        &vectors[..10 * dimension],
        META,
        &BuildParams::default(),
    )
    .unwrap();
    assert_eq!(VectorIndex::open(&first).unwrap().len(), 10);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
