//! Rolling back from a version this app does not know, with the steps the database keeps.
//!
//! Every applied migration is recorded with its definition ([`AppliedMigration::definition`]),
//! in the same atomic unit that applies it. After a release of the app is withdrawn, the
//! older release meets a database at a version it does not know; it cannot trust its own
//! code for those versions (it has none), so it trusts the database's copy once the copy
//! proves to be what was applied: its checksum must be the one recorded then. The versions it
//! knows are undone with its own migrations, as in any rollback, and the result is checked
//! against its own schema for the target. The policy lives here, in the core, so that the
//! in-memory backend proves it.
//!
//! [`AppliedMigration::definition`]: crate::AppliedMigration::definition

use crate::diff::diff;
use crate::engine::{step_failed, DatabaseState, Migrate, Migrator, Operation};
use crate::fold::apply_step;
use crate::migration::Step;
use crate::migration_error::MigrationError;
use crate::plan::{Direction, MigrationPlan, PlanEffects, PlannedMigration};
use std::collections::BTreeMap;

impl Migrator {
    /// The rollback to `to` from the database as `state` describes it, with the stored steps
    /// of every version above this app's latest and this app's own below, after every check
    /// that needs no change: each stored definition against its recorded checksum (`StoredDrift`),
    /// a missing definition (`NotStored`) or `down` (`IrreversibleMigration`), a stored
    /// transform this app does not register (`UnknownStoredTransform`), drift of the versions
    /// it knows, and the steps folded over the live schema to this app's schema for `to`. A
    /// database at a version this app knows is planned as any rollback.
    pub fn stored_plan(
        &self,
        state: &DatabaseState,
        to: u32,
    ) -> Result<MigrationPlan, MigrationError> {
        let from = state.meta.schema_version;
        let latest = self.migrations().latest();
        if from <= latest {
            return self.checked_plan(state, to, Operation::Rollback);
        }
        if to > latest {
            return Err(MigrationError::UnknownTarget { target: to, latest });
        }
        let mut planned = Vec::new();
        for version in (latest + 1..=from).rev() {
            let applied = state.meta.applied.iter().find(|a| a.version == version);
            let name = applied.map(|a| a.name.clone()).unwrap_or_default();
            let (applied, definition) =
                match applied.and_then(|a| Some((a, a.definition.as_ref()?))) {
                    Some(found) => found,
                    None => {
                        return Err(MigrationError::NotStored {
                            version,
                            name,
                            latest,
                        })
                    }
                };
            if definition.version != version || definition.checksum() != applied.checksum {
                return Err(MigrationError::StoredDrift {
                    version,
                    name,
                    latest,
                });
            }
            let steps =
                definition
                    .down
                    .clone()
                    .ok_or_else(|| MigrationError::IrreversibleMigration {
                        version,
                        name: name.clone(),
                    })?;
            for step in &steps {
                if let Step::Transform {
                    name: transform, ..
                } = step
                {
                    if !self.transforms().contains(transform) {
                        return Err(MigrationError::UnknownStoredTransform {
                            version,
                            name,
                            transform: transform.clone(),
                            latest,
                        });
                    }
                }
            }
            planned.push(PlannedMigration {
                version,
                name: definition.name.clone(),
                steps,
            });
        }
        let drifted = self.drift(&state.meta);
        if !drifted.is_empty() {
            return Err(MigrationError::Drift(
                drifted.into_iter().map(|d| (d.version, d.name)).collect(),
            ));
        }
        let known = self
            .migrations()
            .plan(latest, to, &BTreeMap::new(), self.transforms())?;
        let from_database = planned.iter().map(|pm| pm.version).collect();
        planned.extend(known.migrations);
        // The steps must lead from the live schema to this app's schema for `to`: checked
        // now, before any backup, as the upgrade checks it again before it commits.
        let mut schema = state.schema.clone();
        for pm in &planned {
            for (i, step) in pm.steps.iter().enumerate() {
                apply_step(&mut schema, step).map_err(|r| step_failed(pm, i, r))?;
            }
        }
        let expected = self.migrations().schema_at(to).cloned().unwrap_or_default();
        let d = diff(&expected, &schema);
        if !d.is_empty() {
            return Err(MigrationError::ValidationFailed {
                version: to,
                diff: d,
            });
        }
        Ok(MigrationPlan {
            from,
            to,
            direction: Direction::Down,
            effects: PlanEffects::of(&planned, &state.counts),
            migrations: planned,
            from_database,
        })
    }

