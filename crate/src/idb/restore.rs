//! Restoring a verified backup: the whole database — stores, indexes, records, Rewind's
//! metadata — replaced inside one `versionchange` transaction, checked (schema, counts and a
//! content hash read back from IndexedDB) before it may commit. Any failure aborts it and leaves
//! the database exactly as it was.
//!
//! Everything that needs awaiting something other than IndexedDB (reading the file, decoding,
//! building the JavaScript values) happens before the transaction starts.

use super::backend::{ensure_meta_stores, key_path_js, JOURNAL_STORE, META_STORE};
use super::clone::{decode_put_batch, encode_batch, js_to_value, value_to_js};
use super::inspect::store_names;
use super::open::{open_with_upgrade, BlockedPolicy, Upgrade};
use super::request::{await_request, RequestEvents};
use super::IdbError;
use crate::backup::codec::{read_value, Reader};
use crate::backup::format::encode_record;
use crate::backup::format::VerifiedFile;
use crate::backup::{DecodedBackup, SectionReader, SectionWriter, Value};
use crate::diff::diff;
use crate::engine::JournalEntry;
use crate::fold::RESERVED_PREFIX;
use crate::migration::hex;
use crate::rewind_error::RewindError;
use crate::schema::{DatabaseSchema, KeyPath, StoreSchema};
use sha2::{Digest, Sha256};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbIndexParameters, IdbObjectStoreParameters};

/// Progress callback that can live inside the upgrade transaction.
pub type SharedProgress = Rc<dyn Fn(u64, u64)>;

/// Records written per batch; after each, the transaction's own request is awaited, which lets
/// the page repaint its progress bar without letting the transaction commit.
const BATCH: usize = 1000;

struct JsStore {
    schema: StoreSchema,
    records: usize,
    /// The store's section of the file (verified), which the JavaScript fast path turns into
    /// values; a record it leaves (Blobs, Maps…) is decoded in Rust and built from that.
    section: Section,
    /// SHA-256 of the records as they must read back (Blob bytes left out: they cannot be read
    /// inside a transaction; their type, name, size and dates are covered). For a store
    /// without Blobs, this is the section's own (verified) checksum.
    expected_sha256: String,
}

fn without_blob_bytes(value: &Value) -> Value {
    let mut v = value.clone();
    v.for_each_blob_mut(&mut |bytes| bytes.clear());
    v
}

fn has_blob(value: &Value) -> bool {
    match value {
        Value::Blob { .. } | Value::File { .. } => true,
        Value::Error(e) => e.cause.as_deref().is_some_and(has_blob),
        Value::View { buffer, .. } => has_blob(buffer),
        Value::Map(entries) => entries.iter().any(|(k, v)| has_blob(k) || has_blob(v)),
        Value::Set(items) => items.iter().any(has_blob),
        Value::Array { props, .. } | Value::Object(props) => props.iter().any(|(_, v)| has_blob(v)),
        _ => false,
    }
}

/// Where a store's section is: its own bytes, or a range of the whole file.
enum Section {
    Own(Rc<[u8]>),
    InFile(Rc<Vec<u8>>, std::ops::Range<usize>),
}

impl std::ops::Deref for Section {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Section::Own(b) => b,
            Section::InFile(file, range) => &file[range.clone()],
        }
    }
}

/// The expected read-back hash of a section with Blobs: its records with the Blobs' bytes left
/// out, decoded and written again a batch at a time.
fn hash_without_blob_bytes(section: &[u8]) -> Result<String, RewindError> {
    let mut reader = SectionReader::new(section);
    let mut w = SectionWriter::new();
    while !reader.is_done() {
        for (k, v) in reader.next_batch(256)? {
            w.push(&k, &without_blob_bytes(&v))?;
            w.take_bytes();
        }
    }
    Ok(w.finish().0.sha256)
}

fn prepare_file(file: Vec<u8>, verified: &VerifiedFile) -> Result<Vec<JsStore>, RewindError> {
    let file = Rc::new(file);
    let mut out = Vec::with_capacity(verified.sections.len());
    for ((m, range), blobs) in verified
        .manifest
        .stores
        .iter()
        .zip(&verified.sections)
        .zip(&verified.has_blobs)
    {
        let section = Section::InFile(file.clone(), range.clone());
        let expected_sha256 = if *blobs {
            hash_without_blob_bytes(&section)?
        } else {
            m.sha256.clone()
        };
        out.push(JsStore {
            schema: m.schema.clone(),
            records: m.records as usize,
            section,
            expected_sha256,
        });
    }
    Ok(out)
}

