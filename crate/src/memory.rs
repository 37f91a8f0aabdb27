//! An in-memory [`Migrate`] and [`Backups`] backend: the engine's and the operations' logic
//! runs on it under plain `cargo test`, and it is the reference for what the IndexedDB adapter
//! must do (all-or-nothing apply and restore, validation before commit).

use crate::backup::{BackupManifest, StoreManifest, FORMAT_VERSION};
use crate::diff::diff;
use crate::engine::{step_failed, DatabaseState, JournalEntry, Migrate, RewindMeta};
use crate::fold::apply_step;
use crate::key_order::compare_keys;
use crate::migration_error::MigrationError;
use crate::operations::{BackupRequest, Backups};
use crate::plan::MigrationPlan;
use crate::record::{apply_data_step, JsonRecord, Transforms};
use crate::restore_diff::{value_fingerprint, walk_restore, DiffSource, Keyed, RestoreDiff};
use crate::rewind_error::RewindError;
use crate::schema::DatabaseSchema;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryDatabase {
    pub idb_version: u64,
    pub schema: DatabaseSchema,
    /// Records per store, each `(key, value)`.
    pub records: BTreeMap<String, Vec<(Value, Value)>>,
    pub meta: Option<RewindMeta>,
    pub journal: Vec<JournalEntry>,
    /// Another tab holds the database open: every apply fails with `Blocked`.
    pub blocked: bool,
    pub name: String,
    /// The catalog: each backup's manifest and the database as it was then.
    pub backups: Vec<(BackupManifest, MemoryDatabase)>,
    /// The ids of the backups asked for sealed (under a passphrase; nothing is encrypted here).
    pub sealed_backups: Vec<String>,
    /// Every backup fails with this error (no room, say), keeping nothing.
    pub failing_backup: Option<RewindError>,
    /// Every restore fails with this error while it stages (a damaged file, say), changing
    /// nothing.
    pub failing_stage: Option<RewindError>,
    /// Every restore fails with this error in its swap, changing nothing.
    pub failing_restore: Option<RewindError>,
    /// What `now()` says.
    pub clock: f64,
    /// The journal entry of an upgrade kept in part ([`DatabaseState::interrupted`]).
    pub interrupted: Option<JournalEntry>,
    /// The next apply is cut off after its steps, before its metadata, and what it did is kept
    /// with its entry as the marker: Firefox when an upgrade's tab closes while it awaits.
    pub cut_off_next_apply: bool,
}

/// Where a restore of a [`MemoryDatabase`] reads from.
#[derive(Debug, Clone, PartialEq)]
pub enum MemorySource {
    /// A backup of the catalog, by id.
    Backup(String),
    /// A file: its manifest and the database it holds.
    File(Box<BackupManifest>, Box<MemoryDatabase>),
}

impl MemoryDatabase {
    /// The manifest and content `source` names: a backup of the catalog, or a file.
    fn source(
        &self,
        source: MemorySource,
    ) -> Result<(BackupManifest, MemoryDatabase), RewindError> {
        match source {
            MemorySource::Backup(id) => self
                .backups
                .iter()
                .find(|(m, _)| m.id == id)
                .cloned()
                .ok_or(RewindError::NoSuchBackup { id }),
            MemorySource::File(manifest, held) => Ok((*manifest, *held)),
        }
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// A database named `name`, not created yet.
    pub fn named(name: &str) -> Self {
        MemoryDatabase {
            name: name.to_string(),
            ..Self::default()
        }
    }

    /// The database as a backup holds it: without its catalog or injected faults.
    fn contents(&self) -> MemoryDatabase {
        MemoryDatabase {
            idb_version: self.idb_version,
            schema: self.schema.clone(),
            records: self.records.clone(),
            meta: self.meta.clone(),
            journal: self.journal.clone(),
            name: self.name.clone(),
            ..MemoryDatabase::default()
        }
    }

    /// The database after `plan`, or the step that failed (this one unchanged).
    pub(crate) fn run(
        &self,
        plan: &MigrationPlan,
        transforms: &Transforms,
    ) -> Result<MemoryDatabase, MigrationError> {
        let mut next = self.clone();
        for pm in &plan.migrations {
            for (i, step) in pm.steps.iter().enumerate() {
                apply_step(&mut next.schema, step).map_err(|r| step_failed(pm, i, r))?;
                match step {
                    crate::migration::Step::CreateStore { store, .. } => {
                        next.records.insert(store.clone(), Vec::new());
                    }
                    crate::migration::Step::DeleteStore { store } => {
                        next.records.remove(store);
                    }
                    crate::migration::Step::RenameStore { from, to } => {
                        let rows = next.records.remove(from).unwrap_or_default();
                        next.records.insert(to.clone(), rows);
                    }
                    crate::migration::Step::ChangeKey {
                        store, key_path, ..
                    } => {
                        let rows = next.records.remove(store).unwrap_or_default();
                        let moved = crate::rekey::rekey_json(&rows, key_path)
                            .map_err(|r| step_failed(pm, i, r))?;
                        next.records.insert(store.clone(), moved);
                    }
                    _ => {}
                }
                if let Some(store) = step.data_store() {
                    for (n, (_, value)) in next
                        .records
                        .entry(store.to_string())
                        .or_default()
                        .iter_mut()
                        .enumerate()
                    {
                        apply_data_step(step, &mut JsonRecord(value), transforms)
                            .map_err(|r| step_failed(pm, i, format!("record {}: {r}", n + 1)))?;
                    }
                }
            }
        }
        Ok(next)
    }
}

impl Migrate for MemoryDatabase {
    async fn read(&mut self) -> Result<DatabaseState, MigrationError> {
        Ok(DatabaseState {
            exists: self.idb_version > 0,
            idb_version: self.idb_version,
            meta: self.meta.clone().unwrap_or_default(),
            schema: self.schema.clone(),
            counts: self
                .records
                .iter()
                .map(|(k, v)| (k.clone(), v.len() as u64))
                .collect(),
            journal: self.journal.clone(),
            interrupted: self.interrupted.clone(),
        })
    }

