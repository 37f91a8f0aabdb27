//! The page's side effects: read what the page shows and run the commands a person confirmed,
//! reporting back only through [`Action`]s. Nothing here decides anything.

use crate::config_load;
use crate::labels;
use crate::messages;
use crate::state::{
    Action, ChangesSource, Command, FolderAccess, FolderRequest, FolderShown, Health, Interrupted,
    PendingDownload, PersistAnswer, Secret, StorageUse,
};
use rewind::backup::{BackupManifest, Passphrase};
use rewind::{
    Baseline, CancelFlag, OperationOptions, Progress, RestoreConsent, RestoreSource, Rewind,
    RewindError, UnsupportedRecords,
};
use std::rc::Rc;

pub type Dispatch = Rc<dyn Fn(Action)>;

fn rewind_for(name: &str, dispatch: &Dispatch) -> Result<Rewind, String> {
    let migrator = config_load::migrator(name)?;
    let mut rewind = Rewind::new(name, migrator);
    let d = dispatch.clone();
    rewind.on_blocked = Some(Rc::new(move || d(Action::Blocked)));
    Ok(rewind)
}

/// Reads the page's configuration (`rewind.json` and what it names) unless an app that embeds
/// the page gave its databases.
pub async fn load_config(given: Option<config_load::Databases>, dispatch: Dispatch) {
    let loaded = match given {
        Some(databases) => Ok(databases),
        None => config_load::load().await,
    };
    match loaded {
        Ok(databases) => {
            config_load::use_databases(&databases);
            dispatch(Action::ConfigLoaded(databases.listed()));
        }
        Err(e) => dispatch(Action::ConfigFailed(e.to_string())),
    }
}

pub async fn load_databases(dispatch: Dispatch) {
    dispatch(Action::DatabasesLoading);
    if crate::DEMO_BUILD {
        if let Err(err) = crate::demo::ensure_demo_database().await {
            dispatch(Action::DatabasesFailed(format!(
                "The demo database could not be created: {err}"
            )));
            return;
        }
    }
    match rewind::list_app_databases().await {
        Ok(list) => dispatch(Action::DatabasesLoaded(list)),
        Err(err) => dispatch(Action::DatabasesFailed(err.to_string())),
    }
}

/// Reads the summary, and for a managed database its health and backups.
pub async fn load_details(name: String, dispatch: Dispatch) {
    match rewind::summarize(&name).await {
        Ok(summary) => dispatch(Action::SummaryLoaded(summary)),
        Err(err) => dispatch(Action::SummaryFailed {
            name: name.clone(),
            message: err.to_string(),
        }),
    }
    // Only a database of the page's configuration has health and backups to read.
    let Ok(rewind) = rewind_for(&name, &dispatch) else {
        return;
    };
    let health = async {
        let status = rewind.status().await.map_err(|e| e.to_string())?;
        let validation = rewind.validate().await.map_err(|e| e.to_string());
        let storage = rewind::storage_estimate().await.map(|e| StorageUse {
            usage: e.usage,
            quota: e.quota,
            persisted: e.persisted,
        });
        Ok(Health {
            status,
            validation,
            storage,
        })
    }
    .await;
    dispatch(Action::HealthLoaded {
        name: name.clone(),
        health,
    });
    let backups = match rewind.list_catalog().await {
        Ok(entries) => {
            let ids = entries.iter().filter(|e| e.sealed);
            let ids = ids.map(|e| e.manifest.id.clone()).collect();
            dispatch(Action::SealedListed {
                name: name.clone(),
                ids,
            });
            Ok(entries.into_iter().map(|e| e.manifest).collect())
        }
        Err(e) => Err(e.to_string()),
    };
    dispatch(Action::BackupsLoaded {
        name: name.clone(),
        backups,
    });
    let folder = read_folder(&rewind).await;
    dispatch(Action::FolderLoaded { name, folder });
}

// The backup folder.

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/folder.js")]
extern "C" {
    #[wasm_bindgen(js_name = pickFolder, catch)]
    async fn pick_folder() -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>;
}

/// How often the app's schedule writes to a folder chosen on this page, and how many of those
/// backups it keeps (an app that sets its own folder chooses its own).
const PAGE_FOLDER_EVERY: &str = "24h";

