//! What the page says after an operation — what happened, what is kept, what to do next —
//! and when something outside it changes what the page shows.

use crate::format;
use crate::state::{Command, RunningOperation, Space, Step};
use rewind::backup::BackupManifest;
use rewind::OperationReport;

const RELOAD: &str = "Reload the app's open tabs so they use the database as it is now.";

fn kept(backup_id: &Option<String>) -> String {
    match backup_id {
        Some(id) => format!(" The database as it was before is kept as backup {id}."),
        None => String::new(),
    }
}

/// An upgrade the browser kept in part (`Status::interrupted`): what it means and what happens
/// next, which depends on whether a backup was taken before it.
pub fn interrupted(cut: &rewind::JournalEntry) -> String {
    let next = match &cut.backup_id {
        Some(id) => format!(
            "The next migration or rollback first restores backup {id}, taken just before it \
             (after backing up what was left, so nothing is lost)."
        ),
        None => "No backup was taken before it, so Rewind cannot undo it: restore a backup to \
                 go on. Nothing else runs until then."
            .to_string(),
    };
    format!(
        "The {} from schema version {} to {} was cut off (its tab was closed or the browser \
         stopped) and the browser kept part of it: the data is neither as it was nor as it \
         would be. {next}",
        cut.operation.noun(),
        cut.from,
        cut.to
    )
}

/// After a migration, rollback or restore.
pub fn operation_done(command: &Command, report: &OperationReport) -> String {
    let (from, to) = (report.from, report.to);
    let what = match command {
        Command::Rollback(_) => format!("Rolled back from schema version {from} to {to}."),
        Command::RollbackFromStored(_) => format!(
            "Rolled back from schema version {from} to {to} with the steps the database kept."
        ),
        Command::MigrateToLatest if from == to => {
            format!("Already at schema version {to}: nothing to do.")
        }
        Command::MigrateToLatest => format!("Migrated from schema version {from} to {to}."),
        Command::RestoreBackup(id) | Command::RestoreSealedBackup { id, .. } => {
            format!("Restored backup {id} (schema version {to}).")
        }
        Command::RestoreFile { .. } => format!("Restored the backup file (schema version {to})."),
        Command::Adopt(_) if from == to => {
            format!("Rewind already manages this database (schema version {to}): nothing to do.")
        }
        Command::Adopt(_) => format!(
            "Adopted at schema version {to}: Rewind now manages this database. No store or \
             record was changed."
        ),
        Command::DeleteBackup(_) | Command::CreateBackup { .. } | Command::Repair => String::new(),
    };
    format!("{what}{} {RELOAD}", kept(&report.backup_id))
}

pub fn backup_created(manifest: &BackupManifest) -> String {
    let created = format!(
        "Backup {} created: {} records in {} stores, {}.",
        manifest.id,
        manifest.total_records(),
        manifest.stores.len(),
        format::bytes(manifest.bytes)
    );
    if manifest.skipped.is_empty() {
        return created;
    }
    let left_out: Vec<String> = manifest
        .skipped
        .iter()
        .map(|s| format!("{} {} ({})", s.store, s.key, s.type_name))
        .collect();
    format!(
        "{created} Left out, because a backup cannot carry them: {}. Restoring this backup \
         keeps those records from the database as it is then.",
        left_out.join(", ")
    )
}

pub fn repaired(versions: &[u32]) -> String {
    if versions.is_empty() {
        return "Nothing to repair: every applied migration matches its definition.".into();
    }
    let list: Vec<String> = versions.iter().map(u32::to_string).collect();
    format!(
        "Re-recorded the checksums of migration {}. No schema or data changed; Rewind will \
         migrate and roll back again.",
        list.join(", ")
    )
}

pub fn backup_deleted(id: &str) -> String {
    format!("Backup {id} deleted.")
}

/// An operation's error: which operation, then the library's message (which says that nothing
/// changed and what to do).
pub fn failed(command: &Command, error: &str) -> String {
    let what = match command {
        Command::Rollback(v) | Command::RollbackFromStored(v) => {
            format!("The rollback to version {v} did not happen")
        }
        Command::MigrateToLatest => "The migration did not happen".into(),
        Command::RestoreBackup(_)
        | Command::RestoreSealedBackup { .. }
        | Command::RestoreFile { .. } => "The restore did not happen".into(),
        Command::DeleteBackup(_) => "The backup was not deleted".into(),
        Command::CreateBackup { .. } => "The backup was not created".into(),
        Command::Repair => "The checksums were not repaired".into(),
        Command::Adopt(v) => format!("The database was not adopted at version {v}"),
    };
    let mut detail = error.to_string();
    if let Some(first) = detail.get(0..1) {
        let upper = first.to_uppercase();
        detail.replace_range(0..1, &upper);
    }
    format!("{what}. {detail}")
}

