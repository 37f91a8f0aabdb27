//! What a restore would change, carried out: the core's walk (`crate::restore_diff`) over the
//! backup file, a chunk at a time (format 3; formats 1 and 2 are read whole, as a restore reads
//! them) or a backup held in place (its stores, as the live ones are read), and the live
//! stores, a key-ordered batch at a time, each batch in a read-only
//! transaction of its own (a file read in between would let one transaction end). Nothing is
//! written: no backup is taken, no store is made.

use super::chunked_file::{open_file, OpenedFile, Read};
use super::clone::{encode_batch, js_to_value};
use super::inspect::read_schema;
use super::open::open_existing;
use super::request::RequestEvents;
use super::{CancelFlag, IdbError, Progress};
use crate::backup::codec::{read_value, read_value_with_parts, Reader};
use crate::backup::format::SectionReader;
use crate::backup::BackupManifest;
use crate::restore_diff::{value_fingerprint, walk_restore, DiffSource, Keyed, RestoreDiff};
use crate::rewind_error::RewindError;
use crate::schema::DatabaseSchema;
use wasm_bindgen::{JsCast, JsValue};

/// Live records read per transaction.
const LIVE_BATCH: u32 = 500;
/// Records of a whole (format 1 or 2) file handed to the walk at a time.
const FILE_BATCH: usize = 500;

/// Where the backup's records come from.
enum BackupSide {
    /// A chunked file, read a chunk at a time.
    Chunked(super::chunked_file::ChunkedFile),
    /// A file of format 1 or 2, verified whole: its sections, the store being read.
    Whole {
        bytes: Vec<u8>,
        sections: Vec<std::ops::Range<usize>>,
        store: usize,
        offset: usize,
    },
    /// A backup held in place in the database: its stores (in its manifest's order), the one
    /// being read and the last key read of it, a batch at a time as the live stores are.
    Held {
        stores: Vec<String>,
        store: usize,
        after: Option<JsValue>,
    },
}

struct IdbDiff<'a> {
    manifest: &'a BackupManifest,
    backup: BackupSide,
    db: Option<web_sys::IdbDatabase>,
    /// By live store: the last key read (none before the first batch).
    after: Vec<(String, JsValue)>,
    watch: Watch,
}

/// Who hears how far the walk got (backup records read of all), and the person's cancel,
/// heard between batches.
struct Watch {
    progress: Option<Progress>,
    cancel: Option<CancelFlag>,
    done: u64,
    total: u64,
}

impl Watch {
    fn new(
        progress: Option<Progress>,
        cancel: Option<CancelFlag>,
        manifest: &BackupManifest,
    ) -> Watch {
        Watch {
            progress,
            cancel,
            done: 0,
            total: manifest.total_records(),
        }
    }

    fn check_cancel(&self) -> Result<(), RewindError> {
        match &self.cancel {
            Some(flag) if flag.get() => Err(RewindError::Cancelled),
            _ => Ok(()),
        }
    }

    fn read(&mut self, records: usize) {
        self.done = self.done.saturating_add(records as u64);
        if let Some(report) = &self.progress {
            report(self.done.min(self.total), self.total);
        }
    }
}

fn storage(e: IdbError) -> RewindError {
    RewindError::Storage(e.to_string())
}

impl DiffSource for IdbDiff<'_> {
    async fn next_backup(&mut self) -> Result<Option<(String, Vec<Keyed>)>, RewindError> {
        self.watch.check_cancel()?;
        let next = self.next_backup_batch().await?;
        if let Some((_, batch)) = &next {
            self.watch.read(batch.len());
        }
        Ok(next)
    }

    async fn next_live(&mut self, store: &str) -> Result<Vec<Keyed>, RewindError> {
        self.watch.check_cancel()?;
        self.next_live_batch(store).await
    }
}

