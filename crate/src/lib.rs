//! Rewind: versioned schema migrations, snapshots, rollback and backup restore for IndexedDB.
//!
//! The crate is split so that everything that decides (schema model, migrations, plans, diffs,
//! formats) is plain Rust, built and tested natively, while the IndexedDB adapter — the only part that
//! touches the browser — compiles for `wasm32` alone and carries out what the core decided.

pub mod backup;
mod backup_policy;
mod check;
mod diff;
mod engine;
mod fold;
mod folder_policy;
mod json;
mod key_order;
mod memory;
mod migration;
mod migration_error;
mod operations;
mod plan;
mod record;
mod rekey;
mod restore_diff;
mod rewind_error;
mod schema;
mod stored;

#[cfg(target_arch = "wasm32")]
mod idb;

pub use backup_policy::{check_restore, RestoreConsent, UnsupportedRecords};
pub use check::{RecordDifference, RoundTrip, RoundTripDatabase};
pub use diff::{diff, ProblemKind, SchemaDiff, SchemaProblem};
pub use engine::{
    AppliedMigration, Baseline, DatabaseState, DriftedMigration, JournalEntry, Migrate, Migrator,
    Operation, OperationReport, RewindMeta, Status,
};
pub use fold::apply_steps;
pub use folder_policy::{
    check_keep, format_every, parse_every, FolderEntry, FolderManifest, FolderManifestError,
    FolderReason, FolderSettingError, FolderSettings, DEFAULT_FOLDER_KEEP, FOLDER_MANIFEST,
    MAX_FOLDER_KEEP,
};
pub use memory::{MemoryDatabase, MemorySource};
pub use migration::{Checksum, Migration, Step};
pub use migration_error::MigrationError;
pub use operations::{BackupPolicy, BackupRequest, Backups, ManualBackup};
pub use plan::{Direction, MigrationPlan, MigrationSet, PlanEffects};
pub use record::{JsonRecord, RecordAccess, Transforms};
pub use restore_diff::{
    value_fingerprint, walk_restore, DiffSource, Keyed, RestoreDiff, Side, StoreChanges, StoreWalk,
};
pub use rewind_error::RewindError;
pub use schema::{
    DatabaseListing, DatabaseSchema, DatabaseSummary, IndexSchema, KeyPath, StoreSchema,
};

#[cfg(all(target_arch = "wasm32", feature = "test-hooks"))]
#[doc(hidden)]
pub use idb::test_hooks;
/// The IndexedDB side (compiled for `wasm32` only): one app database with its migrations,
/// backups and lock ([`Rewind`]); the origin's databases; the page's storage.
#[cfg(target_arch = "wasm32")]
pub use idb::{
    abort_running_upgrades, as_blob, check_migrations, delete_database, describe_js_type,
    describe_thrown, list_app_databases, migrations_from_js, on_version_change, persist,
    storage_estimate, summarize, CancelFlag, CatalogEntry, IdbError, JsRecord, OperationOptions,
    Persistence, Progress, RestoreSource, Rewind, StorageEstimate,
};
/// The backup folder (File System Access API), wasm32 only.
#[cfg(target_arch = "wasm32")]
pub use idb::{is_directory_handle, FolderState, FolderStatus, FolderWrite, FolderWriteSlot};

/// Embeds a directory of migration files (`NNNN_name.json`) at compile time, like
/// `sqlx::migrate!`: `rewind::embed_migrations!("../migrations")` (relative to the crate's
/// `Cargo.toml`) gives a `&[(&str, &str)]` of file names and contents for
/// [`MigrationSet::from_files`].
pub use rewind_macros::embed_migrations;
