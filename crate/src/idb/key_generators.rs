//! Key generators carried through a backup (the JavaScript is `key_generators.js`). IndexedDB
//! neither tells where a store's generator stands nor lets one set it: a backup reads it with an
//! `add` it aborts, and a restore raises it with a numeric key it puts and deletes again. What
//! the numbers mean, and which key a restore puts, the core decides (`StoreManifest`).

use super::error::thrown;
use super::request::await_transaction;
use super::IdbError;
use crate::backup::{BackupManifest, StoreManifest};
use crate::rewind_error::RewindError;
use crate::schema::KeyPath;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::IdbTransactionMode;

#[wasm_bindgen(module = "/src/idb/key_generators.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn rewind_key_generators_start(
        db: &web_sys::IdbDatabase,
        names: &js_sys::Array,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_key_generators_read(probe: &JsValue) -> Result<js_sys::Array, JsValue>;
    #[wasm_bindgen(catch)]
    fn rewind_key_generators_raise(
        tx: &web_sys::IdbTransaction,
        names: &js_sys::Array,
        keys: &js_sys::Array,
        key_paths: &js_sys::Array,
    ) -> Result<(), JsValue>;
}

/// The key generators of a backup's stores, being read by a read-write transaction that runs
/// (and aborts) before the snapshot's.
pub(crate) struct GeneratorProbe(JsValue);

/// Starts reading the key generators of stores `names`. Call it just before the snapshot's
/// read-only transaction (over these stores and more) is made, so that it runs first: the two
/// see the same state, and the snapshot's data and generators describe one moment.
pub(crate) fn start_reading(
    db: &web_sys::IdbDatabase,
    names: &[&str],
) -> Result<GeneratorProbe, IdbError> {
    let names: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    rewind_key_generators_start(db, &names)
        .map(GeneratorProbe)
        .map_err(thrown)
}

impl GeneratorProbe {
    /// Each store's `keyGenerator` (by position in the names given), once a request of the
    /// snapshot's transaction has answered (the probe's transaction has ended by then).
    pub(crate) fn read(&self) -> Result<Vec<Option<u64>>, IdbError> {
        let keys = rewind_key_generators_read(&self.0).map_err(thrown)?;
        Ok(keys
            .iter()
            .map(|k| k.as_f64().and_then(StoreManifest::key_generator_from))
            .collect())
    }
}

/// Sets the key generator of each staging store `staged[i]` (of `manifest.stores[i]`) where the
/// backup's stood, in one read-write transaction before the swap (renaming a store keeps its
/// generator). The records put there are deleted in the same transaction: counts and contents
/// stay what the restore proved.
pub(crate) async fn raise_staged(
    db: &web_sys::IdbDatabase,
    manifest: &BackupManifest,
    staged: &[String],
) -> Result<(), RewindError> {
    let (names, keys, key_paths) = (
        js_sys::Array::new(),
        js_sys::Array::new(),
        js_sys::Array::new(),
    );
    for (store, name) in manifest.stores.iter().zip(staged) {
        let Some(key) = store.key_generator_raise() else {
            continue;
        };
        let key_path = match &store.schema.key_path {
            None => JsValue::NULL,
            Some(KeyPath::Single(path)) => JsValue::from_str(path),
            // IndexedDB gives no store with a compound key path a generator.
            Some(KeyPath::Compound(_)) => continue,
        };
        names.push(&JsValue::from_str(name));
        keys.push(&JsValue::from_f64(key as f64));
        key_paths.push(&key_path);
    }
    if names.length() == 0 {
        return Ok(());
    }
    let tx = db
        .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)
        .map_err(thrown)?;
    if let Err(e) = rewind_key_generators_raise(&tx, &names, &keys, &key_paths) {
        let _ = tx.abort();
        return Err(thrown(e).into());
    }
    await_transaction(&tx).await?;
    Ok(())
}
