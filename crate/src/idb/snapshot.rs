//! Taking a backup: every app store (schema, keys, records) and Rewind's metadata, read in one
//! read-only transaction so they describe one moment; Blob bytes and ImageBitmap pixels are
//! read after it finished.
//!
//! Records are read a batch at a time (`getAll` from after the last key read) and encoded
//! straight into the file's buffer while the transaction runs, so no more than a batch of
//! them is ever held as JavaScript values, and none as a value tree. A record with Blobs (or
//! ImageBitmaps) is walked at once but encoded after the transaction, when they can be read,
//! and put in its place.

use super::backend::{read_meta, META_STORE};
use super::clone::{describe_key, encode_batch, js_to_value, CloneError, PendingValue};
use super::error::thrown;
use super::inspect::{read_store, store_names};
use super::open::open_existing;
use super::request::{await_request, await_transaction, BatchReader};
use super::webcrypto::{digests, sha256};
use crate::backup::format::{encode_record, put_header, put_trailer, SectionSpan};
use crate::backup::{
    encode_value, BackupError, BackupManifest, EncodedBackup, SkippedRecord, StoreManifest,
    FORMAT_VERSION,
};
use crate::engine::RewindMeta;
use crate::fold::RESERVED_PREFIX;
use crate::rewind_error::RewindError;
use wasm_bindgen::JsValue;
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
}

/// How many records' Blobs are being read at any time while a backup completes.
const READ_AHEAD: usize = 32;

/// Records read and encoded per batch (and progress reported as often).
const CHUNK: u32 = PROGRESS_EVERY as u32;

/// A record whose Blobs are still to be read, and where its bytes go.
struct Pending {
    /// Offset in the body (before any pending record is put in).
    at: usize,
    number: u64,
    /// The store's position among the backed-up stores, and its name.
    index: usize,
    store: String,
    key: crate::backup::Value,
    value: PendingValue,
}

/// What the read-only transaction produced.
struct Read {
    idb_version: u64,
    meta: RewindMeta,
    stores: Vec<StoreManifest>,
    spans: Vec<SectionSpan>,
    body: Vec<u8>,
    pending: Vec<Pending>,
    /// Set when records holding a value no backup can carry are to be left out.
    skip_unsupported: bool,
    skipped: Vec<SkippedRecord>,
}

fn in_store(store: &str) -> impl Fn(BackupError) -> BackupError + '_ {
    move |e| match e {
        BackupError::Invalid { reason } => {
            BackupError::invalid(format!("store {store:?}: {reason}"))
        }
        other => other,
    }
}

