//! Opening an index (memory map, validation) and answering queries.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::error::VectorError;
use super::format::{Header, Section};
use super::kernels::{dot_f32, dots_f32, dots_i8, quantize};
use super::mapped::{Mapped, Plain, cast};

/// One result: the row (the position of its key and vector in the build
/// input) and the cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VectorHit {
    pub row: u32,
    pub score: f32,
}

/// Per-query settings; `None` takes the defaults stored in the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchParams {
    /// Lists probed (more: better recall, slower).
    pub probes: Option<usize>,
    /// Candidates re-ranked with the exact vectors (at least k).
    pub rerank: Option<usize>,
}

/// A vector index opened read-only from its file (memory-mapped: opening
/// reads only the header, the list table, the row table and the keys).
pub struct VectorIndex {
    path: PathBuf,
    map: Mapped,
    header: Header,
    dimension: usize,
    count: usize,
    lists: usize,
    /// Per row, its position: the inverse of the row table, built at open
    /// (4 bytes per vector) so [`VectorIndex::vector`] is a look-up.
    positions: Vec<u32>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("path", &self.path)
            .field("vectors", &self.count)
            .field("dimension", &self.dimension)
            .field("lists", &self.lists)
            .finish()
    }
}

impl VectorIndex {
    /// Memory-maps the index at `path` read-only and validates it: magic,
    /// version, header checksum, section sizes against the file size, the
    /// list and row tables, the keys (UTF-8) and the meta. A truncated or
    /// damaged file is an error naming the file.
    pub fn open(path: &Path) -> Result<VectorIndex, VectorError> {
        let corrupt = |problem: String| VectorError::Corrupt {
            path: path.to_path_buf(),
            problem,
        };
        if cfg!(target_endian = "big") {
            return Err(VectorError::BigEndian {
                path: path.to_path_buf(),
            });
        }
        let open_error = |source| VectorError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let map = Mapped::new(&file).map_err(open_error)?;
        let header = Header::decode(map.bytes(), map.len() as u64).map_err(corrupt)?;
        let mut index = VectorIndex {
            path: path.to_path_buf(),
            dimension: header.dimension as usize,
            count: header.count as usize,
            lists: header.lists as usize,
            header,
            map,
            positions: Vec::new(),
        };
        index.positions = index.validate().map_err(corrupt)?;
        index
            .map
            .advise_random(index.header.range(Section::Vectors));
        Ok(index)
    }

    /// Checks the tables and returns the inverse of the row table.
    fn validate(&self) -> Result<Vec<u32>, String> {
        for section in Section::ALL {
            let bytes = &self.map.bytes()[self.header.range(section)];
            let aligned = match section {
                Section::Centroids | Section::Scales | Section::Vectors => {
                    cast::<f32>(bytes).is_some()
                }
                Section::ListStarts | Section::Rows => cast::<u32>(bytes).is_some(),
                Section::KeyStarts => cast::<u64>(bytes).is_some(),
                Section::Codes | Section::KeyBytes | Section::Meta => true,
            };
            if !aligned {
                return Err(format!("section {} is misaligned", section.name()));
            }
        }
        let starts = self.u32s(Section::ListStarts);
        if starts.first() != Some(&0)
            || starts.last().map(|&end| end as usize) != Some(self.count)
            || starts.windows(2).any(|pair| pair[0] > pair[1])
        {
            return Err("the list table is not an ascending cover of the vectors".to_string());
        }
        let mut positions = vec![u32::MAX; self.count];
        for (position, &row) in self.u32s(Section::Rows).iter().enumerate() {
            match positions.get_mut(row as usize) {
                Some(slot) if *slot == u32::MAX => *slot = position as u32,
                _ => {
                    return Err(format!(
                        "the row table names row {row} twice or out of range"
                    ));
                }
            }
        }
        let keys = std::str::from_utf8(self.bytes(Section::KeyBytes))
            .map_err(|error| format!("the keys are not UTF-8 ({error})"))?;
        let key_starts = self.u64s(Section::KeyStarts);
        if key_starts.first() != Some(&0)
            || key_starts.last() != Some(&(keys.len() as u64))
            || key_starts.windows(2).any(|pair| pair[0] > pair[1])
            || key_starts
                .iter()
                .any(|&at| !keys.is_char_boundary(at as usize))
        {
            return Err("the key table does not divide the keys".to_string());
        }
        std::str::from_utf8(self.bytes(Section::Meta))
            .map_err(|error| format!("the meta is not UTF-8 ({error})"))?;
        Ok(positions)
    }

