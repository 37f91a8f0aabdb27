//! The confirmation dialogs of migrate, rollback and repair, and what every dialog shares: a
//! confirm only works with a valid preview and the box ticked, and ticking it again is needed
//! whenever the preview changes.

use super::{Command, Loadable, PageState, Secret};
use rewind::backup::BackupManifest;
use rewind::{MigrationPlan, RestoreDiff};

/// An open confirmation dialog. Each shows what will happen and needs "I understand what will
/// change" ticked before its confirm button works.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub kind: DialogKind,
    pub understood: bool,
    /// The person chose to run it without the automatic backup before it (for a database whose
    /// backup does not fit); unticked whenever a dialog opens.
    pub without_backup: bool,
}

/// What a dialog is about, with the preview it shows.
#[derive(Debug, Clone, PartialEq)]
pub enum DialogKind {
    Rollback {
        target: Option<u32>,
        plan: Loadable<MigrationPlan>,
    },
    Migrate {
        plan: Loadable<MigrationPlan>,
    },
    /// Roll back a database changed by a newer release (at `from`, a version this app does
    /// not know) to `target`, the newest it knows, with the steps the database keeps.
    StoredRollback {
        from: u32,
        target: u32,
        plan: Loadable<MigrationPlan>,
    },
    RestoreBackup {
        manifest: BackupManifest,
        /// For each record the backup left out: whether the restore keeps the live one.
        kept: Loadable<Vec<bool>>,
        /// What the restore would change against the live database (shown, never awaited,
        /// except for a sealed backup, where it proves the passphrase).
        changes: Loadable<RestoreDiff>,
        /// The backup is sealed: the dialog asks for its passphrase.
        sealed: bool,
        /// What the person typed in the passphrase field.
        passphrase: Secret,
        /// The passphrase the backup is being read with, until it refuses it.
        unlocked_with: Option<Secret>,
    },
    DeleteBackup {
        manifest: BackupManifest,
    },
    RestoreFile {
        file_name: String,
        manifest: Loadable<BackupManifest>,
        kept: Loadable<Vec<bool>>,
        changes: Loadable<RestoreDiff>,
        /// What the person typed in the passphrase field (for a sealed file).
        passphrase: Secret,
        /// The passphrase the file is being read with, once the person asked to open it.
        unlocked_with: Option<Secret>,
        /// The file turned out sealed: the dialog asks for its passphrase.
        sealed: bool,
    },
    /// Download a backup, sealed under a passphrase when the person gives one; one sealed
    /// already needs its own, and is downloaded as it is.
    Download {
        manifest: BackupManifest,
        passphrase: Secret,
        sealed: bool,
    },
    /// Re-record the checksums of migrations changed after they were applied.
    Repair {
        drifted: Vec<(u32, String)>,
    },
    /// Record a database made before the app used Rewind at `version`, whose schema it has.
    Adopt {
        version: u32,
    },
}

impl Dialog {
    /// Whether the confirm button may be pressed: the preview is there and valid, and the
    /// person ticked "I understand what will change".
    pub fn can_confirm(&self) -> bool {
        let ready = match &self.kind {
            DialogKind::Rollback { target, plan } => target.is_some() && plan.ready().is_some(),
            DialogKind::Migrate { plan } | DialogKind::StoredRollback { plan, .. } => {
                plan.ready().is_some()
            }
            DialogKind::RestoreBackup {
                kept,
                sealed,
                unlocked_with,
                changes,
                ..
            } => kept.ready().is_some() && (!sealed || proven(unlocked_with, changes)),
            DialogKind::DeleteBackup { .. }
            | DialogKind::Repair { .. }
            | DialogKind::Adopt { .. } => true,
            DialogKind::RestoreFile { manifest, kept, .. } => {
                manifest.ready().is_some() && kept.ready().is_some()
            }
            // A download changes nothing: there is nothing to understand first; one sealed
            // already needs its passphrase.
            DialogKind::Download {
                sealed, passphrase, ..
            } => return !sealed || !passphrase.is_empty(),
        };
        ready && self.understood
    }

    /// Whether its operation takes an automatic backup first, which the person may decline.
    pub fn offers_without_backup(&self) -> bool {
        matches!(
            self.kind,
            DialogKind::Rollback { .. }
                | DialogKind::Migrate { .. }
                | DialogKind::StoredRollback { .. }
                | DialogKind::RestoreBackup { .. }
                | DialogKind::RestoreFile { .. }
                | DialogKind::Adopt { .. }
        )
    }

