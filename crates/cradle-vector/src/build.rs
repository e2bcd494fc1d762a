//! Building an index: spherical k-means on a sample for the list
//! centroids, every vector assigned to its nearest centroid, int8 codes,
//! and the file written to a temporary name and renamed into place.
//!
//! Deterministic: the sample and the initial centroids come from a seeded
//! generator, assignments break ties by the lower list, centroid sums are
//! added in row order (in f64), and the rows of a list keep their input
//! order. Only the assignments run in parallel, and each is a pure function
//! of its vector. (The f32 kernels take the AVX2 path where the CPU has it,
//! so two different CPUs may round a near-tie differently; the same machine
//! always writes the same bytes.)

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::error::VectorError;
use super::format::{Header, Section};
use super::kernels::{dot_f32, dots_f32, dots4_f32, quantize};

/// How far a vector's length may be from 1 before the build refuses it.
const UNIT_TOLERANCE: f32 = 1e-2;

/// Settings of a build. `Default` gives the settings measured in the
/// module documentation; all of them only trade build time, query time and
/// recall against each other, never correctness.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildParams {
    /// Number of lists (IVF partitions). `None`: `2·√n` rounded, at least
    /// 1 (one list below 1,000 vectors, where scanning all codes is cheap).
    pub lists: Option<usize>,
    /// Training sample per list for k-means (the sample is at most
    /// `lists · train_per_list` vectors).
    pub train_per_list: usize,
    /// k-means iterations (fewer if the assignments stop changing).
    pub iterations: usize,
    /// Seed of the sample and the initial centroids.
    pub seed: u64,
    /// Lists probed per query by default (stored in the file; a query may
    /// ask for other values). `None`: see [`default_probes`].
    pub probes: Option<usize>,
    /// Candidates re-ranked with the exact f32 vectors per query by
    /// default (at least k). `None`: 100.
    pub rerank: Option<usize>,
}

impl Default for BuildParams {
    fn default() -> BuildParams {
        BuildParams {
            lists: None,
            train_per_list: 64,
            iterations: 10,
            seed: 0x00c0_ffee,
            probes: None,
            rerank: None,
        }
    }
}

/// The default number of candidates re-ranked per query.
pub const DEFAULT_RERANK: usize = 100;

/// The number of lists a build uses for `count` vectors by default.
pub fn default_lists(count: usize) -> usize {
    if count < 1_000 {
        return count.min(1);
    }
    ((count as f64).sqrt() * 2.0).round() as usize
}

/// The number of lists probed per query by default for an index of
/// `lists` lists: about 1/16 of them, at least 8 (or all, if fewer).
pub fn default_probes(lists: usize) -> usize {
    lists.div_ceil(16).max(8).min(lists)
}

/// What a build did.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildStats {
    pub vectors: usize,
    pub dimension: usize,
    pub lists: usize,
    /// Vectors in the largest list (a scan's worst case per list).
    pub largest_list: usize,
    pub default_probes: usize,
    pub default_rerank: usize,
    /// k-means iterations run.
    pub iterations: usize,
    pub file_bytes: u64,
    /// Time spent on k-means (training and assigning every vector).
    pub clustering_time: Duration,
    pub total_time: Duration,
}

/// Collects vectors one at a time and builds an index from them; the same
/// as [`build`] for callers that produce vectors as a stream.
#[derive(Debug, Clone)]
pub struct VectorIndexBuilder {
    dimension: usize,
    meta: String,
    keys: Vec<String>,
    vectors: Vec<f32>,
}

impl VectorIndexBuilder {
    /// A builder for vectors of `dimension`; `meta` describes the model
    /// (JSON by convention) and is stored verbatim.
    pub fn new(dimension: usize, meta: impl Into<String>) -> VectorIndexBuilder {
        VectorIndexBuilder {
            dimension,
            meta: meta.into(),
            keys: Vec::new(),
            vectors: Vec::new(),
        }
    }

