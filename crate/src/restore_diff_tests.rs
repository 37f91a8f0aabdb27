//! The diff of a restore: the walk over the in-memory backend and over a chunked file read a
//! chunk at a time, checked against a plain comparison of the two sides.

use super::*;
use crate::backup::chunked_tests::{rec, write};
use crate::backup::{
    chunked::read_chunked_slice, ChunkDigests, ChunkedReader, ReadMode, Step, Text,
};
use crate::memory::{MemoryDatabase, MemorySource};
use crate::schema::{KeyPath, StoreSchema};
use serde_json::{json, Value as Json};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The memory backend never waits, so one poll finishes every future.
fn run<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the in-memory backend never waits"),
    }
}

fn db(stores: &[(&str, Vec<(Json, Json)>)]) -> MemoryDatabase {
    let mut db = MemoryDatabase::named("notes");
    for (name, rows) in stores {
        db.schema =
            db.schema
                .with_store(StoreSchema::new(*name, Some(KeyPath::single("id")), false));
        db.records.insert(name.to_string(), rows.clone());
    }
    db
}

fn notes(ids: impl IntoIterator<Item = i64>, text: &str) -> Vec<(Json, Json)> {
    ids.into_iter()
        .map(|id| (json!(id), json!({"id": id, "text": text})))
        .collect()
}

fn file_of(db: &MemoryDatabase) -> MemorySource {
    MemorySource::File(
        Box::new(crate::backup::tests::manifest()),
        Box::new(db.clone()),
    )
}

fn store<'d>(d: &'d RestoreDiff, name: &str) -> &'d StoreChanges {
    d.stores.iter().find(|s| s.store == name).unwrap()
}

#[test]
fn adds_removes_and_changes_are_counted_in_every_batch_size() {
    // The backup: notes 1..=50 saying "old". Since: 51..=87 made, 1..=5 deleted, 6..=8 edited.
    let backup = db(&[("notes", notes(1..=50, "old"))]);
    let mut rows = notes(9..=87, "old");
    rows.extend(notes(6..=8, "edited"));
    rows.reverse(); // The memory backend keeps records in any order; the walk sorts them.
    let live = db(&[("notes", rows)]);
    for batch in [1, 2, 7, 1000] {
        let d = run(live.diff_restore(file_of(&backup), batch)).unwrap();
        let n = store(&d, "notes");
        assert_eq!(
            (n.added, n.removed, n.changed, n.unchanged),
            (5, 37, 3, 42),
            "batch {batch}"
        );
        assert!(d.schema.is_empty());
        assert_eq!(
            d.sentences,
            vec![
                "37 notes created since this backup will be removed",
                "5 notes deleted since this backup will come back",
                "3 notes changed since this backup will be put back as they were",
            ]
        );
    }
}

#[test]
fn an_unchanged_database_has_an_empty_diff_and_one_record_is_said_so() {
    let same = db(&[("notes", notes(1..=3, "a")), ("tags", vec![])]);
    let d = run(same.diff_restore(file_of(&same), 2)).unwrap();
    assert!(d.is_empty(), "{d:?}");
    assert!(d.sentences.is_empty());
    assert_eq!(
        store(&d, "tags"),
        &StoreChanges {
            store: "tags".into(),
            in_backup: true,
            in_live: true,
            ..StoreChanges::default()
        }
    );
    let one_more = db(&[("notes", notes(1..=4, "a")), ("tags", vec![])]);
    let d = run(one_more.diff_restore(file_of(&same), 2)).unwrap();
    assert_eq!(
        d.sentences,
        vec!["1 record of notes created since this backup will be removed"]
    );
}

#[test]
fn stores_on_one_side_only_are_made_or_deleted_with_the_schema_change() {
    let backup = db(&[("notes", notes(1..=2, "a")), ("old", notes(1..=3, "x"))]);
    let live = db(&[
        ("notes", notes(1..=2, "a")),
        ("new", notes(1..=1, "y")),
        ("empty", vec![]),
    ]);
    let d = run(live.diff_restore(file_of(&backup), 2)).unwrap();
    let old = store(&d, "old");
    assert_eq!((old.added, old.in_backup, old.in_live), (3, true, false));
    let new = store(&d, "new");
    assert_eq!((new.removed, new.in_backup, new.in_live), (1, false, true));
    let empty = store(&d, "empty");
    assert_eq!(
        (empty.removed, empty.in_live, empty.in_backup),
        (0, true, false)
    );
    assert!(!empty.is_empty(), "a store the restore deletes is a change");
    let kinds: Vec<_> = d
        .schema
        .iter()
        .map(|p| (p.kind, p.store.as_str()))
        .collect();
    use crate::diff::ProblemKind::{ExtraStore, MissingStore};
    assert_eq!(
        kinds,
        vec![
            (ExtraStore, "empty"),
            (ExtraStore, "new"),
            (MissingStore, "old")
        ]
    );
    assert_eq!(
        d.sentences,
        vec![
            "store empty, made since this backup, will be deleted with its 0 records",
            "store new, made since this backup, will be deleted with its 1 record",
            "store old, deleted since this backup, will be made again with its 3 records",
        ]
    );
    // Both sides empty: nothing to walk, nothing to say.
    let nothing = MemoryDatabase::named("notes");
    assert!(run(nothing.diff_restore(file_of(&nothing), 1))
        .unwrap()
        .is_empty());
}

