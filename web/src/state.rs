//! The recovery page's state as a plain struct and the actions that change it.
//!
//! Components dispatch [`Action`]s and render [`PageState`]; nothing here touches the browser,
//! so every transition — including the awkward ones, like an answer arriving for a database
//! the user has already left, or a confirm clicked before the box was ticked — is tested
//! natively. What the page must run in the browser is handed out as a [`Command`].

use crate::policy::{self, is_managed};
use rewind::backup::BackupManifest;
use rewind::{DatabaseListing, DatabaseSummary, MigrationPlan, SchemaDiff, Status};

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

/// What a restore dialog knows at first of the records a backup left out: nothing to look up
/// when there are none.
fn kept_for(manifest: &BackupManifest) -> Loadable<Vec<bool>> {
    if manifest.skipped.is_empty() {
        Loadable::Ready(Vec::new())
    } else {
        Loadable::Loading
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

/// How much of its storage the site uses, as the browser reports it (`navigator.storage`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StorageUse {
    pub usage: u64,
    pub quota: u64,
    pub persisted: bool,
}

/// Everything the Status region shows about a database this app manages.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub status: Status,
    /// `Err` when validation itself could not run (e.g. an unknown version).
    pub validation: Result<SchemaDiff, String>,
    pub storage: Option<StorageUse>,
}

/// The confirmation dialogs. Each shows what will happen and needs its box ticked.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    Rollback {
        target: Option<u32>,
        plan: Loadable<MigrationPlan>,
        understood: bool,
    },
    Migrate {
        plan: Loadable<MigrationPlan>,
        understood: bool,
    },
    RestoreBackup {
        manifest: BackupManifest,
        /// For each record the backup left out: whether the restore keeps the live one.
        kept: Loadable<Vec<bool>>,
        understood: bool,
    },
    DeleteBackup {
        manifest: BackupManifest,
        understood: bool,
    },
    RestoreFile {
        file_name: String,
        manifest: Loadable<BackupManifest>,
        kept: Loadable<Vec<bool>>,
        understood: bool,
    },
    /// Re-record the checksums of migrations changed after they were applied.
    Repair {
        drifted: Vec<(u32, String)>,
        understood: bool,
    },
}

impl Dialog {
    /// The dialog's accessible name.
    pub fn title(&self) -> &'static str {
        match self {
            Dialog::Rollback { .. } => "Roll back database",
            Dialog::Migrate { .. } => "Migrate database",
            Dialog::RestoreBackup { .. } => "Restore backup",
            Dialog::DeleteBackup { .. } => "Delete backup",
            Dialog::RestoreFile { .. } => "Restore from file",
            Dialog::Repair { .. } => "Repair checksums",
        }
    }

    /// The confirm button's name.
    pub fn confirm_label(&self) -> &'static str {
        match self {
            Dialog::Rollback { .. } => "Roll back",
            Dialog::Migrate { .. } => "Migrate",
            Dialog::RestoreBackup { .. } | Dialog::RestoreFile { .. } => "Restore",
            Dialog::DeleteBackup { .. } => "Delete",
            Dialog::Repair { .. } => "Repair",
        }
    }

    pub fn understood(&self) -> bool {
        match self {
            Dialog::Rollback { understood, .. }
            | Dialog::Migrate { understood, .. }
            | Dialog::RestoreBackup { understood, .. }
            | Dialog::DeleteBackup { understood, .. }
            | Dialog::RestoreFile { understood, .. }
            | Dialog::Repair { understood, .. } => *understood,
        }
    }

    fn set_understood(&mut self, value: bool) {
        match self {
            Dialog::Rollback { understood, .. }
            | Dialog::Migrate { understood, .. }
            | Dialog::RestoreBackup { understood, .. }
            | Dialog::DeleteBackup { understood, .. }
            | Dialog::RestoreFile { understood, .. }
            | Dialog::Repair { understood, .. } => *understood = value,
        }
    }

    /// Whether the confirm button may be pressed: the preview is there and valid, and the
    /// person ticked "I understand what will change".
    pub fn can_confirm(&self) -> bool {
        let ready = match self {
            Dialog::Rollback { target, plan, .. } => target.is_some() && plan.ready().is_some(),
            Dialog::Migrate { plan, .. } => plan.ready().is_some(),
            Dialog::RestoreBackup { kept, .. } => kept.ready().is_some(),
            Dialog::DeleteBackup { .. } | Dialog::Repair { .. } => true,
            Dialog::RestoreFile { manifest, kept, .. } => {
                manifest.ready().is_some() && kept.ready().is_some()
            }
        };
        ready && self.understood()
    }
}

/// What the page must run in the browser.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Rollback(u32),
    MigrateToLatest,
    RestoreBackup(String),
    DeleteBackup(String),
    /// The file the person chose (the component keeps the `File` itself).
    RestoreFile,
    CreateBackup {
        label: String,
        /// Leave out records no backup can carry instead of refusing the backup.
        skip_unsupported: bool,
    },
    Repair,
}

