//! The validated list of an app's migrations, and the planner that finds the way from any
//! schema version to any other.

use crate::fold::apply_steps;
use crate::migration::{Checksum, Migration, Step};
use crate::migration_error::MigrationError;
use crate::record::Transforms;
use crate::schema::DatabaseSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// An app's migrations, checked: versions 1, 2, 3 … without gaps or duplicates, every step
/// applicable in order (up from version 0, and each down back to the schema before it).
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationSet {
    migrations: Vec<Migration>,
    /// `schemas[v]` is the schema version `v` implies; `schemas[0]` is empty.
    schemas: Vec<DatabaseSchema>,
}

fn invalid(source: impl Into<String>, reason: impl Into<String>) -> MigrationError {
    MigrationError::InvalidMigration {
        location: source.into(),
        reason: reason.into(),
    }
}

impl MigrationSet {
    pub fn new(mut migrations: Vec<Migration>) -> Result<MigrationSet, MigrationError> {
        migrations.sort_by_key(|m| m.version);
        let mut schemas = vec![DatabaseSchema::default()];
        for (i, m) in migrations.iter().enumerate() {
            let expected = i as u32 + 1;
            let source = format!("migration {} ({:?})", m.version, m.name);
            if m.version != expected {
                let reason = if m.version < expected {
                    format!("version {} appears twice", m.version)
                } else {
                    format!(
                        "version {expected} is missing: versions must be 1, 2, 3 … without gaps"
                    )
                };
                return Err(invalid(source, reason));
            }
            if m.name.trim().is_empty() {
                return Err(invalid(source, "the name is empty"));
            }
            let before = schemas[i].clone();
            let mut after = before.clone();
            apply_steps(&mut after, &m.up).map_err(|(step, reason)| {
                invalid(
                    &source,
                    format!(
                        "up step {} ({}) cannot apply: {reason}",
                        step + 1,
                        m.up[step]
                    ),
                )
            })?;
            if let Some(down) = &m.down {
                let mut back = after.clone();
                apply_steps(&mut back, down).map_err(|(step, reason)| {
                    invalid(
                        &source,
                        format!(
                            "down step {} ({}) cannot apply: {reason}",
                            step + 1,
                            down[step]
                        ),
                    )
                })?;
                if back != before {
                    let diff = crate::diff::diff(&before, &back);
                    return Err(invalid(
                        source,
                        format!(
                            "down does not restore the schema of version {}: {diff}",
                            m.version - 1
                        ),
                    ));
                }
            }
            schemas.push(after);
        }
        Ok(MigrationSet {
            migrations,
            schemas,
        })
    }

    /// Parses migration files (`(file name, JSON text)`), e.g. from [`crate::embed_migrations!`].
    pub fn from_files(files: &[(&str, &str)]) -> Result<MigrationSet, MigrationError> {
        let mut migrations = Vec::with_capacity(files.len());
        for (name, json) in files {
            let m = Migration::from_json(name, json)?;
            if let Some(prefix) = name.split('_').next().and_then(|p| p.parse::<u32>().ok()) {
                if prefix != m.version {
                    return Err(invalid(
                        *name,
                        format!(
                            "the file name says version {prefix} but the file says {}",
                            m.version
                        ),
                    ));
                }
            }
            migrations.push(m);
        }
        MigrationSet::new(migrations)
    }

    pub fn latest(&self) -> u32 {
        self.migrations.len() as u32
    }

    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    pub fn get(&self, version: u32) -> Option<&Migration> {
        version
            .checked_sub(1)
            .and_then(|i| self.migrations.get(i as usize))
    }

    /// The schema version `version` implies.
    pub fn schema_at(&self, version: u32) -> Option<&DatabaseSchema> {
        self.schemas.get(version as usize)
    }

    pub fn checksums(&self) -> Vec<(u32, Checksum)> {
        self.migrations
            .iter()
            .map(|m| (m.version, m.checksum()))
            .collect()
    }

