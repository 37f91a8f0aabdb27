//! Restoring a verified backup, staged: the backup's stores are made under reserved names and
//! filled over as many transactions as they need, without touching the app's stores; what was
//! written is read back and matched against the file; then one short `versionchange`
//! transaction swaps them in (deletes the app's stores, renames the staged ones, checks the
//! schema and counts, writes metadata and journal). A failure or a closed tab before the swap
//! leaves the app's data exactly as it was; the swap itself commits whole or not at all.
//!
//! Everything that needs awaiting something other than IndexedDB (reading the file, decoding,
//! making ImageBitmaps) happens before any transaction starts.

use super::backend::{create_store, ensure_meta_stores, issue_meta_and_entry};
use super::carry::{read_live, write_carried};
use super::chunked_file::{ChunkedFile, OpenedFile, Read};
use super::clone::{
    decode_batch, js_to_value, make_bitmaps, value_to_js, value_to_js_with, value_to_js_with_parts,
    ChunkParts, DecodedBatch,
};
use super::error::thrown;
use super::in_place;
use super::inspect::store_names;
use super::key_generators::{raise_staged, start_reading};
use super::open::{delete_database, open_with_upgrade, BlockedPolicy, Upgrade};
use super::request::{await_transaction, BatchReader, RequestEvents};
use super::staging::{remove_leftovers, remove_staging, staging_name};
use super::IdbError;
use super::{CancelFlag, Progress};
use crate::backup::codec::{encode_value_with_parts, read_value, read_value_with_parts, Reader};
use crate::backup::format::encode_record;
use crate::backup::format::VerifiedFile;
use crate::backup::{
    BackupError, BackupManifest, ChunkSpans, OutOfLineBlob, SectionMatch, Value,
    CHUNK_TARGET_BYTES, MAX_CHUNK_RECORDS,
};
use crate::diff::diff;
use crate::engine::JournalEntry;
use crate::fold::RESERVED_PREFIX;
use crate::rewind_error::RewindError;
use crate::schema::{DatabaseSchema, StoreSchema};
use std::rc::Rc;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbTransactionMode;

#[wasm_bindgen(module = "/src/idb/batch_put.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn rewind_put_all(
        store: &web_sys::IdbObjectStore,
        keys: &js_sys::Array,
        values: &js_sys::Array,
        inline: bool,
    ) -> Result<JsValue, JsValue>;
    fn rewind_scan_batch(
        keys: &js_sys::Array,
        values: &js_sys::Array,
        blobs: &js_sys::Array,
    ) -> f64;
    fn rewind_unreadable_blob(blobs: &js_sys::Array) -> js_sys::Promise;
}

/// Records written per batch; after each, the transaction's own request is awaited, which lets
/// the page repaint its progress bar without letting the transaction commit.
const BATCH: usize = 1000;

/// The ImageBitmaps of the file's records, made before the transaction (making one is not an
/// IndexedDB request, so awaiting it inside would let the transaction commit): by store (its
/// position) and record (its offset in the section).
type Bitmaps = std::collections::BTreeMap<(usize, usize), Vec<JsValue>>;

/// Makes every ImageBitmap the file's records hold (verifying the file found which records
/// hold any).
async fn make_all_bitmaps(
    stores: &[JsStore],
    verified: &VerifiedFile,
) -> Result<Bitmaps, RewindError> {
    let mut made = Bitmaps::new();
    for (i, (s, offsets)) in stores.iter().zip(&verified.bitmap_records).enumerate() {
        for &offset in offsets {
            let (key, value, _) = read_record(&s.section, offset)?;
            let bitmaps = make_bitmaps(&value)
                .await
                .map_err(|e| e.in_record(&s.schema.name, &super::clone::describe_key(&key)))?;
            made.insert((i, offset), bitmaps);
        }
    }
    Ok(made)
}

struct JsStore {
    schema: StoreSchema,
    records: usize,
    /// The store's section of the file (verified), which the JavaScript fast path turns into
    /// values (a record it leaves, with Blobs, Maps…, is decoded in Rust and built from that),
    /// and which what is read back must match.
    section: Section,
}

/// A store's section: a range of the whole file, shared by every store.
struct Section(Rc<Vec<u8>>, std::ops::Range<usize>);

impl std::ops::Deref for Section {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0[self.1.clone()]
    }
}

fn prepare_file(file: Vec<u8>, verified: &VerifiedFile) -> Vec<JsStore> {
    let file = Rc::new(file);
    verified
        .manifest
        .stores
        .iter()
        .zip(&verified.sections)
        .map(|(m, range)| JsStore {
            schema: m.schema.clone(),
            records: m.records as usize,
            section: Section(file.clone(), range.clone()),
        })
        .collect()
}

/// The record (key and value) that starts at `offset`, decoded, and the offset after it.
fn read_record(section: &[u8], offset: usize) -> Result<(Value, Value, usize), RewindError> {
    let mut r = Reader::new(section.get(offset..).unwrap_or_default());
    let key = read_value(&mut r)?;
    let value = read_value(&mut r)?;
    Ok((key, value, section.len() - r.remaining()))
}

/// Records written per staging transaction. Each commits on its own, so no transaction of a
/// restore of any size stays open for long, and a cancel is heard between them.
const RECORDS_PER_TRANSACTION: usize = 20 * BATCH;