#[test]
fn keys_of_mixed_types_are_matched_in_indexeddb_order() {
    let keys = [
        json!(-3),
        json!(2.5),
        json!(10),
        json!("10"),
        json!("a"),
        json!(["a"]),
        json!([1, "b"]),
    ];
    let rows = |pick: &dyn Fn(usize) -> bool, text: &str| -> Vec<(Json, Json)> {
        keys.iter()
            .enumerate()
            .filter(|(i, _)| pick(*i))
            .map(|(_, k)| (k.clone(), json!({"text": text})))
            .collect()
    };
    let mut backup = db(&[("mixed", rows(&|i| i % 2 == 0, "b"))]);
    backup.schema = DatabaseSchema::default().with_store(StoreSchema::new("mixed", None, false));
    let mut live = db(&[("mixed", rows(&|i| i >= 3, "b"))]);
    live.schema = backup.schema.clone();
    // Backup: 0 2 4 6; live: 3 4 5 6 → added 0 2, removed 3 5, unchanged 4 6.
    for batch in [1, 3] {
        let d = run(live.diff_restore(file_of(&backup), batch)).unwrap();
        let m = store(&d, "mixed");
        assert_eq!((m.added, m.removed, m.changed, m.unchanged), (2, 2, 0, 2));
    }
}

/// A diff source over batches given in advance (the backup's) and the live records of each
/// store, `batch` at a time.
struct Given {
    backup: std::vec::IntoIter<(String, Vec<Keyed>)>,
    live: std::collections::BTreeMap<String, Vec<Keyed>>,
    batch: usize,
    largest_live: usize,
}

impl DiffSource for Given {
    async fn next_backup(&mut self) -> Result<Option<(String, Vec<Keyed>)>, RewindError> {
        Ok(self.backup.next())
    }
    async fn next_live(&mut self, store: &str) -> Result<Vec<Keyed>, RewindError> {
        let rows = self.live.entry(store.to_string()).or_default();
        let n = self.batch.min(rows.len());
        self.largest_live = self.largest_live.max(n);
        Ok(rows.drain(..n).collect())
    }
}

fn text(s: &str) -> Value {
    Value::String(Text::from_utf16(s.encode_utf16().collect()))
}

fn note(n: u32, body: &str) -> Value {
    Value::Object(vec![
        (
            Text::from_utf16("body".encode_utf16().collect()),
            text(body),
        ),
        (
            Text::from_utf16("photo".encode_utf16().collect()),
            Value::Blob {
                mime: "image/png".into(),
                bytes: vec![n as u8; 300 + n as usize % 7],
            },
        ),
    ])
}

/// The batches of a chunked file as the reader hands them out, a chunk each.
fn chunk_batches(file: &[u8], names: &[&str]) -> Result<Vec<(String, Vec<Keyed>)>, RewindError> {
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Records);
    let mut batches = Vec::new();
    let mut failed = None;
    read_chunked_slice(file, &mut reader, &mut |step| {
        if let Step::Records(batch) = step {
            let keyed = batch
                .records
                .into_iter()
                .map(|r| {
                    let sizes: Vec<_> = r
                        .parts
                        .iter()
                        .map(|p| (p.blob, p.range.end - p.range.start))
                        .collect();
                    Ok((r.key, value_fingerprint(r.value, &sizes)?))
                })
                .collect::<Result<Vec<_>, BackupError>>();
            match keyed {
                Ok(k) => batches.push((names[batch.store].to_string(), k)),
                Err(e) => failed = Some(e),
            }
        }
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(batches),
    }
}

fn schema(names: &[&str]) -> DatabaseSchema {
    names.iter().fold(DatabaseSchema::default(), |s, n| {
        s.with_store(StoreSchema::new(*n, None, false))
    })
}

