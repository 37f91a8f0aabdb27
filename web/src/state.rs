//! The recovery page's state as a plain struct and the actions that change it.
//!
//! Components dispatch [`Action`]s and render [`PageState`]; nothing here touches the browser,
//! so every transition — including the awkward ones, like an answer arriving for a database
//! the user has already left, or a confirm clicked before the box was ticked — is tested
//! natively. What the page must run in the browser is handed out as a [`Command`].

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

/// The origin's storage as the browser reports it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Storage {
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
    pub storage: Option<Storage>,
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
        understood: bool,
    },
    DeleteBackup {
        manifest: BackupManifest,
        understood: bool,
    },
    RestoreFile {
        file_name: String,
        manifest: Loadable<BackupManifest>,
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
            Dialog::RestoreBackup { .. } | Dialog::DeleteBackup { .. } | Dialog::Repair { .. } => {
                true
            }
            Dialog::RestoreFile { manifest, .. } => manifest.ready().is_some(),
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
    CreateBackup(String),
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
            Command::CreateBackup(_) => "Creating a backup".into(),
            Command::Repair => "Repairing the checksums".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
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
    pub operation: Option<Operation>,
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
    SetUnderstood(bool),
    CloseDialog,

    Confirm,
    Run(Command),
    Progress {
        done: u64,
        total: u64,
    },
    Blocked,
    Finished(Result<String, String>),
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
                let manifest = self.backup(&id).cloned();
                self.dialog = manifest.map(|manifest| Dialog::RestoreBackup {
                    manifest,
                    understood: false,
                });
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
                        understood: false,
                    });
                }
            }
            Action::FileInspected {
                file_name,
                manifest: result,
            } => {
                if let Some(Dialog::RestoreFile {
                    file_name: current,
                    manifest,
                    ..
                }) = &mut self.dialog
                {
                    if *current == file_name {
                        let selected = self.selected.clone().unwrap_or_default();
                        *manifest = match result {
                            Ok(m) if m.database != selected => Loadable::Failed(format!(
                                "This backup is of database {:?}, not {selected:?}. Nothing was \
                                 changed. Select {:?} in the list to restore it there, or choose \
                                 a backup of {selected:?}.",
                                m.database, m.database
                            )),
                            other => other.into(),
                        };
                    }
                }
            }
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
                    self.operation = Some(Operation {
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
                    self.generation += 1;
                    self.databases = Loadable::Loading;
                    self.reload_details();
                }
            }
            Action::DismissNotice => self.notice = None,
            Action::FoundInterrupted(interrupted) => {
                self.interrupted = Some(interrupted);
                self.settle_interrupted();
            }
            Action::ChangedElsewhere(name) => {
                if self.operation.is_none() && self.is_selected(&name) {
                    self.generation += 1;
                    self.databases = Loadable::Loading;
                    self.reload_details();
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

    /// What is shown about the selected database is being read (again), or there is none.
    fn reload_details(&mut self) {
        let any = self.selected.is_some();
        self.summary = if any {
            Loadable::Loading
        } else {
            Loadable::Idle
        };
        self.health = if any {
            Loadable::Loading
        } else {
            Loadable::Idle
        };
        self.backups = if any {
            Loadable::Loading
        } else {
            Loadable::Idle
        };
    }

    fn is_selected(&self, name: &str) -> bool {
        self.selected.as_deref() == Some(name)
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

/// Human-sized bytes: "1.5 MB".
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// "2026-11-26 17:18 UTC" for milliseconds since the epoch.
pub fn format_time(ms: f64) -> String {
    let stamp = rewind::backup::utc_stamp(ms);
    // YYYYMMDDTHHMMSSZ
    format!(
        "{}-{}-{} {}:{} UTC",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind::engine::RewindMeta;
    use rewind::{DatabaseSchema, Direction, PlanEffects};

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
            database: "a".into(),
            schema_version: 2,
            idb_version: 3,
            created_at: 0.0,
            label: String::new(),
            automatic: false,
            meta: RewindMeta::default(),
            stores: vec![],
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

    /// Database "a" at version 3 of 5, with one backup.
    fn ready() -> PageState {
        PageState::default()
            .apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]))
            .apply(Action::SummaryLoaded(summary("a")))
            .apply(Action::HealthLoaded {
                name: "a".into(),
                health: Ok(health(3, 5)),
            })
            .apply(Action::BackupsLoaded {
                name: "a".into(),
                backups: Ok(vec![manifest("b1")]),
            })
    }

    #[test]
    fn loading_the_list_selects_the_first_database_and_loads_everything_about_it() {
        let state = PageState::default()
            .apply(Action::DatabasesLoading)
            .apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]));
        assert_eq!(state.selected.as_deref(), Some("a"));
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
        let state = ready().apply(Action::DatabasesLoaded(vec![listing("a"), listing("b")]));
        assert_eq!(state.selected.as_deref(), Some("a"));
        assert_eq!(state.summary, Loadable::Ready(summary("a")));
        assert!(state.health.ready().is_some());
    }

    #[test]
    fn a_selected_database_that_disappeared_is_replaced() {
        let state = ready()
            .apply(Action::Select("b".into()))
            .apply(Action::DatabasesLoaded(vec![listing("a")]));
        assert_eq!(state.selected.as_deref(), Some("a"));
    }

    #[test]
    fn late_answers_for_a_database_the_user_left_are_ignored() {
        let state = ready()
            .apply(Action::Select("b".into()))
            .apply(Action::SummaryLoaded(summary("a")))
            .apply(Action::HealthLoaded {
                name: "a".into(),
                health: Ok(health(1, 5)),
            })
            .apply(Action::BackupsLoaded {
                name: "a".into(),
                backups: Ok(vec![]),
            });
        assert_eq!(state.summary, Loadable::Loading);
        assert_eq!(state.health, Loadable::Loading);
        assert_eq!(state.backups, Loadable::Loading);
    }

    #[test]
    fn rollback_targets_are_the_versions_below_the_current_one() {
        let state = ready();
        assert_eq!(state.rollback_targets(), vec![2, 1, 0]);
        assert!(state.can_roll_back() && state.can_migrate());
        let unknown = ready().apply(Action::HealthLoaded {
            name: "a".into(),
            health: Ok(health(7, 5)),
        });
        assert!(
            unknown.rollback_targets().is_empty(),
            "no rollback from a version this app does not know"
        );
        assert!(!unknown.can_migrate());
        let latest = ready().apply(Action::HealthLoaded {
            name: "a".into(),
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
                database: "b".into(),
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
                    m.contains("not \"a\"") && m.contains("Nothing was changed"),
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
    fn one_operation_at_a_time_with_progress_then_a_notice_and_a_reload() {
        let state = ready().apply(Action::Run(Command::CreateBackup("x".into())));
        let generation = state.generation;
        let busy = state
            .clone()
            .apply(Action::Run(Command::Rollback(1)))
            .apply(Action::OpenRollback)
            .apply(Action::Select("b".into()));
        assert_eq!(
            busy.operation.as_ref().unwrap().command,
            Command::CreateBackup("x".into())
        );
        assert_eq!(busy.dialog, None, "no dialog opens while an operation runs");
        assert_eq!(
            busy.selected.as_deref(),
            Some("a"),
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
        let state = ready().apply(Action::ChangedElsewhere("b".into()));
        assert_eq!(state, ready(), "another database: nothing to do");
        let state = ready().apply(Action::ChangedElsewhere("a".into()));
        assert_eq!(state.generation, ready().generation + 1);
        assert_eq!(state.health, Loadable::Loading);
        assert!(matches!(state.notice, Some(Notice::Success(ref m)) if m.contains("another tab")));
        let busy = ready().apply(Action::Run(Command::Rollback(1)));
        assert_eq!(
            busy.clone().apply(Action::ChangedElsewhere("a".into())),
            busy
        );
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
            recorded: rewind::Checksum("a".into()),
            current: rewind::Checksum("b".into()),
        });
        let state = ready()
            .apply(Action::HealthLoaded {
                name: "a".into(),
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
            database: "a".into(),
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
            .apply(Action::DatabasesLoaded(vec![listing("a")]));
        assert!(state.notice.is_none(), "waits for the journal");
        let state = state.apply(Action::HealthLoaded {
            name: "a".into(),
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
            .apply(Action::DatabasesLoaded(vec![listing("a")]))
            .apply(Action::HealthLoaded {
                name: "a".into(),
                health: Ok(h),
            })
            .apply(Action::FoundInterrupted(interrupted));
        assert!(matches!(&state.notice, Some(Notice::Success(m)) if m.contains("had completed")));
    }

    #[test]
    fn sizes_and_times_read_well() {
        assert_eq!(format_bytes(999), "999 bytes");
        assert_eq!(format_bytes(1_500_000), "1.5 MB");
        assert_eq!(format_time(1_767_225_600_000.0), "2026-01-01 00:00 UTC");
    }
}
