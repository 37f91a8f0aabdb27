//! The chunked backup file (format 3): written a chunk at a time and read a range at a time,
//! so that neither side ever holds the whole file. See `docs/backup-format.md`.
//!
//! Frames (chunks of records, and Blob parts) come first, each hashed on its own; the index of
//! the frames, the manifest and a fixed-size trailer come last, because counts and digests are
//! only known once every record has gone by.

use super::codec::{self, OutOfLineBlob, Reader};
use super::digests::Sha256Digest;
use super::error::BackupError;
use super::format::{
    encode_stored_manifest, BackupManifest, DecodedBackup, SkippedRecord, StoreRecords, MAGIC,
};
use super::value::Value;
use crate::migration::hex;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, VecDeque};
use std::ops::Range;

/// The chunked format with chunks stored as they are.
pub const CHUNKED_FORMAT_VERSION: u32 = 3;
/// The chunked format with chunks stored compressed (raw DEFLATE) where that makes them
/// smaller: what backups are written in by default.
pub const COMPRESSED_FORMAT_VERSION: u32 = 4;
/// The newest format this build reads: the sealed envelope (5), read once unsealed; the
/// newest it writes unsealed is [`COMPRESSED_FORMAT_VERSION`].
pub const NEWEST_FORMAT_VERSION: u32 = super::sealed::SEALED_FORMAT_VERSION;
/// A chunk holds at most this many records: it bounds the decoded values a reader holds for a
/// chunk of tiny records, and it is one batch of a staged restore.
pub const MAX_CHUNK_RECORDS: u32 = 4096;
/// A chunk holds at most this many bytes unless a single record is larger: large enough that
/// what each chunk costs (an index entry, a Blob part, a hash, a slice read) is lost in its
/// bytes, small enough that a chunk and its decoded records are a small part of a tab's memory.
pub const CHUNK_TARGET_BYTES: usize = 4 << 20;
/// No chunk (even of one record) may be larger: far below what one wasm32 buffer may hold, so
/// reading one (and decoding it next to its bytes) cannot fail for want of address space.
pub const MAX_CHUNK_BYTES: u64 = 1 << 30;
/// The manifest is read whole; it is small unless very many records were skipped.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// The fixed size of the header (magic, version, reserved).
pub const CHUNKED_HEADER_LEN: u64 = 16;
/// The fixed size of the trailer, which locates everything else from the file's length.
pub const CHUNKED_TRAILER_LEN: u64 = 64;
const INDEX_ENTRY_LEN: u64 = 56;
/// Index entries read at a time: one read of a few dozen KiB.
const INDEX_BLOCK_ENTRIES: u64 = 1024;
const END_MARK: [u8; 8] = *b"RWND-END";
const KIND_CHUNK: u8 = 1;
const KIND_PART: u8 = 2;
/// A chunk stored as raw DEFLATE (format 4), its inflated length in the entry.
const KIND_COMPRESSED: u8 = 3;

fn sha256(bytes: &[u8]) -> Sha256Digest {
    Sha256::digest(bytes).into()
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// The header of a chunked file of `version` (3 or 4).
fn header_bytes(version: u32) -> [u8; CHUNKED_HEADER_LEN as usize] {
    let mut h = [0u8; CHUNKED_HEADER_LEN as usize];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&version.to_le_bytes());
    h
}

/// Whether `version` is one of the chunked layouts.
fn is_chunked_version(version: u32) -> bool {
    version == CHUNKED_FORMAT_VERSION || version == COMPRESSED_FORMAT_VERSION
}

/// One frame as the index lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IndexEntry {
    kind: u8,
    store: u32,
    records: u32,
    /// A compressed chunk's length once inflated (0 for the other kinds).
    inflated: u32,
    len: u64,
    digest: Sha256Digest,
}

impl IndexEntry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.kind);
        out.extend_from_slice(&[0; 3]);
        out.extend_from_slice(&self.store.to_le_bytes());
        out.extend_from_slice(&self.records.to_le_bytes());
        out.extend_from_slice(&self.inflated.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.digest);
    }

    /// `b` is exactly one entry.
    fn decode(b: &[u8]) -> Result<IndexEntry, BackupError> {
        let inflated = le_u32(b, 12);
        if b[1..4] != [0; 3] || (b[0] != KIND_COMPRESSED && inflated != 0) {
            return Err(BackupError::corrupt(
                "an entry of its index has unknown fields",
            ));
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&b[24..56]);
        Ok(IndexEntry {
            kind: b[0],
            store: le_u32(b, 4),
            records: le_u32(b, 8),
            inflated,
            len: le_u64(b, 16),
            digest,
        })
    }
}

/// The trailer's fields, and the root they and the rest seal.
fn root_of(
    header: &[u8],
    index_digest: &Sha256Digest,
    manifest_digest: &Sha256Digest,
    fields: &[u8],
) -> Sha256Digest {
    let mut h = Sha256::new();
    h.update(header);
    h.update(index_digest);
    h.update(manifest_digest);
    h.update(fields);
    h.finalize().into()
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Who computes the SHA-256 of each chunk the writer seals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkDigests {
    /// The writer, with `sha2`, as it seals the chunk.
    HashedHere,
    /// The caller, through [`ChunkedWriter::set_digest`] (e.g. WebCrypto, later).
    GivenByCaller,
    /// The caller compresses each chunk (raw DEFLATE) and gives the length and SHA-256 of
    /// what it stored through [`ChunkedWriter::set_compressed`], or stores a chunk that does
    /// not shrink as it is and gives its digest through [`ChunkedWriter::set_digest`]. The
    /// file is format 4 ([`COMPRESSED_FORMAT_VERSION`]).
    CompressedByCaller,
}

impl ChunkDigests {
    /// The format version a writer of these chunks writes.
    pub fn format_version(self) -> u32 {
        match self {
            ChunkDigests::CompressedByCaller => COMPRESSED_FORMAT_VERSION,
            _ => CHUNKED_FORMAT_VERSION,
        }
    }
}

/// A piece of the file, in file order, as the writer hands it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A sealed chunk: append `bytes` to the file (with [`ChunkDigests::CompressedByCaller`],
    /// `bytes` compressed, or as they are).
    Chunk { number: u64, bytes: Vec<u8> },
    /// A Blob part: append the bytes of the record's `blob`-th out-of-line Blob (the
    /// [`OutOfLineBlob`] of that number in the record just pushed), `len` bytes, and give its
    /// SHA-256 to [`ChunkedWriter::set_digest`] for frame `number`.
    Part { number: u64, blob: usize, len: u64 },
}

/// The end of a chunked file, and its completed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkedTail {
    /// Index, manifest and trailer: the last bytes of the file.
    pub bytes: Vec<u8>,
    /// With counts, sizes and digests filled in; `bytes` is the file's size and `sha256` its
    /// root (hex).
    pub manifest: BackupManifest,
}

