//! The error of Rewind's whole API (the layer the page and JavaScript call): the errors of the
//! layers below, and the facts only this layer knows. Every message says whether anything
//! changed — it never has — and what to do.

use crate::backup::BackupError;
use crate::migration_error::MigrationError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
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
         other sites' data) and try again; or download a backup and keep it elsewhere, then run \
         the operation without an automatic backup (by explicit choice: `automaticBackup: false`, \
         or the page's \"without an automatic backup\" box).",
        in_parentheses(detail)
    )]
    QuotaExceeded { needed: u64, detail: String },

    #[error(
        "there is not enough storage space to restore this backup{}{}. Nothing was changed. Free \
         some space (delete old backups or other sites' data) and try again.",
        needs_about(*needed),
        in_parentheses(detail)
    )]
    RestoreNoRoom { needed: u64, detail: String },

    #[error(
        "the file could not be read ({0}): it was changed, moved or is still being written since \
         it was chosen. Nothing was changed; choose it again once it is complete."
    )]
    UnreadableFile(String),

    /// A Blob stored in the database whose data the browser can no longer read: the file that
    /// held it in the browser's profile is gone (a disk cleanup, a damaged profile). Its record
    /// is still listed, so only a person can say what it should hold now.
    #[error(
        "the data of a Blob in store {store:?} (the record with key {key}) is gone from the \
         browser's storage ({cause}): the browser lost the file that held it. Nothing was \
         changed and no backup was kept. Put the Blob into that record again, or delete the \
         record, then try again; to migrate, roll back or restore before that, keep a copy of \
         the data another way and run the operation without an automatic backup, by explicit \
         choice (`automaticBackup: false`, or the page's \"without an automatic backup\" box)."
    )]
    LostBlob {
        store: String,
        key: String,
        cause: String,
    },

    /// A backup held in place holds a Blob whose data the browser can no longer read: restoring
    /// it would bring that record back unreadable.
    #[error(
        "backup {id} holds a Blob whose data is gone from the browser's storage (store {store:?}, \
         the record with key {key}; {cause}): the browser lost the file that held it, and \
         restoring the backup would bring that record back unreadable. Nothing was changed. \
         Restore another backup (or a file of this one downloaded before the loss)."
    )]
    LostBlobInBackup {
        id: String,
        store: String,
        key: String,
        cause: String,
    },

    #[error(
        "the file is {bytes} bytes, more than this page can hold in memory. Nothing was changed; \
         restore a smaller backup, or use a browser with more memory for this page."
    )]
    FileTooLarge { bytes: u64 },

    /// A backup would not fit in the memory one backup file may take in this browser.
    #[error(
        "this database is too large for one backup file in this browser: more than {bytes} bytes \
         would have to be held in memory at once. Nothing was changed and no partial backup was \
         kept. To migrate, roll back or restore anyway, keep a copy of the data another way and \
         run the operation without an automatic backup, by explicit choice \
         (`automaticBackup: false`, or the page's \"without an automatic backup\" box)."
    )]
    BackupTooLarge { bytes: u64 },

    /// The browser's storage failed outside a migration: the catalog, a backup, a restore.
    #[error("the browser's storage failed: {0}. Nothing was changed; try again, and reload the page if it happens again.")]
    Storage(String),

    #[error(
        "after the restore, {what} did not match the backup. The restore was cancelled: the \
         database is exactly as it was."
    )]
    RestoreMismatch { what: String },

    /// The person cancelled a restore before its swap.
    #[error(
        "cancelled before it changed anything (a restore before its swap; a diff, which only \
         reads): the database is exactly as it was."
    )]
    Cancelled,

    // The backup folder (`folder_policy.rs`, `idb/folder.rs`).
    /// The browser did not grant writing to the chosen folder.
    #[error(
        "folder permission denied: the browser did not let this page write to folder {folder:?}. \
         Nothing was changed (the folder was not kept). Allow access when the browser asks, or \
         choose another folder."
    )]
    FolderPermissionDenied { folder: String },

    /// The folder could not be read or written (removed, renamed, full, or this browser cannot
    /// write files), or its manifest is not one Rewind may rewrite.
    #[error("the backup folder {folder:?} could not be used: {detail}")]
    FolderUnavailable { folder: String, detail: String },

    #[error(
        "no backup folder is set for this database. Nothing was changed; choose a folder first."
    )]
    NoFolder,
}

/// The browser's own words, when it gave any, after a space and in parentheses.
/// ": it needs about N bytes", unless the size is not known (0: a backup held in place, whose
/// stores' size the browser does not tell).
fn needs_about(needed: u64) -> String {
    match needed {
        0 => String::new(),
        n => format!(": it needs about {n} bytes"),
    }
}