    fn bytes(&self, section: Section) -> &[u8] {
        self.map
            .bytes()
            .get(self.header.range(section))
            .unwrap_or(&[])
    }

    fn typed<T: Plain>(&self, section: Section) -> &[T] {
        // Alignment and length of every section were checked at open.
        cast::<T>(self.bytes(section)).unwrap_or(&[])
    }

    fn f32s(&self, section: Section) -> &[f32] {
        self.typed(section)
    }

    fn u32s(&self, section: Section) -> &[u32] {
        self.typed(section)
    }

    fn u64s(&self, section: Section) -> &[u64] {
        self.typed(section)
    }

    fn codes(&self) -> &[i8] {
        self.typed(Section::Codes)
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Number of lists (IVF partitions).
    pub fn lists(&self) -> usize {
        self.lists
    }

    /// The model description given at build time, verbatim.
    pub fn meta(&self) -> &str {
        std::str::from_utf8(self.bytes(Section::Meta)).unwrap_or("")
    }

    /// Size of the index file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The defaults a query uses when its [`SearchParams`] leave them open.
    pub fn default_params(&self) -> SearchParams {
        SearchParams {
            probes: Some(self.header.default_probes as usize),
            rerank: Some(self.header.default_rerank as usize),
        }
    }

    /// The key given at build time for `row`, or `None` past the end.
    pub fn get_key(&self, row: u32) -> Option<&str> {
        let starts = self.u64s(Section::KeyStarts);
        let start = *starts.get(row as usize)? as usize;
        let end = *starts.get(row as usize + 1)? as usize;
        // Only this key's bytes are checked: validating the whole key
        // section on every call made a search at 260k vectors 50 ms slower.
        std::str::from_utf8(self.bytes(Section::KeyBytes).get(start..end)?).ok()
    }

    /// The key given at build time for `row` (a row from a [`VectorHit`]).
    ///
    /// # Panics
    /// If `row` is not below [`len`](Self::len); use
    /// [`get_key`](Self::get_key) for rows from elsewhere.
    pub fn key(&self, row: u32) -> &str {
        match self.get_key(row) {
            Some(key) => key,
            None => panic!(
                "row {row} is past the end of the vector index {} ({} vectors)",
                self.path.display(),
                self.count
            ),
        }
    }

    /// The vector stored for `row` (unit length), or `None` past the end.
    pub fn vector(&self, row: u32) -> Option<&[f32]> {
        let position = *self.positions.get(row as usize)? as usize;
        self.f32s(Section::Vectors)
            .get(position * self.dimension..(position + 1) * self.dimension)
    }

    /// The approximate `k` nearest vectors to `query` by cosine, best
    /// first (ties by the lower row), with the index's default settings.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<VectorHit>, VectorError> {
        self.search_inner(query, k, &SearchParams::default(), None)
    }

    /// [`search`](Self::search) for many queries (row-major, `dimension`
    /// floats each), in parallel on the rayon pool; one result per query,
    /// in order.
    pub fn search_many(
        &self,
        queries: &[f32],
        k: usize,
    ) -> Result<Vec<Vec<VectorHit>>, VectorError> {
        if !queries.len().is_multiple_of(self.dimension) {
            return Err(self.mismatch(queries.len()));
        }
        queries
            .par_chunks(self.dimension)
            .map(|query| self.search(query, k))
            .collect()
    }

