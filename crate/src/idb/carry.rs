//! Records a backup left out — they hold a value no backup can carry, such as a non-extractable
//! `CryptoKey` — are carried over from the live database when that backup is restored: same
//! store, same key, inside the restore's own transaction, so they survive a restore in the
//! browser that holds them. A backup the database holds in place (`in_place.rs`) still has
//! them: they are carried from its stores.
//!
//! A record is carried only where the live store keys its records the way the backup's store
//! does (same key path and key generator); otherwise it could land under another key, so it
//! counts as missing. The restore's preview and the restore itself decide by the same rule.

use super::error::thrown;
use super::inspect::{read_store, store_names};
use super::open::open_existing;
use super::request::{await_request, await_transaction};
use super::IdbError;
use crate::backup::BackupManifest;
use crate::rewind_error::RewindError;
use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbTransaction, IdbTransactionMode};

/// A skipped record read from the live database, to be written into the restored store.
pub(crate) struct Carried {
    store: String,
    key: JsValue,
    value: JsValue,
    /// The store's keys are in its values (a key path), so the value is written alone.
    inline: bool,
}

impl Carried {
    /// The store it is written into.
    pub(crate) fn store(&self) -> &str {
        &self.store
    }

    /// The same record, written into store `store` instead (a restore's staging store).
    pub(crate) fn into_store(self, store: String) -> Self {
        Carried { store, ..self }
    }
}

/// For each of the manifest's skipped records, in order: the record in its source store
/// (`sources`, one per skipped record: see [`carry_sources`]), when that store exists and keys
/// records as the backup's store does. Only `tx`'s own requests are awaited.
async fn read_carried(
    db: &IdbDatabase,
    tx: &IdbTransaction,
    manifest: &BackupManifest,
    sources: &[String],
) -> Result<Vec<Option<Carried>>, RewindError> {
    let live = store_names(db);
    let mut out = Vec::with_capacity(manifest.skipped.len());
    for (skipped, source) in manifest.skipped.iter().zip(sources) {
        let Some(schema) = manifest.store(&skipped.store).map(|s| &s.schema) else {
            out.push(None);
            continue;
        };
        if !live.contains(source) {
            out.push(None);
            continue;
        }
        let store = tx.object_store(source).map_err(thrown)?;
        let same_keys = read_store(&store)
            .map(|s| s.key_path == schema.key_path && s.auto_increment == schema.auto_increment)?;
        if !same_keys {
            out.push(None);
            continue;
        }
        let key = super::clone::value_to_js(&skipped.decoded_key()?)
            .map_err(|e| e.in_record(&skipped.store, &skipped.key))?;
        let value = await_request(store.get(&key).map_err(thrown)?).await?;
        out.push((!value.is_undefined()).then(|| Carried {
            store: skipped.store.clone(),
            key,
            value,
            inline: schema.key_path.is_some(),
        }));
    }
    Ok(out)
}

/// Writes the carried records into the restored stores. `add`, not `put`: a record of the
/// backup under the same key would mean the file contradicts its own manifest, and then the
/// request fails and the whole restore is aborted rather than one of the two lost.
pub(crate) async fn write_carried(
    tx: &IdbTransaction,
    carried: Vec<Carried>,
) -> Result<(), RewindError> {
    let mut last = None;
    for c in carried {
        let store = tx.object_store(&c.store).map_err(thrown)?;
        last = Some(if c.inline {
            store.add(&c.value).map_err(thrown)?
        } else {
            store.add_with_key(&c.value, &c.key).map_err(thrown)?
        });
    }
    if let Some(request) = last {
        await_request(request).await?;
    }
    Ok(())
}

/// Where each of the manifest's skipped records is carried from: when the database still
/// holds that very backup in place (a restore's automatic backup, restored by its id or from
/// its exported file), its held store, which holds the record exactly as it was; otherwise
/// the live store of the same name.
async fn carry_sources(
    db: &IdbDatabase,
    manifest: &BackupManifest,
) -> Result<Vec<String>, RewindError> {
    let held = super::in_place::held_in(db)
        .await?
        .into_iter()
        .find(|kept| kept.id == manifest.id);
    Ok(manifest
        .skipped
        .iter()
        .map(|skipped| {
            held.as_ref()
                .and_then(|kept| {
                    let i = kept
                        .stores
                        .iter()
                        .position(|s| s.schema.name == skipped.store)?;
                    Some(super::in_place::store_name(&kept.id, i))
                })
                .unwrap_or_else(|| skipped.store.clone())
        })
        .collect())
}

/// [`read_carried`] in a read-only transaction of its own over the stores that may hold
/// skipped records (held or live: [`carry_sources`]); `None` when none of them exists.
pub(crate) async fn read_live(
    db: &IdbDatabase,
    manifest: &BackupManifest,
) -> Result<Option<Vec<Option<Carried>>>, RewindError> {
    let live = store_names(db);
    let sources = carry_sources(db, manifest).await?;
    let mut scope: Vec<&String> = sources.iter().filter(|s| live.contains(s)).collect();
    scope.sort();
    scope.dedup();
    if scope.is_empty() {
        return Ok(None);
    }
    let stores: js_sys::Array = scope.into_iter().map(|s| JsValue::from_str(s)).collect();
    let tx = db
        .transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readonly)
        .map_err(thrown)?;
    let carried = read_carried(db, &tx, manifest, &sources).await?;
    await_transaction(&tx).await?;
    Ok(Some(carried))
}

/// For each of the manifest's skipped records, in order: whether a restore of that backup
/// into database `name`, as it is now, would keep it. Changes nothing.
pub async fn skipped_kept(name: &str, manifest: &BackupManifest) -> Result<Vec<bool>, RewindError> {
    if manifest.skipped.is_empty() {
        return Ok(Vec::new());
    }
    let db = match open_existing(name).await {
        Ok(db) => db,
        Err(IdbError::NoSuchDatabase(_)) => return Ok(vec![false; manifest.skipped.len()]),
        Err(e) => return Err(e.into()),
    };
    let outcome = async {
        Ok(match read_live(&db, manifest).await? {
            Some(carried) => carried.iter().map(Option::is_some).collect(),
            None => vec![false; manifest.skipped.len()],
        })
    }
    .await;
    db.close();
    outcome
}
