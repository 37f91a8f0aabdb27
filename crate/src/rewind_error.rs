//! The error of Rewind's whole API (the layer the page and JavaScript call): the errors of the
//! layers below, and the facts only this layer knows. Every message says whether anything
//! changed — it never has — and what to do.

use crate::backup::BackupError;
use crate::error::MigrationError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RewindError {
    #[error(transparent)]
    Migration(#[from] MigrationError),

    #[error(transparent)]
    Backup(#[from] BackupError),

    #[error(
        "this backup is of database {backup:?}, not {target:?}. Nothing was changed. Choose a \
         backup of {target:?}, or allow restoring another database's backup explicitly."
    )]
    WrongDatabase { backup: String, target: String },

    #[error(
        "this backup is at schema version {version}, newer than this app knows (up to {latest}). \
         Nothing was changed. Restore it with the newer app, or confirm that you want it anyway \
         (the app will then refuse to write to it until it is updated)."
    )]
    NewerBackup { version: u32, latest: u32 },

    #[error("there is no backup {id:?} (it may have been deleted). Nothing was changed; pick one from the list.")]
    NoSuchBackup { id: String },

    #[error(
        "the browser has no room for this backup: it needs about {needed} more bytes{}. The database \
         was not changed and no partial backup was kept. Free some space (delete old backups or \
         other sites' data) and try again.",
        in_parentheses(detail)
    )]
    QuotaExceeded { needed: u64, detail: String },

    #[error(
        "there is not enough storage space to restore this backup: it needs about {needed} bytes{}. \
         Nothing was changed. Free some space (delete old backups or other sites' data) and try \
         again.",
        in_parentheses(detail)
    )]
    RestoreNoRoom { needed: u64, detail: String },

    #[error(
        "the file could not be read ({0}): it was changed, moved or is still being written since \
         it was chosen. Nothing was changed; choose it again once it is complete."
    )]
    UnreadableFile(String),

    #[error(
        "the file is {bytes} bytes, more than this page can hold in memory. Nothing was changed; \
         restore a smaller backup, or use a browser with more memory for this page."
    )]
    FileTooLarge { bytes: u64 },

    #[error(
        "after the restore, {what} did not match the backup. The restore was cancelled: the \
         database is exactly as it was."
    )]
    RestoreMismatch { what: String },
}

/// The browser's own words, when it gave any, after a space and in parentheses.
fn in_parentheses(detail: &str) -> String {
    match detail.is_empty() {
        true => String::new(),
        false => format!(" ({detail})"),
    }
}

impl RewindError {
    /// The stable code the JavaScript API reports.
    pub fn code(&self) -> &'static str {
        match self {
            RewindError::Migration(e) => e.code(),
            RewindError::Backup(e) => e.code(),
            RewindError::WrongDatabase { .. } => "WrongDatabase",
            RewindError::NewerBackup { .. } => "UnknownVersion",
            RewindError::NoSuchBackup { .. } => "NoSuchBackup",
            RewindError::FileTooLarge { .. } => "UnreadableFile",
            RewindError::QuotaExceeded { .. } | RewindError::RestoreNoRoom { .. } => {
                "QuotaExceeded"
            }
            RewindError::UnreadableFile(_) => "UnreadableFile",
            RewindError::RestoreMismatch { .. } => "RestoreFailed",
        }
    }
}
