//! What can go wrong with a backup, said for the person who has to act on it.

/// Why a backup could not be written, read or trusted. Reading a backup never changes
/// anything, so every reading error says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error("the file is empty, so it holds no backup. Nothing was changed; choose the .rewind file you downloaded.")]
    Empty,
    #[error("this is not a Rewind backup file (it does not start with Rewind's signature). Nothing was changed; choose a .rewind file made by Rewind.")]
    BadMagic,
    #[error("the backup file is cut short: it ends {missing} bytes before its contents do (an interrupted download or copy?). Nothing was changed; use a complete copy of the file.")]
    Truncated { missing: u64 },
    #[error("this backup was made by a newer Rewind (backup format {found}; this app reads up to format {supported}). Nothing was changed; update the app and try again.")]
    UnsupportedFormat { found: u32, supported: u32 },
    #[error("the backup file is damaged: the checksum of {what} does not match its contents. Nothing was changed; use another copy of the file.")]
    ChecksumMismatch { what: String },
    #[error(
        "the backup file is damaged: {reason}. Nothing was changed; use another copy of the file."
    )]
    Corrupt { reason: String },
    #[error("the backup file is damaged or unusual: a value is nested more than {limit} levels deep. Nothing was changed; use another copy of the file.")]
    TooDeep { limit: usize },
    #[error("cannot back up store {store:?}, record {key}: it holds {type_name}{at}, which a backup cannot carry faithfully. Nothing was changed; store it in a form IndexedDB can clone (plain data, Blob, typed array).", at = if path.is_empty() { String::new() } else { format!(" at {path}") })]
    UnsupportedValue {
        store: String,
        key: String,
        type_name: String,
        path: String,
    },
    #[error("cannot write this backup: {reason}. Nothing was written.")]
    Invalid { reason: String },
    #[error(
        "this backup is encrypted; give the passphrase it was made with. Nothing was changed."
    )]
    PassphraseRequired,
    #[error("the passphrase is not the one this backup was encrypted with. Nothing was changed; try again with the passphrase it was made with.")]
    WrongPassphrase,
}

impl BackupError {
    /// The stable code the JavaScript API reports for this error.
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::ChecksumMismatch { .. } => "ChecksumMismatch",
            BackupError::UnsupportedFormat { .. } => "UnsupportedFormat",
            BackupError::UnsupportedValue { .. } => "UnsupportedValue",
            BackupError::Invalid { .. } => "InvalidBackup",
            BackupError::PassphraseRequired => "PassphraseRequired",
            BackupError::WrongPassphrase => "WrongPassphrase",
            BackupError::Empty
            | BackupError::BadMagic
            | BackupError::Truncated { .. }
            | BackupError::Corrupt { .. }
            | BackupError::TooDeep { .. } => "CorruptBackup",
        }
    }

    pub(crate) fn corrupt(reason: impl Into<String>) -> Self {
        BackupError::Corrupt {
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        BackupError::Invalid {
            reason: reason.into(),
        }
    }
}