/// Writes a chunked backup a record at a time, holding one chunk.
///
/// The file is [`ChunkedWriter::header`], then every [`Frame`] that [`ChunkedWriter::push`]
/// and [`ChunkedWriter::end`] return, in order, then [`ChunkedTail::bytes`].
pub struct ChunkedWriter {
    manifest: BackupManifest,
    chunk_digests: ChunkDigests,
    store: usize,
    chunk: Vec<u8>,
    chunk_records: u32,
    max_chunk_records: u32,
    chunk_target_bytes: usize,
    /// Records pushed into the current store, for messages.
    store_records: u64,
    entries: Vec<(IndexEntry, bool)>,
    /// Where the next frame starts.
    offset: u64,
}

impl ChunkedWriter {
    /// A writer of the stores `manifest.stores` names (their counts, sizes and digests are
    /// filled in at the end), in that order.
    pub fn new(
        manifest: BackupManifest,
        chunk_digests: ChunkDigests,
    ) -> Result<ChunkedWriter, BackupError> {
        if u32::try_from(manifest.stores.len()).is_err() {
            return Err(BackupError::invalid("a backup holds at most 2^32 stores"));
        }
        // Checked now as well as at the end, so a wrong manifest fails before any work.
        encode_stored_manifest(&manifest, chunk_digests.format_version())?;
        Ok(ChunkedWriter {
            manifest,
            chunk_digests,
            store: 0,
            chunk: Vec::new(),
            chunk_records: 0,
            max_chunk_records: MAX_CHUNK_RECORDS,
            chunk_target_bytes: CHUNK_TARGET_BYTES,
            store_records: 0,
            entries: Vec::new(),
            offset: CHUNKED_HEADER_LEN,
        })
    }

    /// Smaller chunks than the defaults (never larger, nor empty): for a caller whose batches
    /// are smaller, and for tests that want many chunks from few records.
    pub fn with_chunk_limits(mut self, max_records: u32, target_bytes: usize) -> ChunkedWriter {
        self.max_chunk_records = max_records.clamp(1, MAX_CHUNK_RECORDS);
        self.chunk_target_bytes = target_bytes.clamp(1, CHUNK_TARGET_BYTES);
        self
    }

    /// The file's first bytes.
    pub fn header(&self) -> [u8; CHUNKED_HEADER_LEN as usize] {
        header_bytes(self.chunk_digests.format_version())
    }

    /// Bytes handed on so far, the header included (a chunk counted at its stored size once
    /// that is given).
    pub fn bytes_written(&self) -> u64 {
        self.offset
    }

    /// Adds a record of store `store` (its position in the manifest; stores in order, each
    /// once). `out_of_line` names the value's Blobs whose bytes go into parts of their own
    /// (in walk order, each without bytes in `value`). Returns the frames now complete: the
    /// chunk this record did not fit in, if any, then this record's parts.
    pub fn push(
        &mut self,
        store: usize,
        key: &Value,
        value: &Value,
        out_of_line: &[OutOfLineBlob],
    ) -> Result<Vec<Frame>, BackupError> {
        let name = self.store_in_order(store)?;
        let new_store = store > self.store;
        let number = if new_store { 1 } else { self.store_records + 1 };
        let in_store = |e: BackupError| match e {
            BackupError::Invalid { reason } => {
                BackupError::invalid(format!("store {name:?}, record {number}: {reason}"))
            }
            other => other,
        };
        if !key.is_valid_key() {
            return Err(in_store(BackupError::invalid(format!(
                "its key ({}) is not one IndexedDB accepts",
                key.type_name()
            ))));
        }
        // Encoded behind the open chunk first, so that a record refused leaves it as it was.
        let start = self.chunk.len();
        let encoded = codec::encode_value(key, &mut self.chunk)
            .and_then(|()| codec::encode_value_with_parts(value, out_of_line, &mut self.chunk));
        if let Err(e) = encoded {
            self.chunk.truncate(start);
            return Err(in_store(e));
        }
        let record_len = (self.chunk.len() - start) as u64;
        if record_len > MAX_CHUNK_BYTES {
            self.chunk.truncate(start);
            return Err(in_store(BackupError::invalid(format!(
                "it takes {record_len} bytes, more than a chunk may hold ({MAX_CHUNK_BYTES}); \
                 its Blobs can go out of line"
            ))));
        }
        let mut frames = Vec::new();
        let full = self.chunk.len() > self.chunk_target_bytes
            || self.chunk_records >= self.max_chunk_records;
        if self.chunk_records > 0 && (new_store || full) {
            let record = self.chunk.split_off(start);
            self.seal(&mut frames)?;
            self.chunk = record;
        }
        if new_store {
            self.store = store;
            self.store_records = 0;
        }
        self.chunk_records += 1;
        self.store_records += 1;
        for part in out_of_line {
            let number = self.add_frame(KIND_PART, 0, part.len, None)?;
            frames.push(Frame::Part {
                number,
                blob: part.blob,
                len: part.len,
            });
        }
        Ok(frames)
    }

    /// Adds `records` records already encoded as a chunk holds them (key, value, key, value …;
    /// no out-of-line Blobs): a run the caller encoded in one go. A run is never split: the
    /// open chunk is sealed first when the run would take it past the limits, so a caller keeps
    /// chunks near the target by the size of its runs. Returns the frames now complete.
    pub fn push_encoded(
        &mut self,
        store: usize,
        bytes: &[u8],
        records: u32,
    ) -> Result<Vec<Frame>, BackupError> {
        let name = self.store_in_order(store)?;
        if records == 0 || records > self.max_chunk_records || bytes.is_empty() {
            return Err(BackupError::invalid(format!(
                "store {name:?}: a run of {records} records in {} bytes (1 to {} records)",
                bytes.len(),
                self.max_chunk_records
            )));
        }
        if bytes.len() as u64 > MAX_CHUNK_BYTES {
            return Err(BackupError::invalid(format!(
                "store {name:?}: a run of {} bytes, more than a chunk may hold ({MAX_CHUNK_BYTES})",
                bytes.len()
            )));
        }
        let new_store = store > self.store;
        let mut frames = Vec::new();
        let full = self.chunk.len() + bytes.len() > self.chunk_target_bytes
            || self.chunk_records + records > self.max_chunk_records;
        if self.chunk_records > 0 && (new_store || full) {
            self.seal(&mut frames)?;
        }
        if new_store {
            self.store = store;
            self.store_records = 0;
        }
        self.chunk.extend_from_slice(bytes);
        self.chunk_records += records;
        self.store_records += u64::from(records);
        Ok(frames)
    }

    /// The name of store `store` (its position in the manifest), which may not come before the
    /// store being written.
    fn store_in_order(&self, store: usize) -> Result<String, BackupError> {
        let name = match self.manifest.stores.get(store) {
            Some(s) => s.schema.name.clone(),
            None => return Err(BackupError::invalid(format!("there is no store {store}"))),
        };
        if store < self.store {
            return Err(BackupError::invalid(format!(
                "store {name:?} was given after a store that comes after it"
            )));
        }
        Ok(name)
    }

    /// Seals the last chunk: the frames after the last [`ChunkedWriter::push`].
    pub fn end(&mut self) -> Result<Vec<Frame>, BackupError> {
        let mut frames = Vec::new();
        self.seal(&mut frames)?;
        Ok(frames)
    }

