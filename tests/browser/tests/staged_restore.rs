//! The staged restore: what an interrupted or cancelled restore leaves, and what the next
//! change to the database does about it.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{self as idb, OperationOptions, RestoreSource, Rewind};
use rewind::{Migrator, Operation, RestoreConsent, RewindError, UnsupportedRecords};
use rewind_browser_tests::fresh_database;
use rewind_test_support::{count_words, demo_migrations};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The name an interrupted restore's first staging store has.
const LEFTOVER: &str = "__rewind_staging_0";

fn migrator() -> Migrator {
    Migrator::new(demo_migrations(2), count_words())
}

/// A demo database at version 2 with `records` settings.
async fn database(prefix: &str, records: u32) -> Rewind {
    let name = fresh_database(prefix).await.unwrap();
    let rw = Rewind::new(&name, migrator());
    rw.migrate_to(None, OperationOptions::default())
        .await
        .unwrap();
    let db = idb::open_existing(&name).await.unwrap();
    let tx = db
        .transaction_with_str_and_mode("settings", web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    let store = tx.object_store("settings").unwrap();
    for i in 0..records {
        store
            .put_with_key(&JsValue::from_str(&format!("value {i}")), &JsValue::from(i))
            .unwrap();
    }
    idb::await_transaction(&tx).await.unwrap();
    db.close();
    rw
}

async fn store_names(name: &str) -> Vec<String> {
    let db = idb::open_existing(name).await.unwrap();
    let names = db.object_store_names();
    let out = (0..names.length()).filter_map(|i| names.get(i)).collect();
    db.close();
    out
}

async fn settings_count(name: &str) -> f64 {
    let db = idb::open_existing(name).await.unwrap();
    let tx = db.transaction_with_str("settings").unwrap();
    let count = idb::await_request(tx.object_store("settings").unwrap().count().unwrap())
        .await
        .unwrap();
    db.close();
    count.as_f64().unwrap()
}

/// Leaves a staging store behind, as a restore whose tab closed before its swap does.
async fn leave_staging(name: &str) {
    let version = idb::open_existing(name).await.map(|db| {
        let v = db.version();
        db.close();
        v
    });
    let db = idb::open_with_upgrade(
        name,
        version.unwrap() as u64 + 1,
        |up: idb::Upgrade| async move {
            up.db.create_object_store(LEFTOVER)?;
            Ok::<(), idb::IdbError>(())
        },
        idb::BlockedPolicy::default(),
    )
    .await
    .unwrap();
    db.close();
}

fn interrupted(rw_journal: &[rewind::JournalEntry]) -> usize {
    rw_journal
        .iter()
        .filter(|e| {
            e.operation == Operation::Restore
                && e.error.as_deref().unwrap_or("").contains("interrupted")
        })
        .count()
}

#[wasm_bindgen_test]
async fn staging_left_by_an_interrupted_restore_is_removed_and_journaled_by_the_next_change() {
    let rw = database("leftover", 10).await;
    leave_staging(rw.name()).await;
    // Nothing of Rewind's own is the app's: the leftover is neither an extra store nor a record.
    assert!(rw.validate().await.unwrap().is_empty());
    let status = rw.status().await.unwrap();
    assert_eq!(interrupted(&status.journal), 0);

    rw.rollback_to(1, OperationOptions::default())
        .await
        .unwrap();
    assert!(!store_names(rw.name()).await.contains(&LEFTOVER.to_string()));
    let journal = rw.status().await.unwrap().journal;
    assert_eq!(interrupted(&journal), 1, "{journal:?}");

    // A restore finds one too, and its own staging is gone after it.
    let backup = rw
        .backup("at 1", UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    rw.migrate_to(None, OperationOptions::default())
        .await
        .unwrap();
    leave_staging(rw.name()).await;
    rw.restore(
        RestoreSource::Backup(backup.id),
        RestoreConsent::default(),
        OperationOptions::default(),
    )
    .await
    .unwrap();
    let names = store_names(rw.name()).await;
    assert!(
        names.iter().all(|n| !n.starts_with("__rewind_staging")),
        "{names:?}"
    );
    assert_eq!(interrupted(&rw.status().await.unwrap().journal), 2);
    assert_eq!(rw.status().await.unwrap().schema_version, 1);
    idb::delete_database(rw.name()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_cancelled_restore_changes_nothing_and_leaves_no_staging() {
    let rw = database("cancel", 2_500).await;
    let backup = rw
        .backup("full", UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    let names_before = store_names(rw.name()).await;
    let before = rw.status().await.unwrap();

    // Cancelled while its records are written: after the first batch.
    let cancel = Rc::new(Cell::new(false));
    let flag = cancel.clone();
    let options = OperationOptions {
        progress: Some(Rc::new(move |_, _| flag.set(true))),
        automatic_backup: false,
        cancel: Some(cancel),
        folder_write: None,
    };
    let err = rw
        .restore(
            RestoreSource::Backup(backup.id.clone()),
            RestoreConsent::default(),
            options,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RewindError::Cancelled), "{err}");
    assert_eq!(err.code(), "Cancelled");
    assert_eq!(store_names(rw.name()).await, names_before);
    assert_eq!(settings_count(rw.name()).await, 2_500.0);
    let after = rw.status().await.unwrap();
    assert_eq!(after.schema_version, before.schema_version);
    let last = after.journal.first().unwrap();
    assert!(
        last.error.as_deref().unwrap_or("").contains("cancelled"),
        "{last:?}"
    );
    idb::delete_database(rw.name()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_cancelled_restore_into_a_new_database_leaves_no_database() {
    let rw = database("cancel-new", 3).await;
    let file = rw
        .backup("full", UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    let bytes = idb::storage::blob_to_bytes(&rw.export_backup(&file.id).await.unwrap())
        .await
        .unwrap();
    let other = fresh_database("cancel-new-other").await.unwrap();
    let rw_other = Rewind::new(&other, migrator());
    let err = rw_other
        .restore(
            RestoreSource::File(bytes),
            RestoreConsent {
                allow_other_database: true,
                ..Default::default()
            },
            OperationOptions {
                cancel: Some(Rc::new(Cell::new(true))),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "Cancelled", "{err}");
    let all = idb::list_databases().await.unwrap();
    assert!(all.iter().all(|d| d.name != other), "nothing created");
    idb::delete_database(rw.name()).await.unwrap();
}