/// Where the records go and who hears how far they got.
struct Filling<'a> {
    db: &'a web_sys::IdbDatabase,
    bitmaps: Bitmaps,
    /// By store: the byte ranges of the records built in Rust (the fast path left them), the
    /// ones whose stored values the restore reads back and matches.
    built: Vec<Vec<std::ops::Range<usize>>>,
    done: u64,
    total: u64,
    progress: Option<Progress>,
    cancel: Option<CancelFlag>,
}

impl Filling<'_> {
    fn check_cancel(&self) -> Result<(), RewindError> {
        match &self.cancel {
            Some(flag) if flag.get() => Err(RewindError::Cancelled),
            _ => Ok(()),
        }
    }

    /// Writes the `store_index`-th store's records into its staging store `staged`, over as
    /// many transactions as it needs; inside each only its own requests are awaited.
    async fn fill(
        &mut self,
        store_index: usize,
        staged: &str,
        s: &JsStore,
    ) -> Result<(), RewindError> {
        let mut offset = 0usize;
        let mut index = 0usize;
        while index < s.records {
            self.check_cancel()?;
            let tx = self
                .db
                .transaction_with_str_and_mode(staged, IdbTransactionMode::Readwrite)
                .map_err(thrown)?;
            let written = self
                .fill_transaction(&tx, (store_index, staged), s, &mut offset, &mut index)
                .await;
            if let Err(err) = written {
                return Err(failure_of(&tx, err).await);
            }
            await_transaction(&tx).await?;
        }
        Ok(())
    }

    /// Writes records from `index` (at `offset` in the section) in transaction `tx`, up to
    /// its share, and waits for the last of them.
    async fn fill_transaction(
        &mut self,
        tx: &web_sys::IdbTransaction,
        (store_index, staged): (usize, &str),
        s: &JsStore,
        offset: &mut usize,
        index: &mut usize,
    ) -> Result<(), RewindError> {
        let store_name = &s.schema.name;
        let inline = s.schema.key_path.is_some();
        let store = tx.object_store(staged).map_err(thrown)?;
        let tx_end = (*index + RECORDS_PER_TRANSACTION).min(s.records);
        // The last request of the batch before: awaited once the next batch is queued, so
        // IndexedDB always has work while the next batch is made.
        let mut previous: Option<RequestEvents> = None;
        while *index < tx_end {
            // A batch put straight from the file's bytes by the fast path; a record it
            // leaves (Blobs, Maps…) is decoded in Rust and built from its value. A failing
            // put fails its request, which aborts the transaction.
            let end = (*index + BATCH).min(tx_end);
            let mut last = None;
            let start = *index;
            while *index < end {
                let (keys, values) = (js_sys::Array::new(), js_sys::Array::new());
                let DecodedBatch {
                    reached, decoded, ..
                } = decode_batch(
                    &s.section,
                    (*offset, (end - *index) as u32),
                    (&ChunkParts::none(), 0),
                    &keys,
                    &values,
                );
                *offset = reached;
                *index += decoded;
                let request = rewind_put_all(&store, &keys, &values, inline).map_err(thrown)?;
                if let Some(at) = request.as_f64() {
                    let record = *index - decoded + at as usize + 1;
                    return Err(RewindError::RestoreMismatch {
                        what: format!(
                            "the key of record {record} of store {store_name:?} (its value holds \
                             another key than the file gives it)"
                        ),
                    });
                }
                if !request.is_null() {
                    last = Some(request.unchecked_into::<web_sys::IdbRequest>());
                }
                if *index < end {
                    let (k, v, next) = read_record(&s.section, *offset)?;
                    let describe = super::clone::describe_key(&k);
                    let key = value_to_js(&k).map_err(|e| e.in_record(store_name, "?"))?;
                    let made = self
                        .bitmaps
                        .remove(&(store_index, *offset))
                        .unwrap_or_default();
                    let value = value_to_js_with(&v, made)
                        .map_err(|e| e.in_record(store_name, &describe))?;
                    last = Some(if inline {
                        store.put(&value).map_err(thrown)?
                    } else {
                        store.put_with_key(&value, &key).map_err(thrown)?
                    });
                    self.built[store_index].push(*offset..next);
                    *offset = next;
                    *index += 1;
                }
            }
            let last = last.map(RequestEvents::new);
            if let Some(request) = std::mem::replace(&mut previous, last) {
                request.next().await?;
            }
            self.done += (*index - start) as u64;
            #[cfg(feature = "test-hooks")]
            panic_point();
            if let Some(p) = &self.progress {
                p(self.done, self.total);
            }
        }
        if let Some(request) = previous.take() {
            request.next().await?;
        }
        Ok(())
    }
}

