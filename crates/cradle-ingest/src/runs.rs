//! Product state out of memory: each file's products leave as a run sorted
//! by article number (early, when the file's share of the budget is full),
//! runs stay in memory up to a budget and go to a scratch folder beyond it,
//! and after the last file the runs are merged, range by range on every
//! core, into the `products` table in article order.
//!
//! This is what keeps memory bounded at any delivery size: what is held at
//! once is one budget of product state per worker, the in-memory runs, and
//! one read buffer per run while merging. Results do not depend on where a
//! run was cut: merging product states is order-independent (see
//! [`crate::products`]).

use crate::output::BATCH_ROWS;
use crate::products::{ConflictSummary, ProductBatch, ProductMap, ProductState};
use arrow_array::RecordBatch;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// How much product state ingest holds in memory before moving it out.
#[derive(Debug, Clone, Copy)]
pub struct MemoryBudget {
    /// Estimated bytes of product state one file may gather before it is
    /// written out as a sorted run (a file can hold a million products).
    pub products_per_file: usize,
    /// Bytes of finished runs kept in memory; beyond this, runs go to the
    /// scratch folder (when there is one).
    pub runs_in_memory: usize,
    /// Run files that may exist at once; when they are this many, they are
    /// merged into one (each open run file costs a file handle and a read
    /// buffer while merging).
    pub run_files: usize,
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget {
            products_per_file: 48 << 20,
            runs_in_memory: 160 << 20,
            run_files: 128,
        }
    }
}

/// One entry in every this many gets an index entry, to start merging a
/// key range in the middle of a run.
const INDEX_EVERY: usize = 256;

/// Run files open at once while merging (over all ranges in flight).
const MAX_OPEN_RUNS: usize = 512;

/// Every article number, in order, with its content hash.
pub type ProductHashes = Vec<(Box<str>, u64)>;

/// What merging the runs produced besides the batches.
pub struct Merged {
    pub hashes: ProductHashes,
    pub conflicts: ConflictSummary,
}

/// The runs of one ingest.
pub struct Runs {
    scratch: Option<PathBuf>,
    budget: MemoryBudget,
    state: Mutex<Stored>,
}

#[derive(Default)]
struct Stored {
    runs: Vec<Run>,
    in_memory: usize,
    files: usize,
}

impl Stored {
    /// A new run file's name.
    fn next_file(&mut self, dir: &std::path::Path) -> PathBuf {
        self.files += 1;
        dir.join(format!("products-{:05}.run", self.files))
    }
}

struct Run {
    data: RunData,
    /// `(article number, byte offset)` of every [`INDEX_EVERY`]th entry.
    index: Vec<(Box<str>, u64)>,
    bytes: u64,
}

impl Run {
    fn on_disk(&self) -> bool {
        matches!(self.data, RunData::File(_))
    }
}

enum RunData {
    Memory(Vec<u8>),
    File(PathBuf),
}

impl Runs {
    pub fn new(scratch: Option<PathBuf>, budget: MemoryBudget) -> Runs {
        Runs {
            scratch,
            budget,
            state: Mutex::new(Stored::default()),
        }
    }

    pub fn budget(&self) -> MemoryBudget {
        self.budget
    }