fn prepare(decoded: &DecodedBackup) -> Result<Vec<JsStore>, RewindError> {
    let mut out = Vec::with_capacity(decoded.stores.len());
    for ((m, s), section) in decoded
        .manifest
        .stores
        .iter()
        .zip(&decoded.stores)
        .zip(&decoded.sections)
    {
        let expected_sha256 = if s.records.iter().any(|(_, v)| has_blob(v)) {
            let mut w = SectionWriter::new();
            for (k, v) in &s.records {
                w.push(k, &without_blob_bytes(v))?;
                w.take_bytes();
            }
            w.finish().0.sha256
        } else {
            m.sha256.clone()
        };
        out.push(JsStore {
            schema: m.schema.clone(),
            records: s.records.len(),
            section: Section::Own(section.clone()),
            expected_sha256,
        });
    }
    Ok(out)
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

/// Asks for the next batch of keys and values of `store`, after key `after`.
fn read_batch(
    store: &web_sys::IdbObjectStore,
    after: Option<&JsValue>,
) -> Result<(RequestEvents, RequestEvents), RewindError> {
    let range: JsValue = match after {
        Some(k) => web_sys::IdbKeyRange::lower_bound_with_open(k, true)?.into(),
        None => JsValue::UNDEFINED,
    };
    Ok((
        RequestEvents::new(store.get_all_keys_with_key_and_limit(&range, BATCH as u32)?),
        RequestEvents::new(store.get_all_with_key_and_limit(&range, BATCH as u32)?),
    ))
}

/// Reads a store back in batches (one `getAll` of keys and of values per batch, from after the
/// last key read; the next batch is asked for as soon as this one's keys are in, so IndexedDB
/// reads while this one is hashed) and hashes its records as a backup section holds them.
async fn read_back_hash(store: &web_sys::IdbObjectStore) -> Result<(u64, String), RewindError> {
    let name = store.name();
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    let mut count = 0u64;
    let mut pending = Some(read_batch(store, None)?);
    while let Some((keys, values)) = pending.take() {
        let keys: js_sys::Array = keys.next().await?.unchecked_into();
        let n = keys.length();
        if n as usize == BATCH {
            pending = Some(read_batch(store, Some(&keys.get(n - 1)))?);
        }
        let values: js_sys::Array = values.next().await?.unchecked_into();
        let mut i = 0;
        while i < n {
            i = encode_batch(&keys, &values, i, n, &mut bytes);
            if i < n {
                let key = js_to_value(&keys.get(i))
                    .map_err(|e| e.in_record(&name, "?"))?
                    .value()
                    .clone();
                let value = js_to_value(&values.get(i))
                    .map_err(|e| e.in_record(&name, "?"))?
                    .value()
                    .clone();
                encode_record(&key, &value, count + u64::from(i) + 1, &mut bytes)?;
                i += 1;
            }
        }
        hasher.update(&bytes);
        bytes.clear();
        count += u64::from(n);
    }
    Ok((count, hex(&hasher.finalize())))
}

async fn replace_everything(
    up: Upgrade,
    stores: Vec<JsStore>,
    meta_json: JsValue,
    entry_json: JsValue,
    progress: Option<SharedProgress>,
) -> Result<(), RewindError> {
    for name in store_names(&up.db) {
        if !name.starts_with(RESERVED_PREFIX) {
            up.db.delete_object_store(&name)?;
        }
    }
    ensure_meta_stores(&up.db)?;
    let total: u64 = stores.iter().map(|s| s.records as u64).sum();
    let mut done = 0u64;
    // The last request of the batch before: awaited once the next batch is queued, so
    // IndexedDB always has work while the next batch is made.
    let mut previous: Option<RequestEvents> = None;
    for s in &stores {
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
                let (reached, count, request) =
                    decode_put_batch(&s.section, offset, (end - index) as u32, &store, inline)?;
                offset = reached;
                index += count;
                if request.is_some() {
                    last = request;
                }
                if index < end {
                    let (k, v, next) = read_record(&s.section, offset)?;
                    let describe = super::clone::describe_key(&k);
                    let key = value_to_js(&k).map_err(|e| e.in_record(store_name, "?"))?;
                    let value = value_to_js(&v).map_err(|e| e.in_record(store_name, &describe))?;
                    last = Some(if inline {
                        store.put(&value)?
                    } else {
                        store.put_with_key(&value, &key)?
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
            if let Some(p) = &progress {
                p(done, total);
            }
        }
    }
    if let Some(request) = previous.take() {
        request.next().await?;
    }
    await_request(
        up.tx
            .object_store(META_STORE)?
            .put_with_key(&meta_json, &"state".into())?,
    )
    .await?;
    await_request(up.tx.object_store(JOURNAL_STORE)?.add(&entry_json)?).await?;

    // Check before committing: schema, counts, content.
    let expected = stores.iter().fold(DatabaseSchema::default(), |s, st| {
        s.with_store(st.schema.clone())
    });
    let mut live = DatabaseSchema::default();
    for name in store_names(&up.db)
        .into_iter()
        .filter(|n| !n.starts_with(RESERVED_PREFIX))
    {
        live = live.with_store(super::inspect::read_store(&up.tx.object_store(&name)?)?);
    }
    let d = diff(&expected, &live);
    if !d.is_empty() {
        return Err(RewindError::RestoreMismatch {
            what: format!("the schema ({d})"),
        });
    }
    for s in &stores {
        let (count, hash) = read_back_hash(&up.tx.object_store(&s.schema.name)?).await?;
        if count != s.records as u64 {
            return Err(RewindError::RestoreMismatch {
                what: format!(
                    "the record count of store {:?} ({count} instead of {})",
                    s.schema.name, s.records
                ),
            });
        }
        if hash != s.expected_sha256 {
            return Err(RewindError::RestoreMismatch {
                what: format!("the content of store {:?}", s.schema.name),
            });
        }
    }
    Ok(())
}

/// Replaces database `name` (at IDB version `current_idb_version`, 0 if it does not exist)
/// with the verified backup `decoded`, recording `entry` in the journal.
pub async fn restore_database(
    name: &str,
    current_idb_version: u64,
    decoded: &DecodedBackup,
    entry: &JournalEntry,
    blocked: BlockedPolicy,
    progress: Option<SharedProgress>,
) -> Result<(), RewindError> {
    let stores = prepare(decoded)?;
    replace_with(
        name,
        current_idb_version,
        stores,
        &decoded.manifest.meta,
        entry,
        blocked,
        progress,
    )
    .await
}

/// [`restore_database`] straight from a file's bytes, verified by [`verify_file`]: no record
/// is ever held decoded, only the file and a batch of JavaScript values at a time.
///
/// [`verify_file`]: crate::backup::format::verify_file
pub async fn restore_verified(
    name: &str,
    current_idb_version: u64,
    file: Vec<u8>,
    verified: &VerifiedFile,
    entry: &JournalEntry,
    blocked: BlockedPolicy,
    progress: Option<SharedProgress>,
) -> Result<(), RewindError> {
    let stores = prepare_file(file, verified)?;
    replace_with(
        name,
        current_idb_version,
        stores,
        &verified.manifest.meta,
        entry,
        blocked,
        progress,
    )
    .await
}

async fn replace_with(
    name: &str,
    current_idb_version: u64,
    stores: Vec<JsStore>,
    meta: &crate::engine::RewindMeta,
    entry: &JournalEntry,
    blocked: BlockedPolicy,
    progress: Option<SharedProgress>,
) -> Result<(), RewindError> {
    // Never write an empty metadata record: a serialization failure stops the restore
    // before anything changes.
    let json = |what: &str, v: Result<String, serde_json::Error>| {
        v.map(|s| JsValue::from_str(&s)).map_err(|e| {
            RewindError::Migration(crate::MigrationError::Storage(format!("{what}: {e}")))
        })
    };
    let meta_json = json("Rewind's metadata", serde_json::to_string(meta))?;
    let entry_json = json("the journal entry", serde_json::to_string(entry))?;
    let db = open_with_upgrade(
        name,
        current_idb_version + 1,
        move |up| replace_everything(up, stores, meta_json, entry_json, progress),
        blocked,
    )
    .await?;
    db.close();
    Ok(())
}
