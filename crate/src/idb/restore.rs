//! Restoring a verified backup: the whole database — stores, indexes, records, Rewind's
//! metadata — replaced inside one `versionchange` transaction, checked (schema, counts and a
//! content hash read back from IndexedDB) before it may commit. Any failure aborts it and leaves
//! the database exactly as it was.
//!
//! Everything that needs awaiting something other than IndexedDB (reading the file, decoding,
//! making ImageBitmaps) happens before the transaction starts.

use super::backend::{ensure_meta_stores, key_path_js, write_meta_and_entry};
use super::carry::{read_carried, write_carried};
use super::clone::{
    decode_batch, encode_batch_without_blob_bytes, js_to_value, make_bitmaps, value_to_js,
    value_to_js_with,
};
use super::error::thrown;
use super::inspect::store_names;
use super::open::{open_with_upgrade, BlockedPolicy, Upgrade};
use super::request::{BatchReader, RequestEvents};
use super::IdbError;
use super::Progress;
use crate::backup::codec::{read_value, Reader};
use crate::backup::format::encode_record;
use crate::backup::format::VerifiedFile;
use crate::backup::{BackupManifest, SectionMatch, Value};
use crate::diff::diff;
use crate::engine::JournalEntry;
use crate::fold::RESERVED_PREFIX;
use crate::rewind_error::RewindError;
use crate::schema::{DatabaseSchema, KeyPath, StoreSchema};
use std::rc::Rc;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbIndexParameters, IdbObjectStoreParameters};

#[wasm_bindgen(module = "/src/idb/batch_put.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn rewind_put_all(
        store: &web_sys::IdbObjectStore,
        keys: &js_sys::Array,
        values: &js_sys::Array,
        inline: bool,
    ) -> Result<JsValue, JsValue>;
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

fn create_store(up: &Upgrade, schema: &StoreSchema) -> Result<web_sys::IdbObjectStore, IdbError> {
    let params = IdbObjectStoreParameters::new();
    if let Some(kp) = &schema.key_path {
        params.set_key_path(&key_path_js(kp));
    }
    params.set_auto_increment(schema.auto_increment);
    let store = up
        .db
        .create_object_store_with_optional_parameters(&schema.name, &params)?;
    for index in schema.indexes.values() {
        let p = IdbIndexParameters::new();
        p.set_unique(index.unique);
        p.set_multi_entry(index.multi_entry);
        match &index.key_path {
            KeyPath::Single(path) => {
                store.create_index_with_str_and_optional_parameters(&index.name, path, &p)?
            }
            kp @ KeyPath::Compound(_) => store
                .create_index_with_str_sequence_and_optional_parameters(
                    &index.name,
                    &key_path_js(kp),
                    &p,
                )?,
        };
    }
    Ok(store)
}

/// Reads a store back in batches ([`BatchReader`]: IndexedDB reads the next while this one is
/// checked), encodes its records as a backup section holds them and
/// matches them against `section`. Returns the records read and whether they all matched.
///
/// Records come back in key order, the order a backup holds them in; a file in any other
/// order does not match and is refused. (Reading each batch back right after writing it,
/// interleaved with the puts, was measured slower: IndexedDB writes more slowly when reads
/// come between the writes; docs/benchmarks.md has the figures.)
async fn read_back_matches(
    store: &web_sys::IdbObjectStore,
    section: &[u8],
) -> Result<(u64, bool), RewindError> {
    let name = store.name();
    let mut matcher = SectionMatch::new(section);
    let mut bytes = Vec::new();
    let mut count = 0u64;
    let mut matched = true;
    let mut batches = BatchReader::new(store, BATCH as u32)?;
    while let Some((keys, values)) = batches.next().await? {
        let n = keys.length();
        let mut i = 0;
        while i < n {
            i = encode_batch_without_blob_bytes(&keys, &values, i, n, &mut bytes)
                .map_err(|bytes| RewindError::BackupTooLarge { bytes })?;
            if i < n {
                let key = js_to_value(&keys.get(i))
                    .map_err(|e| e.in_record(&name, "?"))?
                    .value()
                    .clone();
                let value = js_to_value(&values.get(i))
                    .and_then(|v| v.value_with_bitmaps())
                    .map_err(|e| e.in_record(&name, "?"))?;
                encode_record(&key, &value, count + u64::from(i) + 1, &mut bytes)?;
                i += 1;
            }
        }
        matched = matched && matcher.feed(&bytes);
        bytes.clear();
        count += u64::from(n);
    }
    Ok((count, matched && matcher.is_complete()))
}