/// Encodes one store's records onto `body`, a batch at a time, inside the transaction.
async fn read_store_records(
    store: &web_sys::IdbObjectStore,
    name: &str,
    read: &mut Read,
    (done, total): (&mut u64, u64),
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<u64, RewindError> {
    let store_index = read.stores.len();
    let Read {
        body,
        pending,
        skip_unsupported,
        skipped,
        ..
    } = read;
    let mut number = 0u64;
    let mut batches = BatchReader::new(store, CHUNK)?;
    while let Some((keys, values)) = batches.next().await? {
        let n = keys.length();
        let mut i = 0u32;
        while i < n {
            let reached = encode_batch(&keys, &values, i, n, body);
            number += u64::from(reached - i);
            i = reached;
            if i < n {
                number += 1;
                let key = js_to_value(&keys.get(i))
                    .map_err(|e| e.in_record(name, "?"))?
                    .value()
                    .clone();
                let value = match js_to_value(&values.get(i)) {
                    Ok(value) => value,
                    Err(e) if *skip_unsupported => {
                        number -= 1;
                        skipped.push(skipped_record(name, &key, e)?);
                        i += 1;
                        continue;
                    }
                    Err(e) => return Err(e.in_record(name, &describe_key(&key)).into()),
                };
                if value.needs_reading() {
                    pending.push(Pending {
                        at: body.len(),
                        number,
                        index: store_index,
                        store: name.to_string(),
                        key,
                        value,
                    });
                } else {
                    encode_record(&key, value.value(), number, body).map_err(in_store(name))?;
                }
                i += 1;
            }
        }
        *done += u64::from(n);
        if n > 0 && *done == u64::from(n) && *done < total {
            // After the first batch: room for the whole file at this batch's size per record
            // (plus a tenth), so the buffer is not copied again and again as it doubles.
            let estimate = body.len() as u64 * total / *done;
            body.reserve_exact((estimate + estimate / 10) as usize - body.len());
        }
        if let Some(report) = progress {
            report(*done, total);
        }
    }
    Ok(number)
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

async fn read_everything(
    name: &str,
    skip_unsupported: bool,
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<Read, RewindError> {
    let db = open_existing(name).await?;
    let outcome = async {
        let names = store_names(&db);
        let mut read = Read {
            idb_version: db.version() as u64,
            meta: RewindMeta::default(),
            stores: Vec::new(),
            spans: Vec::new(),
            body: Vec::new(),
            pending: Vec::new(),
            skip_unsupported,
            skipped: Vec::new(),
        };
        if names.is_empty() {
            return Ok(read);
        }
        let all: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
        let tx = db
            .transaction_with_str_sequence_and_mode(&all, IdbTransactionMode::Readonly)
            .map_err(thrown)?;
        let mut app = Vec::new();
        let mut total = 0u64;
        for n in &names {
            let store = tx.object_store(n).map_err(thrown)?;
            if n == META_STORE {
                read.meta = read_meta(&store).await?;
            } else if !n.starts_with(RESERVED_PREFIX) {
                let count = await_request(store.count().map_err(thrown)?).await?;
                total += count.as_f64().unwrap_or(0.0) as u64;
                app.push((n, store));
            }
        }
        let mut done = 0u64;
        for (n, store) in app {
            let start = read.body.len();
            let records =
                read_store_records(&store, n, &mut read, (&mut done, total), progress).await?;
            read.stores.push(StoreManifest::new(read_store(&store)?));
            read.spans.push(SectionSpan {
                records,
                range: start..read.body.len(),
            });
        }
        await_transaction(&tx).await?;
        Ok(read)
    }
    .await;
    db.close();
    outcome
}

/// Reads the Blobs of the pending records (the transaction is over) and puts each record's
/// bytes in its place, moving the sections after it.
async fn complete_pending(read: &mut Read) -> Result<(), RewindError> {
    if read.pending.is_empty() {
        return Ok(());
    }
    let pending = std::mem::take(&mut read.pending);
    let old = std::mem::take(&mut read.body);
    let mut body = Vec::with_capacity(old.len());
    let mut copied = 0usize;
    // How many bytes went into each store's section.
    let mut grown = vec![0usize; read.spans.len()];
    // The Blobs of the next READ_AHEAD records are always asked for: the browser reads them
    // side by side instead of one after another.
    let mut pending: Vec<Option<Pending>> = pending.into_iter().map(Some).collect();
    let mut reads: Vec<Vec<js_sys::Promise>> = Vec::with_capacity(pending.len());
    for i in 0..pending.len() {
        while reads.len() < pending.len() && reads.len() <= i + READ_AHEAD {
            let started = pending[reads.len()]
                .as_ref()
                .map(|p| p.value.start_reads())
                .unwrap_or_default();
            reads.push(started);
        }
        let Some(p) = pending[i].take() else {
            continue;
        };
        body.extend_from_slice(&old[copied..p.at]);
        copied = p.at;
        let key = describe_key(&p.key);
        let value = p
            .value
            .complete(std::mem::take(&mut reads[i]))
            .await
            .map_err(|e| e.in_record(&p.store, &key))?;
        let before = body.len();
        encode_record(&p.key, &value, p.number, &mut body).map_err(in_store(&p.store))?;
        if let Some(g) = grown.get_mut(p.index) {
            *g += body.len() - before;
        }
    }
    body.extend_from_slice(&old[copied..]);
    drop(old);
    let mut shift = 0usize;
    for (span, g) in read.spans.iter_mut().zip(grown) {
        let start = span.range.start + shift;
        shift += g;
        span.range = start..span.range.end + shift;
    }
    read.body = body;
    Ok(())
}

/// Backs up database `name` into one file's bytes and its manifest.
pub async fn snapshot(
    name: &str,
    info: SnapshotInfo,
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<EncodedBackup, RewindError> {
    let mut read = read_everything(name, info.skip_unsupported, progress).await?;
    complete_pending(&mut read).await?;
    let total: u64 = read.spans.iter().map(|s| s.records).sum();
    if let Some(report) = progress {
        report(total, total);
    }
    let mut manifest = BackupManifest {
        format_version: FORMAT_VERSION,
        id: info.id,
        database: name.to_string(),
        schema_version: read.meta.schema_version,
        idb_version: read.idb_version,
        created_at: info.created_at,
        label: info.label,
        automatic: info.automatic,
        meta: read.meta,
        stores: read.stores,
        skipped: read.skipped,
        bytes: 0,
        sha256: String::new(),
    };
    // Hashed by the browser (WebCrypto), now that the transaction is over: every section at
    // once, then the body before the trailer, then the whole file.
    let ranges: Vec<_> = read.spans.iter().map(|s| s.range.clone()).collect();
    let sections = digests(&read.body, &ranges).await;
    let mut bytes = read.body;
    put_header(&mut manifest, &mut bytes, &read.spans, &sections)?;
    let body = sha256(&bytes).await;
    put_trailer(&mut manifest, &mut bytes, body);
    manifest.sha256 = crate::migration::hex(&sha256(&bytes).await);
    Ok(EncodedBackup { bytes, manifest })
}
