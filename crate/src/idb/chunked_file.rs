//! A backup file read from its Blob a range at a time: a chunked file (format 3 or 4) through
//! the core's [`ChunkedReader`], which decides what to read and checks it; here it is only
//! read. Ranges are read as slices (never inside a transaction), a chunk's digest is
//! WebCrypto's, a compressed chunk is inflated by the browser (never past the length its index
//! declares), and a Blob part is hashed as a Blob: the file is never whole in memory, only a
//! chunk (compressed and inflated).
//! Files of the formats before (1, 2) are read whole, as they were made.

use super::storage::{append_js, blob_to_bytes};
use super::{deflate, webcrypto, IdbError};
use crate::backup::format::VerifiedFile;
use crate::backup::{
    format_version, reads_in_chunks, BackupError, BackupManifest, ChunkSpans, ChunkedReader,
    ReadMode, Step,
};
use crate::backup::{hash_groups, Sha256Digest, HASH_GROUP};
use crate::rewind_error::RewindError;
use std::ops::Range;
use wasm_bindgen_futures::JsFuture;

/// What reading a chunked file gives next.
pub enum Read {
    /// The manifest, checked against the index and the root (before any chunk).
    Manifest(BackupManifest),
    /// A chunk, checked: where its records lie in `bytes`, the chunk as read (inflated).
    Chunk { spans: ChunkSpans, bytes: Vec<u8> },
    /// Every byte is checked.
    Done(BackupManifest),
}

/// A chunked file being read.
pub struct ChunkedFile {
    blob: web_sys::Blob,
    /// Boxed: it holds an index block and the scan's totals.
    reader: Box<ChunkedReader>,
}

/// A backup file opened: its manifest checked, its records still to read.
pub enum OpenedFile {
    /// Format 1 or 2, read and verified whole.
    Whole {
        bytes: Vec<u8>,
        verified: VerifiedFile,
    },
    /// Format 3 or 4: header, trailer, index and manifest checked; each chunk is checked as
    /// it is read.
    Chunked {
        file: ChunkedFile,
        manifest: BackupManifest,
    },
}

impl OpenedFile {
    pub fn manifest(&self) -> &BackupManifest {
        match self {
            OpenedFile::Whole { verified, .. } => &verified.manifest,
            OpenedFile::Chunked { manifest, .. } => manifest,
        }
    }
}

/// A file that can no longer be read (changed, moved or still being written) is a problem with
/// the file, not with the browser's storage.
fn unreadable(e: IdbError) -> RewindError {
    match e {
        IdbError::TooLarge { bytes } => RewindError::FileTooLarge { bytes },
        IdbError::BlobUnreadable(cause) => RewindError::UnreadableFile(cause),
        other => RewindError::UnreadableFile(other.to_string()),
    }
}

/// The bytes at `range` of `blob`, as the browser hands them (in the JS heap).
async fn read_range(
    blob: &web_sys::Blob,
    range: Range<u64>,
) -> Result<js_sys::Uint8Array, RewindError> {
    let slice = blob
        .slice_with_f64_and_f64(range.start as f64, range.end as f64)
        .map_err(|e| unreadable(IdbError::from_js(&e)))?;
    let buffer = JsFuture::from(slice.array_buffer())
        .await
        .map_err(|e| RewindError::UnreadableFile(super::error::describe(&e)))?;
    let bytes = js_sys::Uint8Array::new(&buffer);
    if u64::from(bytes.length()) != range.end - range.start {
        return Err(RewindError::UnreadableFile(
            "it changed while it was being read".into(),
        ));
    }
    Ok(bytes)
}

/// `bytes` copied into wasm memory, or `FileTooLarge` when they cannot be held.
fn into_wasm(bytes: &js_sys::Uint8Array) -> Result<Vec<u8>, RewindError> {
    let mut out = Vec::new();
    append_js(&mut out, bytes).map_err(|bytes| RewindError::FileTooLarge { bytes })?;
    Ok(out)
}

/// Opens the backup in `blob`: a chunked file up to its manifest (a few small reads), an older
/// one read and verified whole. Nothing is written.
pub async fn open_file(blob: web_sys::Blob) -> Result<OpenedFile, RewindError> {
    let size = blob.size() as u64;
    let head = read_range(&blob, 0..size.min(16)).await?.to_vec();
    if reads_in_chunks(format_version(&head)?) {
        let mut file = ChunkedFile::new(blob, ReadMode::Spans);
        return match file.next().await? {
            Read::Manifest(manifest) => Ok(OpenedFile::Chunked { file, manifest }),
            _ => Err(BackupError::invalid("the manifest did not come first").into()),
        };
    }
    let bytes = blob_to_bytes(&blob).await.map_err(unreadable)?;
    let verified = webcrypto::verify_file(&bytes).await?;
    Ok(OpenedFile::Whole { bytes, verified })
}

