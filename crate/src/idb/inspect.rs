//! Reading what is there: the origin's databases, a database's live schema, record counts.

use super::open::open_existing;
use super::request::{await_request, await_transaction};
use super::{factory, IdbError};
use crate::schema::{
    DatabaseListing, DatabaseSchema, DatabaseSummary, IndexSchema, KeyPath, StoreSchema,
};
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbTransactionMode};

/// Every database of this origin, sorted by name (those at version 0, which do not exist,
/// left out).
pub async fn list_databases() -> Result<Vec<DatabaseListing>, IdbError> {
    // `databases()` is not in web-sys's stable bindings; call it by name.
    let factory = factory()?;
    let databases: js_sys::Function = js_sys::Reflect::get(&factory, &"databases".into())?
        .dyn_into()
        .map_err(|_| {
            IdbError::Unavailable(
                "this browser cannot list its databases (indexedDB.databases)".into(),
            )
        })?;
    let promise: js_sys::Promise = databases
        .call0(&factory)?
        .dyn_into()
        .map_err(|_| IdbError::Unexpected("indexedDB.databases() gave no promise".into()))?;
    let list = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| IdbError::from_js(&e))?;
    let array: js_sys::Array = list
        .dyn_into()
        .map_err(|_| IdbError::Unexpected("indexedDB.databases() did not give an array".into()))?;
    let mut out = Vec::with_capacity(array.length() as usize);
    for info in array.iter() {
        let name = js_sys::Reflect::get(&info, &"name".into())?
            .as_string()
            .ok_or_else(|| IdbError::Unexpected("a database without a name".into()))?;
        let version = js_sys::Reflect::get(&info, &"version".into())?
            .as_f64()
            .unwrap_or(0.0);
        if version < 1.0 {
            // No database has version 0: WebKit lists one whose creating upgrade was aborted
            // that way, and opening it would only create it again.
            continue;
        }
        out.push(DatabaseListing {
            name,
            idb_version: version as u64,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The app databases of this origin, sorted by name: Rewind's own (its backup catalogs, under
/// the reserved prefix) left out.
pub async fn list_app_databases() -> Result<Vec<DatabaseListing>, IdbError> {
    let mut all = list_databases().await?;
    all.retain(|d| !d.name.starts_with(crate::fold::RESERVED_PREFIX));
    Ok(all)
}

pub(crate) fn key_path_from_js(value: &JsValue) -> Result<Option<KeyPath>, IdbError> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    if let Some(s) = value.as_string() {
        return Ok(Some(KeyPath::Single(s)));
    }
    if let Some(array) = value.dyn_ref::<js_sys::Array>() {
        let parts = array
            .iter()
            .map(|p| p.as_string())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| IdbError::Unexpected("a key path array holds a non-string".into()))?;
        return Ok(Some(KeyPath::Compound(parts)));
    }
    Err(IdbError::Unexpected(format!(
        "unknown key path {}",
        super::error::describe(value)
    )))
}

pub(crate) fn store_names(db: &IdbDatabase) -> Vec<String> {
    let list = db.object_store_names();
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

pub(crate) fn read_store(store: &web_sys::IdbObjectStore) -> Result<StoreSchema, IdbError> {
    let key_path = key_path_from_js(&store.key_path()?)?;
    let mut schema = StoreSchema::new(store.name(), key_path, store.auto_increment());
    let names = store.index_names();
    for i in 0..names.length() {
        let Some(name) = names.get(i) else { continue };
        let index = store.index(&name)?;
        let key_path = key_path_from_js(&index.key_path()?)?
            .ok_or_else(|| IdbError::Unexpected(format!("index {name:?} has no key path")))?;
        schema = schema.with_index(
            IndexSchema::new(name, key_path)
                .unique(index.unique())
                .multi_entry(index.multi_entry()),
        );
    }
    Ok(schema)
}

/// The live schema of an open database, and each store's record count, read in one
/// read-only transaction so both describe the same moment.
/// Rewind's own stores are left out: they are not part of the app's schema.
pub async fn read_schema(
    db: &IdbDatabase,
) -> Result<(DatabaseSchema, BTreeMap<String, u64>), IdbError> {
    let names: Vec<String> = store_names(db)
        .into_iter()
        .filter(|n| !n.starts_with(crate::fold::RESERVED_PREFIX))
        .collect();
    let mut schema = DatabaseSchema::default();
    let mut counts = BTreeMap::new();
    if names.is_empty() {
        return Ok((schema, counts));
    }
    let name_array: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    let tx =
        db.transaction_with_str_sequence_and_mode(&name_array, IdbTransactionMode::Readonly)?;
    for name in &names {
        let store = tx.object_store(name)?;
        schema = schema.with_store(read_store(&store)?);
        let count = await_request(store.count()?).await?;
        counts.insert(name.clone(), count.as_f64().unwrap_or(0.0) as u64);
    }
    await_transaction(&tx).await?;
    Ok((schema, counts))
}

/// Opens `name` read-only, reads its schema and counts, and closes it again.
pub async fn summarize(name: &str) -> Result<DatabaseSummary, IdbError> {
    let db = open_existing(name).await?;
    let outcome = read_schema(&db).await;
    let idb_version = db.version() as u64;
    db.close();
    let (schema, record_counts) = outcome?;
    Ok(DatabaseSummary {
        name: name.to_string(),
        idb_version,
        schema,
        record_counts,
    })
}
