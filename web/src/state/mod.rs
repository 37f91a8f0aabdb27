//! The recovery page's state as a plain struct and the actions that change it.
//!
//! Components dispatch [`Action`]s and render [`PageState`]; nothing here touches the browser,
//! so every transition — including the awkward ones, like an answer arriving for a database
//! the user has already left, or a confirm clicked before the box was ticked — is tested
//! natively. What the page must run in the browser is handed out as a [`Command`].
//!
//! [`PageState::apply`] only routes an action to the transition that handles it; transitions
//! live with their concern, so each reads alone: `loading` (what is read from the browser),
//! `dialogs` (what every confirmation dialog shares, and the migrate, rollback and repair
//! ones), `backups` (the backup or file a restore or delete dialog is about), `operations`
//! (the command that runs and what became of it), `progress` (its records, bytes and time
//! left, by step), `cancel` (a restore cancelled), `space` (what a backup or restore
//! needs, shown before it runs), and `newer` (a database changed by a newer release: rolled
//! back with the steps it keeps, or else the newest backup this app knows).

mod backups;
mod cancel;
mod changes;
mod dialogs;
#[cfg(test)]
mod fixtures;
mod folder;
mod loading;
mod newer;
mod operations;
mod persist;
mod progress;
mod sealed;
mod space;

use crate::policy::AppDatabase;
use rewind::backup::BackupManifest;
use rewind::{DatabaseListing, DatabaseSummary, MigrationPlan};

pub use changes::ChangesSource;
pub use dialogs::{Dialog, DialogKind};
pub use folder::{FolderAccess, FolderRequest, FolderShown};
pub use loading::{Health, StorageUse};
pub use operations::{Command, Interrupted, Notice, RunningOperation};
pub use persist::PersistAnswer;
pub use progress::Step;
pub use sealed::{PendingDownload, Secret};
pub use space::Space;

/// Something that is fetched from the browser and may still be on its way.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Loadable<T> {
    #[default]
    Idle,
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Loadable<T> {
    /// `Loading` when there is something to read, else `Idle`.
    fn loading_if(read: bool) -> Self {
        if read {
            Loadable::Loading
        } else {
            Loadable::Idle
        }
    }

    pub fn ready(&self) -> Option<&T> {
        match self {
            Loadable::Ready(v) => Some(v),
            _ => None,
        }
    }
}