/// The folder as the library says it now, with its backups when it is writable.
async fn read_folder(rewind: &Rewind) -> Result<FolderShown, String> {
    let status = rewind.backup_folder().await.map_err(|e| e.to_string())?;
    let access = match status.state {
        rewind::FolderState::Ok => FolderAccess::Ok,
        rewind::FolderState::NeedsPermission => FolderAccess::NeedsPermission,
        rewind::FolderState::Unsupported => FolderAccess::Unsupported,
        _ => FolderAccess::NotChosen,
    };
    let mut last_error = status.last_error;
    let backups = match access {
        FolderAccess::Ok => rewind.folder_backups().await.unwrap_or_else(|e| {
            last_error = Some(e.to_string());
            Vec::new()
        }),
        _ => Vec::new(),
    };
    Ok(FolderShown {
        access,
        picker: status.picker,
        name: status.name,
        last_written: status.last_written,
        last_error,
        backups,
    })
}

/// Carries out what the person asked of the folder (from their click: choosing and granting
/// need it), then reads the folder again.
pub async fn folder_request(name: String, request: FolderRequest, dispatch: Dispatch) {
    let outcome = async {
        let rewind = rewind_for(&name, &dispatch)?;
        match request {
            FolderRequest::Choose => {
                let handle = pick_folder().await.map_err(|e| {
                    format!(
                        "The folder could not be chosen: {}",
                        rewind::describe_thrown(&e)
                    )
                })?;
                // Closed without choosing: nothing changes.
                if !handle.is_null() && !handle.is_undefined() {
                    let every =
                        rewind::parse_every(PAGE_FOLDER_EVERY).map_err(|e| e.to_string())?;
                    rewind
                        .set_backup_folder(handle, Some(every), rewind::DEFAULT_FOLDER_KEEP)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            FolderRequest::Grant => {
                rewind
                    .request_folder_permission()
                    .await
                    .map_err(|e| e.to_string())?;
            }
            FolderRequest::Forget => {
                rewind
                    .forget_backup_folder()
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        read_folder(&rewind).await
    }
    .await;
    dispatch(Action::FolderAnswered {
        name,
        folder: outcome,
    });
}

/// A backup of the folder as a File, for the restore from a file.
pub async fn folder_file(
    name: &str,
    file: &str,
    dispatch: &Dispatch,
) -> Result<web_sys::File, String> {
    let rewind = rewind_for(name, dispatch)?;
    rewind
        .folder_backup_file(file)
        .await
        .map_err(|e| format!("The backup could not be read from the folder: {e}"))
}

pub async fn load_plan(name: String, target: u32, dispatch: Dispatch) {
    let result = match rewind_for(&name, &dispatch) {
        Ok(rewind) => rewind.plan(target).await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    dispatch(Action::PlanLoaded(result));
}

/// The rollback to `target` with the steps the database keeps: a dry run.
pub async fn load_stored_plan(name: String, target: u32, dispatch: Dispatch) {
    let result = match rewind_for(&name, &dispatch) {
        Ok(rewind) => rewind
            .plan_from_stored(target)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    dispatch(Action::PlanLoaded(result));
}

/// Whether restoring `manifest` now keeps each record it left out.
pub async fn load_kept(name: String, manifest: BackupManifest, dispatch: Dispatch) {
    let kept = match rewind_for(&name, &dispatch) {
        Ok(rewind) => rewind
            .skipped_kept(&manifest)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    dispatch(Action::KeptLoaded {
        id: manifest.id,
        kept,
    });
}

/// What restoring `source` (the chosen `file` for a file) would change, the backup opened
/// with `with_passphrase` if the person gave one; reads only. `cancel` stops it between
/// batches (the dialog closed, or asks for another): then nothing is dispatched.
pub async fn load_changes(
    name: String,
    source: ChangesSource,
    file: Option<web_sys::File>,
    with_passphrase: Option<Secret>,
    cancel: CancelFlag,
    dispatch: Dispatch,
) {
    let from = match (&source, file) {
        (ChangesSource::Backup(id), _) => Ok(RestoreSource::Backup(id.clone())),
        (ChangesSource::File(_), Some(file)) => Ok(RestoreSource::Blob(file.into())),
        (ChangesSource::File(_), None) => {
            Err("the chosen file is no longer available; choose it again".to_string())
        }
    };
    let from = from.and_then(|f| Ok(f.with_passphrase(passphrase(with_passphrase)?)));
    let (changes, locked) = match (rewind_for(&name, &dispatch), from) {
        (Ok(rewind), Ok(from)) => match rewind.diff(from, None, Some(cancel)).await {
            Ok(diff) => (Ok(diff), false),
            Err(RewindError::Cancelled) => return,
            Err(e) => (Err(e.to_string()), passphrase_refused(&e)),
        },
        (Err(e), _) | (_, Err(e)) => (Err(e), false),
    };
    let source_id = match &source {
        ChangesSource::Backup(id) if locked => Some(id.clone()),
        _ => None,
    };
    dispatch(Action::ChangesLoaded { source, changes });
    if let Some(id) = source_id {
        dispatch(Action::BackupLocked(id));
    }
}

/// Whether `e` says a sealed backup needs another passphrase (none was given, or another).
fn passphrase_refused(e: &RewindError) -> bool {
    matches!(e.code(), "PassphraseRequired" | "WrongPassphrase")
}

/// Asks the browser to keep the site's storage, and says what it answered.
pub async fn persist(dispatch: Dispatch) {
    let answer = match rewind::persist().await {
        rewind::Persistence::Granted => PersistAnswer::Granted,
        rewind::Persistence::Refused => PersistAnswer::Refused,
        rewind::Persistence::Unsupported => PersistAnswer::Unsupported,
    };
    dispatch(Action::PersistAnswered(answer));
}

/// A passphrase a person typed, for the library (which refuses an empty one).
fn passphrase(typed: Option<Secret>) -> Result<Option<Passphrase>, String> {
    typed
        .map(|t| Passphrase::new(t.into_string()).map_err(|e| e.to_string()))
        .transpose()
}

/// Reads and verifies the chosen file, unsealed with `with_passphrase` first if the person gave one.
pub async fn inspect_file(
    file: web_sys::File,
    with_passphrase: Option<Secret>,
    dispatch: Dispatch,
) {
    let file_name = file.name();
    let manifest = match passphrase(with_passphrase) {
        Ok(p) => Rewind::inspect_sealed_file(&file, p.as_ref())
            .await
            .map_err(|e| {
                if passphrase_refused(&e) {
                    dispatch(Action::FileSealed(file_name.clone()));
                }
                e.to_string()
            }),
        Err(e) => Err(e),
    };
    dispatch(Action::FileInspected {
        file_name,
        manifest,
    });
}

/// Runs a confirmed command; `file` is the chosen file for [`Command::RestoreFile`]; `cancel`
/// is the flag a restore hears until its swap.
pub async fn run(
    name: String,
    command: Command,
    automatic_backup: bool,
    file: Option<web_sys::File>,
    cancel: CancelFlag,
    dispatch: Dispatch,
) {
    let changes_data = command.changes_data();
    if changes_data {
        remember_running(&Interrupted {
            database: name.clone(),
            description: labels::running(&command),
            started_at: js_sys::Date::now(),
        });
    }
    let outcome = run_inner(&name, &command, automatic_backup, file, cancel, &dispatch).await;
    if changes_data {
        forget_running();
    }
    dispatch(match outcome {
        Ok(message) => Action::Finished(Ok(message)),
        Err(Failure::Cancelled) => Action::Cancelled,
        Err(Failure::Error(e)) => Action::Finished(Err(messages::failed(&command, &e))),
    });
}

/// How a command did not complete: cancelled (a restore, before its swap), or an error.
enum Failure {
    Cancelled,
    Error(String),
}

impl From<RewindError> for Failure {
    fn from(e: RewindError) -> Self {
        match e {
            RewindError::Cancelled => Failure::Cancelled,
            e => Failure::Error(e.to_string()),
        }
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Error(e)
    }
}

impl From<&str> for Failure {
    fn from(e: &str) -> Self {
        Failure::Error(e.into())
    }
}

/// Where the page notes the operation it is running, so that the next page can say what
/// became of it if this one closes or crashes mid-way.
const RUNNING_KEY: &str = "rewind:running-operation";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn remember_running(op: &Interrupted) {
    if let (Some(storage), Ok(json)) = (local_storage(), serde_json::to_string(op)) {
        let _ = storage.set_item(RUNNING_KEY, &json);
    }
}

fn forget_running() {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(RUNNING_KEY);
    }
}

/// The operation a previous page left unfinished, if any (and forgets it).
pub fn take_interrupted() -> Option<Interrupted> {
    let storage = local_storage()?;
    let json = storage.get_item(RUNNING_KEY).ok().flatten()?;
    let _ = storage.remove_item(RUNNING_KEY);
    serde_json::from_str(&json).ok()
}

async fn run_inner(
    name: &str,
    command: &Command,
    automatic_backup: bool,
    file: Option<web_sys::File>,
    cancel: CancelFlag,
    dispatch: &Dispatch,
) -> Result<String, Failure> {
    let rewind = rewind_for(name, dispatch)?;
    let d = dispatch.clone();
    let progress: Option<Progress> = Some(Rc::new(move |done, total| {
        d(Action::Progress {
            done,
            total,
            at: js_sys::Date::now(),
        })
    }));
    let e = |e: RewindError| Failure::from(e);
    let options = OperationOptions {
        progress,
        automatic_backup,
        cancel: Some(cancel),
        folder_write: None,
    };
    match command {
        Command::Rollback(to) => {
            let report = rewind.rollback_to(*to, options).await.map_err(e)?;
            Ok(messages::operation_done(command, &report))
        }
        Command::RollbackFromStored(to) => {
            let report = rewind.rollback_from_stored(*to, options).await.map_err(e)?;
            Ok(messages::operation_done(command, &report))
        }
        Command::MigrateToLatest => {
            let report = rewind.migrate_to(None, options).await.map_err(e)?;
            Ok(messages::operation_done(command, &report))
        }
        Command::RestoreBackup(id) => {
            let report = rewind
                .restore(
                    RestoreSource::Backup(id.clone()),
                    RestoreConsent::default(),
                    options,
                )
                .await
                .map_err(e)?;
            Ok(messages::operation_done(command, &report))
        }
        Command::RestoreSealedBackup {
            id,
            passphrase: typed,
        } => {
            let source =
                RestoreSource::Backup(id.clone()).with_passphrase(passphrase(Some(typed.clone()))?);
            let report = rewind
                .restore(source, RestoreConsent::default(), options)
                .await
                .map_err(e)?;
            Ok(messages::operation_done(command, &report))
        }
        Command::RestoreFile { passphrase: typed } => {
            let file = file.ok_or("the chosen file is no longer available; choose it again")?;
            let source =
                RestoreSource::Blob(file.into()).with_passphrase(passphrase(typed.clone())?);
            let report = rewind
                .restore(source, RestoreConsent::default(), options)
                .await
                .map_err(e)?;
            Ok(messages::operation_done(command, &report))
        }
        Command::DeleteBackup(id) => {
            rewind.delete_backup(id).await.map_err(e)?;
            Ok(messages::backup_deleted(id))
        }
        Command::Adopt(version) => {
            let report = rewind
                .adopt(Baseline::Version(*version), options)
                .await
                .map_err(e)?;
            Ok(messages::operation_done(command, &report))
        }
        Command::Repair => {
            let versions = rewind.repair().await.map_err(e)?;
            Ok(messages::repaired(&versions))
        }
        Command::CreateBackup {
            label,
            skip_unsupported,
        } => {
            let unsupported = match skip_unsupported {
                true => UnsupportedRecords::Skip,
                false => UnsupportedRecords::Refuse,
            };
            let manifest = rewind
                .backup(label, unsupported, options.progress)
                .await
                .map_err(e)?;
            Ok(messages::backup_created(&manifest))
        }
    }
}

/// Offers a backup as a download named `<db>-v<schema>-<UTC time>.rewind`, sealed under
/// the passphrase the person gave, if any.
pub async fn download(name: String, pending: PendingDownload, dispatch: Dispatch) {
    let outcome = async {
        let rewind = rewind_for(&name, &dispatch)?;
        let sealed = passphrase(pending.passphrase)?;
        let file = rewind
            .export_sealed_backup(&pending.id, sealed.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        save_as(&file).map_err(|e| format!("the browser refused the download ({e})"))
    }
    .await;
    dispatch(Action::DownloadDone(outcome));
}

fn save_as(file: &web_sys::File) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let describe = |e: wasm_bindgen::JsValue| rewind::describe_thrown(&e);
    let url = web_sys::Url::create_object_url_with_blob(file).map_err(describe)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(describe)?
        .unchecked_into();
    a.set_href(&url);
    a.set_download(&file.name());
    a.click();
    // Let the download start before the URL goes away.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    }
    Ok(())
}

/// Registers the service worker that keeps the page usable offline.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let container = window.navigator().service_worker();
    let _ = container.register("sw.js");
}