    /// The rollback to `to` with the stored steps ([`Migrator::stored_plan`]): a dry run
    /// that changes nothing.
    pub async fn plan_from_stored<B: Migrate>(
        &self,
        db: &mut B,
        to: u32,
    ) -> Result<MigrationPlan, MigrationError> {
        let state = db.read().await?;
        self.stored_plan(&state, to)
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Migrator, Operation};
    use crate::memory::MemoryDatabase;
    use crate::migration::{Migration, Step};
    use crate::migration_error::MigrationError;
    use crate::operations::BackupPolicy;
    use crate::plan::MigrationSet;
    use crate::record::{RecordAccess, Transforms};
    use crate::rewind_error::RewindError;
    use serde_json::{json, Value};
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn run<F: Future>(f: F) -> F::Output {
        match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the in-memory backend never waits"),
        }
    }

    fn migration(json: Value) -> Migration {
        serde_json::from_value(json).unwrap()
    }

    /// Version 1 of the history: notes, by title.
    fn v1() -> Migration {
        migration(json!({"version": 1, "name": "notes",
            "up": [{"op": "createStore", "store": "notes", "keyPath": "id"},
                   {"op": "createIndex", "store": "notes", "index": "by_title", "keyPath": "title"}],
            "down": [{"op": "deleteStore", "store": "notes"}]}))
    }

    /// Version 2: tags, with an index.
    fn v2() -> Migration {
        migration(json!({"version": 2, "name": "tags",
            "up": [{"op": "addField", "store": "notes", "field": "tags", "value": ["new"]},
                   {"op": "createIndex", "store": "notes", "index": "by_tag", "keyPath": "tags", "multiEntry": true}],
            "down": [{"op": "deleteIndex", "store": "notes", "index": "by_tag"},
                     {"op": "removeField", "store": "notes", "field": "tags"}]}))
    }

    /// Version 3: a labels store, `body` renamed `text`, a word count set by a transform and
    /// taken away by another.
    fn v3() -> Migration {
        migration(json!({"version": 3, "name": "labels",
            "up": [{"op": "createStore", "store": "labels", "keyPath": "id"},
                   {"op": "renameField", "store": "notes", "from": "body", "to": "text"},
                   {"op": "transform", "store": "notes", "name": "count"}],
            "down": [{"op": "transform", "store": "notes", "name": "uncount"},
                     {"op": "renameField", "store": "notes", "from": "text", "to": "body"},
                     {"op": "deleteStore", "store": "labels"}]}))
    }

    fn transforms() -> Transforms {
        Transforms::new()
            .register("count", |r: &mut dyn RecordAccess| {
                r.set(&["words"], json!(1))
            })
            .register("uncount", |r: &mut dyn RecordAccess| {
                r.remove(&["words"]).map(|_| ())
            })
    }

    /// The release that knows `migrations`.
    fn release(migrations: Vec<Migration>) -> Migrator {
        Migrator::new(MigrationSet::new(migrations).unwrap(), transforms())
    }

    fn newer() -> Migrator {
        release(vec![v1(), v2(), v3()])
    }

    /// The release that knows only version 1.
    fn older() -> Migrator {
        release(vec![v1()])
    }

    fn policy() -> BackupPolicy {
        BackupPolicy::default()
    }

    fn notes() -> Vec<(Value, Value)> {
        (1..=3)
            .map(|i| {
                (
                    json!(i),
                    json!({"id": i, "title": format!("t{i}"), "body": "b"}),
                )
            })
            .collect()
    }

    /// "notes" at version 1 with three notes, then migrated to 3 by the newer release.
    fn at_three() -> MemoryDatabase {
        let mut db = MemoryDatabase::named("notes");
        run(older().migrate_or_roll_back(&mut db, policy(), 1, Operation::Migrate)).unwrap();
        db.records.insert("notes".into(), notes());
        db.clock = 50.0;
        run(newer().migrate_or_roll_back(&mut db, policy(), 3, Operation::Migrate)).unwrap();
        db
    }

    fn meta(db: &MemoryDatabase) -> &crate::RewindMeta {
        db.meta.as_ref().unwrap()
    }

    #[test]
    fn an_applied_migration_keeps_its_definition_and_a_rollback_forgets_it() {
        let mut db = at_three();
        let kept: Vec<Option<Migration>> = meta(&db)
            .applied
            .iter()
            .map(|a| a.definition.clone())
            .collect();
        assert_eq!(kept, [Some(v1()), Some(v2()), Some(v3())]);
        let status = run(newer().status(&mut db)).unwrap();
        assert_eq!(status.stored_versions, [1, 2, 3]);
        run(newer().migrate_or_roll_back(&mut db, policy(), 2, Operation::Rollback)).unwrap();
        let versions: Vec<u32> = meta(&db).applied.iter().map(|a| a.version).collect();
        assert_eq!(versions, [1, 2]);
        assert_eq!(
            run(newer().status(&mut db)).unwrap().stored_versions,
            [1, 2]
        );
    }

    #[test]
    fn adopting_at_a_baseline_keeps_the_definitions_up_to_it() {
        let mut db = MemoryDatabase::named("notes");
        run(older().migrate_or_roll_back(&mut db, policy(), 1, Operation::Migrate)).unwrap();
        db.meta = None;
        db.journal.clear();
        let adopting = newer();
        run(adopting.adopt(&mut db, policy(), crate::Baseline::Version(1))).unwrap();
        assert_eq!(meta(&db).applied[0].definition, Some(v1()));
    }

    /// The database as a release before this change left it: no definitions.
    fn without_definitions(db: &mut MemoryDatabase) {
        for a in db.meta.as_mut().unwrap().applied.iter_mut() {
            a.definition = None;
        }
    }

    #[test]
    fn definitions_missing_are_backfilled_by_the_next_operation_of_a_release_that_knows_them() {
        let mut db = at_three();
        without_definitions(&mut db);
        let before = db.clone();
        assert_eq!(
            run(newer().status(&mut db)).unwrap().stored_versions,
            Vec::<u32>::new()
        );
        // Nothing to migrate: the metadata alone is written, no upgrade and no journal entry.
        run(newer().migrate_or_roll_back(&mut db, policy(), 3, Operation::Migrate)).unwrap();
        assert_eq!(
            run(newer().status(&mut db)).unwrap().stored_versions,
            [1, 2, 3]
        );
        assert_eq!(db.idb_version, before.idb_version);
        assert_eq!(db.journal, before.journal);
        assert_eq!(db.records, before.records);
        assert!(db.backups.len() == before.backups.len(), "no backup");
        // A release that knows only version 1 backfills what it knows and no more; it cannot
        // write through an unknown version, so that happens when it rolls back.
        let mut db = before.clone();
        run(older().roll_back_from_stored(&mut db, policy(), 1)).unwrap_err();
        assert_eq!(
            db, before,
            "refused (nothing stored for 3), nothing changed"
        );
    }

    #[test]
    fn repair_records_the_confirmed_definitions_and_backfills_the_rest() {
        let mut db = at_three();
        without_definitions(&mut db);
        let mut v2_changed = v2();
        v2_changed.name = "tags, renamed".into();
        let repaired = release(vec![v1(), v2_changed.clone(), v3()]);
        assert_eq!(run(repaired.repair(&mut db, 70.0)).unwrap(), [2]);
        let kept: Vec<Option<Migration>> = meta(&db)
            .applied
            .iter()
            .map(|a| a.definition.clone())
            .collect();
        assert_eq!(kept, [Some(v1()), Some(v2_changed), Some(v3())]);
        let mut db = at_three();
        without_definitions(&mut db);
        let journal = db.journal.clone();
        assert_eq!(
            run(newer().repair(&mut db, 70.0)).unwrap(),
            Vec::<u32>::new()
        );
        assert_eq!(
            run(newer().status(&mut db)).unwrap().stored_versions,
            [1, 2, 3]
        );
        assert_eq!(db.journal, journal, "a backfill alone is not journaled");
    }

    #[test]
    fn a_drifted_definition_is_not_backfilled() {
        let mut db = at_three();
        without_definitions(&mut db);
        let mut v2_changed = v2();
        v2_changed.name = "tags, renamed".into();
        let drifting = release(vec![v1(), v2_changed, v3()]);
        let backfilled = drifting.backfilled(meta(&db)).unwrap();
        let kept: Vec<bool> = backfilled
            .applied
            .iter()
            .map(|a| a.definition.is_some())
            .collect();
        assert_eq!(kept, [true, false, true]);
        assert_eq!(
            newer().backfilled(&backfilled).map(|m| m.applied.len()),
            Some(3)
        );
        assert_eq!(
            newer().backfilled(meta(&at_three())),
            None,
            "nothing to fill"
        );
    }

    /// What version 1 holds after the newer release's migrations and the older one's rollback.
    fn version_one() -> MemoryDatabase {
        let mut db = MemoryDatabase::named("notes");
        run(older().migrate_or_roll_back(&mut db, policy(), 1, Operation::Migrate)).unwrap();
        db.records.insert("notes".into(), notes());
        db
    }

    #[test]
    fn a_release_that_knows_only_version_1_rolls_a_database_at_3_back_with_the_stored_steps() {
        let mut db = at_three();
        let at3 = db.clone();
        let old = older();
        let status = run(old.status(&mut db)).unwrap();
        assert!(status.unknown);
        assert_eq!(status.stored_versions, [1, 2, 3]);
        // The ordinary rollback still refuses: it has no steps of its own for 3 and 2.
        let refused = run(old.migrate_or_roll_back(&mut db, policy(), 1, Operation::Rollback));
        assert_eq!(refused.unwrap_err().code(), "UnknownVersion");
        let plan = run(old.plan_from_stored(&mut db, 1)).unwrap();
        assert_eq!(plan.from_database, [3, 2]);
        assert_eq!((plan.from, plan.to, plan.step_count()), (3, 1, 5));
        assert_eq!(db, at3, "a preview changes nothing");

        db.clock = 60.0;
        let report = run(old.roll_back_from_stored(&mut db, policy(), 1)).unwrap();
        assert_eq!((report.from, report.to), (3, 1));
        let expected = version_one();
        assert_eq!(db.schema, expected.schema);
        assert_eq!(
            db.records, expected.records,
            "records as version 1 holds them"
        );
        assert_eq!(meta(&db).schema_version, 1);
        assert_eq!(meta(&db).applied.len(), 1);
        let last = db.journal.last().unwrap();
        assert_eq!(
            (last.operation, last.from, last.to),
            (Operation::Rollback, 3, 1)
        );
        // The automatic backup came first and holds the database at 3.
        let (manifest, held) = db.backups.last().unwrap();
        assert_eq!(report.backup_id.as_deref(), Some(manifest.id.as_str()));
        assert_eq!((manifest.schema_version, &held.records), (3, &at3.records));
    }

    #[test]
    fn to_below_the_newest_known_version_the_app_s_own_steps_follow_the_stored_ones() {
        let mut db = at_three();
        let middle = release(vec![v1(), v2()]);
        let plan = run(middle.plan_from_stored(&mut db, 1)).unwrap();
        assert_eq!(plan.from_database, [3]);
        let versions: Vec<u32> = plan.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [3, 2]);
        run(middle.roll_back_from_stored(&mut db, policy(), 1)).unwrap();
        assert_eq!(db.records, version_one().records);
        // At a version this app knows, it is an ordinary rollback.
        let mut db = at_three();
        run(newer().roll_back_from_stored(&mut db, policy(), 2)).unwrap();
        assert_eq!(meta(&db).schema_version, 2);
    }

    /// Runs the stored rollback to 1 by the older release (or `app`) on `db` changed by
    /// `change`, and checks that it was refused with `code` and changed nothing.
    fn refused(change: impl FnOnce(&mut MemoryDatabase), app: Migrator, code: &str) -> RewindError {
        let mut db = at_three();
        change(&mut db);
        let before = db.clone();
        let plan = run(app.plan_from_stored(&mut db, 1)).unwrap_err();
        let err = run(app.roll_back_from_stored(&mut db, policy(), 1)).unwrap_err();
        assert_eq!(
            RewindError::from(plan),
            err,
            "the preview refuses as the operation"
        );
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(db, before, "nothing changed, no backup taken: {err}");
        err
    }

    fn stored_v3(db: &mut MemoryDatabase) -> &mut Migration {
        let applied = &mut db.meta.as_mut().unwrap().applied;
        applied[2].definition.as_mut().unwrap()
    }

    #[test]
    fn a_changed_stored_step_is_drift_and_nothing_changes() {
        let err = refused(
            |db| {
                stored_v3(db).down.as_mut().unwrap()[1] = Step::RemoveField {
                    store: "notes".into(),
                    field: "text".into(),
                }
            },
            older(),
            "Drift",
        );
        assert!(matches!(
            err,
            RewindError::Migration(MigrationError::StoredDrift { version: 3, .. })
        ));
        // A definition stored under another version is no better.
        refused(|db| stored_v3(db).version = 2, older(), "Drift");
    }

    #[test]
    fn a_stored_transform_this_app_does_not_register_is_refused_by_name() {
        let without_uncount =
            Migrator::new(MigrationSet::new(vec![v1()]).unwrap(), Transforms::new());
        let err = refused(|_| {}, without_uncount, "IrreversibleMigration");
        assert!(err.to_string().contains("\"uncount\""), "{err}");
        assert!(
            err.to_string().contains("migration 3 (\"labels\")"),
            "{err}"
        );
    }

    #[test]
    fn a_migration_stored_without_down_or_not_stored_is_refused_by_name() {
        // Irreversible: recorded honestly (its checksum covers the missing down).
        let err = refused(
            |db| {
                let m = stored_v3(db);
                m.down = None;
                let checksum = m.checksum();
                db.meta.as_mut().unwrap().applied[2].checksum = checksum;
            },
            older(),
            "IrreversibleMigration",
        );
        assert!(matches!(
            err,
            RewindError::Migration(MigrationError::IrreversibleMigration { version: 3, .. })
        ));
        let err = refused(
            |db| db.meta.as_mut().unwrap().applied[1].definition = None,
            older(),
            "IrreversibleMigration",
        );
        assert!(matches!(
            err,
            RewindError::Migration(MigrationError::NotStored { version: 2, .. })
        ));
    }

    #[test]
    fn stored_steps_that_do_not_lead_to_the_app_s_schema_are_refused_before_the_backup() {
        // Version 3's stored down leaves "labels" behind (checksum recomputed, as a newer
        // release would have recorded it): the fold shows it before anything runs.
        refused(
            |db| {
                let m = stored_v3(db);
                m.down.as_mut().unwrap().pop();
                let checksum = m.checksum();
                db.meta.as_mut().unwrap().applied[2].checksum = checksum;
            },
            older(),
            "MigrationFailed",
        );
        // Drift of a version the app knows is refused as always.
        let mut v1_changed = v1();
        v1_changed.name = "notes, renamed".into();
        refused(|_| {}, release(vec![v1_changed]), "Drift");
        // A target this app does not know.
        let mut db = at_three();
        let err = run(older().roll_back_from_stored(&mut db, policy(), 2)).unwrap_err();
        assert_eq!(err.code(), "UnknownVersion");
    }
}
