//! The backup catalog: one IndexedDB database per app database (`__rewind_backups:<name>`),
//! so deleting the app database never touches the backups kept here (a restore's automatic
//! backup is held in the app database itself: `in_place.rs`). A backup's manifest and its file
//! are written in one transaction: a backup is listed completely or not at all.

use super::open::{open_with_upgrade, BlockedPolicy};
use super::request::{await_request, await_transaction, RequestEvents};
use super::storage::bytes_to_blob;
use super::IdbError;
use crate::backup::BackupManifest;
use crate::backup_policy::newest_first;
use crate::rewind_error::RewindError;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbTransactionMode};

const MANIFESTS: &str = "manifests";
const FILES: &str = "files";
/// The MIME type of backup files.
pub const BACKUP_MIME: &str = "application/vnd.rewind.backup";

/// Names of catalog databases start with this; the page does not list them as app databases.
pub const CATALOG_PREFIX: &str = "__rewind_backups:";

pub fn catalog_name(database: &str) -> String {
    format!("{CATALOG_PREFIX}{database}")
}

fn storage_error(e: IdbError, needed: u64) -> RewindError {
    match e {
        IdbError::QuotaExceeded(detail) => RewindError::QuotaExceeded { needed, detail },
        IdbError::TooLarge { bytes } => RewindError::FileTooLarge { bytes },
        other => RewindError::Migration(other.into()),
    }
}

async fn open(database: &str) -> Result<IdbDatabase, IdbError> {
    open_with_upgrade(
        &catalog_name(database),
        1,
        |up| async move {
            up.db.create_object_store(MANIFESTS)?;
            up.db.create_object_store(FILES)?;
            Ok::<(), IdbError>(())
        },
        BlockedPolicy::default(),
    )
    .await
}

async fn with_catalog<T>(
    database: &str,
    f: impl AsyncFnOnce(&IdbDatabase) -> Result<T, IdbError>,
) -> Result<T, IdbError> {
    let db = open(database).await?;
    let outcome = f(&db).await;
    db.close();
    outcome
}

/// Whether the catalog of `database` exists: reading never creates it (which takes room the
/// origin may not have). Where the browser cannot list databases, it is opened as before.
async fn catalog_exists(database: &str) -> bool {
    let name = catalog_name(database);
    match super::inspect::list_databases().await {
        Ok(all) => all.iter().any(|d| d.name == name),
        Err(_) => true,
    }
}

fn both() -> js_sys::Array {
    js_sys::Array::of2(&MANIFESTS.into(), &FILES.into())
}

