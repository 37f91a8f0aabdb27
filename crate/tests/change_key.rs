//! The `changeKey` step on the in-memory backend (the reference the IndexedDB adapter follows):
//! every record moves to a store with the new key path and the same indexes; a record without
//! a valid new key, or with one an earlier record has, fails the migration, naming it, and
//! nothing changes; its `down` is the inverse step.

use rewind::{
    IndexSchema, KeyPath, MemoryDatabase, Migration, MigrationSet, Migrator, Step, StoreSchema,
    Transforms,
};
use rewind_test_support::{block_on as run, change_key_history};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn migrator() -> Migrator {
    Migrator::new(change_key_history(), Transforms::new())
}

fn note(id: u64, uuid: Value) -> (Value, Value) {
    (
        json!(id),
        json!({"id": id, "uuid": uuid, "title": format!("t{id}")}),
    )
}

/// Version 1 with `notes` records 1..=n, each with a distinct uuid (in the reverse order of
/// the ids).
fn v1_database(n: u64) -> MemoryDatabase {
    let mut db = MemoryDatabase::named("notes");
    run(migrator().migrate_to(&mut db, Some(1), 1.0, None)).unwrap();
    let rows = (1..=n)
        .map(|i| note(i, json!(format!("u{}", n + 1 - i))))
        .collect();
    db.records.insert("notes".into(), rows);
    db
}

#[test]
fn the_step_reads_as_json_and_tells_what_it_does() {
    let step: Step =
        serde_json::from_value(json!({"op": "changeKey", "store": "notes", "keyPath": ["a", "b"]}))
            .unwrap();
    assert_eq!(
        step,
        Step::ChangeKey {
            store: "notes".into(),
            key_path: KeyPath::compound(["a", "b"]),
            auto_increment: false,
        }
    );
    assert_eq!(
        step.to_string(),
        "change the primary key of \"notes\" to key path [\"a\", \"b\"] (every record moves)"
    );
    assert!(serde_json::from_value::<Step>(json!({"op": "changeKey", "store": "notes"})).is_err());
}

#[test]
fn every_record_moves_to_the_new_key_with_the_same_indexes() {
    let mut db = v1_database(3);
    let plan = run(migrator().plan(&mut db, 2)).unwrap();
    assert_eq!(plan.effects.records_touched.get("notes"), Some(&3));
    assert!(
        plan.effects.fields_changed.iter().any(|f| f
            == "the primary key of \"notes\" changes to key path \"uuid\": 3 records move to a \
                store keyed by it"),
        "{:?}",
        plan.effects
    );
    let before = db.records["notes"].clone();
    run(migrator().migrate_to(&mut db, Some(2), 2.0, None)).unwrap();
    assert_eq!(
        db.schema.store("notes"),
        Some(
            &StoreSchema::new("notes", Some(KeyPath::single("uuid")), false)
                .with_index(IndexSchema::new("by_title", KeyPath::single("title")).unique(true))
                .with_index(IndexSchema::new("by_tag", KeyPath::single("tags")).multi_entry(true))
        )
    );
    let keys: Vec<&Value> = db.records["notes"].iter().map(|(k, _)| k).collect();
    assert_eq!(keys, [&json!("u1"), &json!("u2"), &json!("u3")]);
    let mut values: Vec<Value> = db.records["notes"].iter().map(|(_, v)| v.clone()).collect();
    values.sort_by_key(|v| v["id"].as_u64());
    let old: Vec<Value> = before.into_iter().map(|(_, v)| v).collect();
    assert_eq!(values, old, "the records themselves are unchanged");
}

#[test]
fn down_is_the_inverse_step_and_gives_back_every_record_under_its_key() {
    let mut db = v1_database(5);
    let (schema, records) = (db.schema.clone(), db.records.clone());
    run(migrator().migrate_to(&mut db, Some(2), 2.0, None)).unwrap();
    let plan = run(migrator().plan(&mut db, 1)).unwrap();
    assert_eq!(plan.effects.records_touched.get("notes"), Some(&5));
    run(migrator().rollback_to(&mut db, 1, 3.0, None)).unwrap();
    assert_eq!(db.schema, schema);
    assert_eq!(db.records, records);
    // And the history's round-trip check agrees.
    let sample = BTreeMap::from([(
        "notes".to_string(),
        records["notes"].iter().map(|(_, v)| v.clone()).collect(),
    )]);
    let report = migrator().check_round_trips(&sample);
    let report = report.unwrap();
    assert!(report.iter().all(|t| t.passed()), "{report:#?}");
}

