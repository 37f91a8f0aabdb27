//! An upgrade the browser commits part way: Firefox does so when an upgrade's tab closes while
//! it awaits its own requests (docs/reliability.md, Findings 0). The test hook commits the
//! upgrade after its first data step, its metadata unwritten, as such a close leaves it.
#![cfg(target_arch = "wasm32")]

use rewind::test_hooks::{self as idb, OperationOptions, RestoreSource, Rewind};
use rewind::{Migrator, Operation, RestoreConsent, UnsupportedRecords};
use rewind_browser_tests::{fresh_database, notes, put_v1_notes, restore_copy};
use rewind_test_support::{count_words, demo_migrations};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn migrator() -> Migrator {
    Migrator::new(demo_migrations(3), count_words())
}

/// A database at version 1 with 30 notes.
async fn at_version_1(prefix: &str) -> Rewind {
    let name = fresh_database(prefix).await.unwrap();
    let rw = Rewind::new(&name, migrator());
    rw.migrate_to(Some(1), OperationOptions::default())
        .await
        .unwrap();
    put_v1_notes(&name, 30).await.unwrap();
    rw
}

/// The notes after an uninterrupted migration from 1 to 3.
async fn uninterrupted() -> String {
    let rw = at_version_1("uncut").await;
    rw.migrate_to(None, OperationOptions::default())
        .await
        .unwrap();
    let out = notes(rw.name()).await;
    idb::delete_database(rw.name()).await.unwrap();
    out
}

/// Migrates 1 → 3, cut off after the first data step; checks what it left.
async fn cut_off(rw: &Rewind, options: OperationOptions) -> String {
    let before = notes(rw.name()).await;
    idb::cut_off_after_data_steps(1);
    let _ = rw.migrate_to(None, options).await;
    idb::cut_off_after_data_steps(0);
    let status = rw.status().await.unwrap();
    let marker = status.interrupted.expect("the cut-off upgrade is known");
    assert_eq!(
        (marker.operation, marker.from, marker.to),
        (Operation::Migrate, 1, 3)
    );
    assert_eq!(status.schema_version, 1, "its metadata was never written");
    let half = notes(rw.name()).await;
    assert_ne!(half, before, "the first data step was kept");
    half
}

#[wasm_bindgen_test]
async fn the_next_operation_undoes_a_cut_off_upgrade_from_its_backup_then_runs() {
    let expected = uninterrupted().await;
    let rw = at_version_1("cut-off").await;
    let half = cut_off(&rw, OperationOptions::default()).await;

    let report = rw
        .migrate_to(None, OperationOptions::default())
        .await
        .unwrap();
    assert_eq!((report.from, report.to), (1, 3));
    assert_eq!(notes(rw.name()).await, expected);
    let status = rw.status().await.unwrap();
    assert_eq!((status.interrupted, status.schema_version), (None, 3));
    assert!(rw.validate().await.unwrap().is_empty());
    // Newest first: the migration, then the restore that undid the cut-off one, naming it and
    // the backup of what it left, which holds the half-changed notes.
    let undo = &status.journal[1];
    assert_eq!((undo.operation, &undo.error), (Operation::Restore, &None));
    let undid = undo
        .undid
        .as_deref()
        .expect("the restore names what it undid");
    assert_eq!(
        (undid.operation, undid.from, undid.to),
        (Operation::Migrate, 1, 3)
    );
    let kept = rw
        .list_backups()
        .await
        .unwrap()
        .into_iter()
        .find(|m| Some(&m.id) == undo.backup_id.as_ref())
        .expect("the backup of the cut-off state is listed");
    assert_eq!(
        kept.label,
        "before undoing the interrupted migration from version 1 to 3"
    );
    let copy = format!("{}-copy", rw.name());
    let replica = Rewind::new(&copy, migrator());
    restore_copy(&replica, rw.export_backup(&kept.id).await.unwrap().into()).await;
    assert_eq!(
        notes(&copy).await,
        half,
        "nothing the cut-off upgrade left is lost"
    );
    // The backup carries the mark, and its restore brings it back with the half-changed notes:
    // no step runs on them as if they were whole. (The backup taken before the cut-off
    // migration is in the other database's catalog, so here the mark refuses.)
    assert_eq!(kept.interrupted.as_deref(), Some(undid));
    let restored = replica.status().await.unwrap();
    assert_eq!(
        (restored.interrupted.as_ref(), restored.schema_version),
        (Some(undid), 1)
    );
    let err = replica
        .migrate_to(None, OperationOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "Interrupted", "{err}");
    assert_eq!(notes(&copy).await, half, "the refusal changed nothing");
    idb::delete_database(&copy).await.unwrap();
    idb::delete_database(rw.name()).await.unwrap();
}

#[wasm_bindgen_test]
async fn without_a_backup_a_cut_off_upgrade_refuses_every_operation_until_a_restore() {
    let rw = at_version_1("cut-off-bare").await;
    let earlier = rw
        .backup("by hand", UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    let at_v1 = notes(rw.name()).await;
    let bare = OperationOptions {
        automatic_backup: false,
        ..OperationOptions::default()
    };
    let half = cut_off(&rw, bare.clone()).await;

    for options in [bare, OperationOptions::default()] {
        let err = rw.migrate_to(None, options.clone()).await.unwrap_err();
        assert_eq!(err.code(), "Interrupted", "{err}");
        assert!(err.to_string().contains("restore a backup"), "{err}");
        let err = rw.rollback_to(1, options).await.unwrap_err();
        assert_eq!(err.code(), "Interrupted", "{err}");
        assert_eq!(notes(rw.name()).await, half, "nothing changed");
    }
    rw.restore(
        RestoreSource::Backup(earlier.id),
        RestoreConsent::default(),
        OperationOptions::default(),
    )
    .await
    .unwrap();
    let status = rw.status().await.unwrap();
    assert_eq!((status.interrupted, status.schema_version), (None, 1));
    assert_eq!(notes(rw.name()).await, at_v1);
    rw.migrate_to(None, OperationOptions::default())
        .await
        .unwrap();
    assert_eq!(rw.status().await.unwrap().schema_version, 3);
    idb::delete_database(rw.name()).await.unwrap();
}