thread_local! {
    static BLOBS_STORABLE: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Whether this browser session stores Blobs in IndexedDB. WebKit's ephemeral sessions
/// (Safari's Private Browsing, a WebDriver session of MiniBrowser) refuse them ("Error
/// preparing Blob/File data to be stored"), and when such a put shares its transaction with
/// another request, WebKit never ends that transaction. Found out once per page with a lone
/// put of a one-byte Blob in a transaction that is then aborted: nothing is written.
async fn blobs_storable(db: &IdbDatabase) -> bool {
    if let Some(known) = BLOBS_STORABLE.with(|b| b.get()) {
        return known;
    }
    let probe = async {
        let tx = db.transaction_with_str_and_mode(FILES, IdbTransactionMode::Readwrite)?;
        let blob = bytes_to_blob(&[0], BACKUP_MIME)?;
        let put = tx
            .object_store(FILES)?
            .put_with_key(&blob, &"__rewind_probe".into())?;
        let outcome = RequestEvents::new(put).next().await;
        // Already aborted (the refused put aborts it) is fine.
        let _ = tx.abort();
        outcome.map(|_| ())
    };
    let storable = probe.await.is_ok();
    BLOBS_STORABLE.with(|b| b.set(Some(storable)));
    storable
}

/// Marks the entry of a sealed backup beside its manifest (whose own fields are the file's).
const SEALED: &str = "sealed";

/// Keeps a backup: its manifest and its file, together or not at all. The file is kept as the
/// Blob it was made as (in the browser's own storage, never in the JS heap), or as an
/// ArrayBuffer where the session cannot store Blobs (read whole then). A `sealed` file (format
/// 5) is marked so in its entry: listing says so without reading it.
pub async fn save(
    manifest: &BackupManifest,
    file: &web_sys::Blob,
    sealed: bool,
) -> Result<(), RewindError> {
    let needed = manifest.bytes;
    let storage = |e: serde_json::Error| {
        RewindError::Migration(crate::MigrationError::Storage(e.to_string()))
    };
    let mut entry = serde_json::to_value(manifest).map_err(storage)?;
    if let (true, Some(fields)) = (sealed, entry.as_object_mut()) {
        fields.insert(SEALED.into(), true.into());
    }
    let json = serde_json::to_string(&entry).map_err(storage)?;
    // No room by the browser's own estimate: refused before anything is written. (A write
    // that fails for lack of room is undone, but Firefox keeps the room it took until much
    // later, and the site stays full meanwhile: even listing its databases fails.)
    if let Some(e) = super::storage::estimate().await {
        if e.quota > 0 && e.usage.saturating_add(needed) > e.quota {
            return Err(RewindError::QuotaExceeded {
                needed: e.usage + needed - e.quota,
                detail: format!("{} bytes used of {} this site may use", e.usage, e.quota),
            });
        }
    }
    with_catalog(&manifest.database, async |db| {
        let file: JsValue = if blobs_storable(db).await {
            file.clone().into()
        } else {
            wasm_bindgen_futures::JsFuture::from(file.array_buffer())
                .await
                .map_err(|e| IdbError::from_js(&e))?
        };
        let tx =
            db.transaction_with_str_sequence_and_mode(&both(), IdbTransactionMode::Readwrite)?;
        let id = JsValue::from_str(&manifest.id);
        tx.object_store(MANIFESTS)?
            .put_with_key(&JsValue::from_str(&json), &id)?;
        tx.object_store(FILES)?.put_with_key(&file, &id)?;
        await_transaction(&tx).await
    })
    .await
    .map_err(|e| storage_error(e, needed))
}

/// Every backup of `database`, newest first.
pub async fn list(database: &str) -> Result<Vec<BackupManifest>, RewindError> {
    Ok(list_entries(database)
        .await?
        .into_iter()
        .map(|e| e.manifest)
        .collect())
}

/// Lists a backup held in place in the app's database (`in_place.rs`): its manifest alone, no
/// file (one is made from the database when asked for).
pub async fn save_held(manifest: &BackupManifest) -> Result<(), RewindError> {
    let json = serde_json::to_string(manifest)
        .map_err(|e| RewindError::Migration(crate::MigrationError::Storage(e.to_string())))?;
    with_catalog(&manifest.database, async |db| {
        let tx = db.transaction_with_str_and_mode(MANIFESTS, IdbTransactionMode::Readwrite)?;
        tx.object_store(MANIFESTS)?
            .put_with_key(&JsValue::from_str(&json), &JsValue::from_str(&manifest.id))?;
        await_transaction(&tx).await
    })
    .await
    .map_err(|e| storage_error(e, 0))
}

/// One backup listed: its manifest and whether its file is sealed.
pub struct CatalogEntry {
    pub manifest: BackupManifest,
    pub sealed: bool,
}

/// Every backup of `database` with whether it is sealed, newest first.
pub async fn list_entries(database: &str) -> Result<Vec<CatalogEntry>, RewindError> {
    if !catalog_exists(database).await {
        return Ok(Vec::new());
    }
    let texts = with_catalog(database, async |db| {
        let tx = db.transaction_with_str(MANIFESTS)?;
        let all = await_request(tx.object_store(MANIFESTS)?.get_all()?).await?;
        Ok(all
            .unchecked_into::<js_sys::Array>()
            .iter()
            .filter_map(|v| v.as_string())
            .collect::<Vec<_>>())
    })
    .await
    .map_err(|e| storage_error(e, 0))?;
    // A manifest that no longer parses (written by a newer Rewind) is left out, not fatal.
    let mut manifests: Vec<BackupManifest> = Vec::new();
    let mut sealed = std::collections::HashSet::new();
    for text in &texts {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(text) else {
            continue;
        };
        let is_sealed = entry.get(SEALED) == Some(&serde_json::Value::Bool(true));
        if let Ok(manifest) = serde_json::from_value::<BackupManifest>(entry) {
            if is_sealed {
                sealed.insert(manifest.id.clone());
            }
            manifests.push(manifest);
        }
    }
    newest_first(&mut manifests);
    Ok(manifests
        .into_iter()
        .map(|manifest| CatalogEntry {
            sealed: sealed.contains(&manifest.id),
            manifest,
        })
        .collect())
}

/// The file of one backup.
pub async fn file(database: &str, id: &str) -> Result<web_sys::Blob, RewindError> {
    if !catalog_exists(database).await {
        return Err(RewindError::NoSuchBackup { id: id.to_string() });
    }
    let value = with_catalog(database, async |db| {
        let tx = db.transaction_with_str(FILES)?;
        await_request(tx.object_store(FILES)?.get(&JsValue::from_str(id))?).await
    })
    .await
    .map_err(|e| storage_error(e, 0))?;
    if let Some(buffer) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        // Kept as bytes by a session that cannot store Blobs.
        return super::clone::blob_of_buffer(buffer, BACKUP_MIME)
            .map(JsCast::unchecked_into)
            .map_err(|e| storage_error(IdbError::from_js(&e), 0));
    }
    if !super::clone::is_blob(&value) {
        return Err(RewindError::NoSuchBackup { id: id.to_string() });
    }
    Ok(value.unchecked_into())
}