/// A record with `uuid` replaced by `value` (or without it: `None`) among good ones: the
/// migration fails with `MigrationFailed`, naming the record, and nothing changes.
fn refused(record: u64, value: Option<Value>, expected: &str) {
    let mut db = v1_database(4);
    let row = &mut db.records.get_mut("notes").unwrap()[record as usize - 1].1;
    match value {
        Some(v) => row["uuid"] = v,
        None => {
            row.as_object_mut().unwrap().remove("uuid");
        }
    }
    let before = db.clone();
    let err = run(migrator().migrate_to(&mut db, Some(2), 2.0, None)).unwrap_err();
    assert_eq!(err.code(), "MigrationFailed", "{err}");
    let text = err.to_string();
    assert!(text.contains(expected), "{text}");
    assert!(
        text.contains("schema and data are exactly as before"),
        "{text}"
    );
    assert_eq!(db.records, before.records);
    assert_eq!(db.schema, before.schema);
    assert_eq!(db.meta, before.meta);
    assert_eq!(db.idb_version, before.idb_version);
}

#[test]
fn a_record_without_the_new_key_fails_the_migration_and_changes_nothing() {
    refused(
        3,
        None,
        "record 3 (key 3) has no value at the new key path \"uuid\"",
    );
}

#[test]
fn a_value_that_is_not_a_key_fails_the_migration_and_changes_nothing() {
    refused(
        2,
        Some(json!({"not": "a key"})),
        "record 2 (key 2) holds {\"not\":\"a key\"} at the new key path \"uuid\", which is not a \
         valid IndexedDB key",
    );
    refused(1, Some(json!(null)), "record 1 (key 1) holds null");
    refused(4, Some(json!([1, true])), "record 4 (key 4) holds [1,true]");
}

#[test]
fn two_records_with_the_same_new_key_fail_the_migration_and_change_nothing() {
    // Record 1 has uuid "u4" already; the second record holding it is named.
    refused(
        3,
        Some(json!("u4")),
        "record 3 (key 3) has the new key \"u4\", as an earlier record has",
    );
    // One number, however written.
    let mut db = v1_database(2);
    db.records.get_mut("notes").unwrap()[0].1["uuid"] = json!(7);
    db.records.get_mut("notes").unwrap()[1].1["uuid"] = json!(7.0);
    let err = run(migrator().migrate_to(&mut db, Some(2), 2.0, None)).unwrap_err();
    assert!(
        err.to_string()
            .contains("record 2 (key 2) has the new key 7.0"),
        "{err}"
    );
}

#[test]
fn a_failing_rollback_changes_nothing_either() {
    // At version 2, a record written without an `id`: the way back cannot key it.
    let mut db = v1_database(2);
    run(migrator().migrate_to(&mut db, Some(2), 2.0, None)).unwrap();
    db.records
        .get_mut("notes")
        .unwrap()
        .push((json!("u9"), json!({"uuid": "u9", "title": "new"})));
    let before = db.clone();
    let err = run(migrator().rollback_to(&mut db, 1, 3.0, None)).unwrap_err();
    assert_eq!(err.code(), "MigrationFailed");
    assert!(
        err.to_string()
            .contains("record 3 (key \"u9\") has no value at the new key path \"id\""),
        "{err}"
    );
    assert_eq!(
        (&db.records, &db.schema, db.idb_version),
        (&before.records, &before.schema, before.idb_version)
    );
}

#[test]
fn the_history_refuses_a_key_change_it_cannot_fold() {
    let bad: Migration = serde_json::from_value(json!({"version": 2, "name": "bad",
        "up": [{"op": "changeKey", "store": "notes", "keyPath": "id", "autoIncrement": true}],
        "down": []}))
    .unwrap();
    let v1 = change_key_history().get(1).unwrap().clone();
    let err = MigrationSet::new(vec![v1, bad]).unwrap_err();
    assert_eq!(err.code(), "InvalidMigration");
    assert!(
        err.to_string().contains("already has key path \"id\""),
        "{err}"
    );
}
