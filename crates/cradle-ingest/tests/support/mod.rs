//! Fixtures the integration tests of this crate generate.

pub mod trade;
