//! Cancelling a restore. The library hears the request until the restore begins swapping the
//! written backup in; from then on it cannot stop, and the restore ends as it would have. The
//! effects set the library's flag when the running operation says a cancel was requested.

use super::{Command, Notice, PageState, RunningOperation};
use crate::messages;

impl RunningOperation {
    /// Only a restore can be cancelled (a migration, a rollback or a backup cannot).
    pub fn can_cancel(&self) -> bool {
        matches!(
            self.command,
            Command::RestoreBackup(_)
                | Command::RestoreSealedBackup { .. }
                | Command::RestoreFile { .. }
        )
    }
}

impl PageState {
    /// Whether the person asked to cancel the running operation.
    pub fn cancel_requested(&self) -> bool {
        self.operation
            .as_ref()
            .is_some_and(|op| op.cancel_requested)
    }

    pub(super) fn request_cancel(&mut self) {
        if let Some(op) = &mut self.operation {
            if op.can_cancel() {
                op.cancel_requested = true;
            }
        }
    }

    /// The restore stopped before it changed anything: a plain notice, not a failure. Its
    /// journal entry and the automatic backup before it are read again with everything else.
    pub(super) fn cancelled(&mut self) {
        if self.operation.take().is_some() {
            self.blocked = false;
            self.notice = Some(Notice::Info(messages::restore_cancelled()));
            self.reload_everything();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::*;
    use crate::state::{Action, Command, Loadable, Notice};

    #[test]
    fn a_restore_can_be_cancelled_and_ends_with_a_notice_that_nothing_changed() {
        let state = ready().apply(Action::Run(Command::RestoreBackup("b1".into())));
        assert!(state.operation.as_ref().unwrap().can_cancel());
        assert!(!state.cancel_requested());
        let generation = state.generation;
        let state = state.apply(Action::CancelRestore);
        assert!(state.cancel_requested());
        assert!(
            state.operation.is_some(),
            "it runs until the library stops it"
        );
        let state = state.apply(Action::Cancelled);
        assert_eq!(state.operation, None);
        assert!(!state.cancel_requested());
        assert!(
            matches!(&state.notice, Some(Notice::Info(m)) if m.starts_with("Restore cancelled: nothing was changed")),
            "{:?}",
            state.notice
        );
        assert_eq!(state.generation, generation + 1, "everything is read again");
        assert_eq!(state.health, Loadable::Loading);
        // A late duplicate changes nothing.
        assert_eq!(state.clone().apply(Action::Cancelled), state);
        // From a file too.
        let file = ready()
            .apply(Action::Run(Command::RestoreFile { passphrase: None }))
            .apply(Action::CancelRestore);
        assert!(file.cancel_requested());
    }

    #[test]
    fn a_cancel_that_comes_too_late_lets_the_restore_end_as_it_would_have() {
        let state = ready()
            .apply(Action::Run(Command::RestoreBackup("b1".into())))
            .apply(Action::CancelRestore)
            .apply(Action::Finished(Ok("Restored backup b1.".into())));
        assert_eq!(state.operation, None);
        match &state.notice {
            Some(Notice::Success(m)) => {
                assert!(m.starts_with("Restored backup b1."), "{m}");
                assert!(m.contains("Cancel came too late"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        // Not asked: the usual message alone.
        let state = ready()
            .apply(Action::Run(Command::RestoreBackup("b1".into())))
            .apply(Action::Finished(Ok("Restored backup b1.".into())));
        assert_eq!(
            state.notice,
            Some(Notice::Success("Restored backup b1.".into()))
        );
        // A failure after a cancel is the failure.
        let state = ready()
            .apply(Action::Run(Command::RestoreFile { passphrase: None }))
            .apply(Action::CancelRestore)
            .apply(Action::Finished(Err("quota".into())));
        assert_eq!(state.notice, Some(Notice::Error("quota".into())));
    }

    #[test]
    fn only_a_running_restore_hears_a_cancel() {
        assert_eq!(ready().apply(Action::CancelRestore), ready());
        assert_eq!(ready().apply(Action::Cancelled), ready());
        for command in [
            Command::Rollback(1),
            Command::MigrateToLatest,
            Command::Repair,
            Command::CreateBackup {
                label: String::new(),
                skip_unsupported: false,
            },
        ] {
            let running = ready().apply(Action::Run(command.clone()));
            assert!(!running.operation.as_ref().unwrap().can_cancel());
            let asked = running.clone().apply(Action::CancelRestore);
            assert_eq!(asked, running, "{command:?}");
        }
    }
}