impl Filling<'_> {
    /// Writes the records of a chunked file into the staging stores `staged`, a chunk per
    /// transaction, each chunk read and checked before its transaction starts. A record the
    /// fast path leaves is built in Rust and read back before its transaction commits.
    async fn fill_chunked(
        &mut self,
        file: &mut ChunkedFile,
        manifest: &BackupManifest,
        staged: &[String],
    ) -> Result<(), RewindError> {
        loop {
            self.check_cancel()?;
            let (spans, bytes) = match file.next().await? {
                Read::Chunk { spans, bytes } => (spans, bytes),
                Read::Manifest(_) => continue,
                Read::Done(_) => return Ok(()),
            };
            let (Some(store), Some(staged)) =
                (manifest.stores.get(spans.store), staged.get(spans.store))
            else {
                return Err(
                    BackupError::invalid("a chunk of a store the manifest does not hold").into(),
                );
            };
            let schema = &store.schema;
            let chunk = prepare_chunk(file.blob(), &spans, &bytes, &schema.name).await?;
            let tx = self
                .db
                .transaction_with_str_and_mode(staged, IdbTransactionMode::Readwrite)
                .map_err(thrown)?;
            let written = put_chunk(&tx, staged, schema, &chunk, &spans, &bytes).await;
            if let Err(err) = written {
                return Err(failure_of(&tx, err).await);
            }
            await_transaction(&tx).await?;
            self.done += spans.records.len() as u64;
            #[cfg(feature = "test-hooks")]
            panic_point();
            if let Some(p) = &self.progress {
                p(self.done, self.total);
            }
        }
    }
}

impl Filling<'_> {
    /// Copies held store `from` (of backup `id`) into staging store `to` (of app store
    /// `store`, its keys in-line or not), in key order, about a chunk's worth of records per
    /// transaction over both stores: the values as IndexedDB gives them, each put under its own
    /// key, their Blobs read once it commits.
    async fn copy_held(
        &mut self,
        (id, from, to): (&str, &str, &str),
        (store, inline): (&str, bool),
    ) -> Result<(), RewindError> {
        let scope: js_sys::Array = [from, to].iter().map(|n| JsValue::from_str(n)).collect();
        let mut after: Option<JsValue> = None;
        loop {
            self.check_cancel()?;
            let tx = self
                .db
                .transaction_with_str_sequence_and_mode(&scope, IdbTransactionMode::Readwrite)
                .map_err(thrown)?;
            let blobs = js_sys::Array::new();
            let copied = copy_held_transaction(&tx, (from, to), inline, &mut after, &blobs).await;
            let (records, finished) = match copied {
                Ok(copied) => copied,
                Err(err) => return Err(failure_of(&tx, err).await),
            };
            await_transaction(&tx).await?;
            // The browser copies a stored Blob without reading it: one whose data it lost would
            // come back unreadable. Read once the transaction is over (a read inside would end
            // it); the staging store is discarded with the restore.
            let unreadable = match blobs.length() {
                0 => JsValue::NULL,
                _ => JsFuture::from(rewind_unreadable_blob(&blobs))
                    .await
                    .map_err(thrown)?,
            };
            if let Some(found) = unreadable.dyn_ref::<js_sys::Array>() {
                return Err(RewindError::LostBlobInBackup {
                    id: id.to_string(),
                    store: store.to_string(),
                    key: js_to_value(&found.get(0))
                        .map_or_else(|_| "?".into(), |k| super::clone::describe_key(k.value())),
                    cause: super::error::describe(&found.get(1)),
                });
            }
            self.done += records;
            if let Some(p) = &self.progress {
                p(self.done, self.total);
            }
            if finished {
                return Ok(());
            }
        }
    }
}

/// Records read per request from a held store: as a backup reads them.
const HELD_BATCH: u32 = 100;

/// Copies the records of `from` after key `after` into `to` in transaction `tx`, about a
/// chunk's worth of them (as many records and bytes as a backup file's chunk holds at most),
/// moves `after` to the last one copied and gathers the Blobs copied into `blobs` (`[key,
/// Blob]` pairs). Returns how many records were copied and whether `from` is read to its end.
async fn copy_held_transaction(
    tx: &web_sys::IdbTransaction,
    (from, to): (&str, &str),
    inline: bool,
    after: &mut Option<JsValue>,
    blobs: &js_sys::Array,
) -> Result<(u64, bool), RewindError> {
    let source = tx.object_store(from).map_err(thrown)?;
    let target = tx.object_store(to).map_err(thrown)?;
    let mut reader = BatchReader::starting_after(&source, HELD_BATCH, after.as_ref())?;
    let (mut copied, mut bytes, mut finished, mut last) = (0u64, 0f64, false, None);
    while copied < u64::from(MAX_CHUNK_RECORDS) && bytes < CHUNK_TARGET_BYTES as f64 {
        let batch = reader.next().await?;
        let Some((keys, values)) = batch.filter(|(keys, _)| keys.length() > 0) else {
            finished = true;
            break;
        };
        let count = keys.length();
        let request = rewind_put_all(&target, &keys, &values, inline).map_err(thrown)?;
        if request.as_f64().is_some() {
            return Err(RewindError::RestoreMismatch {
                what: format!("the key of a record of held store {from:?}"),
            });
        }
        last = request.dyn_into::<web_sys::IdbRequest>().ok();
        *after = Some(keys.get(count - 1));
        bytes += rewind_scan_batch(&keys, &values, blobs);
        copied += u64::from(count);
        if count < HELD_BATCH {
            finished = true;
            break;
        }
    }
    if let Some(request) = last {
        RequestEvents::new(request).next().await?;
    }
    Ok((copied, finished))
}