    async fn apply(
        &mut self,
        plan: &MigrationPlan,
        meta: &RewindMeta,
        expected: &DatabaseSchema,
        entry: &JournalEntry,
        transforms: &Transforms,
    ) -> Result<(), MigrationError> {
        if self.blocked {
            return Err(MigrationError::Blocked);
        }
        let cut_off = std::mem::take(&mut self.cut_off_next_apply);
        let mut next = self.run(plan, transforms)?;
        if cut_off {
            next.idb_version += 1;
            next.interrupted = Some(entry.clone());
            *self = next;
            return Err(MigrationError::Storage("the tab was closed".into()));
        }
        let d = diff(expected, &next.schema);
        if !d.is_empty() {
            return Err(MigrationError::ValidationFailed {
                version: meta.schema_version,
                diff: d,
            });
        }
        next.idb_version += 1;
        next.meta = Some(meta.clone());
        next.journal.push(entry.clone());
        next.interrupted = None;
        *self = next;
        Ok(())
    }

    async fn record(&mut self, entry: &JournalEntry) -> Result<(), MigrationError> {
        // As in IndexedDB: a database without Rewind's stores (none created yet, or made
        // before the app used Rewind) has no journal to append to.
        if self.meta.is_some() {
            self.journal.push(entry.clone());
        }
        Ok(())
    }

    async fn store_meta(&mut self, meta: &RewindMeta) -> Result<(), MigrationError> {
        if self.meta.is_none() {
            return Err(MigrationError::Storage(
                "Rewind's metadata store is missing; nothing was changed".into(),
            ));
        }
        self.meta = Some(meta.clone());
        Ok(())
    }
}

impl Backups for MemoryDatabase {
    type Lock = ();
    type Source = MemorySource;
    type Verified = (BackupManifest, MemoryDatabase);
    type Staged = (BackupManifest, MemoryDatabase);

    fn name(&self) -> &str {
        &self.name
    }

    fn now(&self) -> f64 {
        self.clock
    }

    fn backup_id(&self, created_at: f64) -> String {
        crate::backup_policy::backup_id(created_at, self.backups.len() as u32)
    }

    fn catalog_source(&self, id: &str) -> MemorySource {
        MemorySource::Backup(id.to_string())
    }

    async fn lock(&mut self) -> Result<(), RewindError> {
        Ok(())
    }

    async fn take_backup(
        &mut self,
        request: &BackupRequest,
    ) -> Result<BackupManifest, RewindError> {
        if let Some(err) = &self.failing_backup {
            return Err(err.clone());
        }
        let meta = self.meta.clone().unwrap_or_default();
        let stores = self
            .schema
            .stores
            .values()
            .map(|schema| StoreManifest {
                records: self.records.get(&schema.name).map_or(0, |r| r.len() as u64),
                ..StoreManifest::new(schema.clone())
            })
            .collect();
        let manifest = BackupManifest {
            format_version: FORMAT_VERSION,
            id: self.backup_id(self.clock),
            database: self.name.clone(),
            schema_version: meta.schema_version,
            idb_version: self.idb_version,
            created_at: self.clock,
            label: request.label.clone(),
            automatic: request.automatic,
            meta,
            stores,
            skipped: Vec::new(),
            interrupted: self.interrupted.clone().map(Box::new),
            in_place: false,
            bytes: 0,
            sha256: String::new(),
        };
        self.backups.push((manifest.clone(), self.contents()));
        if request.passphrase.is_some() {
            self.sealed_backups.push(manifest.id.clone());
        }
        Ok(manifest)
    }

    async fn list_backups(&mut self) -> Result<Vec<BackupManifest>, RewindError> {
        let mut all: Vec<BackupManifest> = self.backups.iter().map(|(m, _)| m.clone()).collect();
        crate::backup_policy::newest_first(&mut all);
        Ok(all)
    }