impl Command {
    /// What the progress bar and messages call it.
    pub fn describe(&self) -> String {
        match self {
            Command::Rollback(v) => format!("Rolling back to version {v}"),
            Command::MigrateToLatest => "Migrating to the latest version".into(),
            Command::RestoreBackup(_) | Command::RestoreFile => "Restoring the backup".into(),
            Command::DeleteBackup(_) => "Deleting the backup".into(),
            Command::CreateBackup { .. } => "Creating a backup".into(),
            Command::Repair => "Repairing the checksums".into(),
        }
    }

    /// Whether it changes the database itself (not only its backups), so that the page notes
    /// it while it runs and the next page can say what became of it if this one closes.
    pub fn changes_data(&self) -> bool {
        !matches!(
            self,
            Command::CreateBackup { .. } | Command::DeleteBackup(_)
        )
    }
}

/// The operation this page is running, and how far it got.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningOperation {
    pub command: Command,
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Success(String),
    Error(String),
}

/// An operation this page started that was still running when the page last closed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interrupted {
    pub database: String,
    pub description: String,
    /// Milliseconds since the epoch, when it started.
    pub started_at: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageState {
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
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
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

    OpenRollback,
    ChooseTarget(u32),
    OpenMigrate,
    OpenRepair,
    PlanLoaded(Result<MigrationPlan, String>),
    OpenRestoreBackup(String),
    OpenDeleteBackup(String),
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
    SetUnderstood(bool),
    CloseDialog,

    Confirm,
    Run(Command),
    Progress {
        done: u64,
        total: u64,
    },
    Blocked,
    /// The running operation ended, with its success or error message.
    Finished(Result<String, String>),
    /// Something outside any operation has something to say (e.g. a download failed). The
    /// running operation, if any, is left as it is.
    Notify(Notice),
    DismissNotice,
    /// Another tab is changing database `name`: what is shown of it may be out of date.
    ChangedElsewhere(String),
    /// At start: the previous page closed while this operation ran.
    FoundInterrupted(Interrupted),
}