/// Reads the key generators of the held stores `held` into `manifest` (a held backup's
/// manifest has none: its stores keep their own, which a copy does not), so that the restore
/// raises the staging stores' generators to where the held ones stand.
async fn read_held_generators(
    db: &web_sys::IdbDatabase,
    manifest: &mut BackupManifest,
    held: &[String],
) -> Result<(), RewindError> {
    let names: Vec<&str> = held.iter().map(String::as_str).collect();
    if names.is_empty() {
        return Ok(());
    }
    let probe = start_reading(db, &names)?;
    // A transaction made after the probe's runs after it: once its request answers, the
    // probe has ended.
    let tx = read_staged(db, held)?;
    let first = tx.object_store(&held[0]).map_err(thrown)?;
    let answered = first
        .get_all_keys_with_key_and_limit(&JsValue::UNDEFINED, 1)
        .map_err(thrown)?;
    RequestEvents::new(answered).next().await?;
    await_transaction(&tx).await?;
    for (store, generator) in manifest.stores.iter_mut().zip(probe.read()?) {
        store.key_generator = generator;
    }
    Ok(())
}

/// A chunk's records as JavaScript values, ready to put.
struct PreparedChunk {
    keys: js_sys::Array,
    values: js_sys::Array,
    /// The records built in Rust (the fast path left them), by position in the chunk.
    built: Vec<usize>,
}

/// Makes a chunk's records into JavaScript values (before its transaction: making an
/// ImageBitmap is not an IndexedDB request). Blobs whose bytes are parts of the file are
/// slices of `file`, never read here.
async fn prepare_chunk(
    file: &web_sys::Blob,
    spans: &ChunkSpans,
    bytes: &[u8],
    store_name: &str,
) -> Result<PreparedChunk, RewindError> {
    let unreadable = |e: JsValue| RewindError::UnreadableFile(super::error::describe(&e));
    let ranges: Vec<std::ops::Range<u64>> = spans
        .records
        .iter()
        .flat_map(|span| span.parts.iter().map(|p| p.range.clone()))
        .collect();
    let parts = ChunkParts::of(file, &ranges).map_err(unreadable)?;
    let count = spans.records.len();
    let mut chunk = PreparedChunk {
        keys: js_sys::Array::new(),
        values: js_sys::Array::new(),
        built: Vec::new(),
    };
    let (mut index, mut offset, mut cursor) = (0usize, 0usize, 0u32);
    while index < count {
        let fast = decode_batch(
            bytes,
            (offset, (count - index) as u32),
            (&parts, cursor),
            &chunk.keys,
            &chunk.values,
        );
        index += fast.decoded;
        offset = fast.reached;
        cursor = fast.cursor;
        let Some(span) = spans.records.get(index) else {
            break;
        };
        if span.bytes.start != offset {
            return Err(BackupError::invalid("the fast path stopped inside a record").into());
        }
        // A record the fast path leaves (Maps, typed arrays, ImageBitmaps…): decoded and
        // built in Rust, its out-of-line Blobs given as parts.
        let mut r = Reader::new(&bytes[span.bytes.clone()]);
        let key = read_value(&mut r)?;
        let (value, _) = read_value_with_parts(&mut r)?;
        let describe = super::clone::describe_key(&key);
        let in_record = |e: super::clone::CloneError| e.in_record(store_name, &describe);
        let bitmaps = make_bitmaps(&value).await.map_err(in_record)?;
        let mut own = Vec::with_capacity(span.parts.len());
        for part in &span.parts {
            own.push((part.blob, parts.part(cursor as usize).map_err(unreadable)?));
            cursor += 1;
        }
        chunk
            .keys
            .push(&value_to_js(&key).map_err(|e| e.in_record(store_name, "?"))?);
        chunk
            .values
            .push(&value_to_js_with_parts(&value, bitmaps, own).map_err(in_record)?);
        chunk.built.push(index);
        index += 1;
        offset = span.bytes.end;
    }
    if chunk.keys.length() as usize != count {
        return Err(BackupError::invalid("a chunk's records were not all made").into());
    }
    Ok(chunk)
}

/// Puts a prepared chunk into staging store `staged` in transaction `tx`, then reads back the
/// records built in Rust and matches each against its bytes in the chunk (its out-of-line
/// Blobs by type, name and size: their contents are the file's own, copied by the browser).
async fn put_chunk(
    tx: &web_sys::IdbTransaction,
    staged: &str,
    schema: &StoreSchema,
    chunk: &PreparedChunk,
    spans: &ChunkSpans,
    bytes: &[u8],
) -> Result<(), RewindError> {
    let store = tx.object_store(staged).map_err(thrown)?;
    let inline = schema.key_path.is_some();
    let request = rewind_put_all(&store, &chunk.keys, &chunk.values, inline).map_err(thrown)?;
    if let Some(at) = request.as_f64() {
        return Err(RewindError::RestoreMismatch {
            what: format!(
                "the key of a record of store {:?} (its value holds another key than the file \
                 gives it: record {} of the chunk at byte {})",
                schema.name,
                at as usize + 1,
                spans.chunk.start
            ),
        });
    }
    let mut asked = Vec::with_capacity(chunk.built.len());
    for &i in &chunk.built {
        let get = store.get(&chunk.keys.get(i as u32)).map_err(thrown)?;
        asked.push((i, RequestEvents::new(get)));
    }
    let mismatch = || RewindError::RestoreMismatch {
        what: format!("the content of store {:?}", schema.name),
    };
    let mut encoded = Vec::new();
    for (i, request) in asked {
        let read = request.next().await?;
        let record = &bytes[spans.records[i].bytes.clone()];
        let mut r = Reader::new(record);
        let key = read_value(&mut r)?;
        let value_bytes = &record[record.len() - r.remaining()..];
        if read.is_undefined() {
            return Err(mismatch());
        }
        let pending = js_to_value(&read)
            .map_err(|e| e.in_record(&schema.name, &super::clone::describe_key(&key)))?;
        let value = pending
            .value_with_bitmaps()
            .map_err(|e| e.in_record(&schema.name, &super::clone::describe_key(&key)))?;
        let out_of_line: Vec<OutOfLineBlob> = spans.records[i]
            .parts
            .iter()
            .map(|p| OutOfLineBlob {
                blob: p.blob,
                len: pending
                    .blobs()
                    .get(p.blob)
                    .map_or(u64::MAX, |b| b.size() as u64),
            })
            .collect();
        encoded.clear();
        if encode_value_with_parts(&value, &out_of_line, &mut encoded).is_err()
            || encoded != value_bytes
        {
            return Err(mismatch());
        }
    }
    Ok(())
}