impl<T> From<Result<T, String>> for Loadable<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(v) => Loadable::Ready(v),
            Err(e) => Loadable::Failed(e),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageState {
    /// The databases the app manages, from the page's configuration; nothing else is read
    /// until it is there, and a configuration that failed is all the page shows.
    pub config: Loadable<Vec<AppDatabase>>,
    pub databases: Loadable<Vec<DatabaseListing>>,
    pub selected: Option<String>,
    pub summary: Loadable<DatabaseSummary>,
    /// Only for databases this app manages.
    pub health: Loadable<Health>,
    pub backups: Loadable<Vec<BackupManifest>>,
    pub dialog: Option<Dialog>,
    pub operation: Option<RunningOperation>,
    pub notice: Option<Notice>,
    /// Bumped whenever everything shown must be read again (after an operation).
    pub generation: u32,
    /// Another tab holds the database open and blocks an operation.
    pub blocked: bool,
    /// Found at start: an operation the page never saw finish. Settled once the journal of its
    /// database has been read.
    pub interrupted: Option<Interrupted>,
    /// The person asked the browser to keep the site's storage: asking, or its answer.
    pub persist: Loadable<PersistAnswer>,
    /// A download the person confirmed, until the browser has it (or refused).
    pub download: Option<PendingDownload>,
    /// The backup folder of the selected database (`folder.rs`), and what the person asked
    /// of it that the page is carrying out.
    pub folder: Loadable<FolderShown>,
    pub folder_request: Option<FolderRequest>,
    /// The ids of the listed backups that are sealed (see `sealed.rs`).
    pub sealed_backups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ConfigLoaded(Vec<AppDatabase>),
    ConfigFailed(String),
    DatabasesLoading,
    DatabasesLoaded(Vec<DatabaseListing>),
    DatabasesFailed(String),
    Select(String),
    SummaryLoaded(DatabaseSummary),
    SummaryFailed {
        name: String,
        message: String,
    },
    HealthLoaded {
        name: String,
        health: Result<Health, String>,
    },
    BackupsLoaded {
        name: String,
        backups: Result<Vec<BackupManifest>, String>,
    },
    /// Which of database `name`'s backups are sealed (sent before its `BackupsLoaded`).
    SealedListed {
        name: String,
        ids: Vec<String>,
    },
    /// Another tab is changing database `name`: what is shown of it may be out of date.
    ChangedElsewhere(String),

    OpenRollback,
    ChooseTarget(u32),
    OpenMigrate,
    OpenRepair,
    /// Adopt the database (made before the app used Rewind) at a version its schema matches.
    OpenAdopt(u32),
    /// Roll a database changed by a newer release back to the newest version this app knows,
    /// with the steps the database keeps.
    OpenStoredRollback,
    PlanLoaded(Result<MigrationPlan, String>),
    SetUnderstood(bool),
    /// Run the dialog's operation without its automatic backup (the person's explicit choice).
    SetWithoutBackup(bool),
    CloseDialog,

    OpenRestoreBackup(String),
    OpenDeleteBackup(String),
    /// The download dialog of backup `id` (a passphrase may seal the file).
    OpenDownload(String),
    /// What the person typed in the open dialog's passphrase field.
    SetPassphrase(String),
    /// Read the sealed backup of the open restore dialog (the chosen file, or a listed
    /// backup) with the passphrase typed.
    Unlock,
    /// Listed backup `0` refused the passphrase its restore dialog tried (none, or another).
    BackupLocked(String),
    /// The chosen file `0` is sealed: it needs a passphrase (none was given, or another).
    FileSealed(String),
    /// The confirmed download was handed to the browser, or why not.
    DownloadDone(Result<(), String>),
    FileChosen(String),
    FileInspected {
        file_name: String,
        manifest: Result<BackupManifest, String>,
    },
    /// Whether a restore of backup `id` keeps each record it left out (see [`Dialog`]).
    KeptLoaded {
        id: String,
        kept: Result<Vec<bool>, String>,
    },
    /// What a restore of `source` would change (see [`ChangesSource`]).
    ChangesLoaded {
        source: ChangesSource,
        changes: Result<rewind::RestoreDiff, String>,
    },

    Confirm,
    Run(Command),
    /// Records done of the current step's total, `at` milliseconds since the epoch.
    Progress {
        done: u64,
        total: u64,
        at: f64,
    },
    /// The person asks to cancel the running restore.
    CancelRestore,
    /// The running restore was cancelled before it changed anything.
    Cancelled,
    Blocked,
    /// The running operation ended, with its success or error message.
    Finished(Result<String, String>),
    DismissNotice,
    /// A notice an effect has for the person (a backup folder's file that could not be read).
    Notify(Notice),
    /// At start: the previous page closed while this operation ran.
    FoundInterrupted(Interrupted),
    /// The person asks the browser to make the site's storage persistent.
    RequestPersist,
    PersistAnswered(PersistAnswer),

    /// The backup folder of database `name`, as read (`folder.rs`).
    FolderLoaded {
        name: String,
        folder: Result<FolderShown, String>,
    },
    RequestFolder(FolderRequest),
    FolderAnswered {
        name: String,
        folder: Result<FolderShown, String>,
    },
}

