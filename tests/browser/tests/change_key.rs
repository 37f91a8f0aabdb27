//! The `changeKey` step against real IndexedDB: every record moves to a store with the new key
//! path and the same indexes inside the migration's one upgrade; a record without a valid new
//! key, or with an earlier record's, fails it with the message the in-memory backend gives,
//! and nothing changes; `down`, the inverse step, gives every record back under its old key.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{self as idb, IdbBackend};
use rewind::{MemoryDatabase, Migrator, Transforms};
use rewind_browser_tests::{
    add_note_without_id, dump, fresh_database, notes_json, put_keyed_notes,
};
use rewind_test_support::{block_on, change_key_history};
use serde_json::{json, Value};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// More than one batch (the adapter reads and adds 1000 records at a time).
const NOTES: u32 = 1200;

fn migrator() -> Migrator {
    Migrator::new(change_key_history(), Transforms::new())
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The `notes` store of a dump: its schema options, keys and records.
async fn notes_store(name: &str) -> Value {
    parsed(&dump(name).await)["stores"]["notes"].clone()
}

/// A dump without Rewind's journal (where a failed operation is told).
fn without_journal(text: &str) -> Value {
    let mut all = parsed(text);
    all["stores"]
        .as_object_mut()
        .unwrap()
        .remove("__rewind_journal");
    all
}

/// A database at version 1 holding `NOTES` notes, note `at` with `defect`.
async fn seeded(prefix: &str, defect: &str, at: u32) -> (String, IdbBackend) {
    let name = fresh_database(prefix).await.unwrap();
    let mut db = IdbBackend::new(&name);
    migrator()
        .migrate_to(&mut db, Some(1), 1.0, None)
        .await
        .unwrap();
    put_keyed_notes(&name, NOTES, defect, at).await.unwrap();
    (name, db)
}

#[wasm_bindgen_test]
async fn every_record_moves_to_the_new_key_and_back_in_one_upgrade_each() {
    let (name, mut db) = seeded("rekey", "", 0).await;
    let before = notes_store(&name).await;
    let values_before = parsed(&notes_json(&name).await.unwrap().as_string().unwrap());

    let plan = migrator().plan(&mut db, 2).await.unwrap();
    assert_eq!(
        plan.effects.records_touched.get("notes"),
        Some(&(NOTES as u64))
    );
    migrator()
        .migrate_to(&mut db, None, 2.0, None)
        .await
        .unwrap();
    let after = notes_store(&name).await;
    assert_eq!(after["keyPath"], json!("uuid"));
    assert_eq!(after["autoIncrement"], json!(false));
    assert_eq!(after["indexes"], before["indexes"], "the same indexes");
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), NOTES as usize);
    let mut expected: Vec<String> = (1..=NOTES).map(|i| format!("u{i}")).collect();
    expected.sort();
    assert_eq!(keys, &expected.iter().map(|k| json!(k)).collect::<Vec<_>>());
    assert!(migrator().validate(&mut db).await.unwrap().is_empty());
    let summary = idb::summarize(&name).await.unwrap();
    assert!(
        summary.schema.stores.keys().all(|s| s == "notes"),
        "no store is left behind: {:?}",
        summary.schema
    );

    migrator().rollback_to(&mut db, 1, 3.0, None).await.unwrap();
    assert_eq!(
        notes_store(&name).await,
        before,
        "keys, records and indexes as before"
    );
    let values_after = parsed(&notes_json(&name).await.unwrap().as_string().unwrap());
    assert_eq!(values_after, values_before, "every Date is still a Date");
    assert!(migrator().validate(&mut db).await.unwrap().is_empty());
    // The key generator goes on after the largest key the records brought back.
    let key = add_note_without_id(&name).await.unwrap();
    assert_eq!(key.as_f64(), Some(NOTES as f64 + 1.0));
    idb::delete_database(&name).await.unwrap();
}

/// What the in-memory backend says of the same records: the reference for the message.
fn reference_error(defect: &str, at: u32) -> String {
    let mut db = MemoryDatabase::named("reference");
    let m = migrator();
    block_on(m.migrate_to(&mut db, Some(1), 1.0, None)).unwrap();
    let rows = (1..=NOTES)
        .map(|i| {
            let mut note = json!({"id": i, "uuid": format!("u{}", NOTES + 1 - i)});
            if i == at {
                match defect {
                    "missing" => {
                        note.as_object_mut().unwrap().remove("uuid");
                    }
                    "duplicate" => note["uuid"] = json!(format!("u{NOTES}")),
                    _ => note["uuid"] = json!({"a": 1}),
                }
            }
            (json!(i), note)
        })
        .collect();
    db.records.insert("notes".into(), rows);
    block_on(m.migrate_to(&mut db, Some(2), 2.0, None))
        .unwrap_err()
        .to_string()
}

#[wasm_bindgen_test]
async fn a_record_that_cannot_move_fails_the_migration_naming_it_and_nothing_changes() {
    let cases = [
        (
            "missing",
            3,
            "record 3 (key 3) has no value at the new key path \"uuid\"",
        ),
        ("missing", 1100, "record 1100 (key 1100) has no value"),
        (
            "not-a-key",
            2,
            "record 2 (key 2) holds {\"a\":1} at the new key path",
        ),
        (
            "duplicate",
            4,
            "record 4 (key 4) has the new key \"u1200\", as an earlier record has",
        ),
        (
            "duplicate",
            1100,
            "record 1100 (key 1100) has the new key \"u1200\"",
        ),
    ];
    for (defect, at, expected) in cases {
        let (name, mut db) = seeded("rekey-fail", defect, at).await;
        let before = without_journal(&dump(&name).await);
        let err = migrator()
            .migrate_to(&mut db, None, 2.0, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "MigrationFailed", "{defect} at {at}: {err}");
        let text = err.to_string();
        assert!(text.contains(expected), "{defect} at {at}: {text}");
        assert_eq!(
            text,
            reference_error(defect, at),
            "as the in-memory backend says"
        );
        // Nothing changed but the journal, which tells of the failure.
        let after = dump(&name).await;
        assert!(
            without_journal(&after) == before,
            "{defect} at {at}: something changed"
        );
        let journal = &parsed(&after)["stores"]["__rewind_journal"]["values"];
        let last = parsed(journal[1].as_str().unwrap());
        assert_eq!(last["error"], json!(text));
        let status = migrator().status(&mut db).await.unwrap();
        assert_eq!(status.schema_version, 1);
        idb::delete_database(&name).await.unwrap();
    }
}
