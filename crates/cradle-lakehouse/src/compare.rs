//! What changed between two deliveries: products added, changed (another
//! content hash) and removed, with a few examples of each for the report.

use std::collections::BTreeMap;

use arrow_array::{Array, RecordBatch, StringArray};
use serde::Serialize;

use crate::schema::{ARTICLE_NO, products};
use crate::{DeliveryRecord, Lakehouse, LakehouseError};

/// Article numbers listed per kind of change.
pub const EXAMPLES: usize = 20;

/// The changes of a delivery against the one before.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// The delivery compared against; `None` for the first.
    pub previous_delivery: Option<u64>,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    pub unchanged: u64,
    /// Up to [`EXAMPLES`] article numbers of each kind.
    pub examples: BTreeMap<&'static str, Vec<String>>,
}

/// Compares `current` (article number and content hash, sorted by article
/// number) with the products of the `previous` delivery.
pub fn compare<'a>(
    lakehouse: &Lakehouse,
    previous: Option<&DeliveryRecord>,
    current: impl IntoIterator<Item = (&'a str, u64)>,
) -> Result<Changes, LakehouseError> {
    let mut changes = Changes::default();
    let mut old: Vec<(Box<str>, u64)> = Vec::new();
    if let Some(previous) = previous {
        changes.previous_delivery = Some(previous.delivery);
        let table = lakehouse.table(products::NAME);
        let error = |source| LakehouseError::Table {
            table: table.path().to_path_buf(),
            source,
        };
        let version = previous.tables.get(products::NAME).copied();
        let snapshot = table.snapshot(version).map_err(error)?;
        for batch in snapshot
            .scan(Some(&[ARTICLE_NO, products::CONTENT_HASH]))
            .map_err(error)?
        {
            let batch = batch.map_err(error)?;
            let keys = string_column(&batch, 0, ARTICLE_NO)?;
            let hashes = string_column(&batch, 1, products::CONTENT_HASH)?;
            for i in 0..batch.num_rows() {
                // A hash that does not parse counts as a change.
                let hash = u64::from_str_radix(hashes.value(i), 16).unwrap_or(u64::MAX);
                old.push((keys.value(i).into(), hash));
            }
        }
        // Written in article order; sorting again is cheap and guards
        // against a table written otherwise.
        old.sort_unstable();
    }
    let first = previous.is_none();
    let mut note = |kind: &'static str, key: &str| {
        let list = changes.examples.entry(kind).or_default();
        if list.len() < EXAMPLES {
            list.push(key.to_owned());
        }
    };
    let (mut added, mut changed, mut unchanged, mut removed) = (0, 0, 0, 0);
    // Both lists are sorted by article number: one pass over each.
    let mut new = current.into_iter().peekable();
    let mut old = old.iter().peekable();
    loop {
        match (new.peek(), old.peek()) {
            (Some(&(key, hash)), Some((old_key, old_hash))) => match key.cmp(old_key) {
                std::cmp::Ordering::Less => {
                    added += 1;
                    note("added", key);
                    new.next();
                }
                std::cmp::Ordering::Greater => {
                    removed += 1;
                    note("removed", old_key);
                    old.next();
                }
                std::cmp::Ordering::Equal => {
                    if hash == *old_hash {
                        unchanged += 1;
                    } else {
                        changed += 1;
                        note("changed", key);
                    }
                    new.next();
                    old.next();
                }
            },
            (Some(&(key, _)), None) => {
                added += 1;
                if !first {
                    note("added", key);
                }
                new.next();
            }
            (None, Some((old_key, _))) => {
                removed += 1;
                note("removed", old_key);
                old.next();
            }
            (None, None) => break,
        }
    }
    changes.added = added;
    changes.changed = changed;
    changes.unchanged = unchanged;
    changes.removed = removed;
    Ok(changes)
}

fn string_column<'b>(
    batch: &'b RecordBatch,
    index: usize,
    column: &'static str,
) -> Result<&'b StringArray, LakehouseError> {
    batch
        .column(index)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or(LakehouseError::Column { column })
}