    /// Adds one vector (unit length) under `key`.
    pub fn push(&mut self, key: impl Into<String>, vector: &[f32]) -> Result<(), VectorError> {
        if vector.len() != self.dimension {
            return Err(VectorError::InputShape {
                dimension: self.dimension,
                keys: 1,
                vectors: vector.len(),
                expected: self.dimension,
            });
        }
        self.keys.push(key.into());
        self.vectors.extend_from_slice(vector);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Builds the index at `path` (see [`build`]).
    pub fn finish(self, path: &Path, params: &BuildParams) -> Result<BuildStats, VectorError> {
        build(
            path,
            self.dimension,
            &self.keys,
            &self.vectors,
            &self.meta,
            params,
        )
    }
}

/// Builds a vector index of `keys.len()` unit-length vectors of
/// `dimension` (`vectors` row-major) at `path`. The file is written under
/// a temporary name in the same directory and renamed over `path`, so
/// `path` never holds a half-written index; the same inputs give the same
/// bytes. Uses the rayon thread pool for the clustering.
pub fn build(
    path: &Path,
    dimension: usize,
    keys: &[String],
    vectors: &[f32],
    meta: &str,
    params: &BuildParams,
) -> Result<BuildStats, VectorError> {
    let started = Instant::now();
    if dimension == 0 {
        return Err(VectorError::ZeroDimension);
    }
    let count = keys.len();
    let expected = count.saturating_mul(dimension);
    if vectors.len() != expected {
        return Err(VectorError::InputShape {
            dimension,
            keys: count,
            vectors: vectors.len(),
            expected,
        });
    }
    let max = u32::MAX as usize - 1;
    if count > max {
        return Err(VectorError::TooMany { count, max });
    }
    check_unit_length(keys, vectors, dimension)?;
    let lists = match params.lists {
        Some(lists) if lists == 0 && count > 0 => {
            return Err(VectorError::BuildSetting {
                setting: "lists",
                value: 0,
                hint: "an index of vectors needs at least one list",
            });
        }
        Some(lists) => lists.min(count),
        None => default_lists(count),
    };
    if count > 0 && params.iterations == 0 {
        return Err(VectorError::BuildSetting {
            setting: "iterations",
            value: 0,
            hint: "k-means needs at least one iteration",
        });
    }
    let probes = match params.probes {
        Some(0) if count > 0 => {
            return Err(VectorError::BuildSetting {
                setting: "probes",
                value: 0,
                hint: "a query must probe at least one list",
            });
        }
        Some(probes) => probes.min(lists),
        None => default_probes(lists),
    };
    let rerank = params.rerank.unwrap_or(DEFAULT_RERANK).max(1);

    let clustering_started = Instant::now();
    let (centroids, iterations) = train(vectors, dimension, lists, params);
    let assignment = assign(vectors, dimension, &centroids);
    let clustering_time = clustering_started.elapsed();

    // Counting sort of the rows by list; rows of a list stay in input order.
    let mut list_starts = vec![0u32; lists + 1];
    for &(list, _) in &assignment {
        list_starts[list as usize + 1] += 1;
    }
    let largest_list = list_starts.iter().copied().max().unwrap_or(0) as usize;
    for list in 0..lists {
        list_starts[list + 1] += list_starts[list];
    }
    let mut next = list_starts.clone();
    let mut rows = vec![0u32; count];
    for (row, &(list, _)) in assignment.iter().enumerate() {
        rows[next[list as usize] as usize] = row as u32;
        next[list as usize] += 1;
    }

    let mut codes = vec![0i8; count * dimension];
    let scales: Vec<f32> = codes
        .par_chunks_mut(dimension)
        .zip(rows.par_iter())
        .map(|(code, &row)| {
            let row = row as usize;
            quantize(&vectors[row * dimension..(row + 1) * dimension], code)
        })
        .collect();

    let key_bytes: u64 = keys.iter().map(|key| key.len() as u64).sum();
    let lengths = Header::expected_lengths(
        dimension as u64,
        lists as u64,
        count as u64,
        key_bytes,
        meta.len() as u64,
    )
    .ok_or(VectorError::TooMany { count, max })?;
    let (sections, file_bytes) = Header::layout(&lengths);
    let header = Header {
        dimension: dimension as u32,
        lists: lists as u32,
        count: count as u64,
        default_probes: probes as u32,
        default_rerank: rerank.min(u32::MAX as usize) as u32,
        sections,
    };
    let contents = Contents {
        header: &header,
        centroids: &centroids,
        list_starts: &list_starts,
        scales: &scales,
        codes: &codes,
        vectors,
        rows: &rows,
        keys,
        meta,
        dimension,
    };
    write_atomically(path, |out| contents.write(out))?;

    Ok(BuildStats {
        vectors: count,
        dimension,
        lists,
        largest_list,
        default_probes: probes,
        default_rerank: rerank,
        iterations,
        file_bytes,
        clustering_time,
        total_time: started.elapsed(),
    })
}

fn check_unit_length(
    keys: &[String],
    vectors: &[f32],
    dimension: usize,
) -> Result<(), VectorError> {
    let bad = vectors
        .par_chunks(dimension)
        .map(|vector| dot_f32(vector, vector).sqrt())
        .enumerate()
        .find_first(|(_, norm)| !norm.is_finite() || (norm - 1.0).abs() > UNIT_TOLERANCE);
    match bad {
        Some((row, norm)) => Err(VectorError::NotUnitLength {
            row,
            key: keys[row].clone(),
            norm,
        }),
        None => Ok(()),
    }
}

/// A small, seedable generator (SplitMix64): the sample and the initial
/// centroids must be the same on every run and platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0); the tiny modulo bias is harmless
    /// for sampling.
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// Spherical k-means: returns `lists` unit-length centroids (row-major) and
/// the number of iterations run.
fn train(
    vectors: &[f32],
    dimension: usize,
    lists: usize,
    params: &BuildParams,
) -> (Vec<f32>, usize) {
    let count = vectors.len() / dimension;
    if lists == 0 {
        return (Vec::new(), 0);
    }
    let vector = |row: usize| &vectors[row * dimension..(row + 1) * dimension];
    // A partial Fisher-Yates shuffle picks the sample; its first `lists`
    // rows are the initial centroids.
    let sample_size = lists
        .saturating_mul(params.train_per_list.max(1))
        .clamp(lists, count);
    let mut order: Vec<u32> = (0..count as u32).collect();
    let mut random = SplitMix(params.seed);
    for index in 0..sample_size {
        let other = index + random.below(count - index);
        order.swap(index, other);
    }
    order.truncate(sample_size);
    let mut centroids: Vec<f32> = order[..lists]
        .iter()
        .flat_map(|&row| vector(row as usize).iter().copied())
        .collect();
    let mut sample = order;
    sample.sort_unstable();
    let sample_vectors: Vec<f32> = sample
        .iter()
        .flat_map(|&row| vector(row as usize).iter().copied())
        .collect();

    let mut previous: Vec<u32> = Vec::new();
    let mut iterations = 0;
    for _ in 0..params.iterations {
        iterations += 1;
        let assignment = assign(&sample_vectors, dimension, &centroids);
        let mut sums = vec![0f64; lists * dimension];
        let mut sizes = vec![0usize; lists];
        for (index, &(list, _)) in assignment.iter().enumerate() {
            let list = list as usize;
            sizes[list] += 1;
            let sum = &mut sums[list * dimension..(list + 1) * dimension];
            let row = &sample_vectors[index * dimension..(index + 1) * dimension];
            for (total, value) in sum.iter_mut().zip(row) {
                *total += f64::from(*value);
            }
        }
        for list in 0..lists {
            let sum = &sums[list * dimension..(list + 1) * dimension];
            let norm = sum.iter().map(|v| v * v).sum::<f64>().sqrt();
            if sizes[list] > 0 && norm > 1e-12 {
                let centroid = &mut centroids[list * dimension..(list + 1) * dimension];
                for (value, total) in centroid.iter_mut().zip(sum) {
                    *value = (total / norm) as f32;
                }
            }
        }
        // An empty list takes the sample vector its centroid fits worst,
        // which splits the loosest cluster.
        let empty: Vec<usize> = (0..lists).filter(|&list| sizes[list] == 0).collect();
        if !empty.is_empty() {
            let mut worst: Vec<usize> = (0..assignment.len()).collect();
            worst.sort_by(|&a, &b| assignment[a].1.total_cmp(&assignment[b].1).then(a.cmp(&b)));
            for (list, index) in empty.into_iter().zip(worst) {
                let row = &sample_vectors[index * dimension..(index + 1) * dimension];
                centroids[list * dimension..(list + 1) * dimension].copy_from_slice(row);
            }
        }
        let current: Vec<u32> = assignment.into_iter().map(|(list, _)| list).collect();
        if current == previous {
            break;
        }
        previous = current;
    }
    (centroids, iterations)
}

/// The nearest centroid (largest dot product, the lower list on a tie) of
/// every vector, with that dot product; in parallel, in row order. Rows
/// go four at a time through the kernel, so each centroid is read once per
/// four rows.
fn assign(vectors: &[f32], dimension: usize, centroids: &[f32]) -> Vec<(u32, f32)> {
    if centroids.is_empty() {
        return Vec::new();
    }
    vectors
        .par_chunks(4 * dimension)
        .with_min_len(16)
        .map_init(Vec::new, |scores, block| {
            let rows: Vec<&[f32]> = block.chunks_exact(dimension).collect();
            let mut best = vec![(0u32, f32::NEG_INFINITY); rows.len()];
            if let [a, b, c, d] = rows[..] {
                dots4_f32([a, b, c, d], centroids, dimension, scores);
                for (list, four) in scores.chunks_exact(4).enumerate() {
                    for (slot, &score) in best.iter_mut().zip(four) {
                        if score > slot.1 {
                            *slot = (list as u32, score);
                        }
                    }
                }
            } else {
                for (slot, row) in best.iter_mut().zip(&rows) {
                    dots_f32(row, centroids, dimension, scores);
                    for (list, &score) in scores.iter().enumerate() {
                        if score > slot.1 {
                            *slot = (list as u32, score);
                        }
                    }
                }
            }
            best
        })
        .flat_map_iter(Vec::into_iter)
        .collect()
}

/// Everything that goes into the file, borrowed.
struct Contents<'a> {
    header: &'a Header,
    centroids: &'a [f32],
    list_starts: &'a [u32],
    scales: &'a [f32],
    codes: &'a [i8],
    vectors: &'a [f32],
    rows: &'a [u32],
    keys: &'a [String],
    meta: &'a str,
    dimension: usize,
}