    /// Plans the way from `from` to `to`. `counts` (records per store now) sizes the effects.
    pub fn plan(
        &self,
        from: u32,
        to: u32,
        counts: &BTreeMap<String, u64>,
        transforms: &Transforms,
    ) -> Result<MigrationPlan, MigrationError> {
        let latest = self.latest();
        if from > latest {
            return Err(MigrationError::UnknownVersion {
                version: from,
                latest,
            });
        }
        if to > latest {
            return Err(MigrationError::UnknownTarget { target: to, latest });
        }
        let mut planned = Vec::new();
        if to > from {
            for v in from + 1..=to {
                let m = &self.migrations[v as usize - 1];
                planned.push(PlannedMigration {
                    version: v,
                    name: m.name.clone(),
                    steps: m.up.clone(),
                });
            }
        } else {
            for v in (to + 1..=from).rev() {
                let m = &self.migrations[v as usize - 1];
                let steps =
                    m.down
                        .clone()
                        .ok_or_else(|| MigrationError::IrreversibleMigration {
                            version: v,
                            name: m.name.clone(),
                        })?;
                planned.push(PlannedMigration {
                    version: v,
                    name: m.name.clone(),
                    steps,
                });
            }
        }
        for pm in &planned {
            for (i, step) in pm.steps.iter().enumerate() {
                if let Step::Transform { name, .. } = step {
                    if !transforms.contains(name) {
                        return Err(MigrationError::StepFailed {
                            version: pm.version,
                            name: pm.name.clone(),
                            step_number: i + 1,
                            step: step.to_string(),
                            reason: format!(
                                "no transform named {name:?} is registered in this app"
                            ),
                        });
                    }
                }
            }
        }
        let effects = PlanEffects::of(&planned, counts);
        let direction = match to.cmp(&from) {
            std::cmp::Ordering::Greater => Direction::Up,
            std::cmp::Ordering::Less => Direction::Down,
            std::cmp::Ordering::Equal => Direction::None,
        };
        Ok(MigrationPlan {
            from,
            to,
            direction,
            migrations: planned,
            effects,
            from_database: Vec::new(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Up,
    Down,
    None,
}

/// One migration's steps as the plan runs them (`up`, or `down` when rolling back).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedMigration {
    pub version: u32,
    pub name: String,
    pub steps: Vec<Step>,
}

/// The ordered steps from one version to another, and what they will do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationPlan {
    pub from: u32,
    pub to: u32,
    pub direction: Direction,
    pub migrations: Vec<PlannedMigration>,
    pub effects: PlanEffects,
    /// The versions whose steps come from the database rather than from this app's
    /// migrations (a rollback from a version this app does not know); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from_database: Vec<u32>,
}

impl MigrationPlan {
    pub fn is_empty(&self) -> bool {
        self.migrations.iter().all(|m| m.steps.is_empty())
    }

    pub fn step_count(&self) -> usize {
        self.migrations.iter().map(|m| m.steps.len()).sum()
    }
}

/// What a plan changes, for the preview a person confirms.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanEffects {
    pub stores_created: Vec<String>,
    pub stores_deleted: Vec<String>,
    pub stores_renamed: Vec<(String, String)>,
    pub indexes_created: Vec<(String, String)>,
    pub indexes_deleted: Vec<(String, String)>,
    /// Human sentences: "field \"tags\" added to \"notes\"".
    pub fields_changed: Vec<String>,
    /// Records each data step visits, per store (by the name the store has at that point).
    pub records_touched: BTreeMap<String, u64>,
    /// Human sentences about data that will be gone afterwards.
    pub data_dropped: Vec<String>,
}

impl PlanEffects {
    pub(crate) fn of(planned: &[PlannedMigration], counts: &BTreeMap<String, u64>) -> PlanEffects {
        let mut e = PlanEffects::default();
        let mut counts = counts.clone();
        for step in planned.iter().flat_map(|m| &m.steps) {
            match step {
                Step::CreateStore { store, .. } => {
                    e.stores_created.push(store.clone());
                    counts.insert(store.clone(), 0);
                }
                Step::DeleteStore { store } => {
                    e.stores_deleted.push(store.clone());
                    let n = counts.remove(store).unwrap_or(0);
                    if n > 0 {
                        e.data_dropped.push(format!(
                            "{n} records of store {store:?} are deleted with it"
                        ));
                    }
                }
                Step::RenameStore { from, to } => {
                    e.stores_renamed.push((from.clone(), to.clone()));
                    let n = counts.remove(from).unwrap_or(0);
                    counts.insert(to.clone(), n);
                }
                Step::CreateIndex { store, index, .. } => {
                    e.indexes_created.push((store.clone(), index.clone()))
                }
                Step::DeleteIndex { store, index } => {
                    e.indexes_deleted.push((store.clone(), index.clone()))
                }
                Step::AddField { store, field, .. } => e
                    .fields_changed
                    .push(format!("field {field:?} added to {store:?}")),
                Step::RemoveField { store, field } => {
                    e.fields_changed
                        .push(format!("field {field:?} removed from {store:?}"));
                    if counts.get(store).copied().unwrap_or(0) > 0 {
                        e.data_dropped
                            .push(format!("the values of field {field:?} in store {store:?}"));
                    }
                }
                Step::RenameField { store, from, to } => e
                    .fields_changed
                    .push(format!("field {from:?} renamed to {to:?} in {store:?}")),
                Step::Transform { store, name, .. } => e.fields_changed.push(format!(
                    "records of {store:?} rewritten by transform {name:?}"
                )),
                Step::ChangeKey {
                    store, key_path, ..
                } => {
                    let n = counts.get(store).copied().unwrap_or(0);
                    e.fields_changed.push(format!(
                        "the primary key of {store:?} changes to key path {key_path}: {n} \
                         records move to a store keyed by it"
                    ));
                    *e.records_touched.entry(store.to_string()).or_insert(0) += n;
                }
            }
            if let Some(store) = step.data_store() {
                let n = counts.get(store).copied().unwrap_or(0);
                *e.records_touched.entry(store.to_string()).or_insert(0) += n;
            }
        }
        e
    }
}