    /// The SHA-256 of frame `number`: of every part, and of every chunk when the caller hashes
    /// them.
    pub fn set_digest(&mut self, number: u64, digest: Sha256Digest) -> Result<(), BackupError> {
        let entry = usize::try_from(number)
            .ok()
            .and_then(|n| self.entries.get_mut(n))
            .ok_or_else(|| BackupError::invalid(format!("there is no frame {number}")))?;
        entry.0.digest = digest;
        entry.1 = true;
        Ok(())
    }

    /// Chunk `number` is stored compressed (raw DEFLATE, [`ChunkDigests::CompressedByCaller`]):
    /// `len` bytes whose SHA-256 is `digest`, which the file holds in its place.
    pub fn set_compressed(
        &mut self,
        number: u64,
        len: u64,
        digest: Sha256Digest,
    ) -> Result<(), BackupError> {
        if self.chunk_digests != ChunkDigests::CompressedByCaller {
            return Err(BackupError::invalid(
                "this writer stores chunks as they are (format 3)",
            ));
        }
        let entry = usize::try_from(number)
            .ok()
            .and_then(|n| self.entries.get_mut(n))
            .ok_or_else(|| BackupError::invalid(format!("there is no frame {number}")))?;
        let e = &mut entry.0;
        if e.kind != KIND_CHUNK || entry.1 {
            return Err(BackupError::invalid(format!(
                "frame {number} is not a chunk waiting for how it is stored"
            )));
        }
        if len == 0 || len > MAX_CHUNK_BYTES {
            return Err(BackupError::invalid(format!(
                "a compressed chunk of {len} bytes (1 to {MAX_CHUNK_BYTES})"
            )));
        }
        // A chunk holds at most MAX_CHUNK_BYTES (< 2^32) bytes.
        e.inflated = u32::try_from(e.len).map_err(|_| too_large())?;
        self.offset = (self.offset - e.len)
            .checked_add(len)
            .ok_or_else(too_large)?;
        e.kind = KIND_COMPRESSED;
        e.len = len;
        e.digest = digest;
        entry.1 = true;
        Ok(())
    }

    /// A record left out, listed in the manifest's `skipped`.
    pub fn skip(&mut self, record: SkippedRecord) {
        self.manifest.skipped.push(record);
    }

    /// The end of the file: index, manifest and trailer. Every chunk must be sealed
    /// ([`ChunkedWriter::end`]) and every frame's digest known.
    pub fn finish(self) -> Result<ChunkedTail, BackupError> {
        if !self.chunk.is_empty() {
            return Err(BackupError::invalid("the last chunk was not sealed"));
        }
        let mut manifest = self.manifest;
        let mut index = Vec::new();
        index
            .try_reserve_exact(self.entries.len().saturating_mul(INDEX_ENTRY_LEN as usize))
            .map_err(|_| BackupError::invalid("its index does not fit in memory"))?;
        for s in &mut manifest.stores {
            s.records = 0;
            s.bytes = 0;
        }
        let mut store_hashers: Vec<Sha256> = vec![Sha256::new(); manifest.stores.len()];
        for (number, (entry, has_digest)) in self.entries.iter().enumerate() {
            if !has_digest {
                return Err(BackupError::invalid(format!(
                    "the digest of frame {number} was not given"
                )));
            }
            entry.encode(&mut index);
            let store = &mut manifest.stores[entry.store as usize];
            store.records += u64::from(entry.records);
            store.bytes += entry.len;
            store_hashers[entry.store as usize].update(entry.digest);
        }
        for (s, h) in manifest.stores.iter_mut().zip(store_hashers) {
            s.sha256 = hex(&h.finalize());
        }
        let version = self.chunk_digests.format_version();
        let json = encode_stored_manifest(&manifest, version)?;
        if json.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(BackupError::invalid(format!(
                "its manifest would take {} bytes, more than {MAX_MANIFEST_BYTES}",
                json.len()
            )));
        }
        let mut fields = Vec::with_capacity(24);
        fields.extend_from_slice(&self.offset.to_le_bytes());
        fields.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        fields.extend_from_slice(&(json.len() as u64).to_le_bytes());
        let root = root_of(
            &header_bytes(version),
            &sha256(&index),
            &sha256(&json),
            &fields,
        );
        let mut bytes = index;
        bytes.extend_from_slice(&json);
        bytes.extend_from_slice(&fields);
        bytes.extend_from_slice(&root);
        bytes.extend_from_slice(&END_MARK);
        manifest.format_version = version;
        manifest.bytes = self
            .offset
            .checked_add(bytes.len() as u64)
            .ok_or_else(too_large)?;
        manifest.sha256 = hex(&root);
        Ok(ChunkedTail { bytes, manifest })
    }

    fn seal(&mut self, frames: &mut Vec<Frame>) -> Result<(), BackupError> {
        if self.chunk_records == 0 {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.chunk);
        let digest = match self.chunk_digests {
            ChunkDigests::HashedHere => Some(sha256(&bytes)),
            ChunkDigests::GivenByCaller | ChunkDigests::CompressedByCaller => None,
        };
        let number = self.add_frame(KIND_CHUNK, self.chunk_records, bytes.len() as u64, digest)?;
        self.chunk_records = 0;
        frames.push(Frame::Chunk { number, bytes });
        Ok(())
    }

    fn add_frame(
        &mut self,
        kind: u8,
        records: u32,
        len: u64,
        digest: Option<Sha256Digest>,
    ) -> Result<u64, BackupError> {
        self.offset = self.offset.checked_add(len).ok_or_else(too_large)?;
        self.entries.push((
            IndexEntry {
                kind,
                store: self.store as u32,
                records,
                inflated: 0,
                len,
                digest: digest.unwrap_or([0; 32]),
            },
            digest.is_some(),
        ));
        Ok(self.entries.len() as u64 - 1)
    }
}

fn too_large() -> BackupError {
    BackupError::invalid("the backup would be larger than 2^64 bytes")
}

// ---------------------------------------------------------------------------------------------
// Reading

/// What a [`ChunkedReader`] hands out besides checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// Check everything, keep nothing: what `inspect` does.
    Verify,
    /// Check everything and hand out each chunk's records ([`Step::Records`]).
    Records,
    /// Check everything and say where each chunk's records lie in its bytes
    /// ([`Step::Spans`]): for an edge that decodes them itself from the bytes it read.
    Spans,
}

/// An out-of-line Blob of a record read back: the `blob`-th Blob or File of the value (walk
/// order; it holds no bytes) has its bytes at `range` of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobPartRange {
    pub blob: usize,
    pub range: Range<u64>,
}

/// A record of a chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRecord {
    pub key: Value,
    pub value: Value,
    /// Its out-of-line Blobs, in walk order.
    pub parts: Vec<BlobPartRange>,
}

/// The records of one chunk, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordBatch {
    /// The store's position in the manifest.
    pub store: usize,
    /// Where the chunk lies in the file.
    pub chunk: Range<u64>,
    pub records: Vec<ChunkRecord>,
}

