//! Round trips (up, down, up again) of a history in a scratch IndexedDB database: the core's
//! walk (`Migrator::check_round_trips_on`) carried out by the real adapter, so the steps run
//! as the browser runs them. Here only: putting the sample in, reading the records back, and
//! the scratch database's name and removal.

use super::backend::IdbBackend;
use super::inspect::store_names;
use super::open::{delete_database, open_existing};
use super::request::{await_request, await_transaction};
use super::IdbError;
use crate::check::{RoundTrip, RoundTripDatabase};
use crate::engine::Migrator;
use crate::fold::RESERVED_PREFIX;
use crate::migration_error::MigrationError;
use crate::rewind_error::RewindError;
use crate::schema::StoreSchema;
use serde_json::Value;
use std::collections::BTreeMap;
use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbTransactionMode};

/// The names scratch databases get: reserved (the page and `listAppDatabases` leave them out),
/// and told apart from backup catalogs.
pub const SCRATCH_PREFIX: &str = "__rewind_check__";

fn json_to_js(value: &Value) -> Result<JsValue, IdbError> {
    let text = serde_json::to_string(value).map_err(|e| IdbError::Unexpected(e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|e| IdbError::from_js(&e))
}

/// A value read from IndexedDB as JSON (what `JSON.stringify` makes of it; `undefined`: null).
fn js_to_json(value: &JsValue) -> Result<Value, IdbError> {
    let text = js_sys::JSON::stringify(value)
        .map_err(|e| IdbError::from_js(&e))?
        .as_string()
        .unwrap_or_else(|| "null".into());
    serde_json::from_str(&text).map_err(|e| IdbError::Unexpected(e.to_string()))
}

async fn put_all(
    db: &IdbDatabase,
    store: &StoreSchema,
    records: &[(Value, Value)],
) -> Result<(), IdbError> {
    let tx = db.transaction_with_str_and_mode(&store.name, IdbTransactionMode::Readwrite)?;
    let os = tx.object_store(&store.name)?;
    let issued = records.iter().try_for_each(|(key, record)| {
        let value = json_to_js(record)?;
        match store.key_path {
            // In-line keys (or generated ones): the record carries its key.
            Some(_) => os.put(&value)?,
            None => os.put_with_key(&value, &json_to_js(key)?)?,
        };
        Ok::<_, IdbError>(())
    });
    if let Err(e) = issued {
        let _ = tx.abort();
        return Err(e);
    }
    await_transaction(&tx).await
}

async fn read_all(db: &IdbDatabase) -> Result<BTreeMap<String, Vec<(Value, Value)>>, IdbError> {
    let names: Vec<String> = store_names(db)
        .into_iter()
        .filter(|n| !n.starts_with(RESERVED_PREFIX))
        .collect();
    let mut all = BTreeMap::new();
    if names.is_empty() {
        return Ok(all);
    }
    let list: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    let tx = db.transaction_with_str_sequence_and_mode(&list, IdbTransactionMode::Readonly)?;
    for name in names {
        let os = tx.object_store(&name)?;
        let keys: js_sys::Array = await_request(os.get_all_keys()?).await?.into();
        let values: js_sys::Array = await_request(os.get_all()?).await?.into();
        let rows = keys
            .iter()
            .zip(values.iter())
            .map(|(k, v)| Ok((js_to_json(&k)?, js_to_json(&v)?)))
            .collect::<Result<Vec<_>, IdbError>>()?;
        all.insert(name, rows);
    }
    await_transaction(&tx).await?;
    Ok(all)
}

impl RoundTripDatabase for IdbBackend {
    async fn put_sample(
        &mut self,
        store: &StoreSchema,
        records: &[(Value, Value)],
    ) -> Result<(), MigrationError> {
        let db = open_existing(&self.name).await?;
        let outcome = put_all(&db, store, records).await;
        db.close();
        outcome.map_err(|e| {
            MigrationError::Rejected(format!(
                "the sample records of store {:?} could not be put in ({e}). Nothing of the app's \
                 was touched (the check runs in a scratch database); give each record the key \
                 its store's key path names (unless the store generates keys), as values \
                 IndexedDB can store",
                store.name
            ))
        })
    }

    async fn all_records(
        &mut self,
    ) -> Result<BTreeMap<String, Vec<(Value, Value)>>, MigrationError> {
        let db = match open_existing(&self.name).await {
            Ok(db) => db,
            // Not created yet (before the first migration): no records.
            Err(IdbError::NoSuchDatabase(_)) => return Ok(BTreeMap::new()),
            Err(other) => return Err(other.into()),
        };
        let outcome = read_all(&db).await;
        db.close();
        Ok(outcome?)
    }
}

/// Runs `migrator`'s round trips over `sample` in a new scratch database, and deletes it
/// afterwards whatever happened (a check that failed midway included).
pub async fn check_migrations(
    migrator: &Migrator,
    sample: &BTreeMap<String, Vec<Value>>,
) -> Result<Vec<RoundTrip>, RewindError> {
    let name = format!(
        "{SCRATCH_PREFIX}{}-{}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * u32::MAX as f64) as u32
    );
    let mut db = IdbBackend {
        name: name.clone(),
        block_timeout_ms: 5_000,
        on_blocked: None,
        progress: None,
        cancel: None,
        known_version: None,
        folder_write: None,
    };
    let report = migrator
        .check_round_trips_on(&mut db, sample, js_sys::Date::now())
        .await;
    let deleted = delete_database(&name).await;
    let report = report?;
    deleted.map_err(|e| RewindError::Migration(MigrationError::from(e)))?;
    Ok(report)
}
