//! A database changed by a newer release of the app (at a version this app does not know):
//! rolling it back to the newest version this app knows with the steps the database keeps,
//! after the usual preview (marked as coming from the database) and confirmation; when the
//! library refuses (a changed stored step, a transform this app does not have, a migration
//! without `down` or not kept), the newest backup this app can restore instead.

use super::{DialogKind, Loadable, PageState};
use crate::policy;
use rewind::backup::BackupManifest;

/// Where a database changed by a newer release stands, for the status panel.
#[derive(Debug, Clone, PartialEq)]
pub struct NewerRelease {
    /// The schema version the newer release left.
    pub version: u32,
    /// The newest version this app knows: where a rollback takes it.
    pub latest: u32,
}

impl PageState {
    /// `Some` when the selected database (managed by this app) is at a version it does not know.
    pub fn newer_release(&self) -> Option<NewerRelease> {
        let status = &self.health.ready()?.status;
        (status.managed && status.unknown).then_some(NewerRelease {
            version: status.schema_version,
            latest: status.latest_version,
        })
    }

    pub fn can_roll_back_stored(&self) -> bool {
        self.operation.is_none() && self.newer_release().is_some()
    }

    pub(super) fn open_stored_rollback(&mut self) {
        if let Some(newer) = self.newer_release() {
            self.open(DialogKind::StoredRollback {
                from: newer.version,
                target: newer.latest,
                plan: Loadable::Loading,
            });
        }
    }

    /// The target whose plan from the stored steps the open dialog waits for.
    pub fn needs_stored_plan(&self) -> Option<u32> {
        match &self.dialog.as_ref()?.kind {
            DialogKind::StoredRollback {
                target,
                plan: Loadable::Loading,
                ..
            } => Some(*target),
            _ => None,
        }
    }

    /// What the page offers when the rollback from the stored steps is refused: the newest
    /// backup at a version this app knows that it would restore.
    pub fn fallback_backup(&self) -> Option<&BackupManifest> {
        let newer = self.newer_release()?;
        let refused = matches!(
            &self.dialog.as_ref()?.kind,
            DialogKind::StoredRollback {
                plan: Loadable::Failed(_),
                ..
            }
        );
        if !refused {
            return None;
        }
        let target = self.selected.as_deref().unwrap_or_default();
        self.backups
            .ready()?
            .iter()
            .filter(|m| m.schema_version <= newer.latest)
            .filter(|m| policy::restore_refusal(m, target, newer.latest).is_none())
            .max_by(|a, b| a.created_at.total_cmp(&b.created_at))
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::*;
    use crate::state::{Action, Command, DialogKind, Health, Loadable, PageState};

    /// The demo database at version `at`, changed by a newer release (this app knows 2).
    fn newer(at: u32) -> PageState {
        let mut health = health(at, 2);
        health.status.stored_versions = (1..=at).collect();
        with_health(health)
    }

    fn with_health(health: Health) -> PageState {
        let name = ready().selected.clone().unwrap();
        ready().apply(Action::HealthLoaded {
            name,
            health: Ok(health),
        })
    }

    fn stored_plan(from: u32, to: u32) -> rewind::MigrationPlan {
        rewind::MigrationPlan {
            from_database: (to + 1..=from).rev().collect(),
            ..plan(from, to)
        }
    }

    #[test]
    fn a_database_at_an_unknown_version_offers_the_rollback_to_the_newest_known_one() {
        let state = newer(4);
        let offered = state.newer_release().unwrap();
        assert_eq!((offered.version, offered.latest), (4, 2));
        assert!(
            state.rollback_targets().is_empty(),
            "no ordinary rollback from there"
        );
        assert_eq!(
            ready().newer_release(),
            None,
            "not at a version this app knows"
        );
        let mut unmanaged = health(4, 2);
        unmanaged.status.managed = false;
        assert_eq!(with_health(unmanaged).newer_release(), None);
    }

    #[test]
    fn the_stored_rollback_runs_after_its_preview_and_the_box_ticked() {
        let state = newer(4).apply(Action::OpenStoredRollback);
        assert_eq!(state.needs_stored_plan(), Some(2));
        assert_eq!(state.needs_plan(), None, "not the ordinary plan");
        let early = state.clone().apply(Action::SetUnderstood(true));
        assert_eq!(early.confirmed_command(), None, "no preview yet");
        let state = early.apply(Action::PlanLoaded(Ok(stored_plan(4, 2))));
        assert!(
            !state.dialog.as_ref().unwrap().understood,
            "ticked before the preview"
        );
        assert_eq!(state.needs_stored_plan(), None);
        let state = state.apply(Action::SetUnderstood(true));
        assert_eq!(
            state.confirmed_command(),
            Some(Command::RollbackFromStored(2))
        );
        let running = state.apply(Action::Confirm);
        let op = running.operation.as_ref().unwrap();
        assert_eq!(op.command, Command::RollbackFromStored(2));
        assert!(op.automatic_backup);
        assert!(running.dialog.is_none());
    }

    #[test]
    fn a_plan_for_another_target_is_stale() {
        let state = newer(4)
            .apply(Action::OpenStoredRollback)
            .apply(Action::PlanLoaded(Ok(stored_plan(4, 1))));
        assert!(matches!(
            state.dialog.unwrap().kind,
            DialogKind::StoredRollback {
                plan: Loadable::Loading,
                ..
            }
        ));
    }

    #[test]
    fn a_refused_rollback_offers_the_newest_backup_at_a_known_version() {
        let mut state = newer(4);
        let mut b1 = manifest("b1");
        b1.schema_version = 1;
        b1.created_at = 10.0;
        let mut b2 = manifest("b2");
        b2.schema_version = 2;
        b2.created_at = 20.0;
        let mut b4 = manifest("b4");
        b4.schema_version = 4;
        b4.created_at = 30.0;
        state.backups = Loadable::Ready(vec![b4, b2, b1]);
        let open = state.apply(Action::OpenStoredRollback);
        assert_eq!(open.fallback_backup(), None, "not refused (yet)");
        let refused = open.apply(Action::PlanLoaded(Err("refused: transform".into())));
        assert_eq!(refused.fallback_backup().map(|m| m.id.as_str()), Some("b2"));
        assert_eq!(
            refused
                .clone()
                .apply(Action::SetUnderstood(true))
                .confirmed_command(),
            None,
            "nothing to confirm"
        );
        let restoring = refused.apply(Action::OpenRestoreBackup("b2".into()));
        assert!(matches!(
            restoring.dialog.unwrap().kind,
            DialogKind::RestoreBackup { .. }
        ));
        // No backup at a version this app knows: nothing to offer.
        let mut none = newer(4);
        let mut b4 = manifest("b4");
        b4.schema_version = 4;
        none.backups = Loadable::Ready(vec![b4]);
        let none = none
            .apply(Action::OpenStoredRollback)
            .apply(Action::PlanLoaded(Err("refused".into())));
        assert_eq!(none.fallback_backup(), None);
    }

    #[test]
    fn the_stored_rollback_opens_only_for_a_database_at_an_unknown_version() {
        assert!(ready().apply(Action::OpenStoredRollback).dialog.is_none());
        let running = newer(4)
            .apply(Action::Run(Command::Repair))
            .apply(Action::OpenStoredRollback);
        assert!(running.dialog.is_none(), "not while an operation runs");
    }
}