/// The restore's last check of a chunked file's records before the swap: each staging store
/// holds as many records as the file gives it (every chunk's records were put under the
/// file's keys, so none went elsewhere; fewer means two records of the file share a key).
async fn check_counts(
    db: &web_sys::IdbDatabase,
    manifest: &BackupManifest,
    staged: &[String],
) -> Result<(), RewindError> {
    if staged.is_empty() {
        return Ok(());
    }
    let tx = read_staged(db, staged)?;
    let counting = ask_counts(&tx, staged)?;
    let expected = manifest
        .stores
        .iter()
        .map(|s| (s.schema.name.as_str(), s.records));
    expect_counts(expected, counting).await?;
    await_transaction(&tx).await?;
    Ok(())
}

/// A read-only transaction over the staging stores `staged`.
fn read_staged(
    db: &web_sys::IdbDatabase,
    staged: &[String],
) -> Result<web_sys::IdbTransaction, RewindError> {
    let names: js_sys::Array = staged.iter().map(|n| JsValue::from_str(n)).collect();
    Ok(db
        .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readonly)
        .map_err(thrown)?)
}

/// Asks each staging store of `tx` how many records it holds.
fn ask_counts(
    tx: &web_sys::IdbTransaction,
    staged: &[String],
) -> Result<Vec<RequestEvents>, RewindError> {
    staged
        .iter()
        .map(|name| {
            let store = tx.object_store(name).map_err(thrown)?;
            Ok(RequestEvents::new(store.count().map_err(thrown)?))
        })
        .collect()
}

/// Matches the counts asked by [`ask_counts`] against the records the file gives each store
/// (its name, its count).
async fn expect_counts<'a>(
    expected: impl Iterator<Item = (&'a str, u64)>,
    counting: Vec<RequestEvents>,
) -> Result<(), RewindError> {
    for ((name, records), counted) in expected.zip(counting) {
        let count = counted.next().await?.as_f64().unwrap_or(-1.0);
        if count != records as f64 {
            return Err(RewindError::RestoreMismatch {
                what: format!("the record count of store {name:?} ({count} instead of {records})"),
            });
        }
    }
    Ok(())
}

/// Why transaction `tx` failed with `err`: the browser's own reason when it aborted the
/// transaction (a failing put fails its request, and the others then fail with `AbortError`),
/// else `err`, after aborting `tx` so that none of its writes stay.
async fn failure_of(tx: &web_sys::IdbTransaction, err: RewindError) -> RewindError {
    if let Some(dom) = tx.error() {
        return IdbError::from_js(&dom.into()).into();
    }
    let _ = tx.abort();
    match (await_transaction(tx).await, tx.error()) {
        (_, Some(dom)) => IdbError::from_js(&dom.into()).into(),
        _ => err,
    }
}

/// The restore's proof, before the swap, that the staging stores hold exactly the file's
/// records, at a fraction of reading everything back (docs/benchmarks.md has the figures):
/// - each store holds as many records as the file gives it (no two records of the file share
///   a key), and every record went under the file's key (given explicitly, or, for in-line
///   keys, checked in the value before the put);
/// - a record the fast path wrote is, value for value, what the file encodes: the fast
///   decoder and the Rust codec are proven byte-identical by the browser tests in every
///   engine, and IndexedDB stores such plain values (primitives, strings, Dates, plain
///   objects and arrays, Blobs) by a structured clone that keeps them exactly;
/// - every record built in Rust (Maps, typed arrays, ImageBitmaps, DOMExceptions…: the kinds
///   where an engine may store something else) is read back by its key and matched against
///   its bytes in the file.
async fn check_staged(
    db: &web_sys::IdbDatabase,
    stores: &[JsStore],
    staged: &[String],
    built: &[Vec<std::ops::Range<usize>>],
) -> Result<(), RewindError> {
    if stores.is_empty() {
        return Ok(());
    }
    let tx = read_staged(db, staged)?;
    let counting = ask_counts(&tx, staged)?;
    for ((s, name), ranges) in stores.iter().zip(staged).zip(built) {
        let store = tx.object_store(name).map_err(thrown)?;
        let mismatch = || RewindError::RestoreMismatch {
            what: format!("the content of store {:?}", s.schema.name),
        };
        let mut bytes = Vec::new();
        for batch in ranges.chunks(BATCH) {
            let mut asked = Vec::with_capacity(batch.len());
            for range in batch {
                let (key, _, _) = read_record(&s.section, range.start)?;
                let js_key = value_to_js(&key).map_err(|e| e.in_record(&s.schema.name, "?"))?;
                asked.push((
                    range,
                    key,
                    RequestEvents::new(store.get(&js_key).map_err(thrown)?),
                ));
            }
            for (range, key, request) in asked {
                let value = request.next().await?;
                if value.is_undefined() {
                    return Err(mismatch());
                }
                let describe = super::clone::describe_key(&key);
                let value = js_to_value(&value)
                    .and_then(|v| v.value_with_bitmaps())
                    .map_err(|e| e.in_record(&s.schema.name, &describe))?;
                bytes.clear();
                encode_record(&key, &value, 1, &mut bytes)?;
                let mut matcher = SectionMatch::new(&s.section[range.clone()]);
                if !(matcher.feed(&bytes) && matcher.is_complete()) {
                    return Err(mismatch());
                }
            }
        }
    }
    let expected = stores
        .iter()
        .map(|s| (s.schema.name.as_str(), s.records as u64));
    expect_counts(expected, counting).await?;
    await_transaction(&tx).await?;
    Ok(())
}

