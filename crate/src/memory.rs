//! An in-memory [`Migrate`] backend: the engine's logic runs on it under plain `cargo test`,
//! and it is the reference for what the IndexedDB adapter must do (all-or-nothing apply,
//! validation before commit).

use crate::diff::diff;
use crate::engine::{step_failed, DatabaseState, JournalEntry, Migrate, RewindMeta};
use crate::error::MigrationError;
use crate::fold::apply_step;
use crate::plan::MigrationPlan;
use crate::record::{apply_data_step, JsonRecord, Transforms};
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
}

impl MemoryDatabase {
    pub fn new() -> Self {
        Self::default()
    }

    fn run(
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
        let mut next = self.run(plan, transforms)?;
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
        *self = next;
        Ok(())
    }

    async fn record(&mut self, entry: &JournalEntry) -> Result<(), MigrationError> {
        self.journal.push(entry.clone());
        Ok(())
    }
}
