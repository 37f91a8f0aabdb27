//! The migration engine: it decides, a [`Migrate`] backend carries it out.
//!
//! As in sqlx's `Migrator`, the engine reaches the database only through a small trait; the
//! IndexedDB adapter is one implementation, [`crate::memory::MemoryDatabase`] another, so every
//! decision here (plans, drift, direction, journal) is tested natively.

use crate::diff::{diff, SchemaDiff};
use crate::migration::Checksum;
use crate::migration_error::MigrationError;
use crate::plan::{MigrationPlan, MigrationSet, PlannedMigration};
use crate::record::Transforms;
use crate::schema::DatabaseSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One migration as it was recorded when applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedMigration {
    pub version: u32,
    pub name: String,
    pub checksum: Checksum,
    /// Milliseconds since the Unix epoch.
    pub applied_at: f64,
}

/// What Rewind keeps inside the database about its schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RewindMeta {
    pub schema_version: u32,
    pub applied: Vec<AppliedMigration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    Migrate,
    Rollback,
    Repair,
    Restore,
}

/// One line of the operation journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub at: f64,
    pub operation: Operation,
    pub from: u32,
    pub to: u32,
    /// `None` when it succeeded; the error message when it failed (and changed nothing).
    pub error: Option<String>,
    pub backup_id: Option<String>,
    /// The person chose to run it without the automatic backup before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub without_backup: bool,
}

impl JournalEntry {
    /// What the journal says of a restore found interrupted before its swap (its tab closed or
    /// the browser stopped), when its staged copy is removed: it failed, and changed nothing.
    pub fn interrupted_restore(at: f64, version: u32) -> JournalEntry {
        JournalEntry {
            at,
            operation: Operation::Restore,
            from: version,
            to: version,
            error: Some(
                "interrupted before it changed anything (its tab was closed or the browser \
                 stopped); the copy it had staged was removed"
                    .into(),
            ),
            backup_id: None,
            without_backup: false,
        }
    }
}

/// Everything a backend reports about the database, read at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatabaseState {
    pub exists: bool,
    pub idb_version: u64,
    pub meta: RewindMeta,
    /// The app's stores only (never Rewind's own).
    pub schema: DatabaseSchema,
    pub counts: BTreeMap<String, u64>,
    /// Oldest first.
    pub journal: Vec<JournalEntry>,
}

/// What the engine asks of a database.
#[allow(async_fn_in_trait)]
pub trait Migrate {
    async fn read(&mut self) -> Result<DatabaseState, MigrationError>;

    /// One atomic unit: run every step of `plan`, store `meta`, append `entry`, and commit only
    /// if the app's live schema then equals `expected`. On any error nothing has changed.
    async fn apply(
        &mut self,
        plan: &MigrationPlan,
        meta: &RewindMeta,
        expected: &DatabaseSchema,
        entry: &JournalEntry,
        transforms: &Transforms,
    ) -> Result<(), MigrationError>;

    /// Appends a journal entry on its own (a failed operation's record).
    async fn record(&mut self, entry: &JournalEntry) -> Result<(), MigrationError>;
}

/// A recorded migration whose definition changed since it was applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftedMigration {
    pub version: u32,
    pub name: String,
    pub recorded: Checksum,
    pub current: Checksum,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub schema_version: u32,
    pub latest_version: u32,
    pub idb_version: u64,
    pub applied: Vec<AppliedMigration>,
    pub pending: Vec<u32>,
    pub drifted: Vec<DriftedMigration>,
    /// The database is at a schema version this app does not know.
    pub unknown: bool,
    /// Newest first.
    pub journal: Vec<JournalEntry>,
}

/// What a finished operation reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationReport {
    pub from: u32,
    pub to: u32,
    pub backup_id: Option<String>,
}

/// Runs an app's migrations against databases.
#[derive(Debug, Clone)]
pub struct Migrator {
    set: MigrationSet,
    transforms: Transforms,
}

impl Migrator {
    pub fn new(set: MigrationSet, transforms: Transforms) -> Self {
        Migrator { set, transforms }
    }

    pub fn migrations(&self) -> &MigrationSet {
        &self.set
    }