/// Carries the records the backup left out from the app's live stores into the staging
/// stores, once the file's records are proven. Returns how many each staging store got.
async fn carry_into_staging(
    db: &web_sys::IdbDatabase,
    manifest: &BackupManifest,
    staged: &[String],
) -> Result<Vec<u64>, RewindError> {
    let mut counts = vec![0u64; staged.len()];
    if manifest.skipped.is_empty() {
        return Ok(counts);
    }
    let Some(carried) = read_live(db, manifest).await? else {
        return Ok(counts);
    };
    let position = |store: &str| {
        manifest
            .stores
            .iter()
            .position(|m| m.schema.name == store)
            .filter(|&i| i < staged.len())
    };
    let carried: Vec<_> = carried
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let i = position(c.store())?;
            counts[i] += 1;
            Some(c.into_store(staged[i].clone()))
        })
        .collect();
    if carried.is_empty() {
        return Ok(counts);
    }
    let targets: js_sys::Array = staged.iter().map(|n| JsValue::from_str(n)).collect();
    let tx = db
        .transaction_with_str_sequence_and_mode(&targets, IdbTransactionMode::Readwrite)
        .map_err(thrown)?;
    write_carried(&tx, carried).await?;
    await_transaction(&tx).await?;
    Ok(counts)
}

/// The swap, inside one upgrade: deletes the app's stores, renames the staged ones, checks the
/// schema, writes metadata and journal. Every change and every request is made before anything
/// is awaited, so a tab closed while it runs leaves all of it or none.
async fn swap(
    up: Upgrade,
    stores: Vec<(String, StoreSchema)>,
    counts: Vec<u64>,
    meta_json: JsValue,
    interrupted: Option<JsValue>,
    entry_json: JsValue,
    kept: Option<(BackupManifest, JsValue)>,
) -> Result<(), RewindError> {
    let present = store_names(&up.db);
    if let Some((_, gone)) = stores.iter().find(|(staged, _)| !present.contains(staged)) {
        return Err(RewindError::RestoreMismatch {
            what: format!(
                "the staged copy of store {:?}, which is gone before the swap",
                gone.name
            ),
        });
    }
    let app_stores: Vec<String> = present
        .into_iter()
        .filter(|n| !n.starts_with(RESERVED_PREFIX))
        .collect();
    match &kept {
        Some((manifest, _)) => in_place::hold_stores(&up, manifest, &app_stores)?,
        None => {
            for name in &app_stores {
                up.db.delete_object_store(name).map_err(thrown)?;
            }
        }
    }
    for (staged, schema) in &stores {
        let store = up.tx.object_store(staged).map_err(thrown)?;
        js_sys::Reflect::set(&store, &"name".into(), &JsValue::from_str(&schema.name))
            .map_err(thrown)?;
    }
    remove_staging(&up)?;
    ensure_meta_stores(&up.db)?;
    let expected = stores.iter().fold(DatabaseSchema::default(), |s, (_, st)| {
        s.with_store(st.clone())
    });
    let mut live = DatabaseSchema::default();
    for name in store_names(&up.db)
        .into_iter()
        .filter(|n| !n.starts_with(RESERVED_PREFIX))
    {
        live = live.with_store(super::inspect::read_store(
            &up.tx.object_store(&name).map_err(thrown)?,
        )?);
    }
    let d = diff(&expected, &live);
    if !d.is_empty() {
        return Err(RewindError::RestoreMismatch {
            what: format!("the schema ({d})"),
        });
    }
    let mut counting = Vec::with_capacity(stores.len());
    for (_, schema) in &stores {
        let store = up.tx.object_store(&schema.name).map_err(thrown)?;
        counting.push(RequestEvents::new(store.count().map_err(thrown)?));
    }
    let written = issue_meta_and_entry(&up.tx, &meta_json, &entry_json, interrupted.as_ref())?;
    if let Some((manifest, json)) = &kept {
        in_place::put_manifest(&up.tx, manifest, json)?;
    }
    #[cfg(feature = "test-hooks")]
    panic_point();
    for (((_, schema), counted), expected) in stores.iter().zip(counting).zip(counts) {
        let count = counted.next().await?.as_f64().unwrap_or(-1.0);
        if count != expected as f64 {
            return Err(RewindError::RestoreMismatch {
                what: format!(
                    "the record count of store {:?} after the swap ({count} instead of {expected})",
                    schema.name
                ),
            });
        }
    }
    written.done().await?;
    Ok(())
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static PANIC: super::test_switch::Countdown = const { super::test_switch::Countdown::new() };
}

