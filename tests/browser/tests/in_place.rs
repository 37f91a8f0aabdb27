//! A restore's automatic backup held in place: the stores it replaces are renamed, not copied;
//! listed, made into a file when asked for, restored and deleted like any backup.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{self as idb, OperationOptions, RestoreSource, Rewind};
use rewind::{BackupPolicy, Migrator, RestoreConsent};
use rewind_browser_tests::{
    dump, fresh_database, notes, open_ignoring_versionchange, put_v1_notes, restore_copy, sleep,
};
use rewind_test_support::{count_words, demo_migrations};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn migrator() -> Migrator {
    Migrator::new(demo_migrations(1), count_words())
}

/// The names of the stores database `name` holds.
async fn store_names(name: &str) -> Vec<String> {
    let dumped: serde_json::Value = serde_json::from_str(&dump(name).await).unwrap();
    dumped["stores"]
        .as_object()
        .map(|stores| stores.keys().cloned().collect())
        .unwrap_or_default()
}

/// A database at version 1 with 10 notes, a manual backup of them, then `more` notes; returns
/// that backup's id.
async fn with_backup(rw: &Rewind, more: u32) -> String {
    rw.migrate_to(Some(1), OperationOptions::default())
        .await
        .unwrap();
    put_v1_notes(rw.name(), 10).await.unwrap();
    let manual = rw
        .backup("ten notes", rewind::UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    put_v1_notes(rw.name(), more).await.unwrap();
    manual.id
}

async fn restore(rw: &Rewind, id: &str) -> Option<String> {
    rw.restore(
        RestoreSource::Backup(id.to_string()),
        RestoreConsent::default(),
        OperationOptions::default(),
    )
    .await
    .unwrap()
    .backup_id
}

#[wasm_bindgen_test]
async fn a_restore_holds_what_it_replaces_in_place_and_makes_it_a_file_when_asked() {
    let name = fresh_database("in-place").await.unwrap();
    let rw = Rewind::new(&name, migrator());
    let ten = with_backup(&rw, 40).await;
    let fifty = notes(&name).await;

    let held = restore(&rw, &ten).await.expect("an automatic backup");
    assert_ne!(notes(&name).await, fifty, "the ten notes are back");
    let listed = rw.list_backups().await.unwrap();
    let kept = listed.iter().find(|m| m.id == held).expect("listed");
    assert!(kept.in_place && kept.automatic, "{kept:?}");
    assert_eq!(kept.label, format!("before restoring {ten}"));
    assert_eq!((kept.bytes, kept.store("notes").unwrap().records), (0, 50));
    assert_eq!(listed[0].id, held, "newest first");
    assert!(
        rw.validate().await.unwrap().is_empty(),
        "held stores are Rewind's"
    );
    assert!(store_names(&name)
        .await
        .iter()
        .any(|s| s.starts_with("__rewind_backup_")));

    // Listing reads the catalog's copy of its manifest. Lost (a page closed between the swap
    // and that copy), the next read of the database lists it again.
    idb::delete_database(&format!("__rewind_backups:{name}"))
        .await
        .unwrap();
    assert!(rw.list_backups().await.unwrap().is_empty());
    rw.status().await.unwrap();
    let relisted = rw.list_backups().await.unwrap();
    assert_eq!(relisted.iter().map(|m| &m.id).collect::<Vec<_>>(), [&held]);

    // Made into a file when asked for: the fifty notes, restorable anywhere.
    let file = rw.export_backup(&held).await.unwrap();
    let inspected = Rewind::inspect_file(&file).await.unwrap();
    assert_eq!(
        (inspected.id.as_str(), inspected.in_place),
        (held.as_str(), false)
    );
    assert_eq!(inspected.store("notes").unwrap().records, 50);
    let copy = format!("{name}-copy");
    let replica = Rewind::new(&copy, migrator());
    restore_copy(&replica, file.into()).await;
    assert_eq!(notes(&copy).await, fifty);
    idb::delete_database(&copy).await.unwrap();

    // Restored from where it is held, by id: the fifty notes are back, the ten held in turn.
    let again = restore(&rw, &held).await.expect("an automatic backup");
    assert_eq!(notes(&name).await, fifty);
    assert!(rw
        .list_backups()
        .await
        .unwrap()
        .iter()
        .any(|m| m.id == again && m.in_place));

    // Deleted: its stores go with it.
    rw.delete_backup(&held).await.unwrap();
    assert!(rw
        .list_backups()
        .await
        .unwrap()
        .iter()
        .all(|m| m.id != held));
    let gone = format!("__rewind_backup_{held}_");
    assert!(store_names(&name)
        .await
        .iter()
        .all(|s| !s.starts_with(&gone)));
    assert_eq!(notes(&name).await, fifty, "the app's data is untouched");
    let err = rw.delete_backup(&held).await.unwrap_err();
    assert_eq!(err.code(), "NoSuchBackup", "{err}");
    let err = rw.export_backup(&held).await.unwrap_err();
    assert_eq!(err.code(), "NoSuchBackup", "{err}");
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn retention_and_a_restore_without_backup_leave_no_stores_behind() {
    let name = fresh_database("in-place-kept").await.unwrap();
    let mut rw = Rewind::new(&name, migrator());
    rw.backup_policy = BackupPolicy {
        keep_automatic: 1,
        ..BackupPolicy::default()
    };
    let ten = with_backup(&rw, 20).await;
    let first = restore(&rw, &ten).await.unwrap();
    let second = restore(&rw, &ten).await.unwrap();
    let automatic: Vec<String> = rw
        .list_backups()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.automatic)
        .map(|m| m.id)
        .collect();
    assert_eq!(
        automatic,
        std::slice::from_ref(&second),
        "retention keeps the newest"
    );
    let held: Vec<String> = store_names(&name)
        .await
        .into_iter()
        .filter(|s| s.starts_with("__rewind_backup_"))
        .collect();
    assert!(
        held.iter()
            .all(|s| s.contains(&second) && !s.contains(&first)),
        "{held:?}"
    );

    let report = rw
        .restore(
            RestoreSource::Backup(ten),
            RestoreConsent::default(),
            OperationOptions {
                automatic_backup: false,
                ..OperationOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(report.backup_id, None);
    let after: Vec<String> = store_names(&name)
        .await
        .into_iter()
        .filter(|s| s.starts_with("__rewind_backup_"))
        .collect();
    assert_eq!(after, held, "nothing more is held");
    idb::delete_database(&name).await.unwrap();
}

/// The names of the stores that hold backup `id` in database `name`.
async fn held_stores(name: &str, id: &str) -> Vec<String> {
    let prefix = format!("__rewind_backup_{id}_");
    store_names(name)
        .await
        .into_iter()
        .filter(|s| s.starts_with(&prefix))
        .collect()
}

#[wasm_bindgen_test]
async fn deleting_a_held_backup_while_another_tab_holds_on_is_blocked_and_keeps_it_whole() {
    let name = fresh_database("in-place-blocked").await.unwrap();
    let mut rw = Rewind::new(&name, migrator());
    let ten = with_backup(&rw, 5).await;
    let held = restore(&rw, &ten).await.expect("an automatic backup");
    let ten_notes = notes(&name).await;
    let stores = held_stores(&name, &held).await;
    assert!(!stores.is_empty());

    // Another "tab": a connection that ignores versionchange.
    let blocker: web_sys::IdbDatabase = open_ignoring_versionchange(&name)
        .await
        .unwrap()
        .unchecked_into();
    rw.block_timeout_ms = 300;
    let err = rw.delete_backup(&held).await.unwrap_err();
    assert_eq!(err.code(), "Blocked", "{err}");
    blocker.close();
    sleep(200).await;

    // Nothing of it went: still listed, its stores there, its file whole.
    assert!(rw
        .list_backups()
        .await
        .unwrap()
        .iter()
        .any(|m| m.id == held && m.in_place));
    assert_eq!(held_stores(&name, &held).await, stores);
    let file = rw.export_backup(&held).await.unwrap();
    let inspected = Rewind::inspect_file(&file).await.unwrap();
    assert_eq!(inspected.store("notes").unwrap().records, 15);
    assert_eq!(notes(&name).await, ten_notes, "the app's data is untouched");

    // Once the other tab is gone, it deletes.
    rw.delete_backup(&held).await.unwrap();
    assert!(held_stores(&name, &held).await.is_empty());
    idb::delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_held_backup_whose_stores_are_gone_is_no_backup_any_more() {
    let name = fresh_database("in-place-gone").await.unwrap();
    let rw = Rewind::new(&name, migrator());
    let ten = with_backup(&rw, 5).await;
    let held = restore(&rw, &ten).await.expect("an automatic backup");
    let ten_notes = notes(&name).await;
    // Its stores dropped behind Rewind's back (an app's own upgrade), its manifest left: no
    // backup any more, and never offered as one.
    let version = {
        let db = idb::open_existing(&name).await.unwrap();
        let v = db.version() as u64;
        db.close();
        v
    };
    let stores = held_stores(&name, &held).await;
    let db = idb::open_with_upgrade(
        &name,
        version + 1,
        move |up: idb::Upgrade| async move {
            for store in &stores {
                up.db.delete_object_store(store)?;
            }
            Ok::<(), idb::IdbError>(())
        },
        idb::BlockedPolicy::default(),
    )
    .await
    .unwrap();
    db.close();
    let before = dump(&name).await;

    let err = rw.export_backup(&held).await.unwrap_err();
    assert_eq!(err.code(), "NoSuchBackup", "{err}");
    let err = rw
        .restore(
            RestoreSource::Backup(held.clone()),
            RestoreConsent::default(),
            OperationOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NoSuchBackup", "{err}");
    assert_eq!(dump(&name).await, before, "nothing changed");
    assert_eq!(notes(&name).await, ten_notes);
    // The next read of the database takes it off the list.
    rw.status().await.unwrap();
    assert!(rw
        .list_backups()
        .await
        .unwrap()
        .iter()
        .all(|m| m.id != held));
    let err = rw.delete_backup(&held).await.unwrap_err();
    assert_eq!(err.code(), "NoSuchBackup", "{err}");
    idb::delete_database(&name).await.unwrap();
}
