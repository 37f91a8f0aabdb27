//! Staging stores: where a restore writes the backup's records, under reserved names, before
//! one short `versionchange` swaps them in for the app's stores. Until that swap the app's
//! stores are untouched; a restore interrupted before it (a closed tab, a crash) leaves only
//! staging stores behind, which the next change to the database removes and journals.

use super::backend::{ensure_meta_stores, JOURNAL_STORE};
use super::error::thrown;
use super::inspect::store_names;
use super::open::Upgrade;
use super::request::RequestEvents;
use super::IdbError;
use wasm_bindgen::JsValue;

/// Under Rewind's reserved prefix, so that no app store can have such a name and no status,
/// validation or backup counts a staging store as the app's.
const STAGING_PREFIX: &str = "__rewind_staging_";

/// The staging store of the backup's `index`-th store.
pub(crate) fn staging_name(index: usize) -> String {
    format!("{STAGING_PREFIX}{index}")
}

/// The staging stores present in the database.
pub(crate) fn staging_stores(db: &web_sys::IdbDatabase) -> Vec<String> {
    store_names(db)
        .into_iter()
        .filter(|n| n.starts_with(STAGING_PREFIX))
        .collect()
}

/// Deletes every staging store, inside an upgrade. Returns how many there were.
pub(crate) fn remove_staging(up: &Upgrade) -> Result<usize, IdbError> {
    let leftovers = staging_stores(&up.db);
    for name in &leftovers {
        up.db.delete_object_store(name).map_err(thrown)?;
    }
    Ok(leftovers.len())
}

/// Deletes the staging stores an interrupted restore left behind, inside an upgrade, and
/// journals `entry` (JSON text) when there were any. Returns the request writing it (issued,
/// to be awaited with the upgrade's other requests), if one was.
pub(crate) fn remove_leftovers(
    up: &Upgrade,
    entry: &JsValue,
) -> Result<Option<RequestEvents>, IdbError> {
    if remove_staging(up)? == 0 {
        return Ok(None);
    }
    ensure_meta_stores(&up.db)?;
    let journal = up.tx.object_store(JOURNAL_STORE).map_err(thrown)?;
    Ok(Some(RequestEvents::new(
        journal.add(entry).map_err(thrown)?,
    )))
}