/// Makes the next restore panic after writing `batches` batches (0: never; from a chunked
/// file, a batch is a chunk), while it fills its staging stores; one more than it has batches,
/// inside its swap, with every request issued:
/// how the tests prove that a panic settles every Promise and changes none of the app's data.
#[cfg(feature = "test-hooks")]
pub fn panic_after_batches(batches: u32) {
    PANIC.with(|p| p.arm(batches));
}

#[cfg(feature = "test-hooks")]
fn panic_point() {
    if PANIC.with(super::test_switch::Countdown::reached) {
        panic!("the panic a test asked for, in the middle of a restore");
    }
}

/// What a restore restores: a backup file opened (its manifest checked), or a backup the
/// database holds in place, copied from its stores as IndexedDB keeps them (no file is made:
/// every record comes back, those no file can carry too, with its key generator).
pub enum RestoreInput {
    File(OpenedFile),
    Held(BackupManifest),
}

impl RestoreInput {
    pub fn manifest(&self) -> &BackupManifest {
        match self {
            RestoreInput::File(opened) => opened.manifest(),
            RestoreInput::Held(kept) => kept,
        }
    }
}

/// Where the records come from.
enum Source {
    /// A file read whole (formats 1, 2), by store.
    Whole {
        stores: Vec<JsStore>,
        bitmaps: Bitmaps,
    },
    /// A chunked file (format 3), read and checked a chunk at a time.
    Chunked(ChunkedFile),
    /// A backup held in place: its stores, in its manifest's order.
    Held(Vec<String>),
}

/// A restore staged and proven, waiting for its swap.
pub struct StagedRestore {
    name: String,
    /// The IndexedDB version before the restore (0: it made the database).
    before_version: u64,
    staged_version: u64,
    /// Each staging store and the app's store it becomes.
    swapping: Vec<(String, StoreSchema)>,
    /// The records each store holds after the swap.
    counts: Vec<u64>,
    meta_json: JsValue,
    /// The cut-off upgrade's entry the backup was taken with, written back with the metadata.
    unfinished_json: Option<JsValue>,
    cancel: Option<CancelFlag>,
}

fn to_json(what: &str, v: Result<String, serde_json::Error>) -> Result<JsValue, RewindError> {
    v.map(|s| JsValue::from_str(&s))
        .map_err(|e| RewindError::Migration(crate::MigrationError::Storage(format!("{what}: {e}"))))
}