/// One record of a chunk, located: its key and value are `bytes` of the chunk (as read), and
/// its out-of-line Blobs (in walk order) lie at `parts` of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpan {
    pub bytes: Range<usize>,
    pub parts: Vec<BlobPartRange>,
}

/// The records of one chunk, checked, located in the bytes the edge gave for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkSpans {
    /// The store's position in the manifest.
    pub store: usize,
    /// Where the chunk lies in the file.
    pub chunk: Range<u64>,
    pub records: Vec<RecordSpan>,
}

/// What a [`ChunkedReader`] needs or has next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Give [`ChunkedReader::give_bytes`] exactly these bytes of the file.
    Read(Range<u64>),
    /// Give [`ChunkedReader::give_digest`] the SHA-256 of these bytes of the file (a Blob
    /// part, which the reader never needs to hold).
    Digest(Range<u64>),
    /// The compressed chunk just given (these bytes of the file, its digest checked) must be
    /// inflated (raw DEFLATE) and given to [`ChunkedReader::give_inflated`]: `len` bytes, as
    /// its index declares. Inflate at most `len + 1` bytes, never more.
    Inflate { chunk: Range<u64>, len: u64 },
    /// The manifest, checked against the index (sent once, before any records): what stores
    /// to make.
    Manifest(BackupManifest),
    /// The records of a chunk, checked with the parts they refer to.
    Records(RecordBatch),
    /// Where the records of the chunk just read lie ([`ReadMode::Spans`]).
    Spans(ChunkSpans),
    /// Everything is checked. A restore may commit only now.
    Done(BackupManifest),
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Header,
    Trailer,
    Manifest,
    /// Hashing and checking the index, block by block, before anything else is trusted.
    IndexScan {
        next: u64,
    },
    /// Walking the frames; `block` holds entries from `block_first` on.
    Frames,
    Done,
}

/// What the index scan adds up per store.
struct StoreTotal {
    store: u32,
    records: u64,
    bytes: u64,
    digests: Sha256,
}

/// Reads a chunked file without doing any I/O: ask [`ChunkedReader::next_step`], answer it,
/// repeat until [`Step::Done`] or an error. It holds at most one chunk, one block of the
/// index and the manifest.
pub struct ChunkedReader {
    file_len: u64,
    mode: ReadMode,
    state: State,
    /// The header's format version (3 or 4), once read.
    version: u32,
    /// A compressed chunk checked against its digest, waiting for its inflated bytes.
    inflating: Option<(IndexEntry, Range<u64>)>,
    failed: Option<BackupError>,
    /// Steps ready to hand out (manifest, records, done), in order.
    ready: VecDeque<Step>,
    header: [u8; CHUNKED_HEADER_LEN as usize],
    trailer_fields: [u8; 24],
    root: Sha256Digest,
    index_offset: u64,
    frame_count: u64,
    manifest_len: u64,
    manifest_bytes: Vec<u8>,
    manifest: Option<BackupManifest>,
    // The index scan.
    index_hasher: Sha256,
    scan_offset: u64,
    scan_prev: Option<IndexEntry>,
    totals: Vec<StoreTotal>,
    scan_error: Option<BackupError>,
    /// The digest of each block of the index as the scan read it: the walk must read the same.
    block_digests: Vec<Sha256Digest>,
    // The walk over the frames.
    block: Vec<u8>,
    block_first: u64,
    frame: u64,
    frame_offset: u64,
    chunk_of_store: u64,
    chunk_store: u32,
    pending_parts: Vec<Range<u64>>,
}

impl ChunkedReader {
    /// A reader of a file of `file_len` bytes.
    pub fn new(file_len: u64, mode: ReadMode) -> ChunkedReader {
        ChunkedReader {
            file_len,
            mode,
            state: State::Header,
            version: 0,
            inflating: None,
            failed: None,
            ready: VecDeque::new(),
            header: [0; CHUNKED_HEADER_LEN as usize],
            trailer_fields: [0; 24],
            root: [0; 32],
            index_offset: 0,
            frame_count: 0,
            manifest_len: 0,
            manifest_bytes: Vec::new(),
            manifest: None,
            index_hasher: Sha256::new(),
            scan_offset: CHUNKED_HEADER_LEN,
            scan_prev: None,
            totals: Vec::new(),
            scan_error: None,
            block_digests: Vec::new(),
            chunk_store: 0,
            block: Vec::new(),
            block_first: 0,
            frame: 0,
            frame_offset: CHUNKED_HEADER_LEN,
            chunk_of_store: 0,
            pending_parts: Vec::new(),
        }
    }