    /// The command its confirm button runs.
    fn command(&self) -> Option<Command> {
        Some(match &self.kind {
            DialogKind::Rollback { target, .. } => Command::Rollback((*target)?),
            DialogKind::Migrate { .. } => Command::MigrateToLatest,
            DialogKind::StoredRollback { target, .. } => Command::RollbackFromStored(*target),
            DialogKind::RestoreBackup {
                manifest,
                sealed: true,
                unlocked_with,
                ..
            } => Command::RestoreSealedBackup {
                id: manifest.id.clone(),
                passphrase: unlocked_with.clone()?,
            },
            DialogKind::RestoreBackup { manifest, .. } => {
                Command::RestoreBackup(manifest.id.clone())
            }
            DialogKind::DeleteBackup { manifest } => Command::DeleteBackup(manifest.id.clone()),
            DialogKind::RestoreFile { unlocked_with, .. } => Command::RestoreFile {
                passphrase: unlocked_with.clone(),
            },
            DialogKind::Download { .. } => return None,
            DialogKind::Repair { .. } => Command::Repair,
            DialogKind::Adopt { version } => Command::Adopt(*version),
        })
    }
}

/// Whether a sealed backup's passphrase is proven: the backup was read with it (its diff came,
/// or failed for another reason than the passphrase, which ends `unlocked_with`).
fn proven(unlocked_with: &Option<Secret>, changes: &Loadable<RestoreDiff>) -> bool {
    unlocked_with.is_some() && !matches!(changes, Loadable::Idle | Loadable::Loading)
}

impl PageState {
    /// A dialog opens only while no operation runs, and always with its box unticked.
    pub(super) fn open(&mut self, kind: DialogKind) {
        if self.operation.is_none() {
            self.dialog = Some(Dialog {
                kind,
                understood: false,
                without_backup: false,
            });
        }
    }

    pub(super) fn open_rollback(&mut self) {
        self.open(DialogKind::Rollback {
            target: None,
            plan: Loadable::Idle,
        });
    }

    /// A new target needs a new preview, and the box ticked again.
    pub(super) fn choose_target(&mut self, version: u32) {
        if let Some(Dialog {
            kind: DialogKind::Rollback { target, plan },
            understood,
            ..
        }) = &mut self.dialog
        {
            *target = Some(version);
            *plan = Loadable::Loading;
            *understood = false;
        }
    }

    pub(super) fn open_migrate(&mut self) {
        self.open(DialogKind::Migrate {
            plan: Loadable::Loading,
        });
    }

    /// Only when migrations drifted: there is nothing else to repair.
    pub(super) fn open_repair(&mut self) {
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
        if !drifted.is_empty() {
            self.open(DialogKind::Repair { drifted });
        }
    }

    /// Only for a database made before the app used Rewind, at a version its schema matches.
    pub(super) fn open_adopt(&mut self, version: u32) {
        let matches = self
            .health
            .ready()
            .is_some_and(|h| !h.status.managed && h.status.matching_versions.contains(&version));
        if matches {
            self.open(DialogKind::Adopt { version });
        }
    }

    /// The box ticked before the preview arrived did not see it: untick.
    pub(super) fn plan_loaded(&mut self, result: Result<MigrationPlan, String>) {
        let Some(dialog) = &mut self.dialog else {
            return;
        };
        match &mut dialog.kind {
            // An answer for another target than the one chosen now is stale.
            DialogKind::Rollback {
                plan,
                target: Some(t),
            } if result.as_ref().map_or(true, |p| p.to == *t) => *plan = result.into(),
            DialogKind::StoredRollback { plan, target, .. }
                if *plan == Loadable::Loading
                    && result.as_ref().map_or(true, |p| p.to == *target) =>
            {
                *plan = result.into()
            }
            DialogKind::Migrate { plan } => *plan = result.into(),
            _ => return,
        }
        dialog.understood = false;
    }

    pub(super) fn set_understood(&mut self, value: bool) {
        if let Some(d) = &mut self.dialog {
            d.understood = value;
        }
    }

    pub(super) fn set_without_backup(&mut self, value: bool) {
        if let Some(d) = &mut self.dialog {
            d.without_backup = value && d.offers_without_backup();
        }
    }

    /// A running operation's dialog is already gone; nothing to close then.
    pub(super) fn close_dialog(&mut self) {
        if self.operation.is_none() {
            self.dialog = None;
        }
    }

    /// The command the open dialog's confirm button runs, if it may be pressed.
    pub(super) fn confirmed_command(&self) -> Option<Command> {
        let dialog = self.dialog.as_ref()?;
        if !dialog.can_confirm() || self.operation.is_some() {
            return None;
        }
        dialog.command()
    }

    /// The plan a dialog waits for: `Some(target)`.
    pub fn needs_plan(&self) -> Option<u32> {
        match &self.dialog.as_ref()?.kind {
            DialogKind::Rollback {
                target: Some(t),
                plan: Loadable::Loading,
            } => Some(*t),
            DialogKind::Migrate {
                plan: Loadable::Loading,
            } => self.health.ready().map(|h| h.status.latest_version),
            _ => None,
        }
    }