impl IdbDiff<'_> {
    async fn next_backup_batch(&mut self) -> Result<Option<(String, Vec<Keyed>)>, RewindError> {
        let stores = &self.manifest.stores;
        match &mut self.backup {
            BackupSide::Chunked(file) => loop {
                match file.next().await? {
                    Read::Manifest(_) => continue,
                    Read::Done(_) => return Ok(None),
                    Read::Chunk { spans, bytes } => {
                        let mut batch = Vec::with_capacity(spans.records.len());
                        for span in &spans.records {
                            let mut r = Reader::new(&bytes[span.bytes.clone()]);
                            let key = read_value(&mut r)?;
                            let (value, parts) = read_value_with_parts(&mut r)?;
                            let sizes: Vec<_> = parts.iter().map(|p| (p.blob, p.len)).collect();
                            batch.push((key, value_fingerprint(value, &sizes)?));
                        }
                        let store = stores.get(spans.store).map(|s| s.schema.name.clone());
                        return Ok(store.map(|s| (s, batch)));
                    }
                }
            },
            BackupSide::Whole {
                bytes,
                sections,
                store,
                offset,
            } => loop {
                let Some(range) = sections.get(*store) else {
                    return Ok(None);
                };
                let section = &bytes[range.clone()];
                let mut reader = SectionReader::new(&section[*offset..]);
                let records = reader.next_batch(FILE_BATCH)?;
                if records.is_empty() {
                    (*store, *offset) = (*store + 1, 0);
                    continue;
                }
                *offset += reader.offset(&section[*offset..]);
                let name = stores[*store].schema.name.clone();
                let batch = records
                    .into_iter()
                    .map(|(k, v)| Ok((k, value_fingerprint(v, &[])?)))
                    .collect::<Result<_, crate::backup::BackupError>>()?;
                return Ok(Some((name, batch)));
            },
            BackupSide::Held {
                stores: held,
                store,
                after,
            } => loop {
                let (Some(from), Some(db)) = (held.get(*store), &self.db) else {
                    return Ok(None);
                };
                let (keys, values) = live_batch(db, from, after.as_ref())
                    .await
                    .map_err(storage)?;
                let name = stores[*store].schema.name.clone();
                let Some(last) = keys.length().checked_sub(1).map(|i| keys.get(i)) else {
                    (*store, *after) = (*store + 1, None);
                    continue;
                };
                *after = Some(last);
                // A value no file can carry (a CryptoKey…) is compared as different from
                // whatever the live store holds under its key.
                let batch = fingerprints(&keys, &values, &name, UNCARRIED_BACKUP)?;
                return Ok(Some((name, batch)));
            },
        }
    }

    async fn next_live_batch(&mut self, store: &str) -> Result<Vec<Keyed>, RewindError> {
        let Some(db) = &self.db else {
            return Ok(Vec::new());
        };
        let after = self.after.iter().find(|(s, _)| s == store).map(|(_, k)| k);
        let (keys, values) = live_batch(db, store, after).await.map_err(storage)?;
        // A value no backup can carry (a CryptoKey…) cannot be the backup's: changed.
        let batch = fingerprints(&keys, &values, store, UNCARRIED_LIVE)?;
        // The next batch starts after this one's last key (once per batch, not per record).
        if let Some(last) = keys.length().checked_sub(1).map(|i| keys.get(i)) {
            match self.after.iter_mut().find(|(s, _)| s == store) {
                Some((_, key)) => *key = last,
                None => self.after.push((store.to_string(), last)),
            }
        }
        Ok(batch)
    }
}

/// The fingerprints of records no backup can carry, on either side: never equal to each other
/// nor to any value's (whose encoding never starts with these bytes).
const UNCARRIED_LIVE: u8 = 0xff;
const UNCARRIED_BACKUP: u8 = 0xfe;

/// The keys and value fingerprints of a batch read from `store`; a value no backup can carry
/// gets the fingerprint `uncarried`. A record the JavaScript fast path encodes (no Blobs…) is
/// fingerprinted by its value's encoding as that path gives it (byte-identical to the Rust
/// codec's: `fastpath_equivalence.rs`), which spares bringing the value into Rust; any other
/// through the value model.
fn fingerprints(
    keys: &js_sys::Array,
    values: &js_sys::Array,
    store: &str,
    uncarried: u8,
) -> Result<Vec<Keyed>, RewindError> {
    let count = keys.length();
    let mut batch = Vec::with_capacity(count as usize);
    let mut encoded = Vec::new();
    let mut index = 0u32;
    // Cleared when the batch is too large to encode at once: the rest of it goes through the
    // value model, a record at a time, rather than being encoded again after each record.
    let mut fast = true;
    while index < count {
        encoded.clear();
        let reached = match fast {
            true => encode_batch(keys, values, index, count, &mut encoded).unwrap_or_else(|_| {
                fast = false;
                index
            }),
            false => index,
        };
        let mut r = Reader::new(&encoded);
        for _ in index..reached {
            let key = read_value(&mut r)?;
            let start = encoded.len() - r.remaining();
            read_value(&mut r)?;
            let end = encoded.len() - r.remaining();
            batch.push((key, encoded[start..end].to_vec()));
        }
        index = reached;
        if index < count {
            batch.push(fingerprint_of(
                &keys.get(index),
                &values.get(index),
                store,
                uncarried,
            )?);
            index += 1;
        }
    }
    Ok(batch)
}