    /// What is needed (or ready) next. Asking again without answering asks the same.
    pub fn next_step(&mut self) -> Result<Step, BackupError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if let Some(step) = self.ready.pop_front() {
            return Ok(step);
        }
        let step = self.need();
        self.fail_on(step)
    }

    /// The bytes of the range [`Step::Read`] asked for, hashed here where a digest is needed.
    pub fn give_bytes(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        self.give_bytes_with_digest(bytes, None)
    }

    /// [`ChunkedReader::give_bytes`] with the SHA-256 of `bytes` computed elsewhere (used
    /// only where the reader would hash them itself: a chunk).
    pub fn give_bytes_with_digest(
        &mut self,
        bytes: &[u8],
        digest: Option<Sha256Digest>,
    ) -> Result<(), BackupError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Step::Read(range) = self.need()? else {
            return Err(BackupError::invalid("no bytes were asked for"));
        };
        if bytes.len() as u64 != range.end - range.start {
            return Err(BackupError::invalid(format!(
                "{} bytes were asked for but {} given",
                range.end - range.start,
                bytes.len()
            )));
        }
        let outcome = self.take_bytes(range, bytes, digest);
        self.fail_on(outcome)
    }

    /// The SHA-256 of the range [`Step::Digest`] asked for.
    pub fn give_digest(&mut self, digest: Sha256Digest) -> Result<(), BackupError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Step::Digest(range) = self.need()? else {
            return Err(BackupError::invalid("no digest was asked for"));
        };
        let outcome = self.take_part_digest(range, digest);
        self.fail_on(outcome)
    }

    /// The bytes of the chunk [`Step::Inflate`] asked for, inflated: at most `len + 1` of
    /// them, or `None` when they do not inflate (not raw DEFLATE). Anything but exactly the
    /// declared length is `Corrupt`.
    pub fn give_inflated(&mut self, inflated: Option<&[u8]>) -> Result<(), BackupError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some((entry, range)) = self.inflating.take() else {
            return Err(BackupError::invalid("no inflated chunk was asked for"));
        };
        let outcome = match inflated {
            Some(bytes) if bytes.len() as u64 == u64::from(entry.inflated) => {
                self.decode_chunk_records(entry, range, bytes)
            }
            Some(bytes) if bytes.len() as u64 > u64::from(entry.inflated) => {
                Err(self.chunk_error(format!(
                    "it inflates to more than the {} bytes its index declares",
                    entry.inflated
                )))
            }
            Some(bytes) => Err(self.chunk_error(format!(
                "it inflates to {} bytes, fewer than the {} its index declares",
                bytes.len(),
                entry.inflated
            ))),
            None => Err(self.chunk_error("its compressed bytes do not inflate".into())),
        };
        self.fail_on(outcome)
    }

    /// A `Corrupt` naming the chunk being read.
    fn chunk_error(&self, reason: String) -> BackupError {
        BackupError::corrupt(format!(
            "in chunk {} of store {:?}, {reason}",
            self.chunk_of_store,
            self.store_name(self.chunk_store)
        ))
    }

    /// The manifest, once checked.
    pub fn manifest(&self) -> Option<&BackupManifest> {
        self.manifest.as_ref()
    }

    /// Whether the bytes asked for now are a chunk's (whose digest the edge may compute
    /// itself and give with [`ChunkedReader::give_bytes_with_digest`]).
    pub fn reading_chunk(&self) -> bool {
        self.failed.is_none()
            && self.ready.is_empty()
            && self.state == State::Frames
            && self.inflating.is_none()
            && self
                .current_entry()
                .is_some_and(|e| e.kind == KIND_CHUNK || e.kind == KIND_COMPRESSED)
    }

    fn fail_on<T>(&mut self, r: Result<T, BackupError>) -> Result<T, BackupError> {
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// The range (or digest) the current state waits for.
    fn need(&self) -> Result<Step, BackupError> {
        Ok(match &self.state {
            State::Header => {
                if self.file_len == 0 {
                    return Err(BackupError::Empty);
                }
                Step::Read(0..self.file_len.min(CHUNKED_HEADER_LEN))
            }
            State::Trailer => Step::Read(self.file_len - CHUNKED_TRAILER_LEN..self.file_len),
            State::Manifest => {
                let start = self.file_len - CHUNKED_TRAILER_LEN - self.manifest_len;
                Step::Read(start..start + self.manifest_len)
            }
            State::IndexScan { next } => Step::Read(self.index_block(*next)),
            State::Frames => {
                if let Some((entry, range)) = &self.inflating {
                    return Ok(Step::Inflate {
                        chunk: range.clone(),
                        len: u64::from(entry.inflated),
                    });
                }
                let Some(entry) = self.current_entry() else {
                    return Ok(Step::Read(self.index_block(self.frame)));
                };
                let range = self.frame_offset..self.frame_offset + entry.len;
                if entry.kind == KIND_PART {
                    Step::Digest(range)
                } else {
                    Step::Read(range)
                }
            }
            State::Done => return Err(BackupError::invalid("the file was read to its end")),
        })
    }

    /// The bytes of the index block holding entry `first` (entries from `first` on).
    fn index_block(&self, first: u64) -> Range<u64> {
        let count = (self.frame_count - first).min(INDEX_BLOCK_ENTRIES);
        let start = self.index_offset + first * INDEX_ENTRY_LEN;
        start..start + count * INDEX_ENTRY_LEN
    }

    /// The ranges of the Blob parts from the one whose digest is asked for now, up to `max`,
    /// in the order [`Step::Digest`] will ask for them (as far as the loaded index block
    /// goes): an edge may hash them side by side, then give their digests one by one. Empty
    /// unless a part's digest is asked for now.
    pub fn parts_ahead(&self, max: usize) -> Vec<Range<u64>> {
        let mut ranges = Vec::new();
        if self.failed.is_some() || !self.ready.is_empty() || self.state != State::Frames {
            return ranges;
        }
        let (mut frame, mut offset) = (self.frame, self.frame_offset);
        while ranges.len() < max && frame < self.frame_count {
            match self.entry_at(frame) {
                Some(entry) if entry.kind == KIND_PART => {
                    ranges.push(offset..offset + entry.len);
                    offset += entry.len;
                    frame += 1;
                }
                _ => break,
            }
        }
        ranges
    }

    /// The entry of the current frame, when its block is loaded.
    fn current_entry(&self) -> Option<IndexEntry> {
        self.entry_at(self.frame)
    }

    /// The entry of frame `frame`, when its block is loaded.
    fn entry_at(&self, frame: u64) -> Option<IndexEntry> {
        let at = frame.checked_sub(self.block_first)?;
        let start = usize::try_from(at)
            .ok()?
            .checked_mul(INDEX_ENTRY_LEN as usize)?;
        let b = self.block.get(start..start + INDEX_ENTRY_LEN as usize)?;
        IndexEntry::decode(b).ok()
    }

    fn take_bytes(
        &mut self,
        range: Range<u64>,
        bytes: &[u8],
        digest: Option<Sha256Digest>,
    ) -> Result<(), BackupError> {
        match self.state.clone() {
            State::Header => self.take_header(bytes),
            State::Trailer => self.take_trailer(bytes),
            State::Manifest => {
                self.manifest_bytes = bytes.to_vec();
                self.state = State::IndexScan { next: 0 };
                if self.frame_count == 0 {
                    self.end_scan()?;
                }
                Ok(())
            }
            State::IndexScan { next } => {
                self.index_hasher.update(bytes);
                self.block_digests.push(sha256(bytes));
                for (i, entry) in bytes.chunks_exact(INDEX_ENTRY_LEN as usize).enumerate() {
                    if self.scan_error.is_none() {
                        if let Err(e) = self.scan_entry(next + i as u64, entry) {
                            self.scan_error = Some(e);
                        }
                    }
                }
                let next = next + (bytes.len() as u64 / INDEX_ENTRY_LEN);
                self.state = State::IndexScan { next };
                if next == self.frame_count {
                    self.end_scan()?;
                }
                Ok(())
            }
            State::Frames => match self.current_entry() {
                None => {
                    let scanned = usize::try_from(self.frame / INDEX_BLOCK_ENTRIES)
                        .ok()
                        .and_then(|n| self.block_digests.get(n));
                    if scanned != Some(&sha256(bytes)) {
                        return Err(BackupError::invalid(
                            "the file changed while it was read; choose it again",
                        ));
                    }
                    self.block_first = self.frame;
                    self.block = bytes.to_vec();
                    Ok(())
                }
                Some(entry) => self.take_chunk(entry, range, bytes, digest),
            },
            State::Done => Err(BackupError::invalid("the file was read to its end")),
        }
    }

    fn take_header(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        let version = format_version(bytes)?;
        if !is_chunked_version(version) {
            return Err(BackupError::invalid(format!(
                "a format {version} file is read whole, not in chunks"
            )));
        }
        if bytes[12..16] != [0; 4] {
            return Err(BackupError::corrupt("its header has unknown fields"));
        }
        self.header.copy_from_slice(bytes);
        self.version = version;
        let least = CHUNKED_HEADER_LEN + CHUNKED_TRAILER_LEN;
        if self.file_len < least {
            return Err(BackupError::Truncated {
                missing: least - self.file_len,
            });
        }
        self.state = State::Trailer;
        Ok(())
    }

    fn take_trailer(&mut self, t: &[u8]) -> Result<(), BackupError> {
        if t[56..64] != END_MARK {
            return Err(BackupError::corrupt(
                "it does not end as a Rewind backup ends: it was cut short (an interrupted \
                 download or copy?) or has bytes added after its end",
            ));
        }
        self.trailer_fields.copy_from_slice(&t[..24]);
        self.root.copy_from_slice(&t[24..56]);
        self.index_offset = le_u64(t, 0);
        self.frame_count = le_u64(t, 8);
        self.manifest_len = le_u64(t, 16);
        let adds_up = self
            .frame_count
            .checked_mul(INDEX_ENTRY_LEN)
            .and_then(|n| n.checked_add(self.index_offset))
            .and_then(|n| n.checked_add(self.manifest_len))
            .and_then(|n| n.checked_add(CHUNKED_TRAILER_LEN))
            == Some(self.file_len);
        if !adds_up || self.index_offset < CHUNKED_HEADER_LEN {
            return Err(BackupError::corrupt(
                "the sizes its trailer lists do not add up to its length",
            ));
        }
        if self.manifest_len > MAX_MANIFEST_BYTES {
            return Err(BackupError::corrupt(format!(
                "its manifest is larger than {MAX_MANIFEST_BYTES} bytes"
            )));
        }
        self.state = State::Manifest;
        Ok(())
    }

    /// Checks one index entry's shape and place, adding it to its store's totals.
    fn scan_entry(&mut self, number: u64, b: &[u8]) -> Result<(), BackupError> {
        let e = IndexEntry::decode(b)?;
        let bad = |what: &str| BackupError::corrupt(format!("frame {number} of its index {what}"));
        match e.kind {
            KIND_CHUNK => {
                if e.records == 0 || e.records > MAX_CHUNK_RECORDS {
                    return Err(bad("lists an impossible number of records"));
                }
                if e.len > MAX_CHUNK_BYTES || e.len < 2 * u64::from(e.records) {
                    return Err(bad("has an impossible size for its records"));
                }
            }
            KIND_COMPRESSED if self.version == COMPRESSED_FORMAT_VERSION => {
                if e.records == 0 || e.records > MAX_CHUNK_RECORDS {
                    return Err(bad("lists an impossible number of records"));
                }
                let inflated = u64::from(e.inflated);
                if inflated > MAX_CHUNK_BYTES
                    || inflated < 2 * u64::from(e.records)
                    || e.len == 0
                    || e.len > MAX_CHUNK_BYTES
                {
                    return Err(bad("has an impossible size for its records"));
                }
            }
            KIND_PART => {
                if e.records != 0 {
                    return Err(bad("is a Blob part that lists records"));
                }
            }
            _ => return Err(bad("is of an unknown kind")),
        }
        if let Some(prev) = self.scan_prev {
            if e.store < prev.store || (prev.kind == KIND_PART && e.store != prev.store) {
                return Err(bad("is out of order"));
            }
        }
        self.scan_offset = self
            .scan_offset
            .checked_add(e.len)
            .filter(|end| *end <= self.index_offset)
            .ok_or_else(|| bad("lies past the frames"))?;
        match self.totals.last_mut() {
            Some(t) if t.store == e.store => {
                t.records += u64::from(e.records);
                t.bytes += e.len;
                t.digests.update(e.digest);
            }
            _ => {
                let mut digests = Sha256::new();
                digests.update(e.digest);
                self.totals.push(StoreTotal {
                    store: e.store,
                    records: u64::from(e.records),
                    bytes: e.len,
                    digests,
                });
            }
        }
        self.scan_prev = Some(e);
        Ok(())
    }

    /// The index is all read: the root, then the index's shape, then the manifest.
    fn end_scan(&mut self) -> Result<(), BackupError> {
        let index_digest: Sha256Digest = std::mem::take(&mut self.index_hasher).finalize().into();
        let root = root_of(
            &self.header,
            &index_digest,
            &sha256(&self.manifest_bytes),
            &self.trailer_fields,
        );
        if root != self.root {
            return Err(BackupError::ChecksumMismatch {
                what: "its index and manifest".into(),
            });
        }
        if let Some(e) = self.scan_error.take() {
            return Err(e);
        }
        if self.scan_prev.is_some_and(|p| p.kind == KIND_PART) {
            return Err(BackupError::corrupt(
                "a Blob part at the end belongs to no chunk",
            ));
        }
        if self.scan_offset != self.index_offset {
            return Err(BackupError::corrupt(
                "its frames do not fill the bytes before its index",
            ));
        }
        let mut manifest = self.check_manifest()?;
        manifest.bytes = self.file_len;
        manifest.sha256 = hex(&self.root);
        self.manifest_bytes = Vec::new();
        self.index_hasher = Sha256::new();
        self.manifest = Some(manifest.clone());
        self.ready.push_back(Step::Manifest(manifest));
        if self.frame_count == 0 {
            self.finish_reading();
        } else {
            self.state = State::Frames;
        }
        Ok(())
    }

    fn check_manifest(&mut self) -> Result<BackupManifest, BackupError> {
        let manifest: BackupManifest = crate::json::from_json(&self.manifest_bytes)
            .map_err(|_| BackupError::corrupt("its manifest cannot be read"))?;
        if manifest.format_version != self.version {
            return Err(BackupError::corrupt(
                "its manifest and header disagree on the format version",
            ));
        }
        let mut names = BTreeSet::new();
        for s in &manifest.stores {
            if !names.insert(s.schema.name.as_str()) {
                return Err(BackupError::corrupt(format!(
                    "store {:?} is listed twice",
                    s.schema.name
                )));
            }
            s.check_key_generator(self.version)?;
        }
        let mut totals = std::mem::take(&mut self.totals).into_iter().peekable();
        for (i, s) in manifest.stores.iter().enumerate() {
            let (records, bytes, digest) = match totals.next_if(|t| t.store as usize == i) {
                Some(t) => (t.records, t.bytes, hex(&t.digests.finalize())),
                None => (0, 0, hex(&sha256(&[]))),
            };
            if digest != s.sha256 {
                return Err(BackupError::ChecksumMismatch {
                    what: format!("store {:?}", s.schema.name),
                });
            }
            if records != s.records || bytes != s.bytes {
                return Err(BackupError::corrupt(format!(
                    "store {:?} holds {records} records in {bytes} bytes but its manifest says \
                     {} in {}",
                    s.schema.name, s.records, s.bytes
                )));
            }
        }
        if totals.next().is_some() {
            return Err(BackupError::corrupt(
                "its index lists frames of a store its manifest does not hold",
            ));
        }
        for skipped in &manifest.skipped {
            if !names.contains(skipped.store.as_str()) {
                return Err(BackupError::corrupt(format!(
                    "a skipped record names store {:?}, which the backup does not hold",
                    skipped.store
                )));
            }
            skipped.decoded_key()?;
        }
        Ok(manifest)
    }

    fn store_name(&self, store: u32) -> String {
        self.manifest
            .as_ref()
            .and_then(|m| m.stores.get(store as usize))
            .map(|s| s.schema.name.clone())
            .unwrap_or_default()
    }

    fn take_part_digest(
        &mut self,
        range: Range<u64>,
        digest: Sha256Digest,
    ) -> Result<(), BackupError> {
        let Some(entry) = self.current_entry() else {
            return Err(BackupError::invalid("no digest was asked for"));
        };
        if digest != entry.digest {
            return Err(BackupError::ChecksumMismatch {
                what: format!(
                    "a Blob of store {:?} (bytes {} to {})",
                    self.store_name(entry.store),
                    range.start,
                    range.end
                ),
            });
        }
        self.pending_parts.push(range);
        self.next_frame(entry);
        Ok(())
    }

    fn take_chunk(
        &mut self,
        entry: IndexEntry,
        range: Range<u64>,
        bytes: &[u8],
        digest: Option<Sha256Digest>,
    ) -> Result<(), BackupError> {
        let name = self.store_name(entry.store);
        if entry.store != self.chunk_store {
            self.chunk_store = entry.store;
            self.chunk_of_store = 0;
        }
        self.chunk_of_store += 1;
        let number = self.chunk_of_store;
        if digest.unwrap_or_else(|| sha256(bytes)) != entry.digest {
            return Err(BackupError::ChecksumMismatch {
                what: format!("chunk {number} of store {name:?}"),
            });
        }
        if entry.kind == KIND_COMPRESSED {
            self.inflating = Some((entry, range));
            return Ok(());
        }
        self.decode_chunk_records(entry, range, bytes)
    }

    /// Decodes a chunk's records (inflated, if it was stored compressed) and hands them out.
    fn decode_chunk_records(
        &mut self,
        entry: IndexEntry,
        range: Range<u64>,
        bytes: &[u8],
    ) -> Result<(), BackupError> {
        let name = self.store_name(entry.store);
        let number = self.chunk_of_store;
        let in_chunk = |e: BackupError| match e {
            BackupError::Corrupt { reason } => {
                BackupError::corrupt(format!("in chunk {number} of store {name:?}, {reason}"))
            }
            other => other,
        };
        let parts = std::mem::take(&mut self.pending_parts);
        let (records, spans) =
            decode_chunk(bytes, entry.records, &parts, self.mode).map_err(in_chunk)?;
        match self.mode {
            ReadMode::Verify => {}
            ReadMode::Records => self.ready.push_back(Step::Records(RecordBatch {
                store: entry.store as usize,
                chunk: range,
                records,
            })),
            ReadMode::Spans => self.ready.push_back(Step::Spans(ChunkSpans {
                store: entry.store as usize,
                chunk: range,
                records: spans,
            })),
        }
        self.next_frame(entry);
        Ok(())
    }

    fn next_frame(&mut self, entry: IndexEntry) {
        self.frame_offset += entry.len;
        self.frame += 1;
        if self.frame == self.frame_count {
            self.finish_reading();
        }
    }

    fn finish_reading(&mut self) {
        self.state = State::Done;
        if let Some(m) = &self.manifest {
            self.ready.push_back(Step::Done(m.clone()));
        }
    }
}

