//! The backup folder: backups written to a folder a person chose (the File System Access
//! API), beside the catalog. What to write, when, and what to prune is the core's
//! (`folder_policy.rs`); here it is carried out (`folder.js` makes the browser's calls).
//! A write to the folder never fails the operation that asked for it: its outcome is reported
//! ([`FolderWrite`]) and kept as the folder's `lastError`.

use super::catalog;
use crate::backup::BackupManifest;
use crate::folder_policy::{FolderEntry, FolderManifest, FolderReason, FolderSettings};
use crate::rewind_error::RewindError;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/idb/folder.js")]
extern "C" {
    #[wasm_bindgen(js_name = folderSupport)]
    fn folder_support() -> JsValue;
    #[wasm_bindgen(js_name = isDirectoryHandle)]
    fn is_directory_handle_js(value: &JsValue) -> bool;
    #[wasm_bindgen(js_name = handleName)]
    fn handle_name(handle: &JsValue) -> String;
    #[wasm_bindgen(js_name = folderPermission, catch)]
    async fn folder_permission(handle: &JsValue, request: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = readText, catch)]
    async fn read_text(handle: &JsValue, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = writeBackup, catch)]
    async fn write_backup_files(
        handle: &JsValue,
        name: &str,
        blob: &web_sys::Blob,
        manifest_name: &str,
        manifest_text: &str,
        expired: Vec<String>,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = readFile, catch)]
    async fn read_file(handle: &JsValue, name: &str) -> Result<JsValue, JsValue>;
}

/// Whether `value` is a directory handle Rewind can write to.
pub fn is_directory_handle(value: &JsValue) -> bool {
    is_directory_handle_js(value)
}

/// Where the folder stands, as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FolderState {
    /// Writable now: the browser says so at this moment (never remembered).
    Ok,
    /// Chosen, but the browser wants a person to allow writing again.
    NeedsPermission,
    /// This browser cannot write files to a folder.
    Unsupported,
    /// No folder chosen.
    NotChosen,
}

/// The folder's state with its settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderStatus {
    pub state: FolderState,
    /// Whether this browser has a folder picker (`showDirectoryPicker`): the page can offer
    /// "Choose folder…" only then.
    pub picker: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_written: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// What happened to one backup's copy in the folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderWrite {
    pub written: bool,
    /// The file's name in the folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FolderWrite {
    /// A copy that was not written, and why.
    pub fn failed(error: String) -> FolderWrite {
        FolderWrite {
            written: false,
            name: None,
            error: Some(error),
        }
    }
}

/// Where an operation leaves the outcome of its backup's folder write.
pub type FolderWriteSlot = Rc<RefCell<Option<FolderWrite>>>;

struct Support {
    handles: bool,
    picker: bool,
    writable: bool,
}

