//! Wall-clock timestamps for reports.

pub use cradle_core::dates::now_rfc3339;