/// One record's key and value fingerprint, through the value model.
fn fingerprint_of(
    key: &JsValue,
    value: &JsValue,
    store: &str,
    uncarried: u8,
) -> Result<Keyed, RewindError> {
    let key_value = js_to_value(key)
        .map_err(|e| RewindError::Storage(e.in_record(store, "?").to_string()))?
        .value()
        .clone();
    let fingerprint = match js_to_value(value) {
        Ok(pending) => {
            let sizes: Vec<_> = pending
                .blobs()
                .iter()
                .enumerate()
                .map(|(i, b)| (i, b.size() as u64))
                .collect();
            match pending.value_with_bitmaps() {
                Ok(v) => value_fingerprint(v, &sizes)?,
                Err(_) => vec![uncarried],
            }
        }
        Err(_) => vec![uncarried],
    };
    Ok((key_value, fingerprint))
}

/// The next `LIVE_BATCH` keys and values of `store` after `after`, in one read-only transaction.
async fn live_batch(
    db: &web_sys::IdbDatabase,
    store: &str,
    after: Option<&JsValue>,
) -> Result<(js_sys::Array, js_sys::Array), IdbError> {
    let tx = db.transaction_with_str(store)?;
    let os = tx.object_store(store)?;
    let range: JsValue = match after {
        Some(k) => web_sys::IdbKeyRange::lower_bound_with_open(k, true)?.into(),
        None => JsValue::UNDEFINED,
    };
    let keys = RequestEvents::new(os.get_all_keys_with_key_and_limit(&range, LIVE_BATCH)?);
    let values = RequestEvents::new(os.get_all_with_key_and_limit(&range, LIVE_BATCH)?);
    let keys = keys.next().await?.unchecked_into();
    let values = values.next().await?.unchecked_into();
    Ok((keys, values))
}

/// What restoring the backup in `blob` over database `name` would change. Reads only;
/// `progress` hears the backup's records read of all, `cancel` is heard between batches.
pub async fn diff_restore(
    name: &str,
    blob: web_sys::Blob,
    progress: Option<Progress>,
    cancel: Option<CancelFlag>,
) -> Result<RestoreDiff, RewindError> {
    let (manifest, backup) = match open_file(blob).await? {
        OpenedFile::Chunked { file, manifest } => (manifest, BackupSide::Chunked(file)),
        OpenedFile::Whole { bytes, verified } => (
            verified.manifest,
            BackupSide::Whole {
                bytes,
                sections: verified.sections,
                store: 0,
                offset: 0,
            },
        ),
    };
    diff_from(
        name,
        &manifest,
        backup,
        Watch::new(progress, cancel, &manifest),
    )
    .await
}

/// What restoring backup `kept`, held in place in database `name`, would change: read from
/// its stores, no file made. Reads only, as [`diff_restore`].
pub async fn diff_held(
    name: &str,
    kept: &BackupManifest,
    progress: Option<Progress>,
    cancel: Option<CancelFlag>,
) -> Result<RestoreDiff, RewindError> {
    let backup = BackupSide::Held {
        stores: (0..kept.stores.len())
            .map(|i| super::in_place::store_name(&kept.id, i))
            .collect(),
        store: 0,
        after: None,
    };
    diff_from(name, kept, backup, Watch::new(progress, cancel, kept)).await
}

/// The walk of `backup` (of `manifest`) against database `name` as it is.
async fn diff_from(
    name: &str,
    manifest: &BackupManifest,
    backup: BackupSide,
    watch: Watch,
) -> Result<RestoreDiff, RewindError> {
    let db = match open_existing(name).await {
        Ok(db) => Some(db),
        Err(IdbError::NoSuchDatabase(_)) => None,
        Err(e) => return Err(storage(e)),
    };
    let outcome = async {
        let live = match &db {
            Some(db) => read_schema(db).await.map_err(storage)?.0,
            None => DatabaseSchema::default(),
        };
        let backup_schema = manifest
            .stores
            .iter()
            .fold(DatabaseSchema::default(), |s, m| {
                s.with_store(m.schema.clone())
            });
        let mut source = IdbDiff {
            manifest,
            backup,
            db: db.clone(),
            after: Vec::new(),
            watch,
        };
        walk_restore(&mut source, &backup_schema, &live, &manifest.skipped).await
    }
    .await;
    if let Some(db) = db {
        db.close();
    }
    outcome
}
