//! The engine's decisions, run natively against the in-memory backend.

use rewind::Step;
use rewind::{
    KeyPath, MemoryDatabase, Migration, MigrationError, MigrationSet, Migrator, Operation,
    RecordAccess, Transforms,
};
use rewind_test_support::{count_words, demo_migrations, SplitMix64, DEMO_MIGRATIONS};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The memory backend never waits, so one poll finishes every future.
fn run<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(f).poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the in-memory backend never waits"),
    }
}

fn demo_set() -> MigrationSet {
    demo_migrations(DEMO_MIGRATIONS.len())
}

fn migrator() -> Migrator {
    Migrator::new(demo_set(), count_words())
}

fn v1_database(notes: usize) -> MemoryDatabase {
    let mut db = MemoryDatabase::new();
    run(migrator().migrate_to(&mut db, Some(1), 1.0, None)).unwrap();
    let rows: Vec<(Value, Value)> = (1..=notes)
        .map(|i| {
            (
                json!(i),
                json!({"id": i, "notebookId": "nb-1", "title": format!("t{i}"),
                "body": "one two three", "meta": {"rating": i}}),
            )
        })
        .collect();
    db.records.insert("notes".into(), rows);
    db
}

#[test]
fn the_demo_history_has_a_version_per_file_and_every_step_kind() {
    let set = demo_set();
    assert_eq!(set.latest() as usize, DEMO_MIGRATIONS.len());
    let ops: std::collections::BTreeSet<String> = set
        .migrations()
        .iter()
        .flat_map(|m| m.up.iter().chain(m.down.iter().flatten()))
        .map(|s| {
            serde_json::to_value(s).unwrap()["op"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for op in [
        "createStore",
        "deleteStore",
        "renameStore",
        "createIndex",
        "deleteIndex",
        "addField",
        "removeField",
        "renameField",
        "transform",
    ] {
        assert!(ops.contains(op), "the demo migrations never use {op}");
    }
    assert!(!set.get(4).unwrap().is_reversible());
    let v5 = set.schema_at(5).unwrap();
    assert!(v5.store("preferences").is_some() && v5.store("settings").is_none());
    assert!(v5
        .store("notes")
        .unwrap()
        .indexes
        .contains_key("by_priority"));
}

#[test]
fn plans_between_every_pair_of_versions() {
    let set = demo_set();
    let t = count_words();
    for from in 0..=5u32 {
        for to in 0..=5u32 {
            let plan = set.plan(from, to, &BTreeMap::new(), &t);
            if from >= 4 && to < 4 {
                assert_eq!(
                    plan.unwrap_err(),
                    MigrationError::IrreversibleMigration {
                        version: 4,
                        name: set.get(4).unwrap().name.clone()
                    },
                    "{from}->{to}"
                );
                continue;
            }
            let plan = plan.unwrap();
            let versions: Vec<u32> = plan.migrations.iter().map(|m| m.version).collect();
            let want: Vec<u32> = if to >= from {
                (from + 1..=to).collect()
            } else {
                (to + 1..=from).rev().collect()
            };
            assert_eq!(versions, want, "{from}->{to}");
            // Folding the plan over the schema of `from` gives the schema of `to`.
            let mut schema = set.schema_at(from).unwrap().clone();
            for m in &plan.migrations {
                rewind::apply_steps(&mut schema, &m.steps).unwrap();
            }
            assert_eq!(&schema, set.schema_at(to).unwrap(), "{from}->{to}");
        }
    }
    assert!(matches!(
        set.plan(6, 1, &BTreeMap::new(), &t),
        Err(MigrationError::UnknownVersion {
            version: 6,
            latest: 5
        })
    ));
    assert!(matches!(
        set.plan(1, 9, &BTreeMap::new(), &t),
        Err(MigrationError::UnknownTarget { target: 9, .. })
    ));
    let err = set
        .plan(2, 3, &BTreeMap::new(), &Transforms::new())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no transform named \"count_words\""),
        "{err}"
    );
}

#[test]
fn plan_effects_describe_what_changes() {
    let set = demo_set();
    let counts: BTreeMap<String, u64> = [
        ("notes".to_string(), 40),
        ("settings".to_string(), 3),
        ("attachments".to_string(), 7),
    ]
    .into();
    let down = set.plan(3, 1, &counts, &count_words()).unwrap();
    assert_eq!(down.effects.stores_deleted, vec!["attachments".to_string()]);
    assert!(down
        .effects
        .data_dropped
        .iter()
        .any(|d| d == "7 records of store \"attachments\" are deleted with it"));
    assert!(down
        .effects
        .data_dropped
        .iter()
        .any(|d| d.contains("\"tags\"")));
    assert_eq!(down.effects.indexes_deleted.len(), 2);
    assert_eq!(down.effects.records_touched.get("notes"), Some(&120));
    let up = set.plan(3, 4, &counts, &count_words()).unwrap();
    assert_eq!(
        up.effects.stores_renamed,
        vec![("settings".to_string(), "preferences".to_string())]
    );
}

fn migration(json: Value) -> Migration {
    serde_json::from_value(json).unwrap()
}

#[test]
fn invalid_histories_are_rejected_with_the_reason() {
    let m1 = migration(
        json!({"version": 1, "name": "a", "up": [{"op": "createStore", "store": "s"}], "down": [{"op": "deleteStore", "store": "s"}]}),
    );
    let m3 = migration(json!({"version": 3, "name": "c", "up": []}));
    let err = MigrationSet::new(vec![m1.clone(), m3]).unwrap_err();
    assert!(err.to_string().contains("version 2 is missing"), "{err}");
    let err = MigrationSet::new(vec![m1.clone(), m1.clone()]).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
    let bad_down = migration(
        json!({"version": 1, "name": "a", "up": [{"op": "createStore", "store": "s"}], "down": []}),
    );
    let err = MigrationSet::new(vec![bad_down]).unwrap_err();
    assert!(
        err.to_string()
            .contains("down does not restore the schema of version 0"),
        "{err}"
    );
    let bad_step =
        migration(json!({"version": 1, "name": "a", "up": [{"op": "deleteStore", "store": "s"}]}));
    let err = MigrationSet::new(vec![bad_step]).unwrap_err();
    assert!(err.to_string().contains("up step 1 (delete store \"s\" and all its records) cannot apply: store \"s\" does not exist"), "{err}");
    assert_eq!(err.code(), "InvalidMigration");

    for (json, want) in [
        ("{", "EOF"),
        (
            r#"{"version":1,"name":"a","up":[{"op":"dropEverything"}]}"#,
            "unknown variant `dropEverything`",
        ),
        (r#"{"version":"1","name":"a","up":[]}"#, "invalid type"),
        (
            r#"{"version":1,"name":"a","up":[{"op":"createStore"}]}"#,
            "missing field `store`",
        ),
        (
            r#"{"version":1,"name":"a","up":[],"colour":1}"#,
            "unknown field `colour`",
        ),
    ] {
        let err = MigrationSet::from_files(&[("0001_a.json", json)]).unwrap_err();
        assert_eq!(err.code(), "InvalidMigration");
        assert!(
            err.to_string().contains("0001_a.json") && err.to_string().contains(want),
            "{err}"
        );
    }
    let err = MigrationSet::from_files(&[("0002_a.json", r#"{"version":1,"name":"a","up":[]}"#)])
        .unwrap_err();
    assert!(
        err.to_string().contains("the file name says version 2"),
        "{err}"
    );
}

#[test]
fn checksums_are_stable_and_change_on_any_edit() {
    let a = Migration::from_json("a", r#"{"version":2,"name":"x","up":[{"op":"addField","store":"n","field":"f","value":{"b":1,"a":[1,2]}}],"down":[]}"#).unwrap();
    let b = Migration::from_json("b", "{ \"down\": [], \"up\": [ { \"value\": {\"a\":[1,2], \"b\":1}, \"field\":\"f\", \"store\":\"n\", \"op\":\"addField\" } ],\n \"name\":\"x\", \"version\":2 }").unwrap();
    assert_eq!(
        a.checksum(),
        b.checksum(),
        "formatting and key order do not matter"
    );
    assert_eq!(a.checksum().0.len(), 64);
    let edits = [
        r#"{"version":3,"name":"x","up":[{"op":"addField","store":"n","field":"f","value":{"b":1,"a":[1,2]}}],"down":[]}"#,
        r#"{"version":2,"name":"y","up":[{"op":"addField","store":"n","field":"f","value":{"b":1,"a":[1,2]}}],"down":[]}"#,
        r#"{"version":2,"name":"x","up":[{"op":"addField","store":"n","field":"f","value":{"b":1,"a":[2,1]}}],"down":[]}"#,
        r#"{"version":2,"name":"x","up":[{"op":"addField","store":"n","field":"f","value":{"b":1,"a":[1,2]}}]}"#,
        r#"{"version":2,"name":"x","up":[{"op":"addField","store":"m","field":"f","value":{"b":1,"a":[1,2]}}],"down":[]}"#,
    ];
    for e in edits {
        assert_ne!(
            Migration::from_json("e", e).unwrap().checksum(),
            a.checksum(),
            "{e}"
        );
    }
}

#[test]
fn migrates_up_with_data_and_back_down() {
    let m = migrator();
    let mut db = v1_database(3);
    let report = run(m.migrate_to(&mut db, None, 2.0, Some("b1".into()))).unwrap();
    assert_eq!((report.from, report.to), (1, 5));
    let note = &db.records["notes"][0].1;
    assert_eq!(note["content"], "one two three");
    assert_eq!(note["meta"], json!({"wordCount": 3}));
    assert_eq!(note["tags"], json!([]));
    assert_eq!(note["priority"], 0);
    assert!(note.get("body").is_none());
    assert_eq!(db.schema, *demo_set().schema_at(5).unwrap());
    let status = run(m.status(&mut db)).unwrap();
    assert_eq!((status.schema_version, status.latest_version), (5, 5));
    assert_eq!(
        status.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert!(status.pending.is_empty() && status.drifted.is_empty() && !status.unknown);
    assert_eq!(status.journal[0].backup_id.as_deref(), Some("b1"));
    assert_eq!(status.journal[0].operation, Operation::Migrate);

    run(m.rollback_to(&mut db, 4, 3.0, None)).unwrap();
    assert!(db.records["notes"][0].1.get("priority").is_none());
    let err = run(m.rollback_to(&mut db, 2, 4.0, None)).unwrap_err();
    assert_eq!(err.code(), "IrreversibleMigration");
    assert!(err.to_string().contains("restore a backup"), "{err}");
    let err = run(m.migrate_to(&mut db, Some(2), 4.0, None)).unwrap_err();
    assert!(matches!(
        err,
        MigrationError::WrongDirection { from: 4, to: 2 }
    ));
    assert!(run(m.validate(&mut db)).unwrap().is_empty());
}

#[test]
fn a_failure_at_any_record_changes_nothing_and_is_journaled() {
    for fail_at in [1usize, 2, 5] {
        let seen = std::rc::Rc::new(std::cell::Cell::new(0usize));
        let counter = seen.clone();
        let t = Transforms::new().register("count_words", move |r: &mut dyn RecordAccess| {
            counter.set(counter.get() + 1);
            if counter.get() == fail_at {
                return Err("cannot count these words".into());
            }
            r.set(&["meta", "wordCount"], json!(1))
        });
        let m = Migrator::new(demo_set(), t);
        let mut db = v1_database(5);
        let before = db.clone();
        let err = run(m.migrate_to(&mut db, None, 9.0, None)).unwrap_err();
        assert_eq!(
            err,
            MigrationError::StepFailed {
                version: 3,
                name: "attachments, body renamed to content, word counts".into(),
                step_number: 3,
                step: "run transform \"count_words\" on every record of \"notes\" (sets meta.wordCount from content)".into(),
                reason: format!("record {fail_at}: cannot count these words"),
            }
        );
        assert!(err.to_string().contains("exactly as before"));
        assert_eq!(db.records, before.records);
        assert_eq!(db.schema, before.schema);
        assert_eq!(db.meta, before.meta);
        assert_eq!(db.idb_version, before.idb_version);
        let last = db.journal.last().unwrap();
        assert_eq!((last.from, last.to), (1, 5));
        assert!(last
            .error
            .as_deref()
            .unwrap()
            .contains("cannot count these words"));
    }
}

#[test]
fn drift_is_shown_refused_and_repaired() {
    let mut db = v1_database(1);
    run(migrator().migrate_to(&mut db, Some(2), 2.0, None)).unwrap();
    let mut files: Vec<(&str, String)> = DEMO_MIGRATIONS
        .iter()
        .map(|(n, c)| (*n, c.to_string()))
        .collect();
    files[1].1 = files[1]
        .1
        .replace("\"value\": []", "\"value\": [\"untagged\"]");
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let changed = Migrator::new(MigrationSet::from_files(&borrowed).unwrap(), count_words());
    let status = run(changed.status(&mut db)).unwrap();
    assert_eq!(status.drifted.len(), 1);
    assert_eq!(status.drifted[0].version, 2);
    let err = run(changed.migrate_to(&mut db, None, 3.0, None)).unwrap_err();
    assert_eq!(err.code(), "Drift");
    assert!(
        err.to_string()
            .contains("migration 2 (\"tags on notes\") was applied but has been modified"),
        "{err}"
    );
    assert_eq!(run(changed.repair(&mut db, 4.0)).unwrap(), vec![2]);
    assert!(run(changed.status(&mut db)).unwrap().drifted.is_empty());
    assert_eq!(db.journal.last().unwrap().operation, Operation::Repair);
    run(changed.migrate_to(&mut db, None, 5.0, None)).unwrap();
}

#[test]
fn an_unknown_newer_version_is_refused() {
    let mut db = v1_database(1);
    run(migrator().migrate_to(&mut db, None, 2.0, None)).unwrap();
    let older_app = Migrator::new(demo_migrations(3), count_words());
    let status = run(older_app.status(&mut db)).unwrap();
    assert!(status.unknown);
    let err = run(older_app.rollback_to(&mut db, 2, 3.0, None)).unwrap_err();
    assert_eq!(
        err,
        MigrationError::UnknownVersion {
            version: 5,
            latest: 3
        }
    );
    assert!(err.to_string().contains("newer version of the app"));
}

#[test]
fn blocked_and_validation_failures_change_nothing() {
    let mut db = v1_database(2);
    db.blocked = true;
    let before = db.records.clone();
    let err = run(migrator().migrate_to(&mut db, None, 2.0, None)).unwrap_err();
    assert_eq!(err.code(), "Blocked");
    assert_eq!(db.records, before);
    db.blocked = false;
    // A store created behind Rewind's back: refused before anything runs, since the steps
    // assume version 1's schema.
    db.schema.stores.insert(
        "rogue".into(),
        rewind::StoreSchema::new("rogue", None, false),
    );
    let (version, journal) = (db.idb_version, db.journal.len());
    let err = run(migrator().migrate_to(&mut db, Some(2), 2.0, None)).unwrap_err();
    assert!(
        matches!(err, MigrationError::SchemaMismatch { version: 1, .. }),
        "{err}"
    );
    assert_eq!(err.code(), "SchemaMismatch");
    assert!(err.to_string().contains("store \"rogue\" should not exist"));
    assert_eq!(db.records, before);
    assert_eq!((db.idb_version, db.journal.len()), (version, journal));
    let diff = run(migrator().validate(&mut db)).unwrap();
    assert_eq!(diff.problems.len(), 1);
}

/// What Firefox can leave after a tab closed during an upgrade (docs/reliability.md,
/// Findings 4): the aborted upgrade's new index listed, all else as before. The next migration
/// and rollback are refused before they change anything, naming the index, instead of failing
/// half-way on "an index with that name already exists".
#[test]
fn an_index_left_listed_by_an_aborted_upgrade_is_refused_before_anything_changes() {
    let mut db = v1_database(3);
    let v2 = migrator().migrations().schema_at(2).cloned().unwrap();
    let (store, added) = v2
        .stores
        .values()
        .find_map(|s| {
            let before = db.schema.stores.get(&s.name)?;
            let extra = s
                .indexes
                .keys()
                .find(|i| !before.indexes.contains_key(*i))?;
            Some((s.name.clone(), s.indexes[extra].clone()))
        })
        .expect("migration 2 adds an index to an existing store");
    let phantom = added.name.clone();
    db.schema
        .stores
        .get_mut(&store)
        .unwrap()
        .indexes
        .insert(phantom.clone(), added);
    let (records, version, journal) = (db.records.clone(), db.idb_version, db.journal.len());
    let err = run(migrator().migrate_to(&mut db, None, 2.0, None)).unwrap_err();
    assert_eq!(err.code(), "SchemaMismatch", "{err}");
    assert!(err.to_string().contains(&phantom), "{err}");
    assert!(err.to_string().contains("Nothing was changed"), "{err}");
    assert_eq!(db.records, records);
    assert_eq!((db.idb_version, db.journal.len()), (version, journal));
    // Once the index is gone, the same migration runs.
    db.schema
        .stores
        .get_mut(&store)
        .unwrap()
        .indexes
        .remove(&phantom);
    run(migrator().migrate_to(&mut db, None, 2.0, None)).unwrap();
}

#[test]
fn migrating_to_the_version_it_is_at_changes_nothing_and_journals_nothing() {
    let mut db = v1_database(2);
    let (version, journal, records) = (db.idb_version, db.journal.len(), db.records.clone());
    let report = run(migrator().migrate_to(&mut db, Some(1), 2.0, None)).unwrap();
    assert_eq!((report.from, report.to), (1, 1));
    assert_eq!(db.idb_version, version, "no upgrade was opened");
    assert_eq!(db.journal.len(), journal, "nothing was journaled");
    assert_eq!(db.records, records);
    // Even when the other tab holds the database: there is nothing to wait for.
    db.blocked = true;
    run(migrator().rollback_to(&mut db, 1, 3.0, None)).unwrap();
    db.blocked = false;
    // The live schema is still checked, as an upgrade would have checked it.
    db.schema.stores.insert(
        "rogue".into(),
        rewind::StoreSchema::new("rogue", None, false),
    );
    let err = run(migrator().migrate_to(&mut db, Some(1), 4.0, None)).unwrap_err();
    assert!(
        matches!(err, MigrationError::ValidationFailed { version: 1, .. }),
        "{err}"
    );
    assert_eq!(db.idb_version, version);
    assert_eq!(db.journal.len(), journal);
}

/// Random histories: every migration's down is generated as the inverse of its up; going up
/// and back down to any version returns the identical schema and records.
#[test]
fn up_then_down_returns_the_identical_schema_and_data() {
    let mut rng = SplitMix64::new(7);
    let mut rnd = |n: u64| rng.below(n);
    for _round in 0..40 {
        let mut schema = rewind::DatabaseSchema::default();
        let mut migrations = Vec::new();
        let mut fresh = 0;
        for version in 1..=6u32 {
            let (mut up, mut down) = (Vec::new(), Vec::new());
            for _ in 0..1 + rnd(4) {
                fresh += 1;
                let stores: Vec<String> = schema.stores.keys().cloned().collect();
                let pick = |r: u64| stores.get(r as usize % stores.len().max(1)).cloned();
                let (step, inverse): (Step, Vec<Step>) = match (rnd(7), pick(rnd(100))) {
                    (0, _) | (_, None) => {
                        let kp = if rnd(2) == 0 {
                            Some(KeyPath::single("id"))
                        } else {
                            None
                        };
                        let auto = rnd(2) == 0;
                        (
                            Step::CreateStore {
                                store: format!("s{fresh}"),
                                key_path: kp,
                                auto_increment: auto,
                            },
                            vec![Step::DeleteStore {
                                store: format!("s{fresh}"),
                            }],
                        )
                    }
                    (1, Some(s)) => {
                        let mut inv = vec![Step::CreateStore {
                            store: s.clone(),
                            key_path: schema.stores[&s].key_path.clone(),
                            auto_increment: schema.stores[&s].auto_increment,
                        }];
                        for i in schema.stores[&s].indexes.values() {
                            inv.push(Step::CreateIndex {
                                store: s.clone(),
                                index: i.name.clone(),
                                key_path: i.key_path.clone(),
                                unique: i.unique,
                                multi_entry: i.multi_entry,
                            });
                        }
                        (Step::DeleteStore { store: s }, inv)
                    }
                    (2, Some(s)) => (
                        Step::RenameStore {
                            from: s.clone(),
                            to: format!("r{fresh}"),
                        },
                        vec![Step::RenameStore {
                            from: format!("r{fresh}"),
                            to: s,
                        }],
                    ),
                    (3, Some(s)) => (
                        Step::CreateIndex {
                            store: s.clone(),
                            index: format!("i{fresh}"),
                            key_path: KeyPath::single(format!("f{fresh}")),
                            unique: rnd(2) == 0,
                            multi_entry: rnd(2) == 0,
                        },
                        vec![Step::DeleteIndex {
                            store: s,
                            index: format!("i{fresh}"),
                        }],
                    ),
                    (4, Some(s)) => (
                        Step::AddField {
                            store: s.clone(),
                            field: format!("x{fresh}.y"),
                            value: json!(fresh),
                        },
                        vec![Step::RemoveField {
                            store: s,
                            field: format!("x{fresh}"),
                        }],
                    ),
                    (_, Some(s)) => (
                        Step::RenameField {
                            store: s.clone(),
                            from: "payload".into(),
                            to: format!("p{fresh}"),
                        },
                        vec![Step::RenameField {
                            store: s,
                            from: format!("p{fresh}"),
                            to: "payload".into(),
                        }],
                    ),
                };
                rewind::apply_steps(&mut schema, std::slice::from_ref(&step)).unwrap();
                up.push(step);
                down.splice(0..0, inverse);
            }
            migrations.push(Migration {
                version,
                name: format!("m{version}"),
                up,
                down: Some(down),
            });
        }
        let set = MigrationSet::new(migrations).expect("generated downs are exact inverses");
        let m = Migrator::new(set.clone(), Transforms::new());
        let mut db = MemoryDatabase::new();
        let target = 1 + rnd(6) as u32;
        run(m.migrate_to(&mut db, Some(target), 1.0, None)).unwrap();
        for (store, rows) in db.records.iter_mut() {
            rows.push((json!(1), json!({"payload": store.clone(), "n": 1})));
        }
        let snapshot = (db.schema.clone(), db.records.clone());
        // Deleting a store drops its records for good (the plan says so); elsewhere data must
        // come back identical.
        let drops = set
            .plan(target, 6, &Default::default(), &Transforms::new())
            .unwrap()
            .migrations
            .iter()
            .flat_map(|pm| &pm.steps)
            .any(|s| matches!(s, Step::DeleteStore { .. }));
        run(m.migrate_to(&mut db, Some(6), 2.0, None)).unwrap();
        run(m.rollback_to(&mut db, target, 3.0, None)).unwrap();
        assert_eq!(db.schema, snapshot.0);
        if !drops {
            assert_eq!(db.records, snapshot.1);
        }
        run(m.rollback_to(&mut db, 0, 4.0, None)).unwrap();
        assert!(db.schema.stores.is_empty());
    }
}