    /// Sorts and stores one batch of product states; the map is left empty.
    pub fn add(&self, products: &mut ProductMap) -> std::io::Result<()> {
        if products.is_empty() {
            return Ok(());
        }
        let mut entries: Vec<(String, ProductState)> = products.drain().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        // Sized up front: grown by doubling, the buffer would be copied
        // and its fresh pages touched several times over.
        let size = entries
            .iter()
            .map(|(key, state)| state.encoded_len(key))
            .sum();
        let mut data = Vec::with_capacity(size);
        let mut encoder = RunEncoder::default();
        for (key, state) in &entries {
            encoder.push(key, state, &mut data, 0);
        }
        debug_assert_eq!(data.len(), size, "encoded_len matches encode");
        drop(entries);
        let (index, bytes) = (encoder.index, data.len() as u64);
        let spill = {
            let mut stored = self.lock();
            match &self.scratch {
                Some(dir) if stored.in_memory + data.len() > self.budget.runs_in_memory => {
                    Some(stored.next_file(dir))
                }
                _ => {
                    stored.in_memory += data.len();
                    None
                }
            }
        };
        let data = match spill {
            Some(path) => {
                let written = std::fs::create_dir_all(path.parent().unwrap_or(&path))
                    .and_then(|()| std::fs::write(&path, &data));
                if let Err(error) = written {
                    return Err(spill_error(&path, error));
                }
                RunData::File(path)
            }
            None => RunData::Memory(data),
        };
        let compaction = {
            let mut stored = self.lock();
            stored.runs.push(Run { data, index, bytes });
            let on_disk = stored.runs.iter().filter(|run| run.on_disk()).count();
            match &self.scratch {
                Some(dir) if on_disk >= self.budget.run_files.max(2) => {
                    let (files, memory): (Vec<Run>, Vec<Run>) = std::mem::take(&mut stored.runs)
                        .into_iter()
                        .partition(Run::on_disk);
                    stored.runs = memory;
                    Some((files, stored.next_file(dir)))
                }
                _ => None,
            }
        };
        // Merged outside the lock: the other workers go on adding runs.
        if let Some((files, path)) = compaction {
            let merged = compact(&files, path).map_err(|error| {
                std::io::Error::other(format!("merging runs of product state failed: {error}"))
            })?;
            self.lock().runs.push(merged);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stored> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs written to the scratch folder so far.
    pub fn spilled(&self) -> usize {
        self.lock().files
    }

    /// Merges every run into whole products, handing `products` batches to
    /// `emit` in article number order. Scratch files are removed.
    pub fn merge(
        self,
        emit: &mut dyn FnMut(RecordBatch) -> Result<(), crate::SinkError>,
    ) -> Result<Merged, crate::SinkError> {
        let stored = self
            .state
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let runs = stored.runs;
        let ranges = key_ranges(&runs, rayon::current_num_threads() * 8);
        // Every range being merged opens every run file: keep the open
        // files well under the usual limit of 1024.
        let files = runs.iter().filter(|run| run.on_disk()).count();
        let at_once = rayon::current_num_threads()
            .min(MAX_OPEN_RUNS / files.max(1))
            .max(1);
        let mut merged = Merged {
            hashes: Vec::new(),
            conflicts: ConflictSummary::default(),
        };
        // A few ranges at a time, one per core, so only their batches wait
        // in memory before going out in order.
        let result = (|| {
            for group in ranges.chunks(at_once) {
                let parts: Vec<Result<Part, crate::SinkError>> = group
                    .par_iter()
                    .map(|(from, to)| merge_range(&runs, from.as_deref(), to.as_deref()))
                    .collect();
                for part in parts {
                    let part = part?;
                    for batch in part.batches {
                        emit(batch)?;
                    }
                    merged.hashes.extend(part.hashes);
                    merged.conflicts.extend(part.conflicts);
                }
            }
            Ok(())
        })();
        remove_files(&runs);
        result.map(|()| merged)
    }
}

/// Splits the key space into about `count` ranges of similar size, from
/// the runs' indexes: `[from, to)`, open at both ends of the whole.
type KeyRange = (Option<Box<str>>, Option<Box<str>>);

fn key_ranges(runs: &[Run], count: usize) -> Vec<KeyRange> {
    let mut keys: Vec<&str> = runs
        .iter()
        .flat_map(|run| run.index.iter().map(|(key, _)| &**key))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut bounds: Vec<&str> = (1..count.max(1))
        .filter_map(|i| keys.get(i * keys.len() / count.max(1)).copied())
        .collect();
    bounds.dedup();
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut from: Option<Box<str>> = None;
    for bound in bounds {
        if from.as_deref() == Some(bound) {
            continue;
        }
        ranges.push((from.take(), Some(Box::from(bound))));
        from = Some(Box::from(bound));
    }
    ranges.push((from, None));
    ranges
}

struct Part {
    batches: Vec<RecordBatch>,
    hashes: ProductHashes,
    conflicts: ConflictSummary,
}

/// Reads the entries of one run with article numbers in `[from, to)`.
struct Cursor<'r> {
    source: Source<'r>,
    remaining: u64,
    buffer: Vec<u8>,
    to: Option<&'r str>,
}

/// Where a run's entries are read from: a run held in memory is decoded
/// in place, without copying each entry out first.
enum Source<'r> {
    Memory(&'r [u8]),
    File(BufReader<File>),
}

impl Cursor<'_> {
    fn next(&mut self) -> Result<Option<(String, ProductState)>, crate::SinkError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let entry = match &mut self.source {
            Source::Memory(bytes) => {
                let length = bytes
                    .get(..4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
                let Some(entry) = length.and_then(|length| bytes.get(4..4 + length)) else {
                    return Err(damaged());
                };
                *bytes = &bytes[4 + entry.len()..];
                entry
            }
            Source::File(file) => {
                let mut length = [0u8; 4];
                file.read_exact(&mut length)?;
                let length = u32::from_le_bytes(length) as usize;
                self.buffer.resize(length, 0);
                file.read_exact(&mut self.buffer)?;
                &self.buffer
            }
        };
        self.remaining = self.remaining.saturating_sub(4 + entry.len() as u64);
        let Some((key, state)) = ProductState::decode(entry) else {
            return Err(damaged());
        };
        if self.to.is_some_and(|to| key.as_str() >= to) {
            self.remaining = 0;
            return Ok(None);
        }
        Ok(Some((key, state)))
    }
}

