//! The engine's errors: each variant is one fact, with what a person should do about it.

use crate::diff::SchemaDiff;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    #[error("invalid migration in {location}: {reason}. Fix the definition; nothing was changed.")]
    InvalidMigration { location: String, reason: String },

    #[error(
        "the database is at schema version {version}, which this app does not know (it knows up \
         to {latest}). It was changed by a newer version of the app: use that version's recovery \
         page to roll back, or restore a backup. Rewind will not write to it."
    )]
    UnknownVersion { version: u32, latest: u32 },

    #[error(
        "cannot go from schema version {from} to {to} this way: use migrate to go forward and \
         roll back to go back"
    )]
    WrongDirection { from: u32, to: u32 },

    #[error("there is no schema version {target}: this app knows versions 0 to {latest}")]
    UnknownTarget { target: u32, latest: u32 },

    #[error(
        "migration {version} ({name:?}) cannot be undone: it has no down steps. To go back \
         before it, restore a backup taken before it was applied."
    )]
    IrreversibleMigration { version: u32, name: String },

    #[error(
        "migration {version} ({name:?}) failed at step {step_number} ({step}): {reason}. \
         The whole operation was cancelled: schema and data are exactly as before."
    )]
    StepFailed {
        version: u32,
        name: String,
        step_number: usize,
        step: String,
        reason: String,
    },

    #[error(
        "{} was applied but has been modified since. Ship the original definition again, or \
         repair (re-record the checksums) if the change is intended.",
        describe_drift(.0)
    )]
    Drift(Vec<(u32, String)>),

    #[error(
        "after the operation the database's schema did not match version {version}: {diff}. \
         The operation was cancelled: schema and data are exactly as before."
    )]
    ValidationFailed { version: u32, diff: SchemaDiff },

    #[error(
        "IndexedDB refused the migrated data: {0}. A unique index over duplicate values or a \
         value that is not a valid key is the usual cause; fix the migration or the data. The \
         whole operation was cancelled: schema and data are exactly as before."
    )]
    Rejected(String),

    #[error(
        "the database is open in another tab that does not let go. Nothing was changed. Close the \
         app's other tabs and try again (until they are closed, the browser holds back every use \
         of this database, this page's included)."
    )]
    Blocked,

    #[error("the browser ran out of storage space for this site ({0}); free some space and try again. Nothing was changed.")]
    QuotaExceeded(String),

    #[error("the browser's storage failed: {0}. Nothing was changed.")]
    Storage(String),
}

fn describe_drift(drifted: &[(u32, String)]) -> String {
    let parts: Vec<String> = drifted
        .iter()
        .map(|(v, n)| format!("migration {v} ({n:?})"))
        .collect();
    parts.join(", ")
}

impl MigrationError {
    /// A stable code for programs (and the JavaScript API).
    pub fn code(&self) -> &'static str {
        match self {
            MigrationError::InvalidMigration { .. } => "InvalidMigration",
            MigrationError::UnknownVersion { .. }
            | MigrationError::UnknownTarget { .. }
            | MigrationError::WrongDirection { .. } => "UnknownVersion",
            MigrationError::IrreversibleMigration { .. } => "IrreversibleMigration",
            MigrationError::StepFailed { .. }
            | MigrationError::ValidationFailed { .. }
            | MigrationError::Rejected(_) => "MigrationFailed",
            MigrationError::Drift(_) => "Drift",
            MigrationError::Blocked => "Blocked",
            MigrationError::QuotaExceeded(_) => "QuotaExceeded",
            MigrationError::Storage(_) => "Storage",
        }
    }
}
