//! Rewind: versioned schema migrations, snapshots, rollback and backup restore for IndexedDB.
//!
//! The crate is split so that everything that decides (schema model, diffs, plans, formats)
//! is plain Rust, built and tested natively, while [`idb`] — the only module that touches the
//! browser — compiles for `wasm32` alone and just carries out what the core decided.

pub mod schema;

#[cfg(target_arch = "wasm32")]
pub mod idb;

pub use schema::{
    DatabaseListing, DatabaseSchema, DatabaseSummary, IndexSchema, KeyPath, StoreSchema,
};