fn damaged() -> crate::SinkError {
    "a run of product state is damaged (scratch file changed during the ingest?)\nhint: run the ingest again".into()
}

fn open<'r>(
    run: &'r Run,
    from: Option<&str>,
    to: Option<&'r str>,
) -> Result<Cursor<'r>, crate::SinkError> {
    // Start at the last indexed entry not after `from`.
    let start = from.map_or(0, |from| {
        let after = run.index.partition_point(|(key, _)| &**key <= from);
        after.checked_sub(1).map_or(0, |i| run.index[i].1)
    });
    let source = match &run.data {
        RunData::Memory(bytes) => Source::Memory(&bytes[start as usize..]),
        RunData::File(path) => {
            let mut file = File::open(path).map_err(|e| {
                format!(
                    "cannot read product state {}: {e}\nhint: if too many files are open, raise the limit (`ulimit -n 4096`) and run the ingest again",
                    path.display()
                )
            })?;
            file.seek(SeekFrom::Start(start))?;
            Source::File(BufReader::with_capacity(64 * 1024, file))
        }
    };
    Ok(Cursor {
        source,
        remaining: run.bytes - start,
        buffer: Vec::new(),
        to,
    })
}

fn merge_range(
    runs: &[Run],
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Part, crate::SinkError> {
    let mut part = Part {
        batches: Vec::new(),
        hashes: Vec::new(),
        conflicts: ConflictSummary::default(),
    };
    let mut batch = ProductBatch::new();
    merge_runs(runs, from, to, |key, mut state| {
        let hash = batch.push(&key, &mut state, &mut part.conflicts);
        part.hashes.push((key.into_boxed_str(), hash));
        if batch.len() >= BATCH_ROWS {
            part.batches.push(batch.finish());
        }
        Ok(())
    })?;
    if batch.len() > 0 {
        part.batches.push(batch.finish());
    }
    Ok(part)
}

/// Hands every product with an article number in `[from, to)` to `each`,
/// in order, its states from all runs merged into one.
fn merge_runs(
    runs: &[Run],
    from: Option<&str>,
    to: Option<&str>,
    mut each: impl FnMut(String, ProductState) -> Result<(), crate::SinkError>,
) -> Result<(), crate::SinkError> {
    let mut cursors = Vec::with_capacity(runs.len());
    let mut current: Vec<Option<ProductState>> = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::new();
    for (position, run) in runs.iter().enumerate() {
        let mut cursor = open(run, from, to)?;
        let mut first = cursor.next()?;
        while let Some((key, _)) = &first
            && from.is_some_and(|from| key.as_str() < from)
        {
            first = cursor.next()?;
        }
        match first {
            Some((key, state)) => {
                heap.push(Reverse((key, position)));
                current.push(Some(state));
            }
            None => current.push(None),
        }
        cursors.push(cursor);
    }
    let mut advance = |position: usize,
                       heap: &mut BinaryHeap<Reverse<(String, usize)>>,
                       current: &mut Vec<Option<ProductState>>|
     -> Result<ProductState, crate::SinkError> {
        let state = current[position].take().expect("a queued run has an entry");
        if let Some((key, next)) = cursors[position].next()? {
            heap.push(Reverse((key, position)));
            current[position] = Some(next);
        }
        Ok(state)
    };
    while let Some(Reverse((key, position))) = heap.pop() {
        let mut state = advance(position, &mut heap, &mut current)?;
        while heap.peek().is_some_and(|Reverse((next, _))| *next == key) {
            let Some(Reverse((_, other))) = heap.pop() else {
                break;
            };
            state.merge(advance(other, &mut heap, &mut current)?);
        }
        each(key, state)?;
    }
    Ok(())
}

/// Merges run files into one, so no more than a few hundred are ever open
/// at once; the merged files are removed.
fn compact(runs: &[Run], path: PathBuf) -> Result<Run, crate::SinkError> {
    let failed = |error: std::io::Error| spill_error(&path, error);
    let mut file = File::create(&path).map_err(failed)?;
    let mut encoder = RunEncoder::default();
    let (mut buffer, mut written) = (Vec::new(), 0u64);
    merge_runs(runs, None, None, |key, state| {
        encoder.push(&key, &state, &mut buffer, written);
        if buffer.len() >= 256 * 1024 {
            file.write_all(&buffer).map_err(failed)?;
            written += buffer.len() as u64;
            buffer.clear();
        }
        Ok(())
    })?;
    file.write_all(&buffer).map_err(failed)?;
    remove_files(runs);
    Ok(Run {
        data: RunData::File(path),
        index: encoder.index,
        bytes: written + buffer.len() as u64,
    })
}

/// Encodes entries in article order into a run and indexes every
/// [`INDEX_EVERY`]th.
#[derive(Default)]
struct RunEncoder {
    index: Vec<(Box<str>, u64)>,
    entries: usize,
}

impl RunEncoder {
    /// Appends one entry to `out`; `written` bytes of the run came before
    /// `out`'s.
    fn push(&mut self, key: &str, state: &ProductState, out: &mut Vec<u8>, written: u64) {
        if self.entries.is_multiple_of(INDEX_EVERY) {
            self.index
                .push((Box::from(key), written + out.len() as u64));
        }
        self.entries += 1;
        state.encode(key, out);
    }
}

fn remove_files(runs: &[Run]) {
    for run in runs {
        if let RunData::File(path) = &run.data {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn spill_error(path: &std::path::Path, error: std::io::Error) -> std::io::Error {
    std::io::Error::new(
        error.kind(),
        format!(
            "cannot move product state to {}: {error}\nhint: free disk space there; ingest needs about as much scratch space as the delivery's size",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{CanonicalValue, Rank};
    use cradle_core::fields::CanonicalField;

    /// Products `first..first + count`, each with a record, an attribute
    /// and a name ranked by `file`.
    fn products(first: usize, count: usize, file: u32) -> ProductMap {
        let mut map = ProductMap::default();
        for n in first..first + count {
            let state = map.entry(format!("A-{n:06}")).or_default();
            state.record();
            state.attribute(7, n as u64 + u64::from(file), true);
            state.canonical(
                CanonicalField::NameDe,
                CanonicalValue::Text(format!("name {n} from {file}")),
                Rank {
                    file,
                    sheet: 0,
                    row: n as u64,
                },
            );
        }
        map
    }

    fn merged(runs: Runs) -> (ProductHashes, Vec<RecordBatch>, ConflictSummary) {
        let mut batches = Vec::new();
        let merged = runs
            .merge(&mut |batch| {
                batches.push(batch);
                Ok(())
            })
            .unwrap();
        (merged.hashes, batches, merged.conflicts)
    }

    #[test]
    fn run_files_are_merged_in_passes_without_changing_the_result() {
        let scratch = tempfile::tempdir().unwrap();
        let add_all = |runs: &Runs| {
            for file in 0..20u32 {
                let mut map = products(file as usize * 50, 400, file);
                runs.add(&mut map).unwrap();
                assert!(map.is_empty());
            }
        };
        let in_memory = Runs::new(None, MemoryBudget::default());
        add_all(&in_memory);
        let budget = MemoryBudget {
            products_per_file: 1,
            runs_in_memory: 0,
            run_files: 4,
        };
        let on_disk = Runs::new(Some(scratch.path().to_path_buf()), budget);
        add_all(&on_disk);
        let files = |runs: &Runs| {
            runs.lock()
                .runs
                .iter()
                .filter(|run| matches!(run.data, RunData::File(_)))
                .count()
        };
        assert!(files(&on_disk) < 4, "{} run files", files(&on_disk));
        assert_eq!(
            std::fs::read_dir(scratch.path()).unwrap().count(),
            files(&on_disk)
        );
        assert!(on_disk.spilled() > 20, "compactions count as runs written");

        let (hashes, batches, conflicts) = merged(in_memory);
        let (disk_hashes, disk_batches, disk_conflicts) = merged(on_disk);
        assert_eq!(hashes.len(), 19 * 50 + 400);
        assert_eq!(hashes, disk_hashes);
        let rows = |batches: &[RecordBatch]| {
            arrow_select::concat::concat_batches(
                &cradle_lakehouse::schema::products::schema(),
                batches,
            )
            .unwrap()
        };
        assert_eq!(rows(&batches), rows(&disk_batches));
        // Products in several files have one attribute with several values.
        assert!(conflicts.products > 0);
        assert_eq!(conflicts.products, disk_conflicts.products);
        assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    }
}