#[test]
fn many_records_across_several_chunks_are_walked_a_chunk_at_a_time() {
    // Backup: s0 holds 1..=600 (Blobs out of line for even keys), s1 is empty.
    let s0: Vec<_> = (1..=600u32)
        .map(|n| {
            let out = if n % 2 == 0 { vec![0] } else { vec![] };
            rec(Value::number(n.into()), note(n, "old"), out)
        })
        .collect();
    let (file, _) = write(&[s0, vec![]], ChunkDigests::HashedHere, (50, 4096)).unwrap();
    let batches = chunk_batches(&file, &["s0", "s1"]).unwrap();
    assert!(batches.len() > 10, "{} chunks", batches.len());
    // Live: 101..=700, with 200..=209 edited and 300's photo one byte longer.
    let live: Vec<Keyed> = (101..=700u32)
        .map(|n| {
            let mut v = note(
                n,
                if (200..210).contains(&n) {
                    "new"
                } else {
                    "old"
                },
            );
            if n == 300 {
                v.for_each_blob_mut(&mut |b| b.push(0));
            }
            (Value::number(n.into()), value_fingerprint(v, &[]).unwrap())
        })
        .collect();
    let mut source = Given {
        backup: batches.into_iter(),
        live: [("s0".to_string(), live)].into(),
        batch: 64,
        largest_live: 0,
    };
    let d = run(walk_restore(
        &mut source,
        &schema(&["s0", "s1"]),
        &schema(&["s0", "s1"]),
        &[],
    ))
    .unwrap();
    let s0 = store(&d, "s0");
    assert_eq!(
        (s0.added, s0.removed, s0.changed, s0.unchanged),
        (100, 100, 11, 489)
    );
    assert!(store(&d, "s1").is_empty());
    assert_eq!(
        source.largest_live, 64,
        "live records are read a batch at a time"
    );
}

#[test]
fn a_backup_whose_keys_go_backwards_or_whose_stores_interleave_is_damaged() {
    let k = |n: f64| (Value::number(n), vec![1]);
    let walk = |backup: Vec<(String, Vec<Keyed>)>| {
        let mut source = Given {
            backup: backup.into_iter(),
            live: Default::default(),
            batch: 10,
            largest_live: 0,
        };
        run(walk_restore(
            &mut source,
            &schema(&["a", "b"]),
            &schema(&["a"]),
            &[],
        ))
    };
    for backup in [
        vec![("a".to_string(), vec![k(2.0), k(1.0)])],
        vec![
            ("a".to_string(), vec![k(1.0)]),
            ("a".to_string(), vec![k(1.0)]),
        ],
        vec![("a".to_string(), vec![(Value::Null, vec![])])],
        vec![
            ("a".to_string(), vec![k(1.0)]),
            ("b".to_string(), vec![k(1.0)]),
            ("a".to_string(), vec![k(2.0)]),
        ],
        vec![("zzz".to_string(), vec![k(1.0)])],
    ] {
        let err = walk(backup.clone()).unwrap_err();
        assert_eq!(err.code(), "CorruptBackup", "{backup:?}: {err}");
        assert!(err.to_string().contains("Nothing was changed"), "{err}");
    }
    // A damaged chunked file is refused by its reader before the walk sees a record.
    let (mut file, _) = write(
        &[vec![rec(Value::number(1.0), note(1, "a"), vec![])]],
        ChunkDigests::HashedHere,
        (50, 4096),
    )
    .unwrap();
    let at = file.len() / 3;
    file[at] ^= 1;
    let err = chunk_batches(&file, &["s0"]).unwrap_err();
    assert!(
        matches!(err.code(), "CorruptBackup" | "ChecksumMismatch"),
        "{err}"
    );
}

#[test]
fn a_diff_changes_nothing_and_says_what_stops_it() {
    let mut live = db(&[("notes", notes(1..=3, "a"))]);
    let before = live.clone();
    let err = run(live.diff_restore(MemorySource::Backup("nope".into()), 2)).unwrap_err();
    assert_eq!(err.code(), "NoSuchBackup");
    live.failing_stage = Some(BackupError::corrupt("cut short").into());
    let err = run(live.diff_restore(file_of(&before), 2)).unwrap_err();
    assert_eq!(err.code(), "CorruptBackup");
    live.failing_stage = None;
    assert_eq!(live, before, "a diff writes nothing");
}

#[test]
fn live_records_the_backup_left_out_are_kept_and_a_bad_skipped_key_is_damage() {
    let k = |n: f64| (Value::number(n), vec![1]);
    let skipped = |key: &Value| {
        let mut bytes = Vec::new();
        encode_value(key, &mut bytes).unwrap();
        crate::backup::SkippedRecord {
            store: "a".into(),
            key: "2".into(),
            key_bytes: rewind_test_support::hex(&bytes),
            type_name: "CryptoKey".into(),
            path: ".secret".into(),
        }
    };
    let walk = |skipped: &[crate::backup::SkippedRecord]| {
        let mut source = Given {
            backup: vec![("a".to_string(), vec![k(1.0)])].into_iter(),
            live: [("a".to_string(), vec![k(1.0), k(2.0), k(3.0)])].into(),
            batch: 1,
            largest_live: 0,
        };
        run(walk_restore(
            &mut source,
            &schema(&["a"]),
            &schema(&["a"]),
            skipped,
        ))
    };
    let a = |d: &RestoreDiff| {
        let a = store(d, "a");
        (a.removed, a.unchanged)
    };
    assert_eq!(a(&walk(&[]).unwrap()), (2, 1));
    assert_eq!(
        a(&walk(&[skipped(&Value::number(2.0))]).unwrap()),
        (1, 2),
        "record 2 is kept by the restore"
    );
    let mut bad = skipped(&Value::number(2.0));
    bad.key_bytes = "zz".into();
    assert_eq!(walk(&[bad]).unwrap_err().code(), "CorruptBackup");
}
