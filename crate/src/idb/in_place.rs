//! Backups held in place ([`BackupManifest::in_place`]): a restore's automatic backup is the
//! app's stores it replaces, renamed by its swap to reserved names instead of deleted, with the
//! backup's manifest under `backup:<id>` in `__rewind_meta`, both by that one upgrade, so that
//! a crash leaves both or neither. Nothing is copied until a file is asked for (export,
//! inspect, restore, the restore's diff): the stores are then backed up as a database's are
//! (`snapshot`, format 3). Deleting one drops its stores and its key by one upgrade. The
//! catalog lists it by a copy of its manifest (`reconcile`), so that listing backups never
//! waits for the app's database. One whose stores an app's own upgrade dropped is no backup any
//! more (`held_in`).

use super::backend::{parse_json, META_STORE};
use super::catalog;
use super::error::thrown;
use super::inspect::store_names;
use super::open::{open_existing, open_with_upgrade, BlockedPolicy, Upgrade};
use super::request::await_request;
use super::snapshot::{snapshot, Reading, SnapshotFile, SnapshotInfo};
use super::IdbError;
use crate::backup::BackupManifest;
use crate::rewind_error::RewindError;
use wasm_bindgen::{JsCast, JsValue};

/// Under Rewind's reserved prefix: no app store has such a name, and no status, validation or
/// backup counts one as the app's.
const STORE_PREFIX: &str = "__rewind_backup_";
const KEY_PREFIX: &str = "backup:";

/// The reserved name of store `index` (in its manifest's order) of backup `id`.
pub(crate) fn store_name(id: &str, index: usize) -> String {
    format!("{STORE_PREFIX}{id}_{index}")
}

fn key(id: &str) -> JsValue {
    JsValue::from_str(&format!("{KEY_PREFIX}{id}"))
}

/// Inside a restore's swap, before the staged stores take their names: renames each of the
/// app's stores (`app_stores`, every one the database has) to its name in backup `kept`.
/// The stores must be the ones `kept` lists: otherwise nothing is held and the swap fails.
pub(crate) fn hold_stores(
    up: &Upgrade,
    kept: &BackupManifest,
    app_stores: &[String],
) -> Result<(), RewindError> {
    let changed = |what: String| RewindError::RestoreMismatch { what };
    if app_stores.len() != kept.stores.len() {
        return Err(changed(format!(
            "the database's stores ({} of them, where the restore read {})",
            app_stores.len(),
            kept.stores.len()
        )));
    }
    for name in app_stores {
        let index = kept
            .stores
            .iter()
            .position(|s| &s.schema.name == name)
            .ok_or_else(|| changed(format!("store {name:?}, which the restore did not read")))?;
        let store = up.tx.object_store(name).map_err(thrown)?;
        js_sys::Reflect::set(
            &store,
            &"name".into(),
            &JsValue::from_str(&store_name(&kept.id, index)),
        )
        .map_err(thrown)?;
    }
    Ok(())
}

/// Inside a restore's swap: writes held backup `kept`'s manifest (`manifest_json`, its JSON
/// text) beside the metadata. Issued, not awaited: the swap awaits its requests together.
pub(crate) fn put_manifest(
    tx: &web_sys::IdbTransaction,
    kept: &BackupManifest,
    manifest_json: &JsValue,
) -> Result<(), IdbError> {
    tx.object_store(META_STORE)
        .map_err(thrown)?
        .put_with_key(manifest_json, &key(&kept.id))
        .map_err(thrown)?;
    Ok(())
}

/// The backups held in place in the open database `db`: those whose stores are all there. One
/// whose stores are gone (an app's own upgrade dropped them) is no backup any more: it is not
/// listed and cannot be restored; its manifest stays, unread.
pub(crate) async fn held_in(db: &web_sys::IdbDatabase) -> Result<Vec<BackupManifest>, RewindError> {
    let names = store_names(db);
    if !names.iter().any(|n| n == META_STORE) {
        return Ok(Vec::new());
    }
    let tx = db.transaction_with_str(META_STORE).map_err(thrown)?;
    let range = web_sys::IdbKeyRange::bound(
        &JsValue::from_str(KEY_PREFIX),
        &JsValue::from_str(&format!("{KEY_PREFIX}\u{ffff}")),
    )
    .map_err(thrown)?;
    let all: js_sys::Array = await_request(
        tx.object_store(META_STORE)
            .map_err(thrown)?
            .get_all_with_key(&range)
            .map_err(thrown)?,
    )
    .await?
    .unchecked_into();
    let all = all
        .iter()
        .map(|text| parse_json("a backup held in place", &text))
        .collect::<Result<Vec<BackupManifest>, _>>()
        .map_err(RewindError::Migration)?;
    Ok(all
        .into_iter()
        .filter(|kept| (0..kept.stores.len()).all(|i| names.contains(&store_name(&kept.id, i))))
        .collect())
}

