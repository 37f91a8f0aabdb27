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

    /// The live schema is not the one recorded for the version the database is at, so the
    /// plan's steps would meet stores and indexes they do not expect.
    #[error(
        "the database's schema is not version {version}'s, which Rewind recorded it at: {diff}. \
         Nothing was changed. Something other than Rewind changed the schema (`validate()` lists \
         the differences): undo that change, or restore a backup of version {version}. (Firefox \
         can list an index that an aborted upgrade made when a tab closed during the upgrade; \
         see Rewind's docs/engines.md.)"
    )]
    SchemaMismatch { version: u32, diff: SchemaDiff },

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

    /// App stores Rewind has no record of: made by the app before it used Rewind.
    #[error(
        "the database holds stores Rewind has no record of ({}): it was made before the app used \
         Rewind. Nothing was changed. Adopt it at the schema version it already has: pass \
         `baseline` (a version, or \"auto\" for the highest whose schema matches; `status()` lists \
         them in `matchingVersions`) to `Rewind.open` or `adopt()` (in Rust \
         `Migrator::with_baseline`). Adopting backs it up and records that version without \
         changing the app's stores or records.",
        quoted(.stores)
    )]
    Unmanaged { stores: Vec<String> },

    /// An upgrade was cut off (its tab closed) and the browser kept part of it.
    #[error(
        "the {} from version {from} to {to} was interrupted (its tab was closed or the browser \
         stopped) and the browser kept part of it, so the data is neither as it was nor as it \
         would be. No backup was taken before it, so Rewind cannot undo it: restore a backup \
         (a file, or one listed in the backups); nothing else runs until then.",
        operation.noun()
    )]
    Interrupted {
        operation: crate::engine::Operation,
        from: u32,
        to: u32,
    },

    /// The schema of a database to adopt is not the one the baseline version implies.
    #[error(
        "the database's schema is not that of version {version}, so it cannot be adopted at \
         {version}: {diff}. Nothing was changed. Adopt it at a version whose schema it has \
         (`status()` lists them in `matchingVersions`), or declare the schema it has as a \
         version of the migrations."
    )]
    BaselineMismatch { version: u32, diff: SchemaDiff },

    /// A baseline of "auto" found no version whose schema is the database's.
    #[error(
        "no schema version of this app (0 to {latest}) has the database's schema, so it cannot \
         be adopted. The nearest is version {nearest}: {diff}. Nothing was changed. Declare the \
         schema the earlier app made as a version of the migrations, then adopt it at that \
         version."
    )]
    NoBaselineMatch {
        latest: u32,
        nearest: u32,
        diff: SchemaDiff,
    },

    /// Rolling back from stored steps over a migration whose definition the database does not
    /// keep (applied before Rewind kept them, and not backfilled since).
    #[error(
        "migration {version} ({name:?}) was applied by a newer version of the app, and the \
         database does not keep its steps (it was migrated before Rewind kept them), so this app \
         cannot undo it. Nothing was changed. Restore a backup at version {latest} or lower, or \
         roll back with the version of the app that applied it."
    )]
    NotStored {
        version: u32,
        name: String,
        latest: u32,
    },

    /// The definition the database keeps for a migration does not match the checksum recorded
    /// when it was applied.
    #[error(
        "the steps the database keeps for migration {version} ({name:?}) do not match the \
         checksum recorded when it was applied: they were changed since and cannot be trusted. \
         Nothing was changed. Restore a backup at version {latest} or lower."
    )]
    StoredDrift {
        version: u32,
        name: String,
        latest: u32,
    },

    /// A stored `down` step runs a transform this app does not register.
    #[error(
        "migration {version} ({name:?}) is undone by transform {transform:?}, which this app \
         does not register, so this app cannot undo it. Nothing was changed. Restore a backup \
         at version {latest} or lower, or roll back with the version of the app that applied it."
    )]
    UnknownStoredTransform {
        version: u32,
        name: String,
        transform: String,
        latest: u32,
    },
}

fn quoted(names: &[String]) -> String {
    let parts: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    parts.join(", ")
}

fn describe_drift(drifted: &[(u32, String)]) -> String {
    let parts: Vec<String> = drifted
        .iter()
        .map(|(v, n)| format!("migration {v} ({n:?})"))
        .collect();
    parts.join(", ")
}

impl MigrationError {
    /// The refusal while `entry`'s upgrade, kept in part by the browser, is not undone.
    pub fn interrupted(entry: &crate::engine::JournalEntry) -> MigrationError {
        MigrationError::Interrupted {
            operation: entry.operation,
            from: entry.from,
            to: entry.to,
        }
    }

    /// A stable code for programs (and the JavaScript API).
    pub fn code(&self) -> &'static str {
        match self {
            MigrationError::InvalidMigration { .. } => "InvalidMigration",
            MigrationError::UnknownVersion { .. }
            | MigrationError::UnknownTarget { .. }
            | MigrationError::WrongDirection { .. } => "UnknownVersion",
            MigrationError::IrreversibleMigration { .. }
            | MigrationError::NotStored { .. }
            | MigrationError::UnknownStoredTransform { .. } => "IrreversibleMigration",
            MigrationError::StepFailed { .. }
            | MigrationError::ValidationFailed { .. }
            | MigrationError::Rejected(_) => "MigrationFailed",
            MigrationError::Drift(_) | MigrationError::StoredDrift { .. } => "Drift",
            MigrationError::Blocked => "Blocked",
            MigrationError::QuotaExceeded(_) => "QuotaExceeded",
            MigrationError::Storage(_) => "Storage",
            MigrationError::Unmanaged { .. } => "Unmanaged",
            MigrationError::Interrupted { .. } => "Interrupted",
            MigrationError::SchemaMismatch { .. } => "SchemaMismatch",
            MigrationError::BaselineMismatch { .. } | MigrationError::NoBaselineMatch { .. } => {
                "BaselineMismatch"
            }
        }
    }
}