/// Decodes a chunk's records, checking their count and that their part references are the
/// parts before the chunk (`parts`), in order and of the same lengths; what `mode` hands out
/// of them (records, or where they lie).
fn decode_chunk(
    bytes: &[u8],
    count: u32,
    parts: &[Range<u64>],
    mode: ReadMode,
) -> Result<(Vec<ChunkRecord>, Vec<RecordSpan>), BackupError> {
    let mut r = Reader::new(bytes);
    let mut records = Vec::new();
    let mut spans = Vec::new();
    let mut decoded = 0u32;
    let mut next_part = 0usize;
    while !r.is_empty() {
        if decoded == count {
            return Err(BackupError::corrupt(format!(
                "it holds more records than the {count} its index lists"
            )));
        }
        let start = bytes.len() - r.remaining();
        let key = codec::read_value(&mut r)?;
        let (value, refs) = codec::read_value_with_parts(&mut r)?;
        if !key.is_valid_key() {
            return Err(BackupError::corrupt(format!(
                "a record's key ({}) is not one IndexedDB accepts",
                key.type_name()
            )));
        }
        let mut located = Vec::new();
        for part in refs {
            let range = parts
                .get(next_part)
                .filter(|range| range.end - range.start == part.len)
                .ok_or_else(|| {
                    BackupError::corrupt("a Blob refers to a part that is not before the chunk")
                })?;
            next_part += 1;
            if mode != ReadMode::Verify {
                located.push(BlobPartRange {
                    blob: part.blob,
                    range: range.clone(),
                });
            }
        }
        decoded += 1;
        match mode {
            ReadMode::Verify => {}
            ReadMode::Records => records.push(ChunkRecord {
                key,
                value,
                parts: located,
            }),
            ReadMode::Spans => spans.push(RecordSpan {
                bytes: start..bytes.len() - r.remaining(),
                parts: located,
            }),
        }
    }
    if decoded != count {
        return Err(BackupError::corrupt(format!(
            "it holds {decoded} records but its index lists {count}"
        )));
    }
    if next_part != parts.len() {
        return Err(BackupError::corrupt(format!(
            "{} Blob parts come before it but its records refer to {next_part}",
            parts.len()
        )));
    }
    Ok((records, spans))
}

