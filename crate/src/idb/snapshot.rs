//! Taking a backup: every app store (schema, keys, records) and Rewind's metadata, read in one
//! read-only transaction so they describe one moment, written as a chunked file (format 4 with
//! chunks compressed, or 3, `docs/backup-format.md`) that is never whole in memory.
//!
//! Records are read a batch at a time (`getAll` from after the last key read) and encoded into
//! chunks while the transaction runs: plain records by the fast path a run at a time, others
//! walked one by one (ImageBitmap pixels are read synchronously). Each sealed chunk leaves wasm
//! memory at once as a part of the file's Blob; a record's Blobs and Files go into the file as
//! parts of their own, the original Blobs, never read into wasm memory. The browser keeps the
//! parts of a Blob in its own storage (on disk when large), so what the page holds is one chunk
//! and one batch. Each chunk's SHA-256 is started (WebCrypto) as it is sealed and collected
//! after the transaction; each Blob part is hashed after it. A compressed backup keeps each
//! sealed chunk as a Blob of its own and hands it to a queue that compresses (and hashes) a
//! few at a time while the transaction reads on — nothing in the transaction awaits it; after
//! the transaction each chunk's stored form is awaited in turn and replaces its Blob when it
//! shrank.

use super::backend::{read_meta, META_STORE};
use super::clone::{blob_of_parts, describe_key, encode_batch, js_to_value, CloneError};
use super::deflate;
use super::error::thrown;
use super::in_place;
use super::inspect::{read_store, store_names};
use super::key_generators::start_reading;
use super::open::open_existing;
use super::request::{await_request, await_transaction, BatchReader};
use super::webcrypto::{sha256_of_blobs, sha256_start, sha256_started};
use crate::backup::{
    encode_value, hash_groups, BackupError, BackupManifest, ChunkDigests, ChunkedWriter, Frame,
    OutOfLineBlob, SkippedRecord, StoreManifest, CHUNKED_FORMAT_VERSION, CHUNK_TARGET_BYTES,
    MAX_CHUNK_RECORDS,
};
use crate::engine::RewindMeta;
use crate::fold::RESERVED_PREFIX;
use crate::rewind_error::RewindError;
use crate::schema::StoreSchema;
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransactionMode;

/// How often (in records) progress is reported.
pub const PROGRESS_EVERY: u64 = 500;

/// What to write into a new backup's manifest besides what is read from the database.
pub struct SnapshotInfo {
    pub id: String,
    pub label: String,
    pub automatic: bool,
    pub created_at: f64,
    /// Leave out (and list in the manifest) records holding a value no backup can carry,
    /// instead of refusing the whole backup.
    pub skip_unsupported: bool,
    /// Store chunks compressed (format 4), where the browser can.
    pub compress: bool,
}

/// What a snapshot reads.
pub enum Reading<'a> {
    /// The app's stores and Rewind's metadata, as they are now.
    Database,
    /// A backup held in place ([`BackupManifest::in_place`]): its stores under their reserved
    /// names, written under their own; its manifest gives the metadata.
    HeldInPlace(&'a BackupManifest),
}

/// A backup made: its file (a Blob whose parts the browser holds) and its manifest.
pub struct SnapshotFile {
    pub blob: web_sys::Blob,
    pub manifest: BackupManifest,
}

/// Records read per batch (and progress reported as often).
const BATCH: u32 = PROGRESS_EVERY as u32;

/// Sealed chunks are gathered into one Blob once they add up to this many bytes, so that the
/// JavaScript heap holds at most this much of the file at a time.
const SPOOL_BYTES: usize = 16 << 20;

/// The file as it is made. Sealed chunks are gathered into Blobs of their own; the records'
/// Blobs stay as they are until the file's one Blob is made, after each was read alone
/// (`hash_parts`): a Blob made of one whose data the browser lost can block Chromium's page
/// thread for good (docs/reliability.md, finding 5), where reading it alone fails (`LostBlob`).
struct Spool {
    /// Blobs of chunks and the records' Blobs, in file order.
    made: js_sys::Array,
    /// Chunks (`Uint8Array`s) not yet gathered into a Blob.
    loose: js_sys::Array,
    loose_bytes: usize,
}