    /// [`search`](Self::search) with explicit settings.
    pub fn search_with(
        &self,
        query: &[f32],
        k: usize,
        params: &SearchParams,
    ) -> Result<Vec<VectorHit>, VectorError> {
        self.search_inner(query, k, params, None)
    }

    /// [`search`](Self::search) over the rows `allow` accepts. The filter
    /// is applied while scanning, and more lists are probed while fewer
    /// than `k` allowed candidates were found, so a selective filter still
    /// fills the result when it can (at a higher cost).
    pub fn search_filtered(
        &self,
        query: &[f32],
        k: usize,
        allow: &dyn Fn(u32) -> bool,
    ) -> Result<Vec<VectorHit>, VectorError> {
        self.search_inner(query, k, &SearchParams::default(), Some(allow))
    }

    /// The exact `k` nearest vectors to `query` by cosine (a scan of all
    /// vectors), best first, ties by the lower row. For recall checks and
    /// small indexes.
    pub fn exact_search(&self, query: &[f32], k: usize) -> Result<Vec<VectorHit>, VectorError> {
        let query = self.prepare(query)?;
        let rows = self.u32s(Section::Rows);
        let mut best = TopK::new(k);
        let mut scores = Vec::new();
        let block = 4096;
        for (block_index, vectors) in self
            .f32s(Section::Vectors)
            .chunks(block * self.dimension)
            .enumerate()
        {
            dots_f32(&query, vectors, self.dimension, &mut scores);
            for (offset, &score) in scores.iter().enumerate() {
                best.offer(score, rows[block_index * block + offset]);
            }
        }
        Ok(best.into_sorted())
    }

    /// [`exact_search`](Self::exact_search) for many queries (row-major,
    /// `dimension` floats each), in parallel; reads each vector once per
    /// block of queries instead of once per query.
    pub fn exact_search_many(
        &self,
        queries: &[f32],
        k: usize,
    ) -> Result<Vec<Vec<VectorHit>>, VectorError> {
        if !queries.len().is_multiple_of(self.dimension) {
            return Err(self.mismatch(queries.len()));
        }
        let prepared = queries
            .chunks(self.dimension)
            .map(|query| self.prepare(query))
            .collect::<Result<Vec<_>, _>>()?;
        let rows = self.u32s(Section::Rows);
        let vectors = self.f32s(Section::Vectors);
        const QUERIES_PER_BLOCK: usize = 16;
        let results = prepared
            .par_chunks(QUERIES_PER_BLOCK)
            .map(|block| {
                let mut best: Vec<TopK> = block.iter().map(|_| TopK::new(k)).collect();
                for (position, vector) in vectors.chunks_exact(self.dimension).enumerate() {
                    for (query, top) in block.iter().zip(best.iter_mut()) {
                        top.offer(dot_f32(query, vector), rows[position]);
                    }
                }
                best.into_iter().map(TopK::into_sorted).collect::<Vec<_>>()
            })
            .collect::<Vec<_>>();
        Ok(results.into_iter().flatten().collect())
    }

    fn mismatch(&self, got: usize) -> VectorError {
        VectorError::DimensionMismatch {
            path: self.path.clone(),
            expected: self.dimension,
            got,
            meta: self.meta().chars().take(200).collect(),
        }
    }

