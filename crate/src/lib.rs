//! Rewind: versioned schema migrations, snapshots, rollback and backup restore for IndexedDB.
//!
//! The crate is split so that everything that decides (schema model, migrations, plans, diffs,
//! formats) is plain Rust, built and tested natively, while [`idb`] — the only module that
//! touches the browser — compiles for `wasm32` alone and carries out what the core decided.

pub mod backup;
pub mod catalog;
pub mod diff;
pub mod engine;
pub mod error;
pub mod fold;
pub mod memory;
pub mod migration;
pub mod plan;
pub mod record;
pub mod rewind_error;
pub mod schema;

#[cfg(target_arch = "wasm32")]
pub mod idb;

pub use diff::{diff, ProblemKind, SchemaDiff, SchemaProblem};
pub use engine::{
    AppliedMigration, DatabaseState, JournalEntry, Migrate, Migrator, Operation, OperationReport,
    RewindMeta, Status,
};
pub use error::MigrationError;
pub use memory::MemoryDatabase;
pub use migration::{Checksum, Migration, Step};
pub use plan::{Direction, MigrationPlan, MigrationSet, PlanEffects};
pub use record::{RecordAccess, Transforms};
pub use rewind_error::RewindError;
pub use schema::{
    DatabaseListing, DatabaseSchema, DatabaseSummary, IndexSchema, KeyPath, StoreSchema,
};

/// Embeds a directory of migration files (`NNNN_name.json`) at compile time, like
/// `sqlx::migrate!`: `rewind::embed_migrations!("../migrations")` (relative to the crate's
/// `Cargo.toml`) gives a `&[(&str, &str)]` of file names and contents for
/// [`MigrationSet::from_files`].
pub use rewind_macros::embed_migrations;
