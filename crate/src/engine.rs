//! The migration engine: it decides, a [`Migrate`] backend carries it out.
//!
//! As in sqlx's `Migrator`, the engine reaches the database only through a small trait; the
//! IndexedDB adapter is one implementation, [`crate::memory::MemoryDatabase`] another, so every
//! decision here (plans, drift, direction, journal) is tested natively.

use crate::diff::{diff, SchemaDiff};
use crate::migration::{Checksum, Migration};
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
    /// The migration as it was applied (its `down` steps above all), kept in the database so
    /// that an older release of the app, which does not know it, can still undo it
    /// ([`Migrator::plan_from_stored`]). `None` in metadata written before Rewind kept them,
    /// until a release that knows the migration backfills it ([`Migrator::backfilled`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Migration>,
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
    /// A database made before the app used Rewind, adopted at a version whose schema it had:
    /// Rewind's metadata written, no app store or record changed (Flyway's baseline).
    Adopt,
}

impl Operation {
    /// The operation in words, as a message names it.
    pub fn noun(self) -> &'static str {
        match self {
            Operation::Migrate => "migration",
            Operation::Rollback => "rollback",
            Operation::Repair => "repair",
            Operation::Restore => "restore",
            Operation::Adopt => "adoption",
        }
    }
}

/// How to adopt a database made before the app used Rewind (its stores there, no record of
/// Rewind's): at which version to record it, after checking that its schema is that version's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The live schema must equal this version's.
    Version(u32),
    /// The highest version whose schema equals the live one. Versions that differ only in
    /// data steps have the same schema: name the version when that matters.
    Auto,
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
    /// A restore that undid an interrupted upgrade the browser kept in part: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undid: Option<Box<JournalEntry>>,
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
            undid: None,
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
    /// An upgrade that began and never finished, yet changed the database: its journal entry,
    /// which every upgrade writes first and removes last. Firefox commits an upgrade whose tab
    /// closes while it awaits its own requests, keeping whatever it had done (a migration's
    /// transform half run). The data is then neither before nor after; only a restore of the
    /// backup taken before it (`backup_id`) brings it back.
    pub interrupted: Option<JournalEntry>,
}

impl DatabaseState {
    /// The database holds app stores but Rewind has no record of any version (no metadata, or
    /// version 0, whose schema is empty): it was made before the app used Rewind, or restored
    /// from a backup of such a database. It must be adopted before it is migrated.
    pub fn is_unmanaged(&self) -> bool {
        self.meta.schema_version == 0 && !self.schema.stores.is_empty()
    }

    /// Refused while an upgrade the browser kept in part is not undone: nothing may build on
    /// data that is neither before nor after it.
    pub fn refuse_interrupted(&self) -> Result<(), MigrationError> {
        match &self.interrupted {
            Some(entry) => Err(MigrationError::interrupted(entry)),
            None => Ok(()),
        }
    }

    /// The app stores, by name (what an unmanaged database holds).
    fn store_names(&self) -> Vec<String> {
        self.schema.stores.keys().cloned().collect()
    }
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

    /// Replaces Rewind's metadata of an existing, managed database on its own, changing no
    /// app store (the definitions of applied migrations backfilled). All or nothing.
    async fn store_meta(&mut self, meta: &RewindMeta) -> Result<(), MigrationError>;
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
    /// `false` when the database holds app stores Rewind has no record of (made before the app
    /// used Rewind): operations refuse it (`Unmanaged`) until it is adopted.
    pub managed: bool,
    /// For an unmanaged database, the versions whose schema equals the live one (compared as
    /// `validate` compares), lowest first; empty otherwise.
    pub matching_versions: Vec<u32>,
    /// The applied versions whose definitions the database keeps, lowest first: when it is at
    /// a version this app does not know, those above the app's latest are what a rollback
    /// from the stored steps would undo (`Migrator::plan_from_stored`).
    pub stored_versions: Vec<u32>,
    /// An upgrade the browser kept in part ([`DatabaseState::interrupted`]): the next
    /// operation restores the backup taken before it, or, without one, waits for a restore.
    pub interrupted: Option<JournalEntry>,
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
    baseline: Option<Baseline>,
}