impl PageState {
    /// The state after `action`.
    pub fn apply(mut self, action: Action) -> PageState {
        match action {
            Action::ConfigLoaded(list) => self.config = Loadable::Ready(list),
            Action::ConfigFailed(message) => self.config = Loadable::Failed(message),
            Action::DatabasesLoading => self.databases = Loadable::Loading,
            Action::DatabasesLoaded(list) => self.databases_loaded(list),
            Action::DatabasesFailed(message) => self.databases = Loadable::Failed(message),
            Action::Select(name) => self.select(name),
            Action::SummaryLoaded(summary) => self.summary_loaded(summary),
            Action::SummaryFailed { name, message } => self.summary_failed(&name, message),
            Action::HealthLoaded { name, health } => self.health_loaded(&name, health),
            Action::BackupsLoaded { name, backups } => self.backups_loaded(&name, backups),
            Action::SealedListed { name, ids } => self.sealed_listed(&name, ids),
            Action::ChangedElsewhere(name) => self.changed_elsewhere(&name),

            Action::OpenRollback => self.open_rollback(),
            Action::ChooseTarget(version) => self.choose_target(version),
            Action::OpenMigrate => self.open_migrate(),
            Action::OpenRepair => self.open_repair(),
            Action::OpenAdopt(version) => self.open_adopt(version),
            Action::OpenStoredRollback => self.open_stored_rollback(),
            Action::PlanLoaded(result) => self.plan_loaded(result),
            Action::SetUnderstood(value) => self.set_understood(value),
            Action::SetWithoutBackup(value) => self.set_without_backup(value),
            Action::CloseDialog => self.close_dialog(),

            Action::OpenRestoreBackup(id) => self.open_restore_backup(&id),
            Action::OpenDeleteBackup(id) => self.open_delete_backup(&id),
            Action::OpenDownload(id) => self.open_download(&id),
            Action::SetPassphrase(text) => self.set_passphrase(text),
            Action::Unlock => self.unlock(),
            Action::BackupLocked(id) => self.backup_locked(&id),
            Action::FileSealed(file_name) => self.file_sealed(&file_name),
            Action::DownloadDone(result) => self.download_done(result),
            Action::FileChosen(file_name) => self.file_chosen(file_name),
            Action::FileInspected {
                file_name,
                manifest,
            } => self.file_inspected(&file_name, manifest),
            Action::KeptLoaded { id, kept } => self.kept_loaded(&id, kept),
            Action::ChangesLoaded { source, changes } => self.changes_loaded(&source, changes),

            Action::Confirm => self.confirm(),
            Action::Run(command) => self.run(command),
            Action::Progress { done, total, at } => self.progress(done, total, at),
            Action::CancelRestore => self.request_cancel(),
            Action::Cancelled => self.cancelled(),
            Action::Blocked => self.block(),
            Action::Finished(result) => self.finish(result),
            Action::DismissNotice => self.notice = None,
            Action::Notify(notice) => self.notice = Some(notice),
            Action::FoundInterrupted(interrupted) => self.found_interrupted(interrupted),
            Action::RequestPersist => self.request_persist(),
            Action::PersistAnswered(answer) => self.persist_answered(answer),

            Action::FolderLoaded { name, folder } => self.folder_loaded(&name, folder),
            Action::RequestFolder(request) => self.request_folder(request),
            Action::FolderAnswered { name, folder } => self.folder_answered(&name, folder),
        }
        self
    }

    /// Whether a database is selected and this app manages it.
    pub fn managed(&self) -> bool {
        self.selected
            .as_deref()
            .is_some_and(|name| self.app_database(name).is_some())
    }

    /// Database `name`, if the app manages it.
    pub fn app_database(&self, name: &str) -> Option<&AppDatabase> {
        self.config.ready()?.iter().find(|d| d.name == name)
    }

    fn is_selected(&self, name: &str) -> bool {
        self.selected.as_deref() == Some(name)
    }

    /// Everything shown is read again: the list of databases and the selected one's details.
    fn reload_everything(&mut self) {
        self.generation += 1;
        self.databases = Loadable::Loading;
        self.reload_details();
    }

    /// What is shown about the selected database is being read (again), or there is none. Only
    /// a database this app manages has health and backups to read.
    fn reload_details(&mut self) {
        self.summary = Loadable::loading_if(self.selected.is_some());
        self.health = Loadable::loading_if(self.managed());
        self.backups = Loadable::loading_if(self.managed());
        self.folder = Loadable::loading_if(self.managed());
    }
}