fn support() -> Support {
    let s = folder_support();
    let flag = |key: &str| {
        js_sys::Reflect::get(&s, &key.into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    Support {
        handles: flag("handles"),
        picker: flag("picker"),
        writable: flag("writable"),
    }
}

fn thrown(e: &JsValue) -> String {
    super::error::describe(e)
}

fn unavailable(folder: &str, e: &JsValue) -> RewindError {
    RewindError::FolderUnavailable {
        folder: folder.to_string(),
        detail: format!(
            "{}. Nothing was changed; check that the folder still exists and that the disk has \
             room, or choose another folder",
            thrown(e)
        ),
    }
}

/// The folder's record: its handle and settings.
struct Chosen {
    handle: JsValue,
    settings: FolderSettings,
}

async fn chosen(database: &str) -> Result<Option<Chosen>, RewindError> {
    let Some((handle, json)) = catalog::folder_record(database).await? else {
        return Ok(None);
    };
    // Settings a newer Rewind wrote in a shape this one cannot read: no folder, as far as
    // this one knows (it is not overwritten until a person chooses one here).
    Ok(serde_json::from_str(&json)
        .ok()
        .map(|settings| Chosen { handle, settings }))
}

async fn keep_record(database: &str, chosen: &Chosen) -> Result<(), RewindError> {
    let json =
        serde_json::to_string(&chosen.settings).map_err(|e| RewindError::Storage(e.to_string()))?;
    catalog::save_folder_record(database, &chosen.handle, &json).await
}

/// The browser's word on writing to `handle` now ("granted", "denied", "prompt").
async fn permission(handle: &JsValue, request: bool) -> String {
    match folder_permission(handle, request).await {
        Ok(state) => state.as_string().unwrap_or_default(),
        // A handle the browser no longer accepts (its folder gone): not writable.
        Err(_) => "denied".into(),
    }
}

async fn read_manifest(handle: &JsValue, folder: &str) -> Result<FolderManifest, RewindError> {
    let text = read_text(handle, crate::folder_policy::FOLDER_MANIFEST)
        .await
        .map_err(|e| unavailable(folder, &e))?;
    FolderManifest::parse(text.as_string().as_deref()).map_err(|e| RewindError::FolderUnavailable {
        folder: folder.to_string(),
        detail: e.to_string(),
    })
}

/// Keeps `handle` as the folder `database`'s backups are written to, after the browser grants
/// writing (asked for when it is not granted yet: call it from a person's gesture). Refused
/// with `FolderPermissionDenied` (nothing kept) when it is not, and with `FolderUnavailable`
/// when the folder's manifest cannot be read. Nothing is written to the folder yet.
pub async fn set_folder(
    database: &str,
    handle: JsValue,
    every_ms: Option<u64>,
    keep: u32,
) -> Result<FolderStatus, RewindError> {
    let name = handle_name(&handle);
    if !support().writable {
        return Err(RewindError::FolderUnavailable {
            folder: name,
            detail: "this browser cannot write files to a folder (no createWritable). Nothing \
                     was changed; download backups instead"
                .into(),
        });
    }
    if permission(&handle, true).await != "granted" {
        return Err(RewindError::FolderPermissionDenied { folder: name });
    }
    // A folder whose manifest this Rewind may not rewrite is refused now, not at its first
    // write.
    read_manifest(&handle, &name).await?;
    let settings = FolderSettings::new(name, every_ms, keep);
    keep_record(database, &Chosen { handle, settings }).await?;
    folder_status(database).await
}

/// Where the folder of `database` stands now: `ok` only when the browser grants writing at
/// this moment.
pub async fn folder_status(database: &str) -> Result<FolderStatus, RewindError> {
    let s = support();
    let mut status = FolderStatus {
        state: FolderState::NotChosen,
        picker: s.picker,
        name: None,
        every: None,
        keep: None,
        last_written: None,
        last_error: None,
    };
    if !s.handles || !s.writable {
        status.state = FolderState::Unsupported;
        return Ok(status);
    }
    let Some(chosen) = chosen(database).await? else {
        return Ok(status);
    };
    status.state = match permission(&chosen.handle, false).await.as_str() {
        "granted" => FolderState::Ok,
        _ => FolderState::NeedsPermission,
    };
    let settings = chosen.settings;
    status.name = Some(settings.name);
    status.every = settings.every_ms.map(crate::folder_policy::format_every);
    status.keep = Some(settings.keep);
    status.last_written = settings.last_written;
    status.last_error = settings.last_error;
    Ok(status)
}

/// Asks the browser again to let the page write to the folder (the page's "Grant access":
/// a person's gesture); the folder's state afterwards.
pub async fn request_permission(database: &str) -> Result<FolderStatus, RewindError> {
    let chosen = chosen(database).await?.ok_or(RewindError::NoFolder)?;
    permission(&chosen.handle, true).await;
    folder_status(database).await
}

/// Stops writing to the folder (its files stay).
pub async fn forget_folder(database: &str) -> Result<(), RewindError> {
    catalog::delete_folder_record(database).await
}

/// The chosen folder, writable now.
async fn writable(database: &str) -> Result<Chosen, RewindError> {
    let chosen = chosen(database).await?.ok_or(RewindError::NoFolder)?;
    if permission(&chosen.handle, false).await != "granted" {
        return Err(RewindError::FolderPermissionDenied {
            folder: chosen.settings.name,
        });
    }
    Ok(chosen)
}

/// The backups of `database` the folder's manifest lists, newest first.
pub async fn folder_backups(database: &str) -> Result<Vec<FolderEntry>, RewindError> {
    let chosen = writable(database).await?;
    Ok(read_manifest(&chosen.handle, &chosen.settings.name)
        .await?
        .of_database(database))
}

/// One backup the folder's manifest lists, as a File (to inspect, diff or restore).
pub async fn folder_file(database: &str, name: &str) -> Result<web_sys::File, RewindError> {
    let chosen = writable(database).await?;
    let folder = &chosen.settings.name;
    let listed = read_manifest(&chosen.handle, folder)
        .await?
        .of_database(database)
        .into_iter()
        .any(|e| e.name == name);
    let missing = || RewindError::NoSuchBackup {
        id: name.to_string(),
    };
    if !listed {
        return Err(missing());
    }
    let file = read_file(&chosen.handle, name)
        .await
        .map_err(|e| unavailable(folder, &e))?;
    file.dyn_into::<web_sys::File>().map_err(|_| missing())
}

/// Writes `blob` (the backup `manifest` describes) to the folder of `database`, if it has one:
/// the file first, then the manifest that lists it, then retention. `None` without a folder.
/// Never fails: a failure is the outcome's `error`, and the folder's `lastError`.
pub async fn write_backup(
    database: &str,
    manifest: &BackupManifest,
    blob: &web_sys::Blob,
    reason: FolderReason,
) -> Option<FolderWrite> {
    let mut chosen = match chosen(database).await {
        Ok(Some(chosen)) => chosen,
        Ok(None) => return None,
        Err(e) => return Some(FolderWrite::failed(e.to_string())),
    };
    let outcome = write_into(&chosen, database, manifest, blob, reason).await;
    let now = js_sys::Date::now();
    let write = match outcome {
        Ok(name) => {
            chosen.settings.last_written = Some(now);
            chosen.settings.last_error = None;
            chosen.settings.last_failed_attempt = None;
            FolderWrite {
                written: true,
                name: Some(name),
                error: None,
            }
        }
        Err(e) => {
            let message = e.to_string();
            chosen.settings.last_error = Some(message.clone());
            chosen.settings.last_failed_attempt = Some(now);
            FolderWrite::failed(message)
        }
    };
    // Best effort: the write's outcome is reported either way.
    let _ = keep_record(database, &chosen).await;
    Some(write)
}

async fn write_into(
    chosen: &Chosen,
    database: &str,
    manifest: &BackupManifest,
    blob: &web_sys::Blob,
    reason: FolderReason,
) -> Result<String, RewindError> {
    let handle = &chosen.handle;
    let folder = &chosen.settings.name;
    if permission(handle, false).await != "granted" {
        return Err(RewindError::FolderPermissionDenied {
            folder: folder.clone(),
        });
    }
    let _one_writer = super::lock::lock_folders()
        .await
        .map_err(|e| unavailable(folder, &JsValue::from_str(&e.to_string())))?;
    let mut listed = read_manifest(handle, folder).await?;
    let name = listed.free_name(manifest);
    listed.add(FolderEntry::of(manifest, name.clone(), reason));
    let expired = listed.expired(database, chosen.settings.keep);
    listed.remove(&expired);
    // The file, then the manifest that lists it (a file is listed only once it is whole), then
    // the expired files (unlisted before they are removed, so a listed file is always there).
    write_backup_files(
        handle,
        &name,
        blob,
        crate::folder_policy::FOLDER_MANIFEST,
        &listed.to_json(),
        expired,
    )
    .await
    .map_err(|e| unavailable(folder, &e))?;
    Ok(name)
}

/// Whether the schedule of `database`'s folder is due at `now` (a folder is set, writable
/// now, and `every` has passed since its last write), and how long to wait before the next
/// check. A folder that needs permission is not due: its state says so, and a backup taken
/// for nothing would only cost time.
pub async fn schedule(database: &str, now: f64) -> (bool, u64) {
    match chosen(database).await {
        Ok(Some(chosen)) => {
            let wait = chosen.settings.check_interval_ms();
            let due = chosen.settings.schedule_due(now)
                && permission(&chosen.handle, false).await == "granted";
            (due, wait)
        }
        _ => (false, 60_000),
    }
}