fn in_parentheses(detail: &str) -> String {
    match detail.is_empty() {
        true => String::new(),
        false => format!(" ({detail})"),
    }
}

impl RewindError {
    /// Every code [`RewindError::code`] can give: what the JavaScript API documents.
    pub const CODES: &'static [&'static str] = &[
        "Blocked",
        "CorruptBackup",
        "ChecksumMismatch",
        "UnsupportedFormat",
        "WrongDatabase",
        "UnknownVersion",
        "IrreversibleMigration",
        "MigrationFailed",
        "QuotaExceeded",
        "Drift",
        "InvalidMigration",
        "NoSuchBackup",
        "RestoreFailed",
        "Storage",
        "UnsupportedValue",
        "InvalidBackup",
        "UnreadableFile",
        "LostBlob",
        "FileTooLarge",
        "Cancelled",
        "Unmanaged",
        "Interrupted",
        "BaselineMismatch",
        "SchemaMismatch",
        "PassphraseRequired",
        "WrongPassphrase",
        "FolderPermissionDenied",
        "FolderUnavailable",
        "NoFolder",
    ];

    /// The stable code the JavaScript API reports.
    pub fn code(&self) -> &'static str {
        match self {
            RewindError::Migration(e) => e.code(),
            RewindError::Backup(e) => e.code(),
            RewindError::WrongDatabase { .. } => "WrongDatabase",
            RewindError::NewerBackup { .. } => "UnknownVersion",
            RewindError::NoSuchBackup { .. } => "NoSuchBackup",
            RewindError::FileTooLarge { .. } | RewindError::BackupTooLarge { .. } => "FileTooLarge",
            RewindError::QuotaExceeded { .. } | RewindError::RestoreNoRoom { .. } => {
                "QuotaExceeded"
            }
            RewindError::UnreadableFile(_) => "UnreadableFile",
            RewindError::LostBlob { .. } | RewindError::LostBlobInBackup { .. } => "LostBlob",
            RewindError::RestoreMismatch { .. } => "RestoreFailed",
            RewindError::Storage(_) => "Storage",
            RewindError::Cancelled => "Cancelled",
            RewindError::FolderPermissionDenied { .. } => "FolderPermissionDenied",
            RewindError::FolderUnavailable { .. } => "FolderUnavailable",
            RewindError::NoFolder => "NoFolder",
        }
    }

    /// Another tab blocked the operation's upgrade. The browser then queues every later open
    /// of the database behind it, so nothing more may be written (not even to the journal).
    pub fn is_blocked(&self) -> bool {
        matches!(self, RewindError::Migration(MigrationError::Blocked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of every variant of the library's error enums, each as the JavaScript API
    /// would report it. The matches have no catch-all arm: a new variant does not compile
    /// until it is listed here, and so checked against `RewindError::CODES`.
    fn every_library_error() -> Vec<RewindError> {
        use crate::backup::BackupError as B;
        use crate::MigrationError as M;
        use crate::RewindError as R;
        let s = || "x".to_string();
        let migration = [
            M::InvalidMigration {
                location: s(),
                reason: s(),
            },
            M::UnknownVersion {
                version: 9,
                latest: 1,
            },
            M::WrongDirection { from: 2, to: 1 },
            M::UnknownTarget {
                target: 9,
                latest: 1,
            },
            M::IrreversibleMigration {
                version: 1,
                name: s(),
            },
            M::StepFailed {
                version: 1,
                name: s(),
                step_number: 1,
                step: s(),
                reason: s(),
            },
            M::Drift(vec![]),
            M::ValidationFailed {
                version: 1,
                diff: crate::SchemaDiff::default(),
            },
            M::Rejected(s()),
            M::Blocked,
            M::QuotaExceeded(s()),
            M::Storage(s()),
            M::Unmanaged { stores: vec![s()] },
            M::Interrupted {
                operation: crate::engine::Operation::Migrate,
                from: 1,
                to: 2,
            },
            M::SchemaMismatch {
                version: 1,
                diff: crate::SchemaDiff::default(),
            },
            M::BaselineMismatch {
                version: 1,
                diff: crate::SchemaDiff::default(),
            },
            M::NoBaselineMatch {
                latest: 1,
                nearest: 1,
                diff: crate::SchemaDiff::default(),
            },
            M::NotStored {
                version: 2,
                name: s(),
                latest: 1,
            },
            M::StoredDrift {
                version: 2,
                name: s(),
                latest: 1,
            },
            M::UnknownStoredTransform {
                version: 2,
                name: s(),
                transform: s(),
                latest: 1,
            },
        ];
        let backup = [
            B::Empty,
            B::BadMagic,
            B::Truncated { missing: 1 },
            B::UnsupportedFormat {
                found: 2,
                supported: 1,
            },
            B::ChecksumMismatch { what: s() },
            B::Corrupt { reason: s() },
            B::TooDeep { limit: 1 },
            B::UnsupportedValue {
                store: s(),
                key: s(),
                type_name: s(),
                path: s(),
            },
            B::Invalid { reason: s() },
            B::PassphraseRequired,
            B::WrongPassphrase,
        ];
        let rewind = [
            R::WrongDatabase {
                backup: s(),
                target: s(),
            },
            R::NewerBackup {
                version: 2,
                latest: 1,
            },
            R::NoSuchBackup { id: s() },
            R::QuotaExceeded {
                needed: 1,
                detail: s(),
            },
            R::RestoreNoRoom {
                needed: 1,
                detail: s(),
            },
            R::UnreadableFile(s()),
            R::LostBlob {
                store: s(),
                key: s(),
                cause: s(),
            },
            R::LostBlobInBackup {
                id: s(),
                store: s(),
                key: s(),
                cause: s(),
            },
            R::FileTooLarge { bytes: 1 },
            R::BackupTooLarge { bytes: 1 },
            R::RestoreMismatch { what: s() },
            R::Storage(s()),
            R::Cancelled,
            R::FolderPermissionDenied { folder: s() },
            R::FolderUnavailable {
                folder: s(),
                detail: s(),
            },
            R::NoFolder,
        ];
        for e in &migration {
            match e {
                M::InvalidMigration { .. }
                | M::UnknownVersion { .. }
                | M::WrongDirection { .. }
                | M::UnknownTarget { .. }
                | M::IrreversibleMigration { .. }
                | M::StepFailed { .. }
                | M::Drift(_)
                | M::ValidationFailed { .. }
                | M::Rejected(_)
                | M::Blocked
                | M::QuotaExceeded(_)
                | M::Storage(_)
                | M::Unmanaged { .. }
                | M::Interrupted { .. }
                | M::SchemaMismatch { .. }
                | M::BaselineMismatch { .. }
                | M::NoBaselineMatch { .. }
                | M::NotStored { .. }
                | M::StoredDrift { .. }
                | M::UnknownStoredTransform { .. } => {}
            }
        }
        for e in &backup {
            match e {
                B::Empty
                | B::BadMagic
                | B::Truncated { .. }
                | B::UnsupportedFormat { .. }
                | B::ChecksumMismatch { .. }
                | B::Corrupt { .. }
                | B::TooDeep { .. }
                | B::UnsupportedValue { .. }
                | B::Invalid { .. }
                | B::PassphraseRequired
                | B::WrongPassphrase => {}
            }
        }
        for e in &rewind {
            match e {
                R::Migration(_)
                | R::Backup(_)
                | R::WrongDatabase { .. }
                | R::NewerBackup { .. }
                | R::NoSuchBackup { .. }
                | R::QuotaExceeded { .. }
                | R::RestoreNoRoom { .. }
                | R::UnreadableFile(_)
                | R::LostBlob { .. }
                | R::LostBlobInBackup { .. }
                | R::FileTooLarge { .. }
                | R::BackupTooLarge { .. }
                | R::RestoreMismatch { .. }
                | R::Storage(_)
                | R::Cancelled
                | R::FolderPermissionDenied { .. }
                | R::FolderUnavailable { .. }
                | R::NoFolder => {}
            }
        }
        migration
            .into_iter()
            .map(R::Migration)
            .chain(backup.into_iter().map(R::Backup))
            .chain(rewind)
            .collect()
    }

    #[test]
    fn every_variant_gives_a_listed_code_and_every_code_is_given() {
        let mut given: Vec<&str> = every_library_error().iter().map(|e| e.code()).collect();
        given.sort();
        given.dedup();
        let mut listed = RewindError::CODES.to_vec();
        listed.sort();
        assert_eq!(given, listed);
    }

    #[test]
    fn no_room_for_a_restore_names_a_size_only_when_one_is_known() {
        let known = RewindError::RestoreNoRoom {
            needed: 2_000,
            detail: String::new(),
        };
        assert!(known
            .to_string()
            .starts_with("there is not enough storage space to restore this backup: it needs about 2000 bytes. Nothing"));
        // A backup held in place: its stores' size is not known.
        let unknown = RewindError::RestoreNoRoom {
            needed: 0,
            detail: "QuotaExceededError".into(),
        };
        assert_eq!(
            unknown.to_string(),
            "there is not enough storage space to restore this backup (QuotaExceededError). \
             Nothing was changed. Free some space (delete old backups or other sites' data) and \
             try again."
        );
    }
}
