//! Backups, the catalog and restore against real IndexedDB.
#![cfg(target_arch = "wasm32")]

use rewind::backup::{
    decode_backup, encode_backup, ChunkDigests, ChunkedWriter, Frame, StoreManifest, Value,
};
use rewind::test_hooks::{self as idb, OperationOptions, RestoreSource, Rewind};
use rewind::{ManualBackup, RestoreConsent, UnsupportedRecords};
use rewind::{Migrator, RewindError};
use rewind_browser_tests::{dump, fresh_database, greeting_text, put_large_notes, put_v2_records};
use rewind_test_support::{count_words, demo_migrations};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn migrator(upto: usize) -> Migrator {
    Migrator::new(demo_migrations(upto), count_words())
}

/// A demo database at version 2 with notes (Dates, nested objects), notebooks and a Blob.
async fn filled(prefix: &str) -> Rewind {
    let name = fresh_database(prefix).await.unwrap();
    let rw = Rewind::new(&name, migrator(2));
    rw.migrate_to(None, OperationOptions::default())
        .await
        .unwrap();
    put_v2_records(&name).await.unwrap();
    rw
}

/// The dump without Rewind's journal (operations append to it by design) and without the
/// backups held in place (a restore adds one by design; `held_stores` counts them).
async fn content(name: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&dump(name).await).unwrap();
    v["stores"]["__rewind_journal"] = json!(null);
    v["version"] = json!(null);
    if let Some(stores) = v["stores"].as_object_mut() {
        stores.retain(|name, _| !name.starts_with("__rewind_backup_"));
    }
    let meta = &mut v["stores"]["__rewind_meta"];
    if let (Some(keys), Some(values)) = (meta["keys"].as_array(), meta["values"].as_array()) {
        let (keys, values): (Vec<_>, Vec<_>) = keys
            .iter()
            .zip(values)
            .filter(|(k, _)| !k.as_str().is_some_and(|k| k.starts_with("backup:")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .unzip();
        meta["keys"] = json!(keys);
        meta["values"] = json!(values);
    }
    v
}

/// How many stores of backups held in place database `name` has.
async fn held_stores(name: &str) -> usize {
    stores_starting(name, "__rewind_backup_").await
}

/// How many staging stores a restore left in database `name`.
async fn staging_left(name: &str) -> usize {
    stores_starting(name, "__rewind_staging_").await
}

async fn stores_starting(name: &str, prefix: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(&dump(name).await).unwrap();
    v["stores"].as_object().map_or(0, |stores| {
        stores.keys().filter(|n| n.starts_with(prefix)).count()
    })
}

async fn blob_text(name: &str) -> String {
    greeting_text(name).await.unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
async fn backup_export_inspect_and_restore_round_trip() {
    let rw = filled("roundtrip").await;
    let before = content(rw.name()).await;
    let manifest = rw
        .backup("by hand", UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    assert!(!manifest.automatic);
    assert_eq!(manifest.label, "by hand");
    assert_eq!(manifest.schema_version, 2);
    assert_eq!(manifest.store("notes").unwrap().records, 50);
    assert_eq!(manifest.store("settings").unwrap().records, 2);
    assert_eq!(manifest.sha256.len(), 64);
    let listed = rw.list_backups().await.unwrap();
    assert_eq!(
        listed.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![manifest.id.clone()]
    );

    let file = rw.export_backup(&manifest.id).await.unwrap();
    let file_name = file.name();
    assert!(
        file_name.starts_with(&format!("{}-v2-", rw.name())) && file_name.ends_with(".rewind"),
        "{file_name}"
    );
    let inspected = Rewind::inspect_file(&file).await.unwrap();
    assert_eq!(inspected.id, manifest.id);
    assert_eq!(inspected.sha256, manifest.sha256);

    // Change everything, then restore the file.
    rw.rollback_to(1, OperationOptions::default())
        .await
        .unwrap();
    assert_ne!(content(rw.name()).await, before);
    let bytes = idb::storage::blob_to_bytes(&file).await.unwrap();
    let done = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let seen = done.clone();
    let report = rw
        .restore(
            RestoreSource::File(bytes),
            RestoreConsent::default(),
            OperationOptions::with_progress(Some(std::rc::Rc::new(move |d, _t| seen.set(d)))),
        )
        .await
        .unwrap();
    assert_eq!((report.from, report.to), (1, 2));
    assert!(report.backup_id.is_some(), "a pre-restore backup was taken");
    assert_eq!(done.get(), 56, "progress reached every record");
    assert_eq!(content(rw.name()).await, before);
    assert_eq!(blob_text(rw.name()).await, "text/plain:hello");
    let status = rw.status().await.unwrap();
    assert_eq!(status.schema_version, 2);
    assert_eq!(status.journal[0].operation, rewind::Operation::Restore);
    assert_eq!(status.journal[0].backup_id, report.backup_id);
    assert!(rw.validate().await.unwrap().is_empty());
    idb::delete_database(rw.name()).await.unwrap();
}

#[wasm_bindgen_test]
async fn destructive_operations_take_a_backup_first_and_retention_keeps_the_last_n() {
    let mut rw = filled("retention").await;
    rw.backup_policy.keep_automatic = 2;
    let manual = rw
        .backup("keep me", UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = rw
            .rollback_to(1, OperationOptions::default())
            .await
            .unwrap();
        ids.push(r.backup_id.clone().expect("rollback took a backup"));
        let r = rw
            .migrate_to(None, OperationOptions::default())
            .await
            .unwrap();
        ids.push(r.backup_id.clone().expect("migrate took a backup"));
    }
    let status = rw.status().await.unwrap();
    assert_eq!(
        status.journal[0].backup_id.as_deref(),
        Some(ids[3].as_str())
    );
    let listed = rw.list_backups().await.unwrap();
    let automatic: Vec<String> = listed
        .iter()
        .filter(|m| m.automatic)
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        automatic,
        vec![ids[3].clone(), ids[2].clone()],
        "only the newest two automatic backups"
    );
    assert!(
        listed.iter().any(|m| m.id == manual.id),
        "manual backups are kept"
    );
    // No-op operations take no backup.
    assert_eq!(
        rw.migrate_to(None, OperationOptions::default())
            .await
            .unwrap()
            .backup_id,
        None
    );
    idb::delete_database(rw.name()).await.unwrap();
}

#[wasm_bindgen_test]
async fn backups_survive_deleting_the_app_database() {
    let rw = filled("survive").await;
    let before = content(rw.name()).await;
    let manifest = rw
        .backup("", UnsupportedRecords::Refuse, None)
        .await
        .unwrap();
    // The catalog is a database of its own, which the app's listing leaves out.
    let catalog = format!("{}{}", idb::catalog::CATALOG_PREFIX, rw.name());
    let all = idb::list_databases().await.unwrap();
    assert!(all.iter().any(|d| d.name == catalog), "{all:?}");
    let apps = rewind::list_app_databases().await.unwrap();
    assert!(apps.iter().any(|d| d.name == rw.name()));
    assert!(
        !apps
            .iter()
            .any(|d| d.name.starts_with(idb::catalog::CATALOG_PREFIX)),
        "{apps:?}"
    );
    idb::delete_database(rw.name()).await.unwrap();
    assert_eq!(rw.list_backups().await.unwrap().len(), 1);
    let report = rw
        .restore(
            RestoreSource::Backup(manifest.id.clone()),
            RestoreConsent::default(),
            OperationOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        report.backup_id, None,
        "nothing to back up before restoring into nothing"
    );
    assert_eq!(content(rw.name()).await, before);
    idb::delete_database(rw.name()).await.unwrap();
}

/// A new manual backup of `rw`, exported, as the file's bytes: stored as it is (format 3),
/// which the core's readers of bytes in memory read and tests may change.
async fn exported(rw: &Rewind) -> Vec<u8> {
    let manifest = rw.backup_with(uncompressed(""), None, None).await.unwrap();
    let file = rw.export_backup(&manifest.id).await.unwrap();
    idb::storage::blob_to_bytes(&file).await.unwrap()
}

/// A copy of `bytes` with the records of store `name` changed by `edit` (checksums made anew,
/// so the file verifies: only the restore's read-back can tell).
fn with_records(bytes: &[u8], name: &str, edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let decoded = decode_backup(bytes).unwrap();
    let mut stores = decoded.stores;
    edit(&mut stores.iter_mut().find(|s| s.name == name).unwrap().records);
    let mut manifest = decoded.manifest;
    for s in manifest.stores.iter_mut() {
        *s = rewind::backup::StoreManifest::new(s.schema.clone());
    }
    encode_backup(manifest, stores).unwrap().bytes
}

/// A copy of `bytes` whose `notebooks` store has a duplicate unique name at position `at`.
fn with_duplicate_at(bytes: &[u8], at: usize) -> Vec<u8> {
    with_records(bytes, "notebooks", |records| {
        let name = |v: &Value| match v {
            Value::Object(props) => props
                .iter()
                .find(|(k, _)| k.as_str() == Some("name"))
                .map(|(_, v)| v.clone())
                .unwrap(),
            other => panic!("unexpected {other:?}"),
        };
        let first_name = name(&records[0].1);
        if let Value::Object(props) = &mut records[at].1 {
            for (k, v) in props.iter_mut() {
                if k.as_str() == Some("name") {
                    *v = first_name.clone();
                }
            }
        }
    })
}

#[wasm_bindgen_test]
async fn a_file_that_does_not_read_back_as_written_is_refused_before_it_commits() {
    let rw = filled("readback").await;
    let good = exported(&rw).await;
    rw.rollback_to(1, OperationOptions::default())
        .await
        .unwrap();
    let before = content(rw.name()).await;
    let cases: [(&str, Vec<u8>, &str); 3] = [
        // The same key twice: the second put replaces the first, one record fewer.
        (
            "a key twice",
            with_records(&good, "notebooks", |r| r[1] = r[0].clone()),
            "the record count of store \"notebooks\"",
        ),
        // The same in a chunked file, the two records in different chunks.
        (
            "a key twice in two chunks",
            chunked_with_records(&good, "notebooks", |r| r[3] = r[0].clone()),
            "the record count of store \"notebooks\" (3 instead of 4)",
        ),
        // A value that holds another key than the file gives its record: IndexedDB would
        // file it under the value's key.
        (
            "a value holding another key",
            with_records(&good, "notebooks", |r| {
                if let Value::Object(props) = &mut r[0].1 {
                    for (k, v) in props.iter_mut() {
                        if k.as_str() == Some("id") {
                            *v = Value::String("nb-elsewhere".into());
                        }
                    }
                }
            }),
            "the key of record 1 of store \"notebooks\"",
        ),
    ];
    for (what, bad, says) in cases {
        assert!(
            rewind::backup::inspect(&bad).is_ok(),
            "{what}: the file verifies"
        );
        let err = rw
            .restore(
                RestoreSource::File(bad),
                RestoreConsent::default(),
                OperationOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "RestoreFailed", "{what}: {err}");
        assert!(err.to_string().contains(says), "{what}: {err}");
        assert_eq!(
            content(rw.name()).await,
            before,
            "{what} changed the database"
        );
        assert_eq!(held_stores(rw.name()).await, 0, "{what}: nothing held");
        assert_eq!(staging_left(rw.name()).await, 0, "{what}: staging removed");
        let status = rw.status().await.unwrap();
        assert!(
            status.journal[0]
                .error
                .as_deref()
                .unwrap_or("")
                .contains(says),
            "{what}: journaled"
        );
    }
    // The file as it was written restores; so does one with its records out of key order (the
    // same records: IndexedDB keeps them in key order whatever the order they came in).
    rw.restore(
        RestoreSource::File(good.clone()),
        RestoreConsent::default(),
        OperationOptions::default(),
    )
    .await
    .unwrap();
    let restored = content(rw.name()).await;
    let shuffled = with_records(&good, "notebooks", |r| r.swap(0, 1));
    rw.restore(
        RestoreSource::File(shuffled),
        RestoreConsent::default(),
        OperationOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(content(rw.name()).await, restored);
    idb::delete_database(rw.name()).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_restore_failing_at_any_point_leaves_the_database_identical() {
    let rw = filled("restorefail").await;
    let good = exported(&rw).await;
    rw.rollback_to(1, OperationOptions::default())
        .await
        .unwrap();
    let before = content(rw.name()).await;
    for at in [1usize, 2, 3] {
        let bad = with_duplicate_at(&good, at);
        let err = rw
            .restore(
                RestoreSource::File(bad),
                RestoreConsent::default(),
                OperationOptions::default(),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("ConstraintError"), "{err}");
        assert_eq!(
            content(rw.name()).await,
            before,
            "failure at record {at} changed the database"
        );
        assert_eq!(held_stores(rw.name()).await, 0, "failure at record {at}");
    }
    let status = rw.status().await.unwrap();
    assert!(status.journal[0]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("ConstraintError"));
    // A damaged file is refused before anything happens.
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    let err = rw
        .restore(
            RestoreSource::File(flipped),
            RestoreConsent::default(),
            OperationOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err.code(), "ChecksumMismatch" | "CorruptBackup"),
        "{err}"
    );
    assert_eq!(content(rw.name()).await, before);
    idb::delete_database(rw.name()).await.unwrap();
}

#[wasm_bindgen_test]
async fn other_databases_and_newer_versions_need_consent() {
    let rw = filled("consent").await;
    let bytes = exported(&rw).await;

    let other_name = fresh_database("consent-other").await.unwrap();
    let other = Rewind::new(&other_name, migrator(2));
    let err = other
        .restore(
            RestoreSource::File(bytes.clone()),
            RestoreConsent::default(),
            OperationOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "WrongDatabase");
    assert!(
        idb::list_databases()
            .await
            .unwrap()
            .iter()
            .all(|d| d.name != other_name),
        "nothing created"
    );
    let allow = RestoreConsent {
        allow_other_database: true,
        ..Default::default()
    };
    other
        .restore(
            RestoreSource::File(bytes.clone()),
            allow,
            OperationOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(content(&other_name).await, content(rw.name()).await);

    let older_app = Rewind::new(rw.name(), migrator(1));
    let err = older_app
        .restore(
            RestoreSource::File(bytes.clone()),
            RestoreConsent::default(),
            OperationOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RewindError::NewerBackup {
                version: 2,
                latest: 1
            }
        ),
        "{err}"
    );
    let newer_ok = RestoreConsent {
        allow_unknown_version: true,
        ..Default::default()
    };
    older_app
        .restore(
            RestoreSource::File(bytes),
            newer_ok,
            OperationOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        older_app.status().await.unwrap().unknown,
        "marked unknown for this app"
    );
    idb::delete_database(rw.name()).await.unwrap();
    idb::delete_database(&other_name).await.unwrap();
}

#[wasm_bindgen_test]
async fn bad_files_are_refused_with_clear_errors() {
    for (bytes, code) in [
        (Vec::new(), "CorruptBackup"),
        (b"{\"not\": \"a backup\"}".to_vec(), "CorruptBackup"),
        (
            (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            "CorruptBackup",
        ),
    ] {
        let blob = idb::storage::bytes_to_blob(&bytes, "application/octet-stream").unwrap();
        let err = Rewind::inspect_file(&blob).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(err.to_string().contains("Nothing was changed"), "{err}");
    }
    let rw = Rewind::new("no-such-db-for-backups", migrator(1));
    let err = rw.delete_backup("nope").await.unwrap_err();
    assert_eq!(err.code(), "NoSuchBackup");
}

/// A backup file is never one buffer: under a limit on any one buffer far below the file's
/// size (it stands for the memory a database of gigabytes would need), backups (automatic ones
/// included), exports and restores — from the catalog and from a chosen file — all run, and
/// the restores give the version 2 content exactly.
#[wasm_bindgen_test]
async fn backups_and_restores_stream_under_a_buffer_limit_far_below_the_file() {
    let rw = filled("streams").await;
    // About 12 MB of notes: more than twice the limit below, which is above one chunk (4 MiB).
    put_large_notes(rw.name(), 1500, 8000).await.unwrap();
    let before = content(rw.name()).await;
    let limit = 5 << 20;
    idb::storage::set_buffer_limit(limit);
    // Stored as it is: compressed, these notes would make a file below the limit.
    let made = rw.backup_with(uncompressed(""), None, None).await;
    let next = Rewind::new(rw.name(), migrator(3));
    let migrated = next.migrate_to(None, OperationOptions::default()).await;
    let listed = rw.list_backups().await;
    let restore = |source| {
        next.restore(
            source,
            RestoreConsent::default(),
            OperationOptions::default(),
        )
    };
    let from_catalog = match &made {
        Ok(m) => Some(restore(RestoreSource::Backup(m.id.clone())).await),
        Err(_) => None,
    };
    let after_catalog = content(rw.name()).await;
    let exported = match &made {
        Ok(m) => Some(rw.export_backup(&m.id).await),
        Err(_) => None,
    };
    let migrated_again = next.migrate_to(None, OperationOptions::default()).await;
    let from_file = match &exported {
        Some(Ok(file)) => Some(restore(RestoreSource::Blob(file.clone().into())).await),
        _ => None,
    };
    let after_file = content(rw.name()).await;
    idb::storage::set_buffer_limit(0);
    let manifest = made.unwrap();
    assert!(
        manifest.bytes > 2 * limit as u64,
        "the file ({} bytes) is larger than any buffer may be",
        manifest.bytes
    );
    assert_eq!(
        manifest.format_version,
        rewind::backup::CHUNKED_FORMAT_VERSION
    );
    assert_eq!(manifest.store("notes").unwrap().records, 1550);
    let report = migrated.unwrap();
    assert_eq!((report.from, report.to), (2, 3));
    assert!(report.backup_id.is_some(), "the automatic backup was taken");
    assert_eq!(listed.unwrap().len(), 2);
    let without_meta = |mut dump: serde_json::Value| {
        dump["stores"]["__rewind_meta"] = json!(null);
        dump
    };
    let report = from_catalog.unwrap().unwrap();
    assert_eq!((report.from, report.to), (3, 2));
    assert!(report.backup_id.is_some(), "the restore's automatic backup");
    assert_eq!(without_meta(after_catalog), without_meta(before.clone()));
    assert_eq!(
        exported.unwrap().unwrap().size() as u64,
        manifest.bytes,
        "exported whole"
    );
    assert_eq!(migrated_again.unwrap().to, 3);
    assert_eq!(from_file.unwrap().unwrap().to, 2);
    assert_eq!(without_meta(after_file), without_meta(before));
    assert_eq!(next.status().await.unwrap().schema_version, 2);
    idb::delete_database(rw.name()).await.unwrap();
}

/// A person's backup stored as it is (format 3) rather than compressed.
fn uncompressed(label: &str) -> ManualBackup {
    ManualBackup {
        compress: false,
        ..ManualBackup::labelled(label)
    }
}

/// `bytes` (a chunked file) written again as a chunked file of two records per chunk, the
/// records of store `name` changed by `edit` (digests made anew: the file verifies).
fn chunked_with_records(
    bytes: &[u8],
    name: &str,
    edit: impl FnOnce(&mut Vec<(Value, Value)>),
) -> Vec<u8> {
    let decoded = decode_backup(bytes).unwrap();
    let mut stores = decoded.stores;
    edit(&mut stores.iter_mut().find(|s| s.name == name).unwrap().records);
    let mut manifest = decoded.manifest;
    for s in manifest.stores.iter_mut() {
        *s = StoreManifest::new(s.schema.clone());
    }
    let mut writer = ChunkedWriter::new(manifest, ChunkDigests::HashedHere)
        .unwrap()
        .with_chunk_limits(2, 1 << 20);
    let mut file = writer.header().to_vec();
    let mut append = |frames: Vec<Frame>| {
        for frame in frames {
            match frame {
                Frame::Chunk { bytes, .. } => file.extend_from_slice(&bytes),
                Frame::Part { .. } => panic!("no out-of-line Blobs here"),
            }
        }
    };
    for (i, store) in stores.iter().enumerate() {
        for (key, value) in &store.records {
            append(writer.push(i, key, value, &[]).unwrap());
        }
    }
    append(writer.end().unwrap());
    file.extend_from_slice(&writer.finish().unwrap().bytes);
    file
}