impl Spool {
    fn new() -> Spool {
        Spool {
            made: js_sys::Array::new(),
            loose: js_sys::Array::new(),
            loose_bytes: 0,
        }
    }

    /// Copies `bytes` out of wasm memory into the file; the copy is returned.
    fn bytes(&mut self, bytes: &[u8]) -> Result<js_sys::Uint8Array, RewindError> {
        let copy = js_sys::Uint8Array::from(bytes);
        self.loose.push(&copy);
        self.loose_bytes += bytes.len();
        if self.loose_bytes >= SPOOL_BYTES {
            self.gather()?;
        }
        Ok(copy)
    }

    /// Puts a sealed chunk into the file as a Blob of its own (one a compressed copy may
    /// replace later); where it is in `made`.
    fn chunk(&mut self, bytes: &[u8]) -> Result<u32, RewindError> {
        self.gather()?;
        let one = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        let blob = blob_of_parts(&one, "").map_err(storage)?;
        Ok(self.made.push(&blob) - 1)
    }

    fn blob(&mut self, blob: &web_sys::Blob) -> Result<(), RewindError> {
        // The chunks before it are gathered first (a Blob per run of chunks, about one per
        // chunk where records hold Blobs): no Blob is made of a record's Blob here.
        self.gather()?;
        self.made.push(blob);
        Ok(())
    }

    fn gather(&mut self) -> Result<(), RewindError> {
        if self.loose.length() == 0 {
            return Ok(());
        }
        let blob = blob_of_parts(&self.loose, "").map_err(storage)?;
        self.made.push(&blob);
        self.loose = js_sys::Array::new();
        self.loose_bytes = 0;
        Ok(())
    }

    fn finish(mut self, mime: &str) -> Result<web_sys::Blob, RewindError> {
        self.gather()?;
        blob_of_parts(&self.made, mime).map_err(storage)
    }
}

fn storage(e: JsValue) -> RewindError {
    RewindError::Migration(crate::MigrationError::Storage(super::error::describe(&e)))
}

/// A Blob part whose SHA-256 the index still needs, and the record it belongs to.
struct PartToHash {
    frame: u64,
    blob: web_sys::Blob,
    store: String,
    key: String,
}

/// What the read-only transaction is making.
struct Writing {
    writer: ChunkedWriter,
    spool: Spool,
    parts: Vec<PartToHash>,
    /// Sealed chunks whose SHA-256 WebCrypto is computing: frame number, digest to come.
    chunks: Vec<(u64, js_sys::Promise)>,
    /// Sealed chunks being compressed: frame number, place in the spool, stored form to come.
    to_compress: Vec<(u64, u32, js_sys::Promise)>,
    compressor: Option<deflate::Compressor>,
    skip_unsupported: bool,
    /// Bytes per record of the last run the fast path encoded: how long the next run may be.
    bytes_per_record: usize,
}

impl Writing {
    /// A file begun: its header is in the spool.
    fn new(
        mut manifest: BackupManifest,
        skip_unsupported: bool,
        compress: bool,
    ) -> Result<Writing, RewindError> {
        let compressor = compress.then(deflate::Compressor::new).flatten();
        let digests = match compressor {
            Some(_) => ChunkDigests::CompressedByCaller,
            None => ChunkDigests::GivenByCaller,
        };
        manifest.format_version = digests.format_version();
        let writer = ChunkedWriter::new(manifest, digests)?;
        let mut spool = Spool::new();
        spool.bytes(&writer.header())?;
        Ok(Writing {
            writer,
            spool,
            parts: Vec::new(),
            chunks: Vec::new(),
            to_compress: Vec::new(),
            compressor,
            skip_unsupported,
            bytes_per_record: 0,
        })
    }