async fn replace_everything(
    up: Upgrade,
    stores: Vec<JsStore>,
    manifest: BackupManifest,
    mut bitmaps: Bitmaps,
    meta_json: JsValue,
    entry_json: JsValue,
    progress: Option<Progress>,
) -> Result<(), RewindError> {
    // The records the backup left out, read before their stores are replaced.
    let carried: Vec<_> = read_carried(&up.db, &up.tx, &manifest)
        .await?
        .into_iter()
        .flatten()
        .collect();
    for name in store_names(&up.db) {
        if !name.starts_with(RESERVED_PREFIX) {
            up.db.delete_object_store(&name).map_err(thrown)?;
        }
    }
    ensure_meta_stores(&up.db)?;
    let total: u64 = stores.iter().map(|s| s.records as u64).sum();
    let mut done = 0u64;
    // The last request of the batch before: awaited once the next batch is queued, so
    // IndexedDB always has work while the next batch is made.
    let mut previous: Option<RequestEvents> = None;
    for (store_index, s) in stores.iter().enumerate() {
        let store = create_store(&up, &s.schema)?;
        let store_name = &s.schema.name;
        let inline = s.schema.key_path.is_some();
        let mut offset = 0usize;
        let mut index = 0usize;
        while index < s.records {
            // A batch put straight from the file's bytes by the fast path; a record it leaves
            // (Blobs, Maps…) is decoded in Rust and built from its value.
            // A failing put fails its request, which aborts the whole transaction.
            let end = (index + BATCH).min(s.records);
            let mut last = None;
            let start = index;
            while index < end {
                let (reached, keys, values) =
                    decode_batch(&s.section, offset, (end - index) as u32);
                offset = reached;
                index += values.length() as usize;
                let request = rewind_put_all(&store, &keys, &values, inline).map_err(thrown)?;
                if !request.is_null() {
                    last = Some(request.unchecked_into::<web_sys::IdbRequest>());
                }
                if index < end {
                    let (k, v, next) = read_record(&s.section, offset)?;
                    let describe = super::clone::describe_key(&k);
                    let key = value_to_js(&k).map_err(|e| e.in_record(store_name, "?"))?;
                    let made = bitmaps.remove(&(store_index, offset)).unwrap_or_default();
                    let value = value_to_js_with(&v, made)
                        .map_err(|e| e.in_record(store_name, &describe))?;
                    last = Some(if inline {
                        store.put(&value).map_err(thrown)?
                    } else {
                        store.put_with_key(&value, &key).map_err(thrown)?
                    });
                    offset = next;
                    index += 1;
                }
            }
            let last = last.map(RequestEvents::new);
            if let Some(request) = std::mem::replace(&mut previous, last) {
                request.next().await?;
            }
            done += (index - start) as u64;
            #[cfg(feature = "test-hooks")]
            panic_point();
            if let Some(p) = &progress {
                p(done, total);
            }
        }
    }
    if let Some(request) = previous.take() {
        request.next().await?;
    }
    write_meta_and_entry(&up.tx, &meta_json, &entry_json).await?;

    // Check before committing: the schema.
    let expected = stores.iter().fold(DatabaseSchema::default(), |s, st| {
        s.with_store(st.schema.clone())
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
    // Then counts and content.
    for s in &stores {
        let (count, matched) = read_back_matches(
            &up.tx.object_store(&s.schema.name).map_err(thrown)?,
            &s.section,
        )
        .await?;
        if count != s.records as u64 {
            return Err(RewindError::RestoreMismatch {
                what: format!(
                    "the record count of store {:?} ({count} instead of {})",
                    s.schema.name, s.records
                ),
            });
        }
        if !matched {
            return Err(RewindError::RestoreMismatch {
                what: format!("the content of store {:?}", s.schema.name),
            });
        }
    }
    // Last, once the file's records are proven: the records it left out, kept from before.
    write_carried(&up.tx, carried).await
}

#[cfg(feature = "test-hooks")]
thread_local! {
    static PANIC_AFTER_BATCHES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Makes the next restore panic after writing `batches` batches (0: never), inside its
/// upgrade: how the tests prove that a panic settles every Promise and commits nothing.
#[cfg(feature = "test-hooks")]
pub fn panic_after_batches(batches: u32) {
    PANIC_AFTER_BATCHES.with(|p| p.set(batches));
}

#[cfg(feature = "test-hooks")]
fn panic_point() {
    let left = PANIC_AFTER_BATCHES.with(|p| p.get());
    if left == 1 {
        PANIC_AFTER_BATCHES.with(|p| p.set(0));
        panic!("the panic a test asked for, in the middle of a restore");
    }
    PANIC_AFTER_BATCHES.with(|p| p.set(left.saturating_sub(1)));
}

/// Replaces database `name` (at IDB version `current_idb_version`, 0 if it does not exist)
/// with the backup in `file`, verified by [`verify_file`], recording `entry` in the journal.
/// No record is ever held decoded, only the file and a batch of JavaScript values at a time.
///
/// [`verify_file`]: crate::backup::format::verify_file
pub async fn restore_verified(
    name: &str,
    current_idb_version: u64,
    file: Vec<u8>,
    verified: &VerifiedFile,
    entry: &JournalEntry,
    blocked: BlockedPolicy,
    progress: Option<Progress>,
) -> Result<(), RewindError> {
    let stores = prepare_file(file, verified);
    let bitmaps = make_all_bitmaps(&stores, verified).await?;
    replace_with(
        name,
        current_idb_version,
        stores,
        bitmaps,
        &verified.manifest,
        entry,
        blocked,
        progress,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn replace_with(
    name: &str,
    current_idb_version: u64,
    stores: Vec<JsStore>,
    bitmaps: Bitmaps,
    manifest: &BackupManifest,
    entry: &JournalEntry,
    blocked: BlockedPolicy,
    progress: Option<Progress>,
) -> Result<(), RewindError> {
    // Never write an empty metadata record: a serialization failure stops the restore
    // before anything changes.
    let json = |what: &str, v: Result<String, serde_json::Error>| {
        v.map(|s| JsValue::from_str(&s)).map_err(|e| {
            RewindError::Migration(crate::MigrationError::Storage(format!("{what}: {e}")))
        })
    };
    let meta_json = json("Rewind's metadata", serde_json::to_string(&manifest.meta))?;
    let entry_json = json("the journal entry", serde_json::to_string(entry))?;
    let manifest = manifest.clone();
    let db = open_with_upgrade(
        name,
        current_idb_version + 1,
        move |up| {
            replace_everything(
                up, stores, manifest, bitmaps, meta_json, entry_json, progress,
            )
        },
        blocked,
    )
    .await?;
    db.close();
    Ok(())
}
