//! Restoring a verified backup: the whole database — stores, indexes, records, Rewind's
//! metadata — replaced inside one `versionchange` transaction, checked (schema, counts and a
//! content hash read back from IndexedDB) before it may commit. Any failure aborts it and leaves
//! the database exactly as it was.
//!
//! Everything that needs awaiting something other than IndexedDB (reading the file, decoding,
//! building the JavaScript values) happens before the transaction starts.

use super::backend::{ensure_meta_stores, key_path_js, JOURNAL_STORE, META_STORE};
use super::clone::{js_to_value, value_to_js};
use super::inspect::store_names;
use super::open::{open_with_upgrade, BlockedPolicy, Upgrade};
use super::request::await_request;
use super::IdbError;
use crate::backup::{DecodedBackup, SectionWriter, Value};
use crate::diff::diff;
use crate::engine::JournalEntry;
use crate::fold::RESERVED_PREFIX;
use crate::rewind_error::RewindError;
use crate::schema::{DatabaseSchema, KeyPath, StoreSchema};
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
    records: Vec<(JsValue, JsValue)>,
    /// SHA-256 of the records as they must read back (Blob bytes left out: they cannot be read
    /// inside a transaction; their type, name, size and dates are covered).
    expected_sha256: String,
}

fn without_blob_bytes(value: &Value) -> Value {
    let mut v = value.clone();
    v.for_each_blob_mut(&mut |bytes| bytes.clear());
    v
}

fn section_hash<'a>(
    records: impl Iterator<Item = (&'a Value, Value)>,
) -> Result<String, RewindError> {
    let mut w = SectionWriter::new();
    for (k, v) in records {
        w.push(k, &v)?;
        w.take_bytes();
    }
    Ok(w.finish().0.sha256)
}

fn prepare(decoded: &DecodedBackup) -> Result<Vec<JsStore>, RewindError> {
    let mut out = Vec::with_capacity(decoded.stores.len());
    for (m, s) in decoded.manifest.stores.iter().zip(&decoded.stores) {
        let store = &m.schema.name;
        let mut records = Vec::with_capacity(s.records.len());
        for (k, v) in &s.records {
            let key_js = value_to_js(k).map_err(|e| e.in_record(store, "?"))?;
            let value_js =
                value_to_js(v).map_err(|e| e.in_record(store, &super::clone::describe_key(k)))?;
            records.push((key_js, value_js));
        }
        let expected_sha256 =
            section_hash(s.records.iter().map(|(k, v)| (k, without_blob_bytes(v))))?;
        out.push(JsStore {
            schema: m.schema.clone(),
            records,
            expected_sha256,
        });
    }
    Ok(out)
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

async fn read_back_hash(store: &web_sys::IdbObjectStore) -> Result<(u64, String), RewindError> {
    let keys: js_sys::Array = await_request(store.get_all_keys()?).await?.unchecked_into();
    let values: js_sys::Array = await_request(store.get_all()?).await?.unchecked_into();
    let name = store.name();
    let mut pairs = Vec::with_capacity(keys.length() as usize);
    for (k, v) in keys.iter().zip(values.iter()) {
        let key = js_to_value(&k)
            .map_err(|e| e.in_record(&name, "?"))?
            .value()
            .clone();
        let value = js_to_value(&v)
            .map_err(|e| e.in_record(&name, "?"))?
            .value()
            .clone();
        pairs.push((key, value));
    }
    let hash = section_hash(pairs.iter().map(|(k, v)| (k, v.clone())))?;
    Ok((pairs.len() as u64, hash))
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
    let total: u64 = stores.iter().map(|s| s.records.len() as u64).sum();
    let mut done = 0u64;
    for s in &stores {
        let store = create_store(&up, &s.schema)?;
        let inline = s.schema.key_path.is_some();
        for batch in s.records.chunks(BATCH) {
            let mut last = None;
            for (key, value) in batch {
                // A failing put fails its request, which aborts the whole transaction.
                last = Some(if inline {
                    store.put(value)?
                } else {
                    store.put_with_key(value, key)?
                });
            }
            if let Some(request) = last {
                await_request(request).await?;
            }
            done += batch.len() as u64;
            if let Some(p) = &progress {
                p(done, total);
            }
        }
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
        if count != s.records.len() as u64 {
            return Err(RewindError::RestoreMismatch {
                what: format!(
                    "the record count of store {:?} ({count} instead of {})",
                    s.schema.name,
                    s.records.len()
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
    let json = |v: String| JsValue::from_str(&v);
    let meta_json = json(serde_json::to_string(&decoded.manifest.meta).unwrap_or_default());
    let entry_json = json(serde_json::to_string(entry).unwrap_or_default());
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
