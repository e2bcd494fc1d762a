//! How a build tells its caller how far it is: the command shows a bar
//! with bytes and rate on a terminal, or plain lines in a log.

use crate::LayerReport;

/// Told while an image is written. Called from the writing thread; keep
/// each call cheap.
pub trait Progress: Sync {
    /// `layers` layers holding `content_bytes` bytes of files will be written.
    fn begin(&self, layers: usize, content_bytes: u64) {
        let _ = (layers, content_bytes);
    }

    /// `read` more bytes of file content went into the image, and the
    /// archive grew by `written` bytes.
    fn advance(&self, read: u64, written: u64) {
        let _ = (read, written);
    }

    /// A layer is complete.
    fn layer_done(&self, layer: &LayerReport) {
        let _ = layer;
    }
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