/// Writes the backup `opened` into staging stores of database `name` (at IDB version
/// `current_idb_version`, 0 if it does not exist, and schema version `from`), reading and
/// checking a chunked file a chunk at a time, and proves what was written: the app's stores,
/// metadata and journal are untouched. No record is ever held decoded, only the file (or, from
/// a chunked file, one chunk) and a batch of JavaScript values at a time. A failure or a
/// cancel removes the staging stores again (or, if that cannot run, the next change does).
pub async fn stage_restore(
    name: &str,
    current_idb_version: u64,
    input: RestoreInput,
    from: u32,
    blocked: &dyn Fn() -> BlockedPolicy,
    progress: Option<Progress>,
    cancel: Option<CancelFlag>,
) -> Result<StagedRestore, RewindError> {
    // Never write an empty metadata record: a serialization failure stops the restore
    // before anything changes.
    let mut manifest = input.manifest().clone();
    let meta_json = to_json("Rewind's metadata", serde_json::to_string(&manifest.meta))?;
    let unfinished_json = match &manifest.interrupted {
        Some(entry) => Some(to_json(
            "the cut-off upgrade's entry",
            serde_json::to_string(entry),
        )?),
        None => None,
    };
    let interrupted = JournalEntry::interrupted_restore(js_sys::Date::now(), from);
    let interrupted_json = to_json("the journal entry", serde_json::to_string(&interrupted))?;

    // A file read whole has its ImageBitmaps made before anything is opened; a chunked one,
    // a chunk's before its transaction.
    let mut source = match input {
        RestoreInput::File(OpenedFile::Whole { bytes, verified }) => {
            let stores = prepare_file(bytes, &verified);
            let bitmaps = make_all_bitmaps(&stores, &verified).await?;
            Source::Whole { stores, bitmaps }
        }
        RestoreInput::File(OpenedFile::Chunked { file, .. }) => Source::Chunked(file),
        RestoreInput::Held(kept) => Source::Held(
            (0..kept.stores.len())
                .map(|i| in_place::store_name(&kept.id, i))
                .collect(),
        ),
    };
    let staged: Vec<String> = (0..manifest.stores.len()).map(staging_name).collect();
    let staged_schemas: Vec<StoreSchema> = manifest
        .stores
        .iter()
        .zip(&staged)
        .map(|(s, name)| StoreSchema {
            name: name.clone(),
            ..s.schema.clone()
        })
        .collect();
    let db = open_with_upgrade(
        name,
        current_idb_version + 1,
        move |up| async move {
            let journaled = remove_leftovers(&up, &interrupted_json)?;
            for schema in &staged_schemas {
                create_store(&up.db, schema)?;
            }
            if let Some(request) = journaled {
                request.next().await?;
            }
            Ok::<(), RewindError>(())
        },
        blocked(),
    )
    .await?;
    let staged_version = db.version() as u64;
    let total: u64 = manifest.stores.iter().map(|s| s.records).sum();
    let prepared = async {
        let mut filling = Filling {
            db: &db,
            bitmaps: Bitmaps::new(),
            built: vec![Vec::new(); staged.len()],
            done: 0,
            total,
            progress,
            cancel: cancel.clone(),
        };
        match &mut source {
            Source::Whole { stores, bitmaps } => {
                filling.bitmaps = std::mem::take(bitmaps);
                for (i, (s, name)) in stores.iter().zip(&staged).enumerate() {
                    filling.fill(i, name, s).await?;
                }
                check_staged(&db, stores, &staged, &filling.built).await?;
            }
            Source::Chunked(file) => {
                filling.fill_chunked(file, &manifest, &staged).await?;
                check_counts(&db, &manifest, &staged).await?;
            }
            Source::Held(held) => {
                read_held_generators(&db, &mut manifest, held).await?;
                for (i, (from, to)) in held.iter().zip(&staged).enumerate() {
                    let schema = &manifest.stores[i].schema;
                    let store = (schema.name.as_str(), schema.key_path.is_some());
                    filling.copy_held((&manifest.id, from, to), store).await?;
                }
                check_counts(&db, &manifest, &staged).await?;
            }
        }
        let carried = carry_into_staging(&db, &manifest, &staged).await?;
        raise_staged(&db, &manifest, &staged).await?;
        filling.check_cancel()?;
        Ok::<_, RewindError>(carried)
    }
    .await;
    db.close();
    let carried = match prepared {
        Ok(carried) => carried,
        Err(err) => {
            discard_staging(name, current_idb_version, staged_version, blocked, &err).await;
            return Err(err);
        }
    };
    Ok(StagedRestore {
        name: name.to_string(),
        before_version: current_idb_version,
        staged_version,
        counts: manifest
            .stores
            .iter()
            .zip(carried)
            .map(|(s, c)| s.records + c)
            .collect(),
        swapping: staged
            .into_iter()
            .zip(manifest.stores.iter().map(|s| s.schema.clone()))
            .collect(),
        meta_json,
        unfinished_json,
        cancel,
    })
}

/// Swaps a staged restore in, recording `entry` in the journal: one upgrade, all or nothing.
/// A cancel heard before it, or a failure in it, removes the staging stores.
pub async fn swap_staged(
    staged: StagedRestore,
    entry: &JournalEntry,
    keep: Option<&BackupManifest>,
    blocked: &dyn Fn() -> BlockedPolicy,
) -> Result<(), RewindError> {
    let StagedRestore {
        name,
        before_version,
        staged_version,
        swapping,
        counts,
        meta_json,
        unfinished_json,
        cancel,
    } = staged;
    let ready = match cancel {
        Some(flag) if flag.get() => Err(RewindError::Cancelled),
        _ => to_json("the journal entry", serde_json::to_string(entry)).and_then(|entry_json| {
            let kept = match keep {
                Some(manifest) => Some((
                    manifest.clone(),
                    to_json("a backup's manifest", serde_json::to_string(manifest))?,
                )),
                None => None,
            };
            Ok((entry_json, kept))
        }),
    };
    let swapped = match ready {
        Ok((entry_json, kept)) => {
            open_with_upgrade(
                &name,
                staged_version + 1,
                move |up| {
                    swap(
                        up,
                        swapping,
                        counts,
                        meta_json,
                        unfinished_json,
                        entry_json,
                        kept,
                    )
                },
                blocked(),
            )
            .await
        }
        Err(err) => Err(err),
    };
    match swapped {
        Ok(db) => {
            db.close();
            Ok(())
        }
        Err(err) => {
            discard_staging(&name, before_version, staged_version, blocked, &err).await;
            Err(err)
        }
    }
}

/// Removes a staged restore that will not be swapped in.
pub async fn discard_staged(staged: StagedRestore, blocked: &dyn Fn() -> BlockedPolicy) {
    let reason = RewindError::Cancelled;
    discard_staging(
        &staged.name,
        staged.before_version,
        staged.staged_version,
        blocked,
        &reason,
    )
    .await;
}

/// Removes the staging stores of a restore that failed before or in its swap. Best effort:
/// after `Blocked` nothing is opened (the browser queues every later open behind the blocked
/// upgrade), and whatever is left the next change to the database removes and journals. A
/// database the restore itself created (it did not exist before) is deleted again.
async fn discard_staging(
    name: &str,
    before_version: u64,
    staged_version: u64,
    blocked: &dyn Fn() -> BlockedPolicy,
    failure: &RewindError,
) {
    if failure.is_blocked() {
        return;
    }
    if before_version == 0 {
        let _ = delete_database(name).await;
        return;
    }
    let discarded = open_with_upgrade(
        name,
        staged_version + 1,
        |up| async move { remove_staging(&up).map(|_| ()) },
        blocked(),
    )
    .await;
    if let Ok(db) = discarded {
        db.close();
    }
}