impl PageState {
    /// The state after `action`.
    pub fn apply(mut self, action: Action) -> PageState {
        match action {
            Action::DatabasesLoading => self.databases = Loadable::Loading,
            Action::DatabasesLoaded(list) => {
                let still_there = self
                    .selected
                    .as_ref()
                    .is_some_and(|s| list.iter().any(|d| &d.name == s));
                if !still_there {
                    self.selected = list.first().map(|d| d.name.clone());
                    self.reload_details();
                }
                self.databases = Loadable::Ready(list);
            }
            Action::DatabasesFailed(message) => self.databases = Loadable::Failed(message),
            Action::Select(name) => {
                if self.selected.as_deref() != Some(name.as_str()) && self.operation.is_none() {
                    self.selected = Some(name);
                    self.reload_details();
                    self.dialog = None;
                    self.notice = None;
                }
            }
            Action::SummaryLoaded(summary) => {
                if self.is_selected(&summary.name) {
                    self.summary = Loadable::Ready(summary);
                }
            }
            Action::SummaryFailed { name, message } => {
                if self.is_selected(&name) {
                    self.summary = Loadable::Failed(message);
                }
            }
            Action::HealthLoaded { name, health } => {
                if self.is_selected(&name) {
                    self.health = health.into();
                    self.settle_interrupted();
                }
            }
            Action::BackupsLoaded { name, backups } => {
                if self.is_selected(&name) {
                    self.backups = backups.into();
                }
            }

            Action::OpenRollback => {
                if self.operation.is_none() {
                    self.dialog = Some(Dialog::Rollback {
                        target: None,
                        plan: Loadable::Idle,
                        understood: false,
                    });
                }
            }
            Action::ChooseTarget(v) => {
                if let Some(Dialog::Rollback {
                    target,
                    plan,
                    understood,
                }) = &mut self.dialog
                {
                    *target = Some(v);
                    *plan = Loadable::Loading;
                    *understood = false;
                }
            }
            Action::OpenRepair => {
                let drifted: Vec<(u32, String)> = self
                    .health
                    .ready()
                    .map(|h| {
                        h.status
                            .drifted
                            .iter()
                            .map(|d| (d.version, d.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                if self.operation.is_none() && !drifted.is_empty() {
                    self.dialog = Some(Dialog::Repair {
                        drifted,
                        understood: false,
                    });
                }
            }
            Action::OpenMigrate => {
                if self.operation.is_none() {
                    self.dialog = Some(Dialog::Migrate {
                        plan: Loadable::Loading,
                        understood: false,
                    });
                }
            }
            // The box ticked before the preview arrived did not see it: untick.
            Action::PlanLoaded(result) => match &mut self.dialog {
                // An answer for another target than the one chosen now is stale.
                Some(Dialog::Rollback {
                    plan,
                    target: Some(t),
                    understood,
                }) if result.as_ref().map_or(true, |p| p.to == *t) => {
                    *plan = result.into();
                    *understood = false;
                }
                Some(Dialog::Migrate { plan, understood }) => {
                    *plan = result.into();
                    *understood = false;
                }
                _ => {}
            },
            Action::OpenRestoreBackup(id) | Action::OpenDeleteBackup(id)
                if self.operation.is_some() || self.backup(&id).is_none() => {}
            Action::OpenRestoreBackup(id) => {
                let Some(manifest) = self.backup(&id).cloned() else {
                    return self;
                };
                match self.restore_refusal(&manifest) {
                    Some(message) => {
                        self.notice = Some(Notice::Error(format!(
                            "Backup {id} cannot be restored: {message}"
                        )));
                    }
                    None => {
                        self.dialog = Some(Dialog::RestoreBackup {
                            kept: kept_for(&manifest),
                            manifest,
                            understood: false,
                        });
                    }
                }
            }
            Action::OpenDeleteBackup(id) => {
                let manifest = self.backup(&id).cloned();
                self.dialog = manifest.map(|manifest| Dialog::DeleteBackup {
                    manifest,
                    understood: false,
                });
            }
            Action::FileChosen(file_name) => {
                if self.operation.is_none() {
                    self.dialog = Some(Dialog::RestoreFile {
                        file_name,
                        manifest: Loadable::Loading,
                        kept: Loadable::Idle,
                        understood: false,
                    });
                }
            }
            Action::FileInspected {
                file_name,
                manifest: result,
            } => {
                let result = result.and_then(|m| match self.restore_refusal(&m) {
                    Some(message) => Err(message),
                    None => Ok(m),
                });
                if let Some(Dialog::RestoreFile {
                    file_name: current,
                    manifest,
                    kept,
                    ..
                }) = &mut self.dialog
                {
                    if *current == file_name {
                        if let Ok(m) = &result {
                            *kept = kept_for(m);
                        }
                        *manifest = result.into();
                    }
                }
            }
            Action::KeptLoaded { id, kept: result } => match &mut self.dialog {
                Some(Dialog::RestoreBackup { manifest, kept, .. }) if manifest.id == id => {
                    *kept = result.into();
                }
                Some(Dialog::RestoreFile {
                    manifest: Loadable::Ready(manifest),
                    kept,
                    ..
                }) if manifest.id == id => *kept = result.into(),
                _ => {}
            },
            Action::SetUnderstood(value) => {
                if let Some(d) = &mut self.dialog {
                    d.set_understood(value);
                }
            }
            Action::CloseDialog => {
                if self.operation.is_none() {
                    self.dialog = None;
                }
            }

            Action::Confirm => {
                if let Some(command) = self.confirmed_command() {
                    self.dialog = None;
                    self = self.apply(Action::Run(command));
                }
            }
            Action::Run(command) => {
                if self.operation.is_none() {
                    self.notice = None;
                    self.blocked = false;
                    self.operation = Some(RunningOperation {
                        command,
                        done: 0,
                        total: 0,
                    });
                }
            }
            Action::Progress { done, total } => {
                if let Some(op) = &mut self.operation {
                    op.done = done;
                    op.total = total;
                }
            }
            Action::Blocked => {
                if self.operation.is_some() {
                    self.blocked = true;
                }
            }
            Action::Finished(result) => {
                if self.operation.take().is_some() {
                    self.blocked = false;
                    self.notice = Some(match result {
                        Ok(message) => Notice::Success(message),
                        Err(message) => Notice::Error(message),
                    });
                    self.reload_everything();
                }
            }
            Action::Notify(notice) => self.notice = Some(notice),
            Action::DismissNotice => self.notice = None,
            Action::FoundInterrupted(interrupted) => {
                self.interrupted = Some(interrupted);
                self.settle_interrupted();
            }
            Action::ChangedElsewhere(name) => {
                if self.operation.is_none() && self.is_selected(&name) {
                    self.reload_everything();
                    self.notice = Some(Notice::Success(format!(
                        "{name} was just changed by another tab of the app; what you see has been \
                         read again."
                    )));
                }
            }
        }
        self
    }

    /// Says what became of an interrupted operation, from its database's journal: an entry
    /// written after it started means it completed; none means nothing changed (an operation
    /// is all-or-nothing, and a crash cannot write the journal).
    fn settle_interrupted(&mut self) {
        let Some(i) = &self.interrupted else { return };
        if !self.is_selected(&i.database) {
            return;
        }
        let Some(health) = self.health.ready() else {
            return;
        };
        let completed = health
            .status
            .journal
            .iter()
            .any(|e| e.at >= i.started_at && e.error.is_none());
        self.notice = Some(if completed {
            Notice::Success(format!(
                "{} had completed before the page closed. Reload the app's open tabs so they \
                 use the database as it is now.",
                i.description
            ))
        } else {
            Notice::Error(format!(
                "{} was interrupted before it completed (the page was closed or crashed). \
                 Nothing was changed: the database is exactly as it was before. You can run it \
                 again.",
                i.description
            ))
        });
        self.interrupted = None;
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
    }

    fn is_selected(&self, name: &str) -> bool {
        self.selected.as_deref() == Some(name)
    }

    /// Whether a database is selected and this app manages it.
    pub fn managed(&self) -> bool {
        self.selected.as_deref().is_some_and(is_managed)
    }

    /// Why a backup cannot be restored into the selected database; `None` when it can.
    fn restore_refusal(&self, manifest: &BackupManifest) -> Option<String> {
        policy::restore_refusal(manifest, self.selected.as_deref().unwrap_or_default())
    }

    /// A backup may be downloaded while no operation runs (a download reads the catalog the
    /// operation may be changing, and its failure must not be taken for the operation's).
    pub fn can_download(&self) -> bool {
        self.operation.is_none()
    }

    pub fn backup(&self, id: &str) -> Option<&BackupManifest> {
        self.backups.ready()?.iter().find(|m| m.id == id)
    }

    /// The command the open dialog's confirm button runs, if it may be pressed.
    pub fn confirmed_command(&self) -> Option<Command> {
        let dialog = self.dialog.as_ref()?;
        if !dialog.can_confirm() || self.operation.is_some() {
            return None;
        }
        Some(match dialog {
            Dialog::Rollback { target, .. } => Command::Rollback((*target)?),
            Dialog::Migrate { .. } => Command::MigrateToLatest,
            Dialog::RestoreBackup { manifest, .. } => Command::RestoreBackup(manifest.id.clone()),
            Dialog::DeleteBackup { manifest, .. } => Command::DeleteBackup(manifest.id.clone()),
            Dialog::RestoreFile { .. } => Command::RestoreFile,
            Dialog::Repair { .. } => Command::Repair,
        })
    }

    /// The plan a dialog waits for: `Some(target)`.
    /// The backup whose left-out records must be looked up in the live database before its
    /// restore can be confirmed.
    pub fn needs_kept(&self) -> Option<&BackupManifest> {
        match &self.dialog {
            Some(Dialog::RestoreBackup {
                manifest,
                kept: Loadable::Loading,
                ..
            })
            | Some(Dialog::RestoreFile {
                manifest: Loadable::Ready(manifest),
                kept: Loadable::Loading,
                ..
            }) => Some(manifest),
            _ => None,
        }
    }

    pub fn needs_plan(&self) -> Option<u32> {
        match &self.dialog {
            Some(Dialog::Rollback {
                target: Some(t),
                plan: Loadable::Loading,
                ..
            }) => Some(*t),
            Some(Dialog::Migrate {
                plan: Loadable::Loading,
                ..
            }) => self.health.ready().map(|h| h.status.latest_version),
            _ => None,
        }
    }

    /// The versions a rollback can target from here: every version below the current one.
    pub fn rollback_targets(&self) -> Vec<u32> {
        match self.health.ready() {
            Some(h) if !h.status.unknown => (0..h.status.schema_version).rev().collect(),
            _ => Vec::new(),
        }
    }

    pub fn can_migrate(&self) -> bool {
        self.operation.is_none()
            && self
                .health
                .ready()
                .is_some_and(|h| !h.status.unknown && !h.status.pending.is_empty())
    }

    pub fn can_roll_back(&self) -> bool {
        self.operation.is_none() && !self.rollback_targets().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::APP_DATABASES;
    use rewind::engine::RewindMeta;
    use rewind::{DatabaseSchema, Direction, PlanEffects};

    /// A database this app manages, and one it does not.
    const A: &str = APP_DATABASES[0];
    const B: &str = "b";

    fn listing(name: &str) -> DatabaseListing {
        DatabaseListing {
            name: name.into(),
            idb_version: 1,
        }
    }

    fn summary(name: &str) -> DatabaseSummary {
        DatabaseSummary {
            name: name.into(),
            idb_version: 1,
            schema: DatabaseSchema::default(),
            record_counts: Default::default(),
        }
    }

    fn status(version: u32, latest: u32) -> Status {
        Status {
            schema_version: version,
            latest_version: latest,
            idb_version: 9,
            applied: vec![],
            pending: (version + 1..=latest).collect(),
            drifted: vec![],
            unknown: version > latest,
            journal: vec![],
        }
    }

    fn health(version: u32, latest: u32) -> Health {
        Health {
            status: status(version, latest),
            validation: Ok(SchemaDiff::default()),
            storage: None,
        }
    }

    fn manifest(id: &str) -> BackupManifest {
        BackupManifest {
            format_version: 1,
            id: id.into(),
            database: A.into(),
            schema_version: 2,
            idb_version: 3,
            created_at: 0.0,
            label: String::new(),
            automatic: false,
            meta: RewindMeta::default(),
            stores: vec![],
            skipped: Vec::new(),
            bytes: 10,
            sha256: "00".into(),
        }
    }

    fn plan(from: u32, to: u32) -> MigrationPlan {
        MigrationPlan {
            from,
            to,
            direction: Direction::Down,
            migrations: vec![],
            effects: PlanEffects::default(),
        }
    }

    /// Database A (managed) at version 3 of 5, with one backup; B is another app's.
    fn ready() -> PageState {
        PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing(A), listing(B)]))
            .apply(Action::SummaryLoaded(summary(A)))
            .apply(Action::HealthLoaded {
                name: A.into(),
                health: Ok(health(3, 5)),
            })
            .apply(Action::BackupsLoaded {
                name: A.into(),
                backups: Ok(vec![manifest("b1")]),
            })
    }

    #[test]
    fn loading_the_list_selects_the_first_database_and_loads_everything_about_it() {
        let state = PageState::default()
            .apply(Action::DatabasesLoading)
            .apply(Action::DatabasesLoaded(vec![listing(A), listing(B)]));
        assert_eq!(state.selected.as_deref(), Some(A));
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(state.health, Loadable::Loading);
        assert_eq!(state.backups, Loadable::Loading);
    }

    #[test]
    fn an_empty_origin_selects_nothing() {
        let state = PageState::default().apply(Action::DatabasesLoaded(vec![]));
        assert_eq!(state.selected, None);
        assert_eq!(state.summary, Loadable::Idle);
    }

    #[test]
    fn reloading_the_list_keeps_the_selection_and_what_was_read_for_it() {
        let state = ready().apply(Action::DatabasesLoaded(vec![listing(A), listing(B)]));
        assert_eq!(state.selected.as_deref(), Some(A));
        assert_eq!(state.summary, Loadable::Ready(summary(A)));
        assert!(state.health.ready().is_some());
    }

    #[test]
    fn a_selected_database_that_disappeared_is_replaced() {
        let state = ready()
            .apply(Action::Select(B.into()))
            .apply(Action::DatabasesLoaded(vec![listing(A)]));
        assert_eq!(state.selected.as_deref(), Some(A));
    }

    #[test]
    fn late_answers_for_a_database_the_user_left_are_ignored() {
        let state = ready()
            .apply(Action::Select(B.into()))
            .apply(Action::SummaryLoaded(summary(A)))
            .apply(Action::HealthLoaded {
                name: A.into(),
                health: Ok(health(1, 5)),
            })
            .apply(Action::BackupsLoaded {
                name: A.into(),
                backups: Ok(vec![]),
            });
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(state.health, Loadable::Idle, "B has no health to read");
        assert_eq!(state.backups, Loadable::Idle);
    }

    #[test]
    fn a_database_this_app_does_not_manage_waits_for_its_summary_only() {
        let state =
            PageState::default().apply(Action::DatabasesLoaded(vec![listing(B), listing(A)]));
        assert_eq!(state.selected.as_deref(), Some(B));
        assert!(!state.managed());
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(
            state.health,
            Loadable::Idle,
            "never read: it would wait forever"
        );
        assert_eq!(state.backups, Loadable::Idle);
        let reread = state
            .apply(Action::SummaryLoaded(summary(B)))
            .apply(Action::ChangedElsewhere(B.into()));
        assert_eq!(reread.summary, Loadable::Loading);
        assert_eq!(reread.health, Loadable::Idle);
        assert_eq!(reread.backups, Loadable::Idle);
        let managed = reread.apply(Action::Select(A.into()));
        assert!(managed.managed());
        assert_eq!(managed.health, Loadable::Loading);
        assert_eq!(managed.backups, Loadable::Loading);
    }

    #[test]
    fn rollback_targets_are_the_versions_below_the_current_one() {
        let state = ready();
        assert_eq!(state.rollback_targets(), vec![2, 1, 0]);
        assert!(state.can_roll_back() && state.can_migrate());
        let unknown = ready().apply(Action::HealthLoaded {
            name: A.into(),
            health: Ok(health(7, 5)),
        });
        assert!(
            unknown.rollback_targets().is_empty(),
            "no rollback from a version this app does not know"
        );
        assert!(!unknown.can_migrate());
        let latest = ready().apply(Action::HealthLoaded {
            name: A.into(),
            health: Ok(health(5, 5)),
        });
        assert!(!latest.can_migrate());
    }

    #[test]
    fn confirm_needs_a_preview_and_the_ticked_box() {
        let state = ready().apply(Action::OpenRollback);
        assert_eq!(state.dialog.as_ref().unwrap().title(), "Roll back database");
        assert_eq!(state.confirmed_command(), None, "no target yet");
        let state = state.apply(Action::ChooseTarget(1));
        assert_eq!(state.needs_plan(), Some(1));
        let state = state
            .apply(Action::SetUnderstood(true))
            .apply(Action::Confirm);
        assert!(
            state.operation.is_none(),
            "no preview yet: confirm does nothing"
        );
        let state = state.apply(Action::PlanLoaded(Ok(plan(3, 1))));
        assert_eq!(
            state.confirmed_command(),
            None,
            "the box must be ticked (again)"
        );
        let state = state.apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), Some(Command::Rollback(1)));
        let state = state.apply(Action::Confirm);
        assert_eq!(state.dialog, None);
        assert_eq!(
            state.operation.as_ref().unwrap().command,
            Command::Rollback(1)
        );
    }

