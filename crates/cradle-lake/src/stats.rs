//! Delta file statistics (`numRecords`, `minValues`, `maxValues`,
//! `nullCount`) derived from the parquet footer statistics of a file just
//! written, so no extra pass over the data is needed.
//!
//! Min/max are recorded for integer, floating point, date, timestamp and
//! string columns (strings only when the parquet value is exact and at most
//! 32 characters long). A column whose bounds are not known for every row
//! group gets no min/max; null counts are always exact or absent.
//! Timestamps are written with millisecond precision, the minimum rounded
//! down and the maximum rounded up, so both stay valid bounds.

use arrow_schema::{DataType, Schema};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;
use serde_json::{Map, Value};

/// Longest string kept as a min/max value.
const MAX_STRING_STAT_CHARS: usize = 32;

#[derive(Clone, PartialEq, PartialOrd)]
enum Bound {
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Default)]
struct ColumnStats {
    min: Option<Bound>,
    max: Option<Bound>,
    /// Bounds unknown for some row group: emit no min/max.
    poisoned: bool,
    nulls: Option<u64>,
    nulls_unknown: bool,
}

/// Extracts (min, max) bounds from one row group's column statistics.
/// `None` means the bounds are unknown.
fn bounds(stats: &Statistics) -> Option<(Bound, Bound)> {
    match stats {
        Statistics::Int32(s) => Some((
            Bound::Int(i64::from(*s.min_opt()?)),
            Bound::Int(i64::from(*s.max_opt()?)),
        )),
        Statistics::Int64(s) => Some((Bound::Int(*s.min_opt()?), Bound::Int(*s.max_opt()?))),
        Statistics::Float(s) => {
            let (min, max) = (f64::from(*s.min_opt()?), f64::from(*s.max_opt()?));
            (min.is_finite() && max.is_finite()).then_some((Bound::Float(min), Bound::Float(max)))
        }
        Statistics::Double(s) => {
            let (min, max) = (*s.min_opt()?, *s.max_opt()?);
            (min.is_finite() && max.is_finite()).then_some((Bound::Float(min), Bound::Float(max)))
        }
        Statistics::ByteArray(s) => {
            if !s.min_is_exact() || !s.max_is_exact() {
                return None;
            }
            let min = s.min_opt()?.as_utf8().ok()?;
            let max = s.max_opt()?.as_utf8().ok()?;
            if min.chars().count() > MAX_STRING_STAT_CHARS
                || max.chars().count() > MAX_STRING_STAT_CHARS
            {
                return None;
            }
            Some((Bound::Str(min.to_owned()), Bound::Str(max.to_owned())))
        }
        _ => None,
    }
}

fn null_count(stats: &Statistics) -> Option<u64> {
    match stats {
        Statistics::Boolean(s) => s.null_count_opt(),
        Statistics::Int32(s) => s.null_count_opt(),
        Statistics::Int64(s) => s.null_count_opt(),
        Statistics::Int96(s) => s.null_count_opt(),
        Statistics::Float(s) => s.null_count_opt(),
        Statistics::Double(s) => s.null_count_opt(),
        Statistics::ByteArray(s) => s.null_count_opt(),
        Statistics::FixedLenByteArray(s) => s.null_count_opt(),
    }
}

/// Whether Delta wants min/max for this column type.
fn wants_bounds(data_type: &DataType) -> bool {
    !matches!(data_type, DataType::Boolean)
}

/// Renders a bound as the Delta JSON value for the column's type.
fn render(bound: &Bound, data_type: &DataType, is_max: bool) -> Option<Value> {
    Some(match (bound, data_type) {
        (Bound::Int(days), DataType::Date32) => Value::String(format_date(*days)),
        (Bound::Int(micros), DataType::Timestamp(..)) => {
            let millis = if is_max {
                micros.div_euclid(1000) + i64::from(micros.rem_euclid(1000) != 0)
            } else {
                micros.div_euclid(1000)
            };
            Value::String(format_timestamp_ms(millis))
        }
        (Bound::Int(v), _) => Value::from(*v),
        (Bound::Float(v), _) => Value::from(serde_json::Number::from_f64(*v)?),
        (Bound::Str(s), _) => Value::String(s.clone()),
    })
}

/// The Delta `stats` JSON string of a parquet file.
pub(crate) fn file_stats(schema: &Schema, meta: &ParquetMetaData) -> (u64, String) {
    let mut columns: Vec<ColumnStats> =
        schema.fields().iter().map(|_| Default::default()).collect();
    let mut rows: u64 = 0;
    for rg in meta.row_groups() {
        let rg_rows = rg.num_rows().max(0) as u64;
        rows += rg_rows;
        for (i, col) in columns.iter_mut().enumerate() {
            let Some(stats) = rg.column(i).statistics() else {
                col.poisoned = true;
                col.nulls_unknown = true;
                continue;
            };
            let nulls = null_count(stats);
            match nulls {
                Some(n) => *col.nulls.get_or_insert(0) += n,
                None => col.nulls_unknown = true,
            }
            match bounds(stats) {
                Some((min, max)) => {
                    if col.min.as_ref().is_none_or(|m| min < *m) {
                        col.min = Some(min);
                    }
                    if col.max.as_ref().is_none_or(|m| max > *m) {
                        col.max = Some(max);
                    }
                }
                // An all-null row group has no bounds and needs none.
                None if nulls == Some(rg_rows) => {}
                None => col.poisoned = true,
            }
        }
    }
    let (mut mins, mut maxs, mut null_counts) = (Map::new(), Map::new(), Map::new());
    for (field, col) in schema.fields().iter().zip(&columns) {
        let name = field.name().clone();
        // The leaf statistics of a list describe its elements, not the
        // column; Delta keeps none for arrays.
        if matches!(field.data_type(), DataType::List(_)) {
            continue;
        }
        if !col.nulls_unknown
            && let Some(n) = col.nulls
        {
            null_counts.insert(name.clone(), Value::from(n));
        }
        if col.poisoned || !wants_bounds(field.data_type()) {
            continue;
        }
        if let (Some(min), Some(max)) = (&col.min, &col.max)
            && let (Some(min), Some(max)) = (
                render(min, field.data_type(), false),
                render(max, field.data_type(), true),
            )
        {
            mins.insert(name.clone(), min);
            maxs.insert(name, max);
        }
    }
    let mut stats = Map::new();
    stats.insert("numRecords".into(), Value::from(rows));
    stats.insert("minValues".into(), Value::Object(mins));
    stats.insert("maxValues".into(), Value::Object(maxs));
    stats.insert("nullCount".into(), Value::Object(null_counts));
    (rows, Value::Object(stats).to_string())
}

use cradle_core::dates::{format_days as format_date, rfc3339_millis as format_timestamp_ms};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(19_753), "2024-01-31");
        assert_eq!(format_date(-1), "1969-12-31");
        assert_eq!(format_date(11_016), "2000-02-29");
        assert_eq!(
            format_timestamp_ms(1_706_745_600_123),
            "2024-02-01T00:00:00.123Z"
        );
        assert_eq!(format_timestamp_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn timestamp_bounds_round_outward() {
        let ts = DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into()));
        assert_eq!(
            render(&Bound::Int(1_500), &ts, false),
            Some(Value::String("1970-01-01T00:00:00.001Z".into()))
        );
        assert_eq!(
            render(&Bound::Int(1_500), &ts, true),
            Some(Value::String("1970-01-01T00:00:00.002Z".into()))
        );
    }
}