impl Contents<'_> {
    fn write(&self, out: &mut Counted<impl Write>) -> std::io::Result<()> {
        out.write_all(&self.header.encode())?;
        for section in Section::ALL {
            let range = &self.header.sections[section.index()];
            out.pad_to(range.start)?;
            match section {
                Section::Centroids => write_f32(out, self.centroids)?,
                Section::ListStarts => {
                    for start in self.list_starts {
                        out.write_all(&start.to_le_bytes())?;
                    }
                }
                Section::Scales => write_f32(out, self.scales)?,
                Section::Codes => {
                    let mut bytes: Vec<u8> = Vec::with_capacity(1 << 16);
                    for chunk in self.codes.chunks(1 << 16) {
                        bytes.clear();
                        bytes.extend(chunk.iter().map(|c| c.to_le_bytes()[0]));
                        out.write_all(&bytes)?;
                    }
                }
                Section::Vectors => {
                    for &row in self.rows {
                        let row = row as usize;
                        write_f32(
                            out,
                            &self.vectors[row * self.dimension..(row + 1) * self.dimension],
                        )?;
                    }
                }
                Section::Rows => {
                    for row in self.rows {
                        out.write_all(&row.to_le_bytes())?;
                    }
                }
                Section::KeyStarts => {
                    let mut at = 0u64;
                    out.write_all(&at.to_le_bytes())?;
                    for key in self.keys {
                        at += key.len() as u64;
                        out.write_all(&at.to_le_bytes())?;
                    }
                }
                Section::KeyBytes => {
                    for key in self.keys {
                        out.write_all(key.as_bytes())?;
                    }
                }
                Section::Meta => out.write_all(self.meta.as_bytes())?,
            }
            if out.written != range.end {
                return Err(std::io::Error::other(format!(
                    "section {} ended at byte {}, expected {}",
                    section.name(),
                    out.written,
                    range.end
                )));
            }
        }
        Ok(())
    }
}