/// Makes the catalog list exactly the backups `held` in database `name`: a copy of each
/// manifest (so that listing never opens the app's database, which an upgrade waiting for
/// other tabs keeps closed), none of one that is gone. The swap writes a held backup's
/// manifest into the database and the catalog's copy follows it; a page closed in between, a
/// deletion cut short or a database deleted by its app is mended here, at the next read.
/// Best effort: a catalog that cannot be written now is mended at a later read.
pub(crate) async fn reconcile(name: &str, held: &[BackupManifest]) {
    let Ok(listed) = catalog::list_entries(name).await else {
        return;
    };
    for kept in held {
        if !listed.iter().any(|e| e.manifest.id == kept.id) {
            let _ = catalog::save_held(kept).await;
        }
    }
    for gone in listed
        .iter()
        .filter(|e| e.manifest.in_place && !held.iter().any(|k| k.id == e.manifest.id))
    {
        let _ = catalog::delete(name, &gone.manifest.id).await;
    }
}

/// The backup held in place in database `name` with this id, if there is one, and the
/// database's IndexedDB version (none when it does not exist: it is not created). Waits while
/// an upgrade of it waits for other tabs: listing backups reads the catalog's copies of these
/// manifests instead (`reconcile`).
async fn find(name: &str, id: &str) -> Result<Option<(BackupManifest, u64)>, RewindError> {
    let db = match open_existing(name).await {
        Ok(db) => db,
        Err(IdbError::NoSuchDatabase(_)) => return Ok(None),
        Err(other) => return Err(RewindError::Migration(other.into())),
    };
    let version = db.version() as u64;
    let held = held_in(&db).await;
    db.close();
    Ok(held?
        .into_iter()
        .find(|m| m.id == id)
        .map(|kept| (kept, version)))
}

/// The manifest of backup `id` if database `name` holds it in place.
pub(crate) async fn held(name: &str, id: &str) -> Result<Option<BackupManifest>, RewindError> {
    Ok(find(name, id).await?.map(|(kept, _)| kept))
}

/// Backup `id` held in place in database `name` made into a file (format 3): the backup as
/// it would have been taken before the restore. Records no file can carry are left out and
/// listed (their restore keeps the live ones), never a reason to refuse: the data is there.
pub(crate) async fn file(name: &str, id: &str) -> Result<Option<SnapshotFile>, RewindError> {
    let Some((kept, _)) = find(name, id).await? else {
        return Ok(None);
    };
    let info = SnapshotInfo {
        id: kept.id.clone(),
        label: kept.label.clone(),
        automatic: kept.automatic,
        created_at: kept.created_at,
        skip_unsupported: true,
        compress: false,
    };
    Ok(Some(
        snapshot(name, info, Reading::HeldInPlace(&kept), None).await?,
    ))
}

/// Deletes backup `id` held in place in database `name` (its stores and its manifest, by one
/// upgrade); false when there is none. Called under the database's operation lock.
pub(crate) async fn delete(
    name: &str,
    id: &str,
    blocked: BlockedPolicy,
) -> Result<bool, RewindError> {
    let Some((kept, version)) = find(name, id).await? else {
        return Ok(false);
    };
    let stores: Vec<String> = (0..kept.stores.len())
        .map(|i| store_name(&kept.id, i))
        .collect();
    let id = kept.id;
    let db = open_with_upgrade(
        name,
        version + 1,
        move |up| async move {
            let present = store_names(&up.db);
            for store in stores.iter().filter(|s| present.contains(s)) {
                up.db.delete_object_store(store).map_err(thrown)?;
            }
            up.tx
                .object_store(META_STORE)
                .map_err(thrown)?
                .delete(&key(&id))
                .map_err(thrown)?;
            Ok::<(), IdbError>(())
        },
        blocked,
    )
    .await?;
    db.close();
    Ok(true)
}