impl Migrator {
    pub fn new(set: MigrationSet, transforms: Transforms) -> Self {
        Migrator {
            set,
            transforms,
            baseline: None,
        }
    }

    /// Adopts an unmanaged database (see [`DatabaseState::is_unmanaged`]) at `baseline` before
    /// the first operation that would change it; a managed one is left as it is.
    pub fn with_baseline(mut self, baseline: Baseline) -> Self {
        self.baseline = Some(baseline);
        self
    }

    pub fn baseline(&self) -> Option<Baseline> {
        self.baseline
    }

    /// The versions whose schema equals `schema` (compared as `validate` compares).
    pub fn matching_versions(&self, schema: &DatabaseSchema) -> Vec<u32> {
        (0..=self.set.latest())
            .filter(|&v| {
                self.set
                    .schema_at(v)
                    .is_some_and(|s| diff(s, schema).is_empty())
            })
            .collect()
    }

    /// The version an unmanaged database is adopted at: `baseline`'s, once its schema is
    /// proven to be the live one.
    pub fn baseline_version(
        &self,
        state: &DatabaseState,
        baseline: Baseline,
    ) -> Result<u32, MigrationError> {
        let latest = self.set.latest();
        match baseline {
            Baseline::Version(version) => {
                let expected =
                    self.set
                        .schema_at(version)
                        .ok_or(MigrationError::UnknownTarget {
                            target: version,
                            latest,
                        })?;
                let d = diff(expected, &state.schema);
                match d.is_empty() {
                    true => Ok(version),
                    false => Err(MigrationError::BaselineMismatch { version, diff: d }),
                }
            }
            Baseline::Auto => {
                if let Some(&v) = self.matching_versions(&state.schema).last() {
                    return Ok(v);
                }
                // The nearest: fewest problems, the highest version among equals.
                let (nearest, d) = (0..=latest)
                    .filter_map(|v| Some((v, diff(self.set.schema_at(v)?, &state.schema))))
                    .min_by_key(|(v, d)| (d.problems.len(), std::cmp::Reverse(*v)))
                    .unwrap_or_default();
                Err(MigrationError::NoBaselineMatch {
                    latest,
                    nearest,
                    diff: d,
                })
            }
        }
    }

    /// Rewind's metadata of a database adopted at `version`: every migration up to it recorded
    /// as applied at `now`, with its checksum today (so that later drift is seen).
    pub(crate) fn adopted(&self, version: u32, now: f64) -> RewindMeta {
        RewindMeta {
            schema_version: version,
            applied: (1..=version)
                .filter_map(|v| {
                    let m = self.set.get(v)?;
                    Some(AppliedMigration {
                        version: v,
                        name: m.name.clone(),
                        checksum: m.checksum(),
                        applied_at: now,
                        definition: Some(m.clone()),
                    })
                })
                .collect(),
        }
    }

    pub fn migrations(&self) -> &MigrationSet {
        &self.set
    }

    pub(crate) fn transforms(&self) -> &Transforms {
        &self.transforms
    }

    pub(crate) fn drift(&self, meta: &RewindMeta) -> Vec<DriftedMigration> {
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
        let managed = !state.is_unmanaged();
        let matching_versions = match managed {
            true => Vec::new(),
            false => self.matching_versions(&state.schema),
        };
        Ok(Status {
            managed,
            matching_versions,
            schema_version: v,
            latest_version: latest,
            idb_version: state.idb_version,
            pending: (v + 1..=latest).collect(),
            drifted: self.drift(&state.meta),
            unknown: v > latest,
            stored_versions: state
                .meta
                .applied
                .iter()
                .filter(|a| a.definition.is_some())
                .map(|a| a.version)
                .collect(),
            applied: state.meta.applied,
            interrupted: state.interrupted,
            journal,
        })
    }

