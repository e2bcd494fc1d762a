//! What several crates' tests share, in one place (no test reaches into
//! another crate's `tests/` folder):
//!
//! - [`lakehouse`]: deliveries written in the real table schemas and
//!   published as `cradle ingest` publishes them;
//! - [`fixture`]: a small data folder as the server opens it (lakehouse,
//!   search index, catalog);
//! - [`chat_server`]: a local OpenAI-compatible chat server that streams
//!   a scripted answer and records the prompts it was sent;
//! - [`python`]: the Python with the reference readers
//!   (`scripts/test.sh` installs them);
//! - [`free_port`]: a port nothing listens on.
//!
//! A test that needs something this crate cannot provide fails with the
//! command that provides it; nothing is skipped.

pub mod chat_server;
pub mod fixture;
pub mod lakehouse;
mod python;

pub use python::python;

/// A local port that was free a moment ago (for servers started as
/// separate processes, which cannot be handed a bound listener).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}