fn write_f32(out: &mut Counted<impl Write>, values: &[f32]) -> std::io::Result<()> {
    let mut bytes = [0u8; 4 * 256];
    for chunk in values.chunks(256) {
        for (slot, value) in bytes.chunks_exact_mut(4).zip(chunk) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        out.write_all(&bytes[..chunk.len() * 4])?;
    }
    Ok(())
}

/// A writer that counts the bytes written, to pad sections to their
/// offsets and to check the layout.
struct Counted<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Counted<W> {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn pad_to(&mut self, offset: u64) -> std::io::Result<()> {
        const ZEROS: [u8; 64] = [0; 64];
        while self.written < offset {
            let step = (offset - self.written).min(ZEROS.len() as u64) as usize;
            self.write_all(&ZEROS[..step])?;
        }
        Ok(())
    }
}

/// Writes through `write` into a temporary file next to `path` and puts it
/// in place (see `cradle_fs::atomic`); on any error the temporary file goes.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut Counted<cradle_fs::AtomicFile>) -> std::io::Result<()>,
) -> Result<(), VectorError> {
    let error = |source| VectorError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut out = Counted {
        inner: cradle_fs::AtomicFile::create(path).map_err(error)?,
        written: 0,
    };
    write(&mut out).map_err(error)?;
    out.inner.commit().map_err(error)
}