/// The format version a file's first bytes declare (the first 16, or the whole file if
/// shorter): what tells a file read whole (1, 2) from a chunked one (3, 4). Refuses what is not
/// a Rewind backup, a sealed file (5: it needs a passphrase and unsealing first) and versions
/// newer than this build reads.
pub fn format_version(head: &[u8]) -> Result<u32, BackupError> {
    if head.is_empty() {
        return Err(BackupError::Empty);
    }
    let prefix = &head[..head.len().min(MAGIC.len())];
    if prefix != &MAGIC[..prefix.len()] {
        return Err(BackupError::BadMagic);
    }
    if head.len() < CHUNKED_HEADER_LEN as usize {
        return Err(BackupError::Truncated {
            missing: CHUNKED_HEADER_LEN - head.len() as u64,
        });
    }
    let version = le_u32(head, 8);
    // A sealed file is read after unsealing (`sealed.rs`), never by these readers.
    if version == super::sealed::SEALED_FORMAT_VERSION {
        return Err(BackupError::PassphraseRequired);
    }
    if version > NEWEST_FORMAT_VERSION {
        return Err(BackupError::UnsupportedFormat {
            found: version,
            supported: NEWEST_FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(BackupError::corrupt("its format version is 0"));
    }
    Ok(version)
}

/// Whether a file of `version` ([`format_version`]) is read in chunks by a [`ChunkedReader`].
pub fn reads_in_chunks(version: u32) -> bool {
    is_chunked_version(version)
}

/// Whether `data` has a whole header that says chunked (its checks come later; a shorter
/// start is cut short whatever its version).
pub(crate) fn is_chunked(data: &[u8]) -> bool {
    data.len() >= CHUNKED_HEADER_LEN as usize
        && data[..8] == MAGIC
        && is_chunked_version(le_u32(data, 8))
}

/// Inflates raw DEFLATE bytes into at most `limit` bytes (stopping there); `None` when they
/// are not raw DEFLATE. The core has none (a browser's `DecompressionStream` inflates there);
/// native tests and tools bring one.
pub type Inflater<'a> = &'a mut dyn FnMut(&[u8], usize) -> Option<Vec<u8>>;

/// Runs `reader` over a file held in memory, calling `on_step` with every step that is not a
/// request; returns the checked manifest. A compressed chunk (format 4) is refused: see
/// [`read_chunked_slice_inflating`].
pub fn read_chunked_slice(
    data: &[u8],
    reader: &mut ChunkedReader,
    on_step: &mut dyn FnMut(Step),
) -> Result<BackupManifest, BackupError> {
    read_slice(data, reader, None, on_step)
}

/// [`read_chunked_slice`] with compressed chunks inflated by `inflate`.
pub fn read_chunked_slice_inflating(
    data: &[u8],
    reader: &mut ChunkedReader,
    inflate: Inflater<'_>,
    on_step: &mut dyn FnMut(Step),
) -> Result<BackupManifest, BackupError> {
    read_slice(data, reader, Some(inflate), on_step)
}

fn read_slice(
    data: &[u8],
    reader: &mut ChunkedReader,
    mut inflate: Option<Inflater<'_>>,
    on_step: &mut dyn FnMut(Step),
) -> Result<BackupManifest, BackupError> {
    loop {
        match reader.next_step()? {
            Step::Read(range) => reader.give_bytes(slice_of(data, &range)?)?,
            Step::Digest(range) => reader.give_digest(sha256(slice_of(data, &range)?))?,
            Step::Inflate { chunk, len } => {
                let limit = usize::try_from(len)
                    .ok()
                    .and_then(|n| n.checked_add(1))
                    .ok_or_else(|| BackupError::invalid("a chunk too large to inflate here"))?;
                let Some(inflate) = inflate.as_mut() else {
                    return Err(BackupError::invalid(
                        "a compressed backup (format 4) is read from its file, where the \
                         browser inflates it; this reader of bytes in memory has no inflater",
                    ));
                };
                let inflated = inflate(slice_of(data, &chunk)?, limit);
                reader.give_inflated(inflated.as_deref())?
            }
            Step::Done(manifest) => return Ok(manifest),
            other => on_step(other),
        }
    }
}

fn slice_of<'a>(data: &'a [u8], range: &Range<u64>) -> Result<&'a [u8], BackupError> {
    usize::try_from(range.start)
        .ok()
        .zip(usize::try_from(range.end).ok())
        .and_then(|(a, b)| data.get(a..b))
        .ok_or_else(|| BackupError::invalid("a range past the end of the file was asked for"))
}