    #[test]
    fn changing_the_target_unticks_and_ignores_stale_plans() {
        let state = ready()
            .apply(Action::OpenRollback)
            .apply(Action::ChooseTarget(2))
            .apply(Action::PlanLoaded(Ok(plan(3, 2))))
            .apply(Action::SetUnderstood(true))
            .apply(Action::ChooseTarget(0))
            .apply(Action::PlanLoaded(Ok(plan(3, 2))));
        match &state.dialog {
            Some(Dialog::Rollback {
                target,
                plan,
                understood,
            }) => {
                assert_eq!(*target, Some(0));
                assert_eq!(*plan, Loadable::Loading);
                assert!(!understood);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refused_plan_blocks_the_confirm_button() {
        let state = ready()
            .apply(Action::OpenRollback)
            .apply(Action::ChooseTarget(0))
            .apply(Action::PlanLoaded(Err(
                "migration 4 cannot be undone".into()
            )))
            .apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), None);
    }

    #[test]
    fn migrate_asks_for_the_plan_to_the_latest_version() {
        let state = ready().apply(Action::OpenMigrate);
        assert_eq!(state.needs_plan(), Some(5));
        let state = state
            .apply(Action::PlanLoaded(Ok(plan(3, 5))))
            .apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), Some(Command::MigrateToLatest));
    }

    #[test]
    fn backup_dialogs_need_an_existing_backup() {
        let state = ready().apply(Action::OpenDeleteBackup("nope".into()));
        assert_eq!(state.dialog, None);
        let state = ready()
            .apply(Action::OpenDeleteBackup("b1".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(
            state.confirmed_command(),
            Some(Command::DeleteBackup("b1".into()))
        );
        let state = ready()
            .apply(Action::OpenRestoreBackup("b1".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(
            state.confirmed_command(),
            Some(Command::RestoreBackup("b1".into()))
        );
    }

    #[test]
    fn an_uploaded_file_is_verified_before_it_can_be_restored() {
        let state = ready()
            .apply(Action::FileChosen("x.rewind".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), None, "still verifying");
        let bad = state.clone().apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Err("damaged".into()),
        });
        assert_eq!(bad.confirmed_command(), None);
        let other_db = state.clone().apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Ok(BackupManifest {
                database: B.into(),
                ..manifest("f")
            }),
        });
        assert_eq!(
            other_db.confirmed_command(),
            None,
            "another database's backup is refused"
        );
        match &other_db.dialog {
            Some(Dialog::RestoreFile {
                manifest: Loadable::Failed(m),
                ..
            }) => {
                assert!(
                    m.contains(&format!("not {A:?}")) && m.contains("Nothing was changed"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
        let stale = state.clone().apply(Action::FileInspected {
            file_name: "older.rewind".into(),
            manifest: Ok(manifest("f")),
        });
        assert_eq!(
            stale.confirmed_command(),
            None,
            "an answer about another file is ignored"
        );
        let good = state.apply(Action::FileInspected {
            file_name: "x.rewind".into(),
            manifest: Ok(manifest("f")),
        });
        assert_eq!(good.confirmed_command(), Some(Command::RestoreFile));
    }

    #[test]
    fn a_backup_newer_than_the_app_is_refused_before_confirming() {
        let latest = crate::app_migrations::latest_version().unwrap();
        let newer = BackupManifest {
            schema_version: latest + 1,
            ..manifest("n")
        };
        let file = ready()
            .apply(Action::FileChosen("n.rewind".into()))
            .apply(Action::FileInspected {
                file_name: "n.rewind".into(),
                manifest: Ok(newer.clone()),
            })
            .apply(Action::SetUnderstood(true));
        assert_eq!(file.confirmed_command(), None);
        match &file.dialog {
            Some(Dialog::RestoreFile {
                manifest: Loadable::Failed(m),
                ..
            }) => assert!(
                m.starts_with(&format!(
                    "this backup is at schema version {}, newer than this app knows (up to {latest})",
                    latest + 1
                )) && !m.contains("NewerBackup"),
                "the library's own message: {m}"
            ),
            other => panic!("{other:?}"),
        }
        // A listed backup made by a newer app: no dialog to confirm, the reason instead.
        let listed = ready()
            .apply(Action::BackupsLoaded {
                name: A.into(),
                backups: Ok(vec![manifest("b1"), newer]),
            })
            .apply(Action::OpenRestoreBackup("n".into()));
        assert_eq!(listed.dialog, None);
        assert!(
            matches!(&listed.notice, Some(Notice::Error(m)) if m.starts_with("Backup n cannot be restored: this backup is at schema version")),
            "{:?}",
            listed.notice
        );
        let fine = listed.apply(Action::OpenRestoreBackup("b1".into()));
        assert!(matches!(fine.dialog, Some(Dialog::RestoreBackup { .. })));
    }

    fn with_skipped(id: &str) -> BackupManifest {
        BackupManifest {
            skipped: vec![rewind::backup::SkippedRecord {
                store: "notes".into(),
                key: "7".into(),
                key_bytes: "040e".into(),
                type_name: "CryptoKey".into(),
                path: ".secret".into(),
            }],
            ..manifest(id)
        }
    }

    #[test]
    fn a_restore_that_left_records_out_waits_for_what_it_will_keep() {
        let listed = ready().apply(Action::BackupsLoaded {
            name: A.into(),
            backups: Ok(vec![with_skipped("s"), manifest("b1")]),
        });
        let opened = listed
            .clone()
            .apply(Action::OpenRestoreBackup("s".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(opened.needs_kept().map(|m| m.id.as_str()), Some("s"));
        assert_eq!(opened.confirmed_command(), None, "still looking");
        let stale = opened.clone().apply(Action::KeptLoaded {
            id: "b1".into(),
            kept: Ok(vec![true]),
        });
        assert_eq!(
            stale.confirmed_command(),
            None,
            "an answer for another backup"
        );
        let failed = opened.clone().apply(Action::KeptLoaded {
            id: "s".into(),
            kept: Err("no room".into()),
        });
        assert_eq!(failed.confirmed_command(), None);
        assert_eq!(failed.needs_kept(), None, "not asked again and again");
        let known = opened.apply(Action::KeptLoaded {
            id: "s".into(),
            kept: Ok(vec![false]),
        });
        assert_eq!(
            known.confirmed_command(),
            Some(Command::RestoreBackup("s".into()))
        );
        // A backup that left nothing out has nothing to look up.
        let plain = listed.apply(Action::OpenRestoreBackup("b1".into()));
        assert_eq!(plain.needs_kept(), None);
        // The same for a file, once it is verified.
        let file = ready()
            .apply(Action::FileChosen("s.rewind".into()))
            .apply(Action::SetUnderstood(true));
        assert_eq!(file.needs_kept(), None, "not before the file is verified");
        let file = file.apply(Action::FileInspected {
            file_name: "s.rewind".into(),
            manifest: Ok(with_skipped("s")),
        });
        assert_eq!(file.needs_kept().map(|m| m.id.as_str()), Some("s"));
        assert_eq!(file.confirmed_command(), None);
        let file = file.apply(Action::KeptLoaded {
            id: "s".into(),
            kept: Ok(vec![true]),
        });
        assert_eq!(file.confirmed_command(), Some(Command::RestoreFile));
    }

    #[test]
    fn another_database_s_backup_is_refused_with_what_to_do_on_this_page() {
        let other = BackupManifest {
            database: "someone-else".into(),
            ..manifest("o")
        };
        let file = ready()
            .apply(Action::FileChosen("o.rewind".into()))
            .apply(Action::FileInspected {
                file_name: "o.rewind".into(),
                manifest: Ok(other),
            })
            .apply(Action::SetUnderstood(true));
        assert_eq!(file.confirmed_command(), None);
        match &file.dialog {
            Some(Dialog::RestoreFile {
                manifest: Loadable::Failed(m),
                ..
            }) => assert_eq!(
                *m,
                format!(
                    "this backup is of database \"someone-else\", not {A:?}. Nothing was \
                     changed; choose a backup of {A:?}."
                )
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_download_is_shown_and_leaves_a_running_operation_alone() {
        let idle = ready();
        assert!(idle.can_download());
        let failed = idle
            .clone()
            .apply(Action::Notify(Notice::Error("no room".into())));
        assert_eq!(failed.notice, Some(Notice::Error("no room".into())));
        assert_eq!(failed.generation, idle.generation, "nothing to read again");

        let running = ready().apply(Action::Run(Command::CreateBackup {
            label: "x".into(),
            skip_unsupported: false,
        }));
        assert!(
            !running.can_download(),
            "Download is disabled during an operation"
        );
        let state = running
            .clone()
            .apply(Action::Notify(Notice::Error("no room".into())));
        assert_eq!(
            state.operation, running.operation,
            "the operation still runs"
        );
        assert_eq!(state.generation, running.generation);
        assert_eq!(state.notice, Some(Notice::Error("no room".into())));
        let state = state.apply(Action::Finished(Ok("created".into())));
        assert_eq!(state.notice, Some(Notice::Success("created".into())));
        assert!(state.can_download());
    }

    #[test]
    fn only_commands_that_change_the_database_are_noted_while_they_run() {
        for command in [
            Command::Rollback(1),
            Command::MigrateToLatest,
            Command::RestoreBackup("b1".into()),
            Command::RestoreFile,
            Command::Repair,
        ] {
            assert!(command.changes_data(), "{command:?}");
        }
        assert!(!Command::CreateBackup {
            label: "x".into(),
            skip_unsupported: false,
        }
        .changes_data());
        assert!(!Command::DeleteBackup("b1".into()).changes_data());
    }

    #[test]
    fn one_operation_at_a_time_with_progress_then_a_notice_and_a_reload() {
        let state = ready().apply(Action::Run(Command::CreateBackup {
            label: "x".into(),
            skip_unsupported: false,
        }));
        let generation = state.generation;
        let busy = state
            .clone()
            .apply(Action::Run(Command::Rollback(1)))
            .apply(Action::OpenRollback)
            .apply(Action::Select(B.into()));
        assert_eq!(
            busy.operation.as_ref().unwrap().command,
            Command::CreateBackup {
                label: "x".into(),
                skip_unsupported: false,
            }
        );
        assert_eq!(busy.dialog, None, "no dialog opens while an operation runs");
        assert_eq!(
            busy.selected.as_deref(),
            Some(A),
            "the database cannot change mid-operation"
        );
        let state = state
            .apply(Action::Progress { done: 5, total: 10 })
            .apply(Action::Blocked);
        assert_eq!(
            state.operation.as_ref().map(|o| (o.done, o.total)),
            Some((5, 10))
        );
        assert!(state.blocked);
        let state = state.apply(Action::Finished(Err("quota".into())));
        assert_eq!(state.operation, None);
        assert!(!state.blocked);
        assert_eq!(state.notice, Some(Notice::Error("quota".into())));
        assert_eq!(state.generation, generation + 1, "everything is read again");
        assert_eq!(state.databases, Loadable::Loading);
        assert_eq!(
            state.health,
            Loadable::Loading,
            "status and validation are read again"
        );
        // A second Finished (e.g. a late duplicate) changes nothing.
        let again = state.clone().apply(Action::Finished(Ok("late".into())));
        assert_eq!(again, state);
    }

    #[test]
    fn a_change_in_another_tab_reloads_the_selected_database_only() {
        let state = ready().apply(Action::ChangedElsewhere(B.into()));
        assert_eq!(state, ready(), "another database: nothing to do");
        let state = ready().apply(Action::ChangedElsewhere(A.into()));
        assert_eq!(state.generation, ready().generation + 1);
        assert_eq!(state.health, Loadable::Loading);
        assert!(matches!(state.notice, Some(Notice::Success(ref m)) if m.contains("another tab")));
        let busy = ready().apply(Action::Run(Command::Rollback(1)));
        assert_eq!(busy.clone().apply(Action::ChangedElsewhere(A.into())), busy);
    }

    #[test]
    fn repair_is_offered_only_for_drift_and_needs_confirmation() {
        assert_eq!(
            ready().apply(Action::OpenRepair).dialog,
            None,
            "no drift, nothing to repair"
        );
        let mut h = health(3, 5);
        h.status.drifted.push(rewind::engine::DriftedMigration {
            version: 2,
            name: "tags".into(),
            recorded: rewind::Checksum("x".into()),
            current: rewind::Checksum(B.into()),
        });
        let state = ready()
            .apply(Action::HealthLoaded {
                name: A.into(),
                health: Ok(h),
            })
            .apply(Action::OpenRepair);
        assert_eq!(
            state.dialog.as_ref().map(|d| d.title()),
            Some("Repair checksums")
        );
        assert_eq!(state.confirmed_command(), None);
        let state = state.apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), Some(Command::Repair));
    }

    fn journal_entry(at: f64, error: Option<&str>) -> rewind::JournalEntry {
        rewind::JournalEntry {
            at,
            operation: rewind::Operation::Rollback,
            from: 3,
            to: 2,
            error: error.map(Into::into),
            backup_id: None,
        }
    }

    #[test]
    fn an_interrupted_operation_is_explained_from_the_journal() {
        let interrupted = Interrupted {
            database: A.into(),
            description: "Rolling back to version 2".into(),
            started_at: 100.0,
        };
        // The journal has nothing after it started: nothing changed.
        let mut h = health(3, 5);
        h.status.journal = vec![
            journal_entry(50.0, None),
            journal_entry(150.0, Some("failed")),
        ];
        let state = PageState::default()
            .apply(Action::FoundInterrupted(interrupted.clone()))
            .apply(Action::DatabasesLoaded(vec![listing(A)]));
        assert!(state.notice.is_none(), "waits for the journal");
        let state = state.apply(Action::HealthLoaded {
            name: A.into(),
            health: Ok(h),
        });
        assert!(
            matches!(&state.notice, Some(Notice::Error(m)) if m.starts_with("Rolling back to version 2 was interrupted") && m.contains("exactly as it was before")),
            "{:?}",
            state.notice
        );
        assert_eq!(state.interrupted, None);
        // An entry after it started: it completed.
        let mut h = health(2, 5);
        h.status.journal = vec![journal_entry(120.0, None)];
        let state = PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing(A)]))
            .apply(Action::HealthLoaded {
                name: A.into(),
                health: Ok(h),
            })
            .apply(Action::FoundInterrupted(interrupted));
        assert!(matches!(&state.notice, Some(Notice::Success(m)) if m.contains("had completed")));
    }
}