    /// Puts frames into the file; `blobs` are the Blobs of the record just pushed.
    fn frames(
        &mut self,
        frames: Vec<Frame>,
        blobs: &[web_sys::Blob],
        store: &str,
        key: &str,
    ) -> Result<(), RewindError> {
        for frame in frames {
            match frame {
                Frame::Chunk { number, bytes } if self.compressor.is_some() => {
                    let at = self.spool.chunk(&bytes)?;
                    let blob: web_sys::Blob = self.spool.made.get(at).unchecked_into();
                    if let Some(compressor) = &self.compressor {
                        let started = compressor.add(&blob).map_err(storage)?;
                        self.to_compress.push((number, at, started));
                    }
                }
                Frame::Chunk { number, bytes } => {
                    // Hashed by WebCrypto (faster than `sha2` in wasm), awaited after the
                    // transaction; by `sha2` here where WebCrypto is missing.
                    let copy = self.spool.bytes(&bytes)?;
                    match sha256_start(&copy) {
                        Some(started) => self.chunks.push((number, started)),
                        None => self
                            .writer
                            .set_digest(number, Sha256::digest(&bytes).into())?,
                    }
                }
                Frame::Part { number, blob, .. } => {
                    let Some(blob) = blobs.get(blob) else {
                        return Err(BackupError::invalid("a Blob part of no Blob").into());
                    };
                    self.spool.blob(blob)?;
                    self.parts.push(PartToHash {
                        frame: number,
                        blob: blob.clone(),
                        store: store.to_string(),
                        key: key.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// How many records the fast path may encode as one run: about a chunk's target size.
    fn run_length(&self) -> u32 {
        match self.bytes_per_record {
            0 => 64,
            n => (CHUNK_TARGET_BYTES / n).clamp(1, MAX_CHUNK_RECORDS as usize) as u32,
        }
    }
}

fn in_store(store: &str) -> impl Fn(BackupError) -> BackupError + '_ {
    move |e| match e {
        BackupError::Invalid { reason } => {
            BackupError::invalid(format!("store {store:?}: {reason}"))
        }
        other => other,
    }
}

/// Writes one store's records into the file, a batch at a time, inside the transaction.
async fn write_store_records(
    store: &web_sys::IdbObjectStore,
    (index, name): (usize, &str),
    writing: &mut Writing,
    (done, total): (&mut u64, u64),
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<(), RewindError> {
    let mut batches = BatchReader::new(store, BATCH)?;
    while let Some((keys, values)) = batches.next().await? {
        let n = keys.length();
        let mut i = 0u32;
        while i < n {
            let end = n.min(i.saturating_add(writing.run_length()));
            let mut run = Vec::new();
            let reached = encode_batch(&keys, &values, i, end, &mut run)
                .map_err(|bytes| RewindError::BackupTooLarge { bytes })?;
            if reached > i {
                let records = reached - i;
                writing.bytes_per_record = run.len() / records as usize;
                let frames = writing
                    .writer
                    .push_encoded(index, &run, records)
                    .map_err(in_store(name))?;
                writing.frames(frames, &[], name, "")?;
                i = reached;
                continue;
            }
            // A record the fast path leaves: walked here, its Blobs out of line.
            let key = js_to_value(&keys.get(i))
                .map_err(|e| e.in_record(name, "?"))?
                .value()
                .clone();
            i += 1;
            let walked = js_to_value(&values.get(i - 1))
                .and_then(|pending| Ok((pending.value_with_bitmaps()?, pending)));
            let (value, pending) = match walked {
                Ok(walked) => walked,
                Err(e) if writing.skip_unsupported => {
                    writing.writer.skip(skipped_record(name, &key, e)?);
                    continue;
                }
                Err(e) => return Err(e.in_record(name, &describe_key(&key)).into()),
            };
            let out_of_line: Vec<OutOfLineBlob> = pending
                .blobs()
                .iter()
                .enumerate()
                .map(|(blob, b)| OutOfLineBlob {
                    blob,
                    len: b.size() as u64,
                })
                .collect();
            let frames = writing
                .writer
                .push(index, &key, &value, &out_of_line)
                .map_err(in_store(name))?;
            writing.frames(frames, pending.blobs(), name, &describe_key(&key))?;
        }
        *done += u64::from(n);
        if let Some(report) = progress {
            report(*done, total);
        }
    }
    Ok(())
}

/// The manifest's entry for a record left out because of `error`.
fn skipped_record(
    store: &str,
    key: &crate::backup::Value,
    error: CloneError,
) -> Result<SkippedRecord, RewindError> {
    let mut key_bytes = Vec::new();
    encode_value(key, &mut key_bytes).map_err(in_store(store))?;
    Ok(SkippedRecord {
        store: store.to_string(),
        key: describe_key(key),
        key_bytes: crate::migration::hex(&key_bytes),
        type_name: error.type_name,
        path: error.path,
    })
}

/// Reads everything in one read-only transaction, writing the file's frames as it goes.
async fn write_everything(
    name: &str,
    info: SnapshotInfo,
    reading: Reading<'_>,
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<Writing, RewindError> {
    let db = open_existing(name).await?;
    let outcome = async {
        let names = store_names(&db);
        let mut manifest = BackupManifest {
            format_version: CHUNKED_FORMAT_VERSION,
            id: info.id,
            database: name.to_string(),
            schema_version: 0,
            idb_version: db.version() as u64,
            created_at: info.created_at,
            label: info.label,
            automatic: info.automatic,
            meta: RewindMeta::default(),
            stores: Vec::new(),
            skipped: Vec::new(),
            interrupted: None,
            in_place: false,
            bytes: 0,
            sha256: String::new(),
        };
        // Each store as the database names it and as the file will.
        let (stores, meta_store): (Vec<(String, String)>, bool) = match reading {
            Reading::Database => (
                names
                    .iter()
                    .filter(|n| !n.starts_with(RESERVED_PREFIX))
                    .map(|n| (n.clone(), n.clone()))
                    .collect(),
                names.iter().any(|n| n == META_STORE),
            ),
            Reading::HeldInPlace(kept) => {
                manifest.idb_version = kept.idb_version;
                manifest.meta = kept.meta.clone();
                manifest.interrupted = kept.interrupted.clone();
                let held: Vec<(String, String)> = kept
                    .stores
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (in_place::store_name(&kept.id, i), s.schema.name.clone()))
                    .collect();
                if held.iter().any(|(in_db, _)| !names.contains(in_db)) {
                    return Err(RewindError::NoSuchBackup {
                        id: kept.id.clone(),
                    });
                }
                (held, false)
            }
        };
        let mut scope: Vec<&str> = stores.iter().map(|(in_db, _)| in_db.as_str()).collect();
        if scope.is_empty() && !meta_store {
            manifest.schema_version = manifest.meta.schema_version;
            let mut writing = Writing::new(manifest, info.skip_unsupported, info.compress)?;
            writing.writer.end()?;
            return Ok(writing);
        }
        // The key generators are read by a transaction made just before the snapshot's (so
        // run before it, over the same state); it aborts, which leaves them as they were.
        let generators = start_reading(&db, &scope)?;
        if meta_store {
            scope.push(META_STORE);
        }
        let all: js_sys::Array = scope.iter().map(|n| JsValue::from_str(n)).collect();
        let tx = db
            .transaction_with_str_sequence_and_mode(&all, IdbTransactionMode::Readonly)
            .map_err(thrown)?;
        if meta_store {
            let (meta, interrupted) =
                read_meta(&tx.object_store(META_STORE).map_err(thrown)?).await?;
            manifest.meta = meta;
            manifest.interrupted = interrupted.map(Box::new);
        }
        let mut app = Vec::new();
        let mut total = 0u64;
        for (in_db, in_file) in &stores {
            let store = tx.object_store(in_db).map_err(thrown)?;
            let count = await_request(store.count().map_err(thrown)?).await?;
            total += count.as_f64().unwrap_or(0.0) as u64;
            let schema = StoreSchema {
                name: in_file.clone(),
                ..read_store(&store)?
            };
            manifest.stores.push(StoreManifest::new(schema));
            app.push((in_file, store));
        }
        // The snapshot's requests have answered: the generators' transaction is over.
        let read = generators.read()?;
        for (store, key_generator) in manifest.stores.iter_mut().zip(read) {
            store.key_generator = key_generator;
        }
        manifest.schema_version = manifest.meta.schema_version;
        let mut writing = Writing::new(manifest, info.skip_unsupported, info.compress)?;
        let mut done = 0u64;
        for (index, (n, store)) in app.into_iter().enumerate() {
            write_store_records(
                &store,
                (index, n),
                &mut writing,
                (&mut done, total),
                progress,
            )
            .await?;
        }
        let last = writing.writer.end()?;
        writing.frames(last, &[], "", "")?;
        await_transaction(&tx).await?;
        Ok(writing)
    }
    .await;
    db.close();
    outcome
}

/// Collects each sealed chunk's stored form (the transaction is over), in file order: a
/// compressed one replaces its Blob in the spool. A chunk that does not shrink (bytes already
/// compressed) stays as it is: smaller, and nothing to inflate.
async fn compress_chunks(writing: &mut Writing) -> Result<(), RewindError> {
    for (frame, at, started) in std::mem::take(&mut writing.to_compress) {
        let stored = deflate::stored(started).await.map_err(storage)?;
        let digest = match stored.digest {
            Some(digest) => digest,
            None => {
                let bytes = super::storage::blob_to_bytes(&stored.blob)
                    .await
                    .map_err(|e| RewindError::Storage(e.to_string()))?;
                Sha256::digest(&bytes).into()
            }
        };
        if stored.compressed {
            writing.writer.set_compressed(frame, stored.len, digest)?;
            writing.spool.made.set(at, stored.blob.into());
        } else {
            writing.writer.set_digest(frame, digest)?;
        }
    }
    Ok(())
}

/// Hashes every Blob part and collects the chunks' digests (the transaction is over), for the
/// index.
async fn hash_parts(writing: &mut Writing) -> Result<(), RewindError> {
    for (frame, started) in std::mem::take(&mut writing.chunks) {
        let digest = sha256_started(started).await.map_err(storage)?;
        writing.writer.set_digest(frame, digest)?;
    }
    let parts = std::mem::take(&mut writing.parts);
    for group in hash_groups(parts.iter().map(|p| p.blob.size() as u64)) {
        let group = &parts[group];
        let blobs: Vec<web_sys::Blob> = group.iter().map(|p| p.blob.clone()).collect();
        // Every part here is a Blob the database holds: one that cannot be read has lost its
        // data in the browser's storage (Chromium keeps it as a file of the profile), which
        // no way of storing it differently can mend (`UnsupportedValue` said so once).
        let digests = sha256_of_blobs(&blobs).await.map_err(|e| {
            let part = group.get(e.index).or(group.last());
            RewindError::LostBlob {
                store: part.map_or_else(String::new, |p| p.store.clone()),
                key: part.map_or_else(String::new, |p| p.key.clone()),
                cause: super::error::describe(&e.cause),
            }
        })?;
        for (part, digest) in group.iter().zip(digests) {
            writing.writer.set_digest(part.frame, digest)?;
        }
    }
    Ok(())
}

/// Backs up database `name` into one chunked file.
pub async fn snapshot(
    name: &str,
    info: SnapshotInfo,
    reading: Reading<'_>,
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<SnapshotFile, RewindError> {
    let mut writing = write_everything(name, info, reading, progress).await?;
    compress_chunks(&mut writing).await?;
    hash_parts(&mut writing).await?;
    let Writing {
        writer, mut spool, ..
    } = writing;
    let tail = writer.finish()?;
    spool.bytes(&tail.bytes)?;
    let total = tail.manifest.total_records();
    if let Some(report) = progress {
        report(total, total);
    }
    Ok(SnapshotFile {
        blob: spool.finish(super::catalog::BACKUP_MIME)?,
        manifest: tail.manifest,
    })
}