/// Deletes one backup (manifest and file together).
pub async fn delete(database: &str, id: &str) -> Result<(), RewindError> {
    // The folder's record is no backup (and not deleted as one).
    if !catalog_exists(database).await || id == FOLDER_KEY {
        return Err(RewindError::NoSuchBackup { id: id.to_string() });
    }
    let existed = with_catalog(database, async |db| {
        let tx =
            db.transaction_with_str_sequence_and_mode(&both(), IdbTransactionMode::Readwrite)?;
        let key = JsValue::from_str(id);
        let found = await_request(tx.object_store(MANIFESTS)?.count_with_key(&key)?).await?;
        tx.object_store(MANIFESTS)?.delete(&key)?;
        tx.object_store(FILES)?.delete(&key)?;
        await_transaction(&tx).await?;
        Ok(found.as_f64().unwrap_or(0.0) > 0.0)
    })
    .await
    .map_err(|e| storage_error(e, 0))?;
    if existed {
        Ok(())
    } else {
        Err(RewindError::NoSuchBackup { id: id.to_string() })
    }
}

// The backup folder's record (`folder.rs`): the folder's handle (IndexedDB keeps a
// `FileSystemDirectoryHandle` by structured clone) and its settings as JSON, under a reserved
// key of the manifests store. `list` reads only string values, so this record is never a
// backup, to this Rewind or an older one; and the catalog stays at version 1 (a new store
// would need version 2, which an older Rewind could then no longer open).
const FOLDER_KEY: &str = "__rewind_folder";

/// The folder `database` writes backups to: its handle and its settings' JSON.
pub async fn folder_record(database: &str) -> Result<Option<(JsValue, String)>, RewindError> {
    if !catalog_exists(database).await {
        return Ok(None);
    }
    let value = with_catalog(database, async |db| {
        let tx = db.transaction_with_str(MANIFESTS)?;
        await_request(tx.object_store(MANIFESTS)?.get(&FOLDER_KEY.into())?).await
    })
    .await
    .map_err(|e| storage_error(e, 0))?;
    if !value.is_object() {
        return Ok(None);
    }
    let handle = js_sys::Reflect::get(&value, &"handle".into()).unwrap_or(JsValue::UNDEFINED);
    let settings = js_sys::Reflect::get(&value, &"settings".into())
        .ok()
        .and_then(|s| s.as_string());
    Ok(settings.map(|settings| (handle, settings)))
}

/// Keeps `handle` and `settings` as the folder of `database` (replacing any other).
pub async fn save_folder_record(
    database: &str,
    handle: &JsValue,
    settings: &str,
) -> Result<(), RewindError> {
    let record = js_sys::Object::new();
    let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&record, &key.into(), value);
    set("handle", handle)
        .and_then(|_| set("settings", &settings.into()))
        .map_err(|e| storage_error(IdbError::from_js(&e), 0))?;
    with_catalog(database, async |db| {
        let tx = db.transaction_with_str_and_mode(MANIFESTS, IdbTransactionMode::Readwrite)?;
        tx.object_store(MANIFESTS)?
            .put_with_key(&record, &FOLDER_KEY.into())?;
        await_transaction(&tx).await
    })
    .await
    .map_err(|e| storage_error(e, 0))
}

/// Forgets the folder of `database` (its files stay where they are).
pub async fn delete_folder_record(database: &str) -> Result<(), RewindError> {
    if !catalog_exists(database).await {
        return Ok(());
    }
    with_catalog(database, async |db| {
        let tx = db.transaction_with_str_and_mode(MANIFESTS, IdbTransactionMode::Readwrite)?;
        tx.object_store(MANIFESTS)?.delete(&FOLDER_KEY.into())?;
        await_transaction(&tx).await
    })
    .await
    .map_err(|e| storage_error(e, 0))
}
