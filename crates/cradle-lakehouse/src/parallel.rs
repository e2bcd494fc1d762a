//! One table written from many reader threads: each rayon worker encodes
//! its own data files (no waiting on a shared writer), and the staged files
//! of all workers become one commit.

use std::sync::Mutex;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use cradle_lake::{LakeError, StagedWrite, Table, TableWriter, WriteOptions};

use crate::LakehouseError;

/// A table being written by several threads at once.
pub struct ParallelWriter {
    table: Table,
    schema: SchemaRef,
    options: WriteOptions,
    slots: Vec<Mutex<Option<TableWriter>>>,
}

impl std::fmt::Debug for ParallelWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelWriter")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl ParallelWriter {
    pub fn new(table: Table, schema: SchemaRef, options: WriteOptions) -> ParallelWriter {
        // One slot per worker, and one for calls from outside the pool.
        let slots = (0..=rayon::current_num_threads())
            .map(|_| Mutex::new(None))
            .collect();
        ParallelWriter {
            table,
            schema,
            options,
            slots,
        }
    }

    /// Writes a batch from whichever thread calls.
    pub fn write(&self, batch: &RecordBatch) -> Result<(), LakehouseError> {
        let slot = rayon::current_thread_index()
            .filter(|&i| i + 1 < self.slots.len())
            .unwrap_or(self.slots.len() - 1);
        let mut writer = self.slots[slot]
            .lock()
            .map_err(|_| LakehouseError::WriterPanicked)?;
        if writer.is_none() {
            *writer = Some(
                self.table
                    .writer(self.schema.clone(), self.options.clone())
                    .map_err(|source| self.error(source))?,
            );
        }
        if let Some(writer) = writer.as_mut() {
            writer.write(batch).map_err(|source| self.error(source))?;
        }
        Ok(())
    }

    /// Everything written, staged as one commit (an empty table still gets
    /// its empty version).
    pub fn finish(self) -> Result<StagedWrite, LakehouseError> {
        let mut staged: Option<StagedWrite> = None;
        for slot in &self.slots {
            let writer = slot
                .lock()
                .map_err(|_| LakehouseError::WriterPanicked)?
                .take();
            if let Some(writer) = writer {
                let part = writer.finish().map_err(|source| self.error(source))?;
                staged = Some(match staged {
                    Some(all) => all.merge(part).map_err(|source| self.error(source))?,
                    None => part,
                });
            }
        }
        match staged {
            Some(staged) => Ok(staged),
            None => self
                .table
                .writer(self.schema.clone(), self.options.clone())
                .and_then(TableWriter::finish)
                .map_err(|source| self.error(source)),
        }
    }

    fn error(&self, source: LakeError) -> LakehouseError {
        LakehouseError::Table {
            table: self.table.path().to_path_buf(),
            source,
        }
    }
}
