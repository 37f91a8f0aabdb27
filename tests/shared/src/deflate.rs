//! Raw DEFLATE inflated the way the browser's edge does it for a format-4 chunk: never more
//! than the limit the reader gives, so tests see what the adapter would.

use miniz_oxide::inflate::{decompress_to_vec_with_limit, DecompressError, TINFLStatus};

/// `bytes` inflated into at most `limit` bytes (what fits when they would inflate to more),
/// or `None` when they are not raw DEFLATE.
pub fn bounded_inflate(bytes: &[u8], limit: usize) -> Option<Vec<u8>> {
    match decompress_to_vec_with_limit(bytes, limit) {
        Ok(out) => Some(out),
        Err(DecompressError {
            status: TINFLStatus::HasMoreOutput,
            output,
        }) => Some(output),
        Err(_) => None,
    }
}
