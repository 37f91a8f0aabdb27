//! The states and answers the reducer's tests start from.

use super::{Action, DialogKind, Health, Loadable, PageState};
use crate::policy::AppDatabase;
use rewind::backup::BackupManifest;
use rewind::{
    DatabaseListing, DatabaseSchema, DatabaseSummary, Direction, MigrationPlan, PlanEffects,
    SchemaDiff, Status,
};
use rewind::{RestoreDiff, RewindMeta};

/// A database this app manages, and one it does not.
pub const A: &str = "notes-demo";
pub const B: &str = "b";
/// The latest schema version of A's migrations.
pub const LATEST: u32 = 5;

/// A page whose configuration lists A (up to version [`LATEST`]).
pub fn page() -> PageState {
    PageState::default().apply(Action::ConfigLoaded(vec![AppDatabase {
        name: A.into(),
        latest: LATEST,
        baseline: None,
    }]))
}

pub fn listing(name: &str) -> DatabaseListing {
    DatabaseListing {
        name: name.into(),
        idb_version: 1,
    }
}

pub fn summary(name: &str) -> DatabaseSummary {
    DatabaseSummary {
        name: name.into(),
        idb_version: 1,
        schema: DatabaseSchema::default(),
        record_counts: Default::default(),
    }
}

fn status(version: u32, latest: u32) -> Status {
    Status {
        schema_version: version,
        latest_version: latest,
        idb_version: 9,
        applied: vec![],
        pending: (version + 1..=latest).collect(),
        drifted: vec![],
        unknown: version > latest,
        journal: vec![],
        managed: true,
        matching_versions: vec![],
        stored_versions: vec![],
        interrupted: None,
    }
}

pub fn health(version: u32, latest: u32) -> Health {
    Health {
        status: status(version, latest),
        validation: Ok(SchemaDiff::default()),
        storage: None,
    }
}

pub fn manifest(id: &str) -> BackupManifest {
    BackupManifest {
        format_version: 1,
        id: id.into(),
        database: A.into(),
        schema_version: 2,
        idb_version: 3,
        created_at: 0.0,
        label: String::new(),
        automatic: false,
        meta: RewindMeta::default(),
        stores: vec![],
        skipped: Vec::new(),
        interrupted: None,
        in_place: false,
        bytes: 10,
        sha256: "00".into(),
    }
}

pub fn plan(from: u32, to: u32) -> MigrationPlan {
    MigrationPlan {
        from,
        to,
        direction: Direction::Down,
        migrations: vec![],
        effects: PlanEffects::default(),
        from_database: vec![],
    }
}

/// Database A (managed) at version 3 of 5, with one backup; B is another app's.
pub fn ready() -> PageState {
    page()
        .apply(Action::DatabasesLoaded(vec![listing(A), listing(B)]))
        .apply(Action::SummaryLoaded(summary(A)))
        .apply(Action::HealthLoaded {
            name: A.into(),
            health: Ok(health(3, 5)),
        })
        .apply(Action::BackupsLoaded {
            name: A.into(),
            backups: Ok(vec![manifest("b1")]),
        })
}

/// What the open restore dialog (of a listed backup or a file) shows of what it would change.
pub fn changes(state: &PageState) -> Option<&Loadable<RestoreDiff>> {
    match &state.dialog.as_ref()?.kind {
        DialogKind::RestoreBackup { changes, .. } | DialogKind::RestoreFile { changes, .. } => {
            Some(changes)
        }
        _ => None,
    }
}
