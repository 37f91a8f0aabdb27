//! Backups: a faithful model of every value IndexedDB can store, and the checksummed binary
//! container a backup is written in. Pure Rust; the browser side lives in `idb::clone`.
//!
//! - [`value`]: [`Value`], the tree model of structured-clonable values (shared and cyclic
//!   references as [`Value::Ref`]).
//! - [`codec`]: the compact binary encoding of one value.
//! - [`format`]: the file — magic, format version, manifest, per-store record sections,
//!   trailing SHA-256 — with [`encode_backup`], [`decode_backup`] and [`inspect`].
//! - [`chunked`]: the chunked file (formats 3 and 4, the latter with compressed chunks), written and read a chunk at a time in
//!   bounded memory: [`ChunkedWriter`], and [`ChunkedReader`], which does no I/O.
//! - [`digests`]: [`Digests`], the SHA-256 seam (which ranges to hash; who hashes them).
//! - [`sealed`]: the sealed file (format 5), a backup file encrypted under a passphrase:
//!   header, key derivation bounds, nonces and segments; the cryptography is the edge's.
//! - [`readback`]: [`SectionMatch`], what a restore reads back checked against the file.
//! - [`error`]: [`BackupError`], with the codes the JavaScript API reports.
//!
//! The byte layout is documented in `docs/backup-format.md`.

pub mod chunked;
pub mod codec;
pub mod digests;
pub mod error;
pub mod format;
pub mod readback;
pub mod sealed;
pub mod value;

pub use chunked::{
    chunked_as_sections, format_version, reads_in_chunks, BlobPartRange, ChunkDigests, ChunkRecord,
    ChunkSpans, ChunkedReader, ChunkedTail, ChunkedWriter, Frame, ReadMode, RecordBatch,
    RecordSpan, Step, CHUNKED_FORMAT_VERSION, CHUNK_TARGET_BYTES, COMPRESSED_FORMAT_VERSION,
    MAX_CHUNK_RECORDS, NEWEST_FORMAT_VERSION,
};
pub use codec::{decode_value, encode_value, OutOfLineBlob, MAX_DEPTH};
pub use digests::{hash_groups, Digests, Sha256Digest, HASH_GROUP};
pub use error::BackupError;
pub use format::{
    backup_file_name, decode_backup, encode_backup, encode_header, inspect, inspect_with,
    store_sections, utc_stamp, BackupManifest, DecodedBackup, EncodedBackup, SectionReader,
    SkippedRecord, StoreManifest, StoreRecords, FORMAT_VERSION, MAGIC, MAX_KEY_GENERATOR,
};
pub use readback::SectionMatch;
pub use sealed::{Passphrase, SEALED_FORMAT_VERSION};
pub use value::{
    ColorSpace, ErrorKind, ErrorValue, Matrix, Num, PixelFormat, Text, Value, ViewKind,
};

#[cfg(test)]
pub(crate) mod chunked_tests;
#[cfg(test)]
mod compressed_tests;
#[cfg(test)]
mod fidelity_tests;
#[cfg(test)]
pub(crate) mod tests;