    /// The plan from the current version to `to`: a dry run that changes nothing.
    pub async fn plan<B: Migrate>(
        &self,
        db: &mut B,
        to: u32,
    ) -> Result<MigrationPlan, MigrationError> {
        let mut state = db.read().await?;
        if let (true, Some(baseline)) = (state.is_unmanaged(), self.baseline) {
            // The operation would adopt the database first: plan from there.
            let version = self.baseline_version(&state, baseline)?;
            state.meta = self.adopted(version, 0.0);
        }
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
            // Metadata written before Rewind kept definitions gets them now, so that a later
            // release can still be undone by an earlier one. Metadata only: no upgrade, no
            // journal entry (no app store or record changes).
            if let Some(meta) = self.backfilled(&state.meta) {
                db.store_meta(&meta).await?;
            }
            return Ok(OperationReport {
                from,
                to,
                backup_id,
            });
        }
        let mut meta = self.backfilled(&state.meta).unwrap_or(state.meta);
        meta.schema_version = to;
        // A rollback forgets what it undid, definitions included.
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
            undid: None,
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
        state.refuse_interrupted()?;
        if state.is_unmanaged() {
            return Err(MigrationError::Unmanaged {
                stores: state.store_names(),
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
        if state.exists && from != to {
            // The steps assume the schema of `from`; on another they would fail half-way
            // (an index that is already there) or change what the app never declared.
            let d = diff(
                &self.set.schema_at(from).cloned().unwrap_or_default(),
                &state.schema,
            );
            if !d.is_empty() {
                return Err(MigrationError::SchemaMismatch {
                    version: from,
                    diff: d,
                });
            }
        }
        self.set.plan(from, to, &state.counts, &self.transforms)
    }

    fn applied(&self, pm: &PlannedMigration, now: f64) -> AppliedMigration {
        let definition = self.set.get(pm.version).cloned();
        let checksum = definition
            .as_ref()
            .map(|m| m.checksum())
            .unwrap_or(Checksum(String::new()));
        AppliedMigration {
            version: pm.version,
            name: pm.name.clone(),
            checksum,
            applied_at: now,
            definition,
        }
    }

    /// `meta` with the definition of every applied migration that has none stored yet and
    /// that this app knows unchanged (same checksum) filled in; `None` when there is none to
    /// fill. A drifted migration is left without one: what the database would keep must be
    /// what was applied, and a changed definition is not.
    pub fn backfilled(&self, meta: &RewindMeta) -> Option<RewindMeta> {
        let mut filled = meta.clone();
        let mut changed = false;
        for a in filled.applied.iter_mut().filter(|a| a.definition.is_none()) {
            if let Some(m) = self
                .set
                .get(a.version)
                .filter(|m| m.checksum() == a.checksum)
            {
                a.definition = Some(m.clone());
                changed = true;
            }
        }
        changed.then_some(filled)
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
        state.refuse_interrupted()?;
        let v = state.meta.schema_version;
        if v > self.set.latest() {
            return Err(MigrationError::UnknownVersion {
                version: v,
                latest: self.set.latest(),
            });
        }
        let drifted = self.drift(&state.meta);
        if drifted.is_empty() {
            if let Some(meta) = self.backfilled(&state.meta) {
                db.store_meta(&meta).await?;
            }
            return Ok(vec![]);
        }
        let mut meta = state.meta.clone();
        for a in meta.applied.iter_mut() {
            if let Some(m) = self.set.get(a.version) {
                a.checksum = m.checksum();
                a.name = m.name.clone();
                // The definition the person confirmed is now the one a rollback trusts.
                a.definition = Some(m.clone());
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
            undid: None,
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