    async fn delete_backup(&mut self, id: &str) -> Result<(), RewindError> {
        self.backups.retain(|(m, _)| m.id != id);
        Ok(())
    }

    async fn verify(
        &mut self,
        source: MemorySource,
    ) -> Result<(BackupManifest, Self::Verified), RewindError> {
        let (manifest, held) = self.source(source)?;
        Ok((manifest.clone(), (manifest, held)))
    }

    async fn stage(
        &mut self,
        verified: Self::Verified,
        _state: &DatabaseState,
    ) -> Result<Self::Verified, RewindError> {
        if self.blocked {
            return Err(MigrationError::Blocked.into());
        }
        match &self.failing_stage {
            Some(err) => Err(err.clone()),
            None => Ok(verified),
        }
    }

    async fn swap(
        &mut self,
        (manifest, held): Self::Staged,
        entry: &JournalEntry,
        keep: Option<&BackupManifest>,
    ) -> Result<(), RewindError> {
        if let Some(err) = &self.failing_restore {
            return Err(err.clone());
        }
        if let Some(kept) = keep {
            self.backups.push((kept.clone(), self.contents()));
        }
        self.idb_version += 1;
        self.schema = held.schema;
        self.records = held.records;
        self.meta = Some(manifest.meta);
        self.journal.push(entry.clone());
        self.interrupted = manifest.interrupted.map(|cut| *cut);
        Ok(())
    }

    async fn discard(&mut self, _staged: Self::Staged) {}
}

/// A JSON value as the backup's value model holds it.
fn json_to_value(json: &Value) -> crate::backup::Value {
    use crate::backup::{Text, Value as V};
    let text = |s: &str| Text::from_utf16(s.encode_utf16().collect());
    match json {
        Value::Null => V::Null,
        Value::Bool(b) => V::Bool(*b),
        Value::Number(n) => V::number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => V::String(text(s)),
        Value::Array(items) => V::Array {
            length: items.len() as u32,
            props: items
                .iter()
                .enumerate()
                .map(|(i, v)| (text(&i.to_string()), json_to_value(v)))
                .collect(),
        },
        Value::Object(map) => V::Object(
            map.iter()
                .map(|(k, v)| (text(k), json_to_value(v)))
                .collect(),
        ),
    }
}

/// A store's records as a diff walks them: in key order, each value by its fingerprint.
fn keyed_in_order(rows: &[(Value, Value)]) -> Result<Vec<Keyed>, RewindError> {
    let mut keyed = rows
        .iter()
        .map(|(k, v)| Ok((json_to_value(k), value_fingerprint(json_to_value(v), &[])?)))
        .collect::<Result<Vec<_>, RewindError>>()?;
    keyed.sort_by(|a, b| compare_keys(&a.0, &b.0).unwrap_or(std::cmp::Ordering::Equal));
    Ok(keyed)
}

/// A restore's diff over two in-memory databases, `batch` records at a time.
struct MemoryDiff<'a> {
    /// The backup's batches in file order, handed out from the front.
    backup: std::vec::IntoIter<(String, Vec<Keyed>)>,
    live: &'a MemoryDatabase,
    live_read: BTreeMap<String, std::vec::IntoIter<Keyed>>,
    batch: usize,
}

impl DiffSource for MemoryDiff<'_> {
    async fn next_backup(&mut self) -> Result<Option<(String, Vec<Keyed>)>, RewindError> {
        Ok(self.backup.next())
    }

    async fn next_live(&mut self, store: &str) -> Result<Vec<Keyed>, RewindError> {
        let rows = match self.live_read.entry(store.to_string()) {
            std::collections::btree_map::Entry::Occupied(read) => read.into_mut(),
            std::collections::btree_map::Entry::Vacant(unread) => {
                let rows = self.live.records.get(store).map_or(&[][..], Vec::as_slice);
                unread.insert(keyed_in_order(rows)?.into_iter())
            }
        };
        Ok(rows.by_ref().take(self.batch).collect())
    }
}

impl MemoryDatabase {
    /// What restoring `source` would change here, walked `batch` records at a time; changes
    /// nothing.
    pub async fn diff_restore(
        &self,
        source: MemorySource,
        batch: usize,
    ) -> Result<RestoreDiff, RewindError> {
        if let Some(err) = &self.failing_stage {
            return Err(err.clone());
        }
        let (manifest, held) = self.source(source)?;
        let mut backup = Vec::new();
        for store in held.schema.stores.keys() {
            let rows = held.records.get(store).map_or(&[][..], Vec::as_slice);
            for part in keyed_in_order(rows)?.chunks(batch.max(1)) {
                backup.push((store.clone(), part.to_vec()));
            }
        }
        let mut source = MemoryDiff {
            backup: backup.into_iter(),
            live: self,
            live_read: BTreeMap::new(),
            batch: batch.max(1),
        };
        walk_restore(&mut source, &held.schema, &self.schema, &manifest.skipped).await
    }
}
