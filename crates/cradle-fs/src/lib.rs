//! The filesystem layer every crate of cradle writes through: one atomic
//! write ([`atomic`]), the workspace lock ([`WorkspaceLock`]), owner-only
//! creation of private files and folders ([`private`]), and the layout of a
//! workspace ([`Workspace`]), including what the server reads from it.
//!
//! Architecture invariant: a file that cradle publishes is either absent,
//! or its old content, or its new content, never a mix, and survives a
//! power cut once the call returns (the file and its folder are synced).
//! Nothing else in the workspace renames files into place by hand.

pub mod atomic;
mod lock;
pub mod private;
mod workspace;

pub use atomic::{AtomicFile, persist, replace_dir, staging_dir, temporary_name, write_atomic};
pub use lock::{LockError, WorkspaceLock};
pub use workspace::{FITTED_MODEL, Need, SERVED, Served, ServedKind, Workspace};
