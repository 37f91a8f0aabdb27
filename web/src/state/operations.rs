//! The one operation that runs at a time: started by a confirmed dialog or a button, its
//! progress, another tab blocking it, how it ended, and what became of one a previous page
//! left unfinished.

use super::progress::Pace;
use super::{PageState, Secret};
use crate::messages;

/// What the page must run in the browser.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Rollback(u32),
    /// Roll back from a version this app does not know with the steps the database keeps.
    RollbackFromStored(u32),
    MigrateToLatest,
    RestoreBackup(String),
    /// A listed backup that is sealed, opened with the passphrase its dialog proved.
    RestoreSealedBackup {
        id: String,
        passphrase: Secret,
    },
    DeleteBackup(String),
    /// The file the person chose (the component keeps the `File` itself), opened with the
    /// passphrase the person gave if it is sealed.
    RestoreFile {
        passphrase: Option<Secret>,
    },
    CreateBackup {
        label: String,
        /// Leave out records no backup can carry instead of refusing the backup.
        skip_unsupported: bool,
    },
    Repair,
    /// Adopt a database made before the app used Rewind at this version (its schema's).
    Adopt(u32),
}

impl Command {
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
    /// Whether an automatic backup is taken first (unless the person chose otherwise).
    pub automatic_backup: bool,
    pub done: u64,
    pub total: u64,
    /// The pace of the current step, for the time left.
    pub pace: Pace,
    /// The size of the backup a restore writes, for the bytes written.
    pub file_bytes: Option<u64>,
    /// The person asked to cancel (a restore only; see `cancel.rs`).
    pub cancel_requested: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Success(String),
    /// Neither a success nor a failure: e.g. a restore cancelled, which changed nothing.
    Info(String),
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

impl PageState {
    pub(super) fn confirm(&mut self) {
        if self.confirm_download() {
            return;
        }
        if let Some(command) = self.confirmed_command() {
            let file_bytes = self.dialog.as_ref().and_then(|d| d.file_bytes());
            let without_backup = self.dialog.take().is_some_and(|d| d.without_backup);
            self.start(command, !without_backup);
            if let Some(op) = &mut self.operation {
                op.file_bytes = file_bytes;
            }
        }
    }

    pub(super) fn run(&mut self, command: Command) {
        self.start(command, true);
    }

    /// A second command while one runs is ignored (a double click, say).
    fn start(&mut self, command: Command, automatic_backup: bool) {
        if self.operation.is_none() {
            self.notice = None;
            self.blocked = false;
            self.operation = Some(RunningOperation {
                command,
                automatic_backup,
                done: 0,
                total: 0,
                pace: Pace::default(),
                file_bytes: None,
                cancel_requested: false,
            });
        }
    }

    pub(super) fn block(&mut self) {
        if self.operation.is_some() {
            self.blocked = true;
        }
    }

    /// Everything shown is read again: the operation may have changed any of it. A late
    /// duplicate changes nothing. A cancel the operation could no longer hear is said so.
    pub(super) fn finish(&mut self, result: Result<String, String>) {
        if let Some(op) = self.operation.take() {
            self.blocked = false;
            self.notice = Some(match result {
                Ok(message) if op.cancel_requested => {
                    Notice::Success(format!("{message} {}", messages::too_late_to_cancel()))
                }
                Ok(message) => Notice::Success(message),
                Err(message) => Notice::Error(message),
            });
            self.reload_everything();
        }
    }

    pub(super) fn found_interrupted(&mut self, interrupted: Interrupted) {
        self.interrupted = Some(interrupted);
        self.settle_interrupted();
    }

    /// Says what became of an interrupted operation, from its database's journal: an entry
    /// written after it started means it completed; none means nothing changed (an operation
    /// is all-or-nothing, and a crash cannot write the journal).
    pub(super) fn settle_interrupted(&mut self) {
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
            Notice::Success(messages::interrupted_completed(&i.description))
        } else {
            Notice::Error(messages::interrupted_nothing_changed(&i.description))
        });
        self.interrupted = None;
    }
}

#[cfg(test)]
mod tests {
    use crate::state::fixtures::*;
    use crate::state::{Action, Command, Interrupted, Loadable, Notice};

    #[test]
    fn only_commands_that_change_the_database_are_noted_while_they_run() {
        for command in [
            Command::Rollback(1),
            Command::MigrateToLatest,
            Command::RestoreBackup("b1".into()),
            Command::RestoreFile { passphrase: None },
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
            .apply(Action::Progress {
                done: 5,
                total: 10,
                at: 0.0,
            })
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

    fn journal_entry(at: f64, error: Option<&str>) -> rewind::JournalEntry {
        rewind::JournalEntry {
            at,
            operation: rewind::Operation::Rollback,
            from: 3,
            to: 2,
            error: error.map(Into::into),
            backup_id: None,
            without_backup: false,
            undid: None,
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
        let state = page()
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
        let state = page()
            .apply(Action::DatabasesLoaded(vec![listing(A)]))
            .apply(Action::HealthLoaded {
                name: A.into(),
                health: Ok(h),
            })
            .apply(Action::FoundInterrupted(interrupted));
        assert!(matches!(&state.notice, Some(Notice::Success(m)) if m.contains("had completed")));
    }
}