    /// Checks the query and scales it to unit length (cosine).
    fn prepare(&self, query: &[f32]) -> Result<Vec<f32>, VectorError> {
        if query.len() != self.dimension {
            return Err(self.mismatch(query.len()));
        }
        if query.iter().any(|v| !v.is_finite()) {
            return Err(VectorError::BadQuery {
                what: "a value that is not a finite number",
            });
        }
        let norm = dot_f32(query, query).sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(VectorError::BadQuery {
                what: "length zero",
            });
        }
        Ok(query.iter().map(|v| v / norm).collect())
    }

    fn search_inner(
        &self,
        query: &[f32],
        k: usize,
        params: &SearchParams,
        allow: Option<&dyn Fn(u32) -> bool>,
    ) -> Result<Vec<VectorHit>, VectorError> {
        let query = self.prepare(query)?;
        if k == 0 || self.count == 0 {
            return Ok(Vec::new());
        }
        let dimension = self.dimension;
        let probes = params
            .probes
            .unwrap_or(self.header.default_probes as usize)
            .clamp(1, self.lists);
        let rerank = params
            .rerank
            .unwrap_or(self.header.default_rerank as usize)
            .max(k);

        // Lists by the similarity of their centroid, best first.
        let mut centroid_scores = Vec::with_capacity(self.lists);
        dots_f32(
            &query,
            self.f32s(Section::Centroids),
            dimension,
            &mut centroid_scores,
        );
        let mut order: Vec<u32> = (0..self.lists as u32).collect();
        let by_score = |a: &u32, b: &u32| {
            centroid_scores[*b as usize]
                .total_cmp(&centroid_scores[*a as usize])
                .then(a.cmp(b))
        };
        if allow.is_none() && probes < self.lists {
            order.select_nth_unstable_by(probes - 1, by_score);
            order.truncate(probes);
        }
        order.sort_unstable_by(by_score);

        let mut query_code = vec![0i8; dimension];
        let query_scale = quantize(&query, &mut query_code);
        let starts = self.u32s(Section::ListStarts);
        let scales = self.f32s(Section::Scales);
        let rows = self.u32s(Section::Rows);
        let codes = self.codes();
        let mut candidates: Vec<(f32, u32)> = Vec::new();
        let mut raw = Vec::new();
        for (probed, &list) in order.iter().enumerate() {
            if probed >= probes && candidates.len() >= k {
                break;
            }
            let start = starts[list as usize] as usize;
            let end = starts[list as usize + 1] as usize;
            dots_i8(
                &query_code,
                &codes[start * dimension..end * dimension],
                dimension,
                &mut raw,
            );
            for (offset, &dot) in raw.iter().enumerate() {
                let position = start + offset;
                if let Some(allow) = allow
                    && !allow(rows[position])
                {
                    continue;
                }
                let approximate = dot as f32 * scales[position] * query_scale;
                candidates.push((approximate, position as u32));
            }
        }

        let better = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if candidates.len() > rerank {
            candidates.select_nth_unstable_by(rerank - 1, better);
            candidates.truncate(rerank);
        }
        let vectors = self.f32s(Section::Vectors);
        let mut hits: Vec<VectorHit> = candidates
            .iter()
            .map(|&(_, position)| {
                let position = position as usize;
                VectorHit {
                    row: rows[position],
                    score: dot_f32(
                        &query,
                        &vectors[position * dimension..(position + 1) * dimension],
                    ),
                }
            })
            .collect();
        hits.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
        hits.truncate(k);
        Ok(hits)
    }
}

/// The best `k` (score, row) pairs seen so far: higher score first, the
/// lower row on a tie.
struct TopK {
    k: usize,
    heap: BinaryHeap<Worst>,
}

/// Orders hits so that the heap's top is the worst one kept.
#[derive(PartialEq)]
struct Worst(VectorHit);

impl Eq for Worst {}

impl Ord for Worst {
    fn cmp(&self, other: &Worst) -> Ordering {
        other
            .0
            .score
            .total_cmp(&self.0.score)
            .then(self.0.row.cmp(&other.0.row))
    }
}

impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Worst) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1),
        }
    }

    fn offer(&mut self, score: f32, row: u32) {
        if self.k == 0 {
            return;
        }
        let hit = Worst(VectorHit { row, score });
        if self.heap.len() < self.k {
            self.heap.push(hit);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && hit < *worst
        {
            *worst = hit;
        }
    }

    fn into_sorted(self) -> Vec<VectorHit> {
        // Ascending by `Worst` is best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|w| w.0)
            .collect()
    }
}
