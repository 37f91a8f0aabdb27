//! The migration engine against real IndexedDB.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{self as idb, IdbBackend, IdbError, OperationOptions};
use rewind::{
    Migration, MigrationError, MigrationSet, Migrator, ProblemKind, RecordAccess, Step, Transforms,
};
use rewind_browser_tests::{
    dump, fresh_database, notes_json, open_ignoring_versionchange, put_v1_notes, sleep,
};
use rewind_test_support::{count_words, demo_migrations, DEMO_MIGRATIONS};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::IdbDatabase;

wasm_bindgen_test_configure!(run_in_browser);

fn demo(upto: usize) -> Migrator {
    Migrator::new(demo_migrations(upto), count_words())
}

/// Puts v1-shaped notes (with a Date, which must survive data steps untouched).
async fn seed_v1(name: &str, notes: u32) {
    put_v1_notes(name, notes).await.unwrap();
}

async fn notes(name: &str) -> serde_json::Value {
    let text = notes_json(name).await.unwrap().as_string().unwrap();
    serde_json::from_str(&text).unwrap()
}

#[wasm_bindgen_test]
async fn migrates_up_down_and_up_again_record_by_record() {
    let name = fresh_database("migrate").await.unwrap();
    let m = demo(3);
    let mut db = IdbBackend::new(&name);
    m.migrate_to(&mut db, Some(1), 1.0, None).await.unwrap();
    seed_v1(&name, 20).await;
    let at_v1 = notes(&name).await;

    let report = m
        .migrate_to(&mut db, None, 2.0, Some("backup-1".into()))
        .await
        .unwrap();
    assert_eq!((report.from, report.to), (1, 3));
    let at_v3 = notes(&name).await;
    for (i, note) in at_v3.as_array().unwrap().iter().enumerate() {
        let n = i + 1;
        assert_eq!(note["id"], json!(n));
        assert_eq!(note["content"], json!("w ".repeat(n).trim()));
        assert!(note.get("body").is_none());
        assert_eq!(note["tags"], json!([]));
        assert_eq!(note["meta"], json!({"rating": n, "wordCount": n}));
        assert_eq!(note["updatedIsDate"], json!(true), "a Date stays a Date");
    }
    let status = m.status(&mut db).await.unwrap();
    assert_eq!(status.schema_version, 3);
    assert_eq!(status.journal[0].backup_id.as_deref(), Some("backup-1"));
    assert!(m.validate(&mut db).await.unwrap().is_empty());

    m.rollback_to(&mut db, 1, 3.0, None).await.unwrap();
    assert_eq!(
        notes(&name).await,
        at_v1,
        "down restores every record of version 1"
    );
    let summary = idb::summarize(&name).await.unwrap();
    assert!(summary.schema.store("attachments").is_none());
    assert!(m.validate(&mut db).await.unwrap().is_empty());

    m.migrate_to(&mut db, None, 4.0, None).await.unwrap();
    assert_eq!(notes(&name).await, at_v3);
    let status = m.status(&mut db).await.unwrap();
    assert_eq!(
        status.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(status.journal.len(), 4);
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_whole_demo_history_applies_and_refuses_to_cross_the_irreversible_one() {
    let name = fresh_database("demo").await.unwrap();
    let m = demo(DEMO_MIGRATIONS.len());
    let mut db = IdbBackend::new(&name);
    m.migrate_to(&mut db, Some(1), 1.0, None).await.unwrap();
    seed_v1(&name, 5).await;
    m.migrate_to(&mut db, None, 2.0, None).await.unwrap();
    let summary = idb::summarize(&name).await.unwrap();
    assert_eq!(&summary.schema, m.migrations().schema_at(5).unwrap());
    assert_eq!(summary.record_counts.get("preferences"), Some(&1));
    m.rollback_to(&mut db, 4, 3.0, None).await.unwrap();
    let err = m.rollback_to(&mut db, 1, 4.0, None).await.unwrap_err();
    assert_eq!(err.code(), "IrreversibleMigration");
    idb::delete_database(&name).await.unwrap();
}

/// A migration whose up runs the steps of `steps` with a failing transform at `at`.
fn failing_at(at: usize) -> Migrator {
    let mut up: Vec<Step> = serde_json::from_value(json!([
        {"op": "createStore", "store": "extra", "keyPath": "id"},
        {"op": "addField", "store": "notes", "field": "flag", "value": true},
        {"op": "createIndex", "store": "notes", "index": "by_flag", "keyPath": "flag"},
        {"op": "renameStore", "from": "settings", "to": "prefs"},
        {"op": "deleteIndex", "store": "notes", "index": "by_updated"}
    ]))
    .unwrap();
    up.insert(
        at,
        Step::Transform {
            store: "notes".into(),
            name: "explode".into(),
            description: None,
        },
    );
    let mut files: Vec<Migration> = demo_migrations(1).migrations().to_vec();
    files.push(Migration {
        version: 2,
        name: "fails".into(),
        up,
        down: None,
    });
    let t = count_words().register("explode", |r: &mut dyn RecordAccess| {
        if r.get(&["title"]) == Some(json!("note 3")) {
            return Err("cannot handle note 3".into());
        }
        r.set(&["seen"], json!(true))
    });
    Migrator::new(MigrationSet::new(files).unwrap(), t)
}

#[wasm_bindgen_test]
async fn a_step_failing_at_any_position_changes_nothing() {
    for at in 0..=5 {
        let name = fresh_database("fail").await.unwrap();
        let m = failing_at(at);
        let mut db = IdbBackend::new(&name);
        m.migrate_to(&mut db, Some(1), 1.0, None).await.unwrap();
        seed_v1(&name, 4).await;
        let before = dump(&name).await;
        let err = m.migrate_to(&mut db, None, 2.0, None).await.unwrap_err();
        match &err {
            MigrationError::StepFailed {
                version,
                step_number,
                reason,
                ..
            } => {
                assert_eq!((*version, *step_number), (2, at + 1), "{err}");
                assert!(
                    reason.contains("record 3") && reason.contains("cannot handle note 3"),
                    "{reason}"
                );
            }
            other => panic!("unexpected error {other}"),
        }
        let after = dump(&name).await;
        // Only the failure's journal entry, written afterwards in its own transaction, differs.
        let status = m.status(&mut db).await.unwrap();
        assert_eq!(status.schema_version, 1);
        assert!(status.journal[0]
            .error
            .as_deref()
            .unwrap()
            .contains("cannot handle note 3"));
        let strip = |d: &str| {
            let mut v: serde_json::Value = serde_json::from_str(d).unwrap();
            v["stores"]["__rewind_journal"]["keys"] = json!(null);
            v["stores"]["__rewind_journal"]["values"] = json!(null);
            v
        };
        assert_eq!(
            strip(&after),
            strip(&before),
            "failure at position {at} changed the database"
        );
        idb::delete_database(&name).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn a_unique_index_over_duplicates_fails_cleanly() {
    let name = fresh_database("unique").await.unwrap();
    let mut files: Vec<Migration> = demo_migrations(1).migrations().to_vec();
    files.push(serde_json::from_value(json!({"version": 2, "name": "unique notebooks", "up": [
        {"op": "createIndex", "store": "notes", "index": "by_nb", "keyPath": "notebookId", "unique": true}
    ], "down": [{"op": "deleteIndex", "store": "notes", "index": "by_nb"}]})).unwrap());
    let m = Migrator::new(MigrationSet::new(files).unwrap(), Transforms::new());
    let mut db = IdbBackend::new(&name);
    m.migrate_to(&mut db, Some(1), 1.0, None).await.unwrap();
    seed_v1(&name, 6).await;
    let before = idb::summarize(&name).await.unwrap();
    let err = m.migrate_to(&mut db, None, 2.0, None).await.unwrap_err();
    assert!(err.to_string().contains("ConstraintError"), "{err}");
    let after = idb::summarize(&name).await.unwrap();
    assert_eq!(after.schema, before.schema);
    assert_eq!(after.record_counts, before.record_counts);
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn drift_is_detected_in_a_real_database() {
    let name = fresh_database("drift").await.unwrap();
    let mut db = IdbBackend::new(&name);
    demo(2).migrate_to(&mut db, None, 1.0, None).await.unwrap();
    let mut changed: Vec<Migration> = demo_migrations(2).migrations().to_vec();
    changed[1].name = "tags, renamed".into();
    let m = Migrator::new(MigrationSet::new(changed).unwrap(), Transforms::new());
    let status = m.status(&mut db).await.unwrap();
    assert_eq!(
        status.drifted.iter().map(|d| d.version).collect::<Vec<_>>(),
        vec![2]
    );
    let err = m.rollback_to(&mut db, 1, 2.0, None).await.unwrap_err();
    assert_eq!(err.code(), "Drift");
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_tab_that_holds_on_gives_blocked_within_the_bound_and_nothing_runs_later() {
    let name = fresh_database("blocked").await.unwrap();
    let m = demo(3);
    let mut db = IdbBackend::new(&name);
    m.migrate_to(&mut db, Some(1), 1.0, None).await.unwrap();
    // Another "tab": a connection that ignores versionchange.
    let blocker: IdbDatabase = open_ignoring_versionchange(&name)
        .await
        .unwrap()
        .unchecked_into();
    let before = dump(&name).await;
    db.block_timeout_ms = 300;
    let told = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = told.clone();
    db.on_blocked = Some(std::rc::Rc::new(move || flag.set(true)));
    let started = js_sys::Date::now();
    let err = m.migrate_to(&mut db, None, 2.0, None).await.unwrap_err();
    let waited = js_sys::Date::now() - started;
    assert_eq!(err, MigrationError::Blocked);
    assert!(err.to_string().contains("Close the app's other tabs"));
    assert!(told.get(), "the page was told about the block");
    assert!(
        (250.0..3000.0).contains(&waited),
        "gave up after {waited} ms"
    );
    // The other tab lets go: the abandoned upgrade must not run.
    blocker.close();
    sleep(200).await;
    let status = m.status(&mut db).await.unwrap();
    assert_eq!(status.schema_version, 1);
    let after = dump(&name).await;
    let version =
        |d: &str| serde_json::from_str::<serde_json::Value>(d).unwrap()["stores"]["notes"].clone();
    assert_eq!(version(&after), version(&before));
    // And with the other tab gone, the migration now works.
    db.block_timeout_ms = 5_000;
    m.migrate_to(&mut db, None, 3.0, None).await.unwrap();
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn validate_catches_a_schema_changed_behind_rewinds_back() {
    let name = fresh_database("validate").await.unwrap();
    let m = demo(2);
    let mut db = IdbBackend::new(&name);
    m.migrate_to(&mut db, None, 1.0, None).await.unwrap();
    let version = idb::summarize(&name).await.unwrap().idb_version;
    let db2 = idb::open_with_upgrade(
        &name,
        version + 1,
        |up: idb::Upgrade| async move {
            up.tx
                .object_store("notes")?
                .create_index_with_str("sneaky", "title")?;
            up.db.delete_object_store("settings")?;
            Ok::<(), IdbError>(())
        },
        Default::default(),
    )
    .await
    .unwrap();
    db2.close();
    let diff = m.validate(&mut db).await.unwrap();
    let kinds: Vec<ProblemKind> = diff.problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![ProblemKind::ExtraIndex, ProblemKind::MissingStore]
    );
    assert_eq!(diff.problems[0].index.as_deref(), Some("sneaky"));
    // An operation on a schema that is not its version's is refused before anything runs.
    let err = m.rollback_to(&mut db, 1, 2.0, None).await.unwrap_err();
    assert!(
        matches!(err, MigrationError::SchemaMismatch { version: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("sneaky"), "{err}");
    assert_eq!(m.status(&mut db).await.unwrap().schema_version, 2);
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn concurrent_operations_on_one_database_are_serialized() {
    use wasm_bindgen_futures::{future_to_promise, JsFuture};
    let name = fresh_database("locks").await.unwrap();
    let first = std::rc::Rc::new(idb::Rewind::new(&name, demo(3)));
    let second = std::rc::Rc::new(idb::Rewind::new(&name, demo(3)));
    first
        .migrate_to(Some(1), OperationOptions::default())
        .await
        .unwrap();
    let run = |r: std::rc::Rc<idb::Rewind>| {
        future_to_promise(async move {
            r.migrate_to(None, OperationOptions::default())
                .await
                .map(|rep| wasm_bindgen::JsValue::from_str(&format!("{}->{}", rep.from, rep.to)))
                .map_err(|e| wasm_bindgen::JsValue::from_str(&e.to_string()))
        })
    };
    let (a, b) = (run(first.clone()), run(second.clone()));
    let a = JsFuture::from(a)
        .await
        .expect("the first operation succeeds");
    let b = JsFuture::from(b)
        .await
        .expect("the second waits for the first, then has nothing to do");
    assert_eq!(a.as_string().as_deref(), Some("1->3"));
    assert_eq!(b.as_string().as_deref(), Some("3->3"));
    let status = first.status().await.unwrap();
    assert_eq!(status.schema_version, 3);
    idb::delete_database(&name).await.unwrap();
}
