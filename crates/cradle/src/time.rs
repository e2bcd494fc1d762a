//! Wall-clock timestamps for reports, without a date library.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as RFC 3339 in UTC, e.g. `2026-11-29T07:45:12Z`.
pub fn now_rfc3339() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (seconds / 86_400) as i32;
    let rest = seconds % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        cradle_ingest::value::format_days(days),
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}