    fn drift(&self, meta: &RewindMeta) -> Vec<DriftedMigration> {
        meta.applied
            .iter()
            .filter_map(|a| {
                let current = self.set.get(a.version)?.checksum();
                (current != a.checksum).then(|| DriftedMigration {
                    version: a.version,
                    name: a.name.clone(),
                    recorded: a.checksum.clone(),
                    current,
                })
            })
            .collect()
    }

    pub async fn status<B: Migrate>(&self, db: &mut B) -> Result<Status, MigrationError> {
        let state = db.read().await?;
        let latest = self.set.latest();
        let v = state.meta.schema_version;
        let mut journal = state.journal.clone();
        journal.reverse();
        Ok(Status {
            schema_version: v,
            latest_version: latest,
            idb_version: state.idb_version,
            pending: (v + 1..=latest).collect(),
            drifted: self.drift(&state.meta),
            unknown: v > latest,
            applied: state.meta.applied,
            journal,
        })
    }

    /// The plan from the current version to `to`: a dry run that changes nothing.
    pub async fn plan<B: Migrate>(
        &self,
        db: &mut B,
        to: u32,
    ) -> Result<MigrationPlan, MigrationError> {
        let state = db.read().await?;
        // The same checks the operation itself makes (drift, unknown version), so a preview
        // never promises what the operation would refuse.
        let operation = if to < state.meta.schema_version {
            Operation::Rollback
        } else {
            Operation::Migrate
        };
        self.checked_plan(&state, to, operation)
    }

    /// Migrates forward to `to` (the latest when `None`).
    pub async fn migrate_to<B: Migrate>(
        &self,
        db: &mut B,
        to: Option<u32>,
        now: f64,
        backup_id: Option<String>,
    ) -> Result<OperationReport, MigrationError> {
        let to = to.unwrap_or(self.set.latest());
        self.run(db, to, Operation::Migrate, now, backup_id).await
    }

    /// Rolls back to `to`, running `down` of every migration above it, newest first.
    pub async fn rollback_to<B: Migrate>(
        &self,
        db: &mut B,
        to: u32,
        now: f64,
        backup_id: Option<String>,
    ) -> Result<OperationReport, MigrationError> {
        self.run(db, to, Operation::Rollback, now, backup_id).await
    }

    async fn run<B: Migrate>(
        &self,
        db: &mut B,
        to: u32,
        operation: Operation,
        now: f64,
        backup_id: Option<String>,
    ) -> Result<OperationReport, MigrationError> {
        let state = db.read().await?;
        let plan = self.checked_plan(&state, to, operation)?;
        self.run_planned(db, state, plan, to, operation, now, backup_id, false)
            .await
    }