/// What the page says of a database changed by a newer release.
pub fn newer_release(version: u32, latest: u32) -> String {
    format!(
        "This database was changed by a newer version of the app (version {version}). Roll back \
         to version {latest}, the newest this app knows: the steps come from the database, where \
         the newer version kept them. A backup is taken first."
    )
}

/// Said in the preview of that rollback.
pub fn from_database(versions: &[u32]) -> String {
    let list: Vec<String> = versions.iter().map(u32::to_string).collect();
    format!(
        "The steps of version {} come from the database: the newer version of the app kept \
         them there when it applied them, and each was checked against its recorded checksum.",
        list.join(", ")
    )
}

/// A listed backup this app refuses to restore, with the reason.
pub fn cannot_restore(id: &str, reason: &str) -> String {
    format!("Backup {id} cannot be restored: {reason}")
}

pub fn changed_elsewhere(database: &str) -> String {
    format!(
        "{database} was just changed by another tab of the app; what you see has been read \
         again."
    )
}

/// An operation a previous page left unfinished, whose journal entry shows it completed.
pub fn interrupted_completed(description: &str) -> String {
    format!("{description} had completed before the page closed. {RELOAD}")
}

/// An operation a previous page left unfinished, with no journal entry: an operation is
/// all-or-nothing, so nothing changed.
pub fn interrupted_nothing_changed(description: &str) -> String {
    format!(
        "{description} was interrupted before it completed (the page was closed or crashed). \
         Nothing was changed: the database is exactly as it was before. You can run it again."
    )
}

/// A restore cancelled before its swap: the library changed nothing.
pub fn restore_cancelled() -> String {
    "Restore cancelled: nothing was changed. The database is exactly as it was before; the \
     journal records the cancelled restore."
        .into()
}

/// Appended to a restore's success when Cancel was pressed after its swap had begun.
pub fn too_late_to_cancel() -> String {
    "Cancel came too late: the restore was already swapping the backup in, which cannot be \
     stopped part-way, so it completed."
        .into()
}

/// While a restore runs: what Cancel does, and when it no longer can.
pub const CANCEL_HINT: &str = "Cancel stops the restore and leaves the database as it is, \
     unless the restore has already begun swapping the backup in: then it completes.";

/// Once Cancel was pressed.
pub const CANCELLING: &str = "Cancelling… the restore stops at its next step and changes \
     nothing (if it is already swapping the backup in, it completes instead).";

/// "Writing the backup: 1,234 of 10,000 records (1.2 MB of 9.6 MB), about 40 seconds left";
/// `None` until the operation reports records.
pub fn progress(op: &RunningOperation) -> Option<String> {
    if op.total == 0 {
        return None;
    }
    let step = match op.step() {
        Step::AutomaticBackup => "Backing up the database as it is now",
        Step::Writing => "Writing the backup",
        Step::Reading => "Reading the database",
    };
    let mut text = format!("{step}: {}", format::records_of(op.done, op.total));
    if let Some((done, total)) = op.bytes() {
        text.push_str(&format!(" ({})", format::bytes_of(done, total)));
    }
    if let Some(left) = op.ms_left().and_then(format::time_left) {
        text.push_str(&format!(", {left}"));
    }
    Some(text)
}