/// Verifies a chunked file held in memory completely, keeping no records.
pub(crate) fn inspect_chunked(data: &[u8]) -> Result<BackupManifest, BackupError> {
    let mut reader = ChunkedReader::new(data.len() as u64, ReadMode::Verify);
    read_chunked_slice(data, &mut reader, &mut |_| {})
}

/// Reads a chunked file held in memory completely, with the bytes of its out-of-line Blobs
/// put back into the values; a compressed chunk is refused unless `inflate` is given.
pub(crate) fn decode_chunked(
    data: &[u8],
    inflate: Option<Inflater<'_>>,
) -> Result<DecodedBackup, BackupError> {
    let mut reader = ChunkedReader::new(data.len() as u64, ReadMode::Records);
    let mut stores: Vec<StoreRecords> = Vec::new();
    let mut failure = None;
    let manifest = read_slice(data, &mut reader, inflate, &mut |step| match step {
        Step::Manifest(m) => {
            stores = m
                .stores
                .iter()
                .map(|s| StoreRecords {
                    name: s.schema.name.clone(),
                    records: Vec::new(),
                })
                .collect();
        }
        Step::Records(batch) => {
            for record in batch.records {
                match with_part_bytes(data, record) {
                    Ok(kv) => {
                        if let Some(store) = stores.get_mut(batch.store) {
                            store.records.push(kv);
                        }
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
        }
        _ => {}
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(DecodedBackup { manifest, stores })
}

/// A record's key and value with its out-of-line Blobs' bytes taken from `data`.
fn with_part_bytes(data: &[u8], record: ChunkRecord) -> Result<(Value, Value), BackupError> {
    let ChunkRecord {
        key,
        mut value,
        parts,
    } = record;
    let mut parts = parts.into_iter().peekable();
    let mut ordinal = 0usize;
    let mut failure = None;
    value.for_each_blob_mut(&mut |bytes| {
        if let Some(part) = parts.next_if(|p| p.blob == ordinal) {
            match slice_of(data, &part.range) {
                Ok(b) => *bytes = b.to_vec(),
                Err(e) => failure = Some(e),
            }
        }
        ordinal += 1;
    });
    match failure {
        Some(e) => Err(e),
        None => Ok((key, value)),
    }
}

/// A chunked file held in memory as a file of format 2 with the same manifest fields and
/// records (every Blob inline, counts and checksums computed anew): for a reader that works on
/// whole record sections — today's restore. Everything is checked first as the
/// [`ChunkedReader`] checks it. A chunk without out-of-line Blobs is copied as it is (its bytes
/// are a run of a section); only records with parts are decoded and encoded again.
pub fn chunked_as_sections(data: &[u8]) -> Result<super::EncodedBackup, BackupError> {
    use super::format::{encode_record, finish_backup, SectionSpan};
    let mut reader = ChunkedReader::new(data.len() as u64, ReadMode::Records);
    let mut body = Vec::new();
    let mut spans: Vec<SectionSpan> = Vec::new();
    let mut failure = None;
    let convert = |batch: RecordBatch, body: &mut Vec<u8>, span: &mut SectionSpan| {
        if span.records == 0 {
            span.range = body.len()..body.len();
        }
        let whole = usize::try_from(batch.chunk.start)
            .ok()
            .zip(usize::try_from(batch.chunk.end).ok())
            .and_then(|(a, b)| data.get(a..b));
        match whole {
            Some(bytes) if batch.records.iter().all(|r| r.parts.is_empty()) => {
                body.extend_from_slice(bytes);
                span.records += batch.records.len() as u64;
            }
            _ => {
                for record in batch.records {
                    span.records += 1;
                    let (key, value) = with_part_bytes(data, record)?;
                    encode_record(&key, &value, span.records, body)?;
                }
            }
        }
        span.range.end = body.len();
        Ok::<(), BackupError>(())
    };
    let manifest = read_chunked_slice(data, &mut reader, &mut |step| match step {
        Step::Manifest(m) => {
            spans = m
                .stores
                .iter()
                .map(|_| SectionSpan {
                    records: 0,
                    range: 0..0,
                })
                .collect();
        }
        Step::Records(batch) if failure.is_none() => {
            let store = batch.store;
            match spans.get_mut(store) {
                Some(span) => {
                    if let Err(e) = convert(batch, &mut body, span) {
                        failure = Some(e);
                    }
                }
                None => failure = Some(BackupError::corrupt("a chunk of a store not listed")),
            }
        }
        _ => {}
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    finish_backup(manifest, body, &spans)
}