    /// Runs `plan` (made by [`Migrator::checked_plan`] from `state`, the database as read at
    /// the start of the operation) in one atomic unit, and journals it; a failure is
    /// journaled too.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_planned<B: Migrate>(
        &self,
        db: &mut B,
        state: DatabaseState,
        plan: MigrationPlan,
        to: u32,
        operation: Operation,
        now: f64,
        backup_id: Option<String>,
        without_backup: bool,
    ) -> Result<OperationReport, MigrationError> {
        let from = state.meta.schema_version;
        let expected = self.set.schema_at(to).cloned().unwrap_or_default();
        if state.exists && from == to {
            // Nothing to do: no upgrade (it would raise the IndexedDB version and wait for
            // other tabs) and nothing journaled. The live schema is still checked, as an
            // upgrade would have checked it.
            let d = diff(&expected, &state.schema);
            if !d.is_empty() {
                return Err(MigrationError::ValidationFailed {
                    version: to,
                    diff: d,
                });
            }
            return Ok(OperationReport {
                from,
                to,
                backup_id,
            });
        }
        let mut meta = state.meta;
        meta.schema_version = to;
        meta.applied.retain(|a| a.version <= to);
        for pm in plan.migrations.iter().filter(|pm| pm.version > from) {
            meta.applied.push(self.applied(pm, now));
        }
        let mut entry = JournalEntry {
            at: now,
            operation,
            from,
            to,
            error: None,
            backup_id: backup_id.clone(),
            without_backup,
        };
        if let Err(err) = db
            .apply(&plan, &meta, &expected, &entry, &self.transforms)
            .await
        {
            entry.error = Some(err.to_string());
            record_failure(db, &entry, err == MigrationError::Blocked).await;
            return Err(err);
        }
        Ok(OperationReport {
            from,
            to,
            backup_id,
        })
    }

    /// The plan `operation` would run to `to`, after every check that needs no database
    /// change: direction, drift, versions, irreversible steps, registered transforms.
    pub fn checked_plan(
        &self,
        state: &DatabaseState,
        to: u32,
        operation: Operation,
    ) -> Result<MigrationPlan, MigrationError> {
        let from = state.meta.schema_version;
        let latest = self.set.latest();
        if from > latest {
            return Err(MigrationError::UnknownVersion {
                version: from,
                latest,
            });
        }
        let wrong_way = match operation {
            Operation::Migrate => to < from,
            _ => to > from,
        };
        if wrong_way {
            return Err(MigrationError::WrongDirection { from, to });
        }
        let drifted = self.drift(&state.meta);
        if !drifted.is_empty() {
            return Err(MigrationError::Drift(
                drifted.into_iter().map(|d| (d.version, d.name)).collect(),
            ));
        }
        self.set.plan(from, to, &state.counts, &self.transforms)
    }

    fn applied(&self, pm: &PlannedMigration, now: f64) -> AppliedMigration {
        let checksum = self
            .set
            .get(pm.version)
            .map(|m| m.checksum())
            .unwrap_or(Checksum(String::new()));
        AppliedMigration {
            version: pm.version,
            name: pm.name.clone(),
            checksum,
            applied_at: now,
        }
    }

    /// Compares the live schema with the one the recorded version implies.
    pub async fn validate<B: Migrate>(&self, db: &mut B) -> Result<SchemaDiff, MigrationError> {
        let state = db.read().await?;
        let version = state.meta.schema_version;
        let expected = self
            .set
            .schema_at(version)
            .ok_or(MigrationError::UnknownVersion {
                version,
                latest: self.set.latest(),
            })?;
        Ok(diff(expected, &state.schema))
    }

    /// Re-records the checksums of applied migrations whose definitions changed (after the
    /// person confirmed that the change is intended). Changes no schema and no data.
    pub async fn repair<B: Migrate>(
        &self,
        db: &mut B,
        now: f64,
    ) -> Result<Vec<u32>, MigrationError> {
        let state = db.read().await?;
        let v = state.meta.schema_version;
        if v > self.set.latest() {
            return Err(MigrationError::UnknownVersion {
                version: v,
                latest: self.set.latest(),
            });
        }
        let drifted = self.drift(&state.meta);
        if drifted.is_empty() {
            return Ok(vec![]);
        }
        let mut meta = state.meta.clone();
        for a in meta.applied.iter_mut() {
            if let Some(m) = self.set.get(a.version) {
                a.checksum = m.checksum();
                a.name = m.name.clone();
            }
        }
        let plan = self.set.plan(v, v, &state.counts, &self.transforms)?;
        let entry = JournalEntry {
            at: now,
            operation: Operation::Repair,
            from: v,
            to: v,
            error: None,
            backup_id: None,
            without_backup: false,
        };
        db.apply(&plan, &meta, &state.schema, &entry, &self.transforms)
            .await?;
        Ok(drifted.iter().map(|d| d.version).collect())
    }
}

/// Journals an operation that failed and changed nothing. Best effort: a journal that cannot
/// be written (the same lack of room, say) must not hide the real error. After `Blocked`
/// nothing is written: the blocked upgrade stays queued in the browser until the other tab
/// lets go, and any new connection would wait behind it.
pub(crate) async fn record_failure<B: Migrate>(db: &mut B, entry: &JournalEntry, blocked: bool) {
    if !blocked {
        let _ = db.record(entry).await;
    }
}

/// The error for a step that failed while a backend ran it.
pub fn step_failed(
    pm: &PlannedMigration,
    index: usize,
    reason: impl Into<String>,
) -> MigrationError {
    MigrationError::StepFailed {
        version: pm.version,
        name: pm.name.clone(),
        step_number: index + 1,
        step: pm
            .steps
            .get(index)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        reason: reason.into(),
    }
}