/// The warning when the estimates say an operation may not fit (it still may be run).
pub fn may_not_fit(space: &Space) -> Option<String> {
    if !space.short() {
        return None;
    }
    Some(format!(
        "This may not fit: it needs about {}, and the browser reports {} free for this site. \
         These are estimates; if it does not fit, it fails without changing anything. Free \
         some space first (delete old backups, or download them and delete them here).",
        format::bytes(space.needed.unwrap_or_default()),
        format::bytes(space.free().unwrap_or_default())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upgrade_kept_in_part_says_what_happens_next_with_and_without_its_backup() {
        let mut cut = rewind::JournalEntry {
            at: 1.0,
            operation: rewind::Operation::Migrate,
            from: 1,
            to: 2,
            error: None,
            backup_id: Some("20261201-ab".into()),
            without_backup: false,
            undid: None,
        };
        let text = interrupted(&cut);
        assert!(
            text.starts_with("The migration from schema version 1 to 2 was cut off"),
            "{text}"
        );
        assert!(text.contains("first restores backup 20261201-ab"), "{text}");
        cut.backup_id = None;
        cut.operation = rewind::Operation::Rollback;
        let text = interrupted(&cut);
        assert!(
            text.starts_with("The rollback from schema version 1 to 2"),
            "{text}"
        );
        assert!(text.contains("restore a backup to go on"), "{text}");
    }

    #[test]
    fn messages_say_what_happened_what_is_kept_and_what_to_do() {
        let report = OperationReport {
            from: 5,
            to: 3,
            backup_id: Some("20261126-ab".into()),
        };
        let text = operation_done(&Command::Rollback(3), &report);
        assert!(
            text.starts_with("Rolled back from schema version 5 to 3."),
            "{text}"
        );
        assert!(text.contains("kept as backup 20261126-ab"));
        assert!(text.ends_with(RELOAD));
        let none = OperationReport {
            from: 5,
            to: 5,
            backup_id: None,
        };
        assert_eq!(
            operation_done(&Command::MigrateToLatest, &none),
            format!("Already at schema version 5: nothing to do. {RELOAD}")
        );
    }

    #[test]
    fn failures_name_the_operation_and_keep_the_reason() {
        let text = failed(
            &Command::Rollback(2),
            "migration 4 (\"x\") cannot be undone",
        );
        assert_eq!(
            text,
            "The rollback to version 2 did not happen. Migration 4 (\"x\") cannot be undone"
        );
        assert_eq!(
            failed(&Command::RestoreFile { passphrase: None }, ""),
            "The restore did not happen. "
        );
    }

    #[test]
    fn progress_says_the_step_the_records_the_bytes_and_the_time_left() {
        use crate::state::{Action, PageState};
        let mut writing = PageState::default()
            .apply(Action::Run(Command::RestoreBackup("b1".into())))
            .apply(Action::Progress {
                done: 1_000,
                total: 10_000,
                at: 1_000.0,
            })
            .apply(Action::Progress {
                done: 1_234,
                total: 10_000,
                at: 2_000.0,
            });
        writing.operation.as_mut().unwrap().file_bytes = Some(96_000_000);
        let op = writing.operation.as_ref().unwrap();
        assert_eq!(
            progress(op).as_deref(),
            Some("Writing the backup: 1,234 of 10,000 records (11.8 MB of 96.0 MB), about 37 seconds left")
        );
        let backing_up = PageState::default()
            .apply(Action::Run(Command::MigrateToLatest))
            .apply(Action::Progress {
                done: 0,
                total: 3_218,
                at: 3_500.0,
            });
        assert_eq!(
            progress(backing_up.operation.as_ref().unwrap()).as_deref(),
            Some("Backing up the database as it is now: 0 of 3,218 records")
        );
        let starting = PageState::default().apply(Action::Run(Command::Repair));
        assert_eq!(progress(starting.operation.as_ref().unwrap()), None);
    }

    #[test]
    fn a_cancel_says_that_nothing_changed_or_that_it_came_too_late() {
        assert!(restore_cancelled().starts_with("Restore cancelled: nothing was changed"));
        assert!(too_late_to_cancel().contains("completed"));
    }

    #[test]
    fn the_warning_shows_only_when_the_estimates_say_it_may_not_fit() {
        use crate::state::StorageUse;
        let mut space = Space {
            records: Some(10),
            database_bytes: Some(2_000_000),
            storage: Some(StorageUse {
                usage: 9_000_000,
                quota: 10_000_000,
                persisted: false,
            }),
            file_bytes: None,
            needed: Some(2_000_000),
        };
        let text = may_not_fit(&space).unwrap();
        assert!(
            text.starts_with(
                "This may not fit: it needs about 2.0 MB, and the browser reports 1.0 MB free"
            ),
            "{text}"
        );
        space.needed = Some(500_000);
        assert_eq!(may_not_fit(&space), None);
        space.needed = None;
        assert_eq!(may_not_fit(&space), None);
    }
}