/// Checks every byte of the backup in `blob` and gives its manifest; holds a chunk at most.
pub async fn inspect_blob(blob: web_sys::Blob) -> Result<BackupManifest, RewindError> {
    let size = blob.size() as u64;
    let head = read_range(&blob, 0..size.min(16)).await?.to_vec();
    if reads_in_chunks(format_version(&head)?) {
        let mut file = ChunkedFile::new(blob, ReadMode::Verify);
        loop {
            if let Read::Done(manifest) = file.next().await? {
                return Ok(manifest);
            }
        }
    }
    let bytes = blob_to_bytes(&blob).await.map_err(unreadable)?;
    Ok(webcrypto::inspect(&bytes).await?)
}

impl ChunkedFile {
    /// The SHA-256 of each range of the file (one group of [`hash_groups`], one after another):
    /// read as one range, each hashed by WebCrypto.
    async fn hash_parts(&self, ranges: Vec<Range<u64>>) -> Result<Vec<Sha256Digest>, RewindError> {
        let (Some(first), Some(last)) = (ranges.first(), ranges.last()) else {
            return Ok(Vec::new());
        };
        let bytes = read_range(&self.blob, first.start..last.end).await?;
        let sizes: Vec<u64> = ranges.iter().map(|r| r.end - r.start).collect();
        webcrypto::sha256_of_runs(&bytes, &sizes)
            .await
            .map_err(|e| RewindError::UnreadableFile(super::error::describe(&e)))
    }

    pub fn new(blob: web_sys::Blob, mode: ReadMode) -> ChunkedFile {
        let reader = Box::new(ChunkedReader::new(blob.size() as u64, mode));
        ChunkedFile { blob, reader }
    }

    /// The file's Blob (whose slices are the contents of the records' out-of-line Blobs).
    pub fn blob(&self) -> &web_sys::Blob {
        &self.blob
    }

    /// Reads and checks what the reader needs until it has something to hand out.
    pub async fn next(&mut self) -> Result<Read, RewindError> {
        let mut chunk = None;
        // The chunk last read, as the browser handed it: what a compressed chunk inflates from.
        let mut chunk_read = None;
        loop {
            let reading_chunk = self.reader.reading_chunk();
            match self.reader.next_step()? {
                Step::Read(range) => {
                    let read = read_range(&self.blob, range).await?;
                    if reading_chunk {
                        // WebCrypto hashes its own copy while the chunk comes into wasm.
                        let started = webcrypto::sha256_start(&read);
                        let bytes = into_wasm(&read)?;
                        let digest = match started {
                            Some(started) => Some(
                                webcrypto::sha256_started(started)
                                    .await
                                    .map_err(|e| IdbError::from_js(&e))?,
                            ),
                            None => None,
                        };
                        self.reader.give_bytes_with_digest(&bytes, digest)?;
                        chunk = Some(bytes);
                        chunk_read = Some(read);
                    } else {
                        self.reader.give_bytes(&into_wasm(&read)?)?;
                    }
                }
                Step::Digest(range) => {
                    // The parts ahead are hashed as one group (the first of the groups).
                    let mut ahead = self.reader.parts_ahead(HASH_GROUP);
                    let first = hash_groups(ahead.iter().map(|r| r.end - r.start));
                    ahead.truncate(first.first().map_or(0, |g| g.end));
                    if ahead.first() != Some(&range) {
                        ahead = vec![range];
                    }
                    for digest in self.hash_parts(ahead).await? {
                        self.reader.give_digest(digest)?;
                    }
                }
                Step::Inflate { len, .. } => {
                    let read = chunk_read.take().ok_or_else(|| {
                        BackupError::invalid("a chunk was to be inflated before it was read")
                    })?;
                    let limit = len.saturating_add(1);
                    let inflated = deflate::inflate(&read, limit)
                        .await
                        .map_err(|e| RewindError::UnreadableFile(super::error::describe(&e)))?;
                    drop(read);
                    match inflated {
                        Some(inflated) => {
                            let bytes = into_wasm(&inflated)?;
                            self.reader.give_inflated(Some(&bytes))?;
                            chunk = Some(bytes);
                        }
                        None => self.reader.give_inflated(None)?,
                    }
                }
                Step::Manifest(manifest) => return Ok(Read::Manifest(manifest)),
                Step::Spans(spans) => {
                    let bytes = chunk.take().ok_or_else(|| {
                        BackupError::invalid("a chunk's records came before its bytes")
                    })?;
                    return Ok(Read::Chunk { spans, bytes });
                }
                Step::Records(_) => {
                    return Err(BackupError::invalid("records are read by their spans").into())
                }
                Step::Done(manifest) => return Ok(Read::Done(manifest)),
            }
        }
    }
}