    /// The versions a rollback can target from here: every version below the current one (none
    /// until a database made before the app used Rewind is adopted).
    pub fn rollback_targets(&self) -> Vec<u32> {
        match self.health.ready() {
            Some(h) if !h.status.unknown && h.status.managed => {
                (0..h.status.schema_version).rev().collect()
            }
            _ => Vec::new(),
        }
    }

    pub fn can_migrate(&self) -> bool {
        self.operation.is_none()
            && self.health.ready().is_some_and(|h| {
                !h.status.unknown && h.status.managed && !h.status.pending.is_empty()
            })
    }

    pub fn can_roll_back(&self) -> bool {
        self.operation.is_none() && !self.rollback_targets().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use crate::labels;
    use crate::state::fixtures::*;
    use crate::state::{Action, Command, Dialog, DialogKind, Loadable};

    #[test]
    fn an_operation_runs_without_its_automatic_backup_only_when_the_person_ticks_it() {
        let open = ready()
            .apply(Action::OpenMigrate)
            .apply(Action::PlanLoaded(Ok(plan(1, 3))));
        assert!(open.dialog.as_ref().unwrap().offers_without_backup());
        assert!(
            !open.dialog.as_ref().unwrap().without_backup,
            "unticked at first"
        );
        let by_default = open
            .clone()
            .apply(Action::SetUnderstood(true))
            .apply(Action::Confirm);
        assert!(by_default.operation.unwrap().automatic_backup);
        let chosen = open
            .clone()
            .apply(Action::SetWithoutBackup(true))
            .apply(Action::SetUnderstood(true))
            .apply(Action::Confirm);
        let running = chosen.operation.unwrap();
        assert_eq!(running.command, Command::MigrateToLatest);
        assert!(!running.automatic_backup);
        // Ticked and then unticked again: the backup is taken.
        let changed_mind = open
            .apply(Action::SetWithoutBackup(true))
            .apply(Action::SetWithoutBackup(false))
            .apply(Action::SetUnderstood(true))
            .apply(Action::Confirm);
        assert!(changed_mind.operation.unwrap().automatic_backup);
        // A dialog that opens again starts unticked; one without a backup to decline ignores it.
        let again = ready()
            .apply(Action::OpenRollback)
            .apply(Action::SetWithoutBackup(true))
            .apply(Action::CloseDialog)
            .apply(Action::OpenRollback);
        assert!(!again.dialog.unwrap().without_backup);
        let repair = Dialog {
            kind: DialogKind::Repair { drifted: vec![] },
            understood: false,
            without_backup: false,
        };
        assert!(!repair.offers_without_backup());
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
        assert_eq!(
            labels::dialog_title(state.dialog.as_ref().unwrap()),
            "Roll back database"
        );
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
            Some(Dialog {
                kind: DialogKind::Rollback { target, plan },
                understood,
                ..
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
    fn repair_is_offered_only_for_drift_and_needs_confirmation() {
        assert_eq!(
            ready().apply(Action::OpenRepair).dialog,
            None,
            "no drift, nothing to repair"
        );
        let mut h = health(3, 5);
        h.status.drifted.push(rewind::DriftedMigration {
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
            state.dialog.as_ref().map(labels::dialog_title),
            Some("Repair checksums")
        );
        assert_eq!(state.confirmed_command(), None);
        let state = state.apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), Some(Command::Repair));
    }

    #[test]
    fn an_unmanaged_database_is_offered_adoption_at_a_matching_version_and_nothing_else() {
        assert_eq!(
            ready().apply(Action::OpenAdopt(3)).dialog,
            None,
            "a managed database is not adopted"
        );
        let mut h = health(0, 5);
        h.status.managed = false;
        h.status.matching_versions = vec![2, 3];
        let state = ready().apply(Action::HealthLoaded {
            name: A.into(),
            health: Ok(h),
        });
        assert!(!state.can_migrate() && !state.can_roll_back());
        assert_eq!(state.clone().apply(Action::OpenAdopt(4)).dialog, None);
        let state = state.apply(Action::OpenAdopt(3));
        let dialog = state.dialog.as_ref().unwrap();
        assert_eq!(labels::dialog_title(dialog), "Adopt database");
        assert_eq!(labels::confirm_button(dialog), "Adopt");
        assert!(dialog.offers_without_backup());
        assert_eq!(state.confirmed_command(), None, "the box is not ticked");
        let state = state.apply(Action::SetUnderstood(true));
        assert_eq!(state.confirmed_command(), Some(Command::Adopt(3)));
        let running = state.apply(Action::Confirm).operation.unwrap();
        assert!(running.automatic_backup && running.command.changes_data());
        assert_eq!(
            labels::running(&running.command),
            "Adopting the database at version 3"
        );
    }
}
