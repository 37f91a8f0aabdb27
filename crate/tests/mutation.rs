//! Mutation test of the backup reader over real backup files (`tests/fixtures/*.rewind`, written
//! by `realistic_backups` below): bit flips, truncations, splices of two files, inserted and
//! deleted bytes, inflated lengths (varints in the records, the manifest's u32 length and its
//! sizes and counts), random garbage, JSON text and an empty file — each as is and *resealed*
//! (checksums recomputed, so the damage reaches the manifest parser and the value decoder).
//!
//! Every input must give a manifest or a `BackupError` from both `inspect` and `decode_backup`
//! (the two agreeing), within a second, and without any single allocation larger than the input
//! allows. A panic, a slow input or an oversized allocation fails the test, naming the input.
//! The counts go to stderr (not captured by the test harness) and to
//! `target/mutation-report.txt`.
//!
//! To rewrite the fixtures after a deliberate format change:
//! `REWIND_WRITE_FIXTURES=1 cargo test -p rewind --test mutation`.

use rewind::backup::chunked::{read_chunked_slice, read_chunked_slice_inflating};
use rewind::backup::{
    decode_backup, encode_backup, format_version, inspect, BackupError, BackupManifest,
    ChunkedReader, ErrorKind, ErrorValue, Num, ReadMode, StoreManifest, StoreRecords, Text, Value,
    ViewKind, CHUNKED_FORMAT_VERSION, COMPRESSED_FORMAT_VERSION, FORMAT_VERSION, MAGIC,
};
use rewind::Checksum;
use rewind::{AppliedMigration, IndexSchema, KeyPath, RewindMeta, StoreSchema};
use rewind_test_support::{hex, reseal_trailer, SplitMix64};
use sha2::{Digest, Sha256};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// A global allocator that records, for the current thread while it is switched on, the largest
// single allocation and the peak of bytes live.

struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note_alloc(size: usize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            LARGEST.with(|l| l.set(l.get().max(size)));
            LIVE.with(|l| {
                let now = l.get() + size as isize;
                l.set(now);
                PEAK.with(|p| p.set(p.get().max(now)));
            });
        }
    });
}

fn note_free(size: usize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            LIVE.with(|l| l.set(l.get() - size as isize));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_free(layout.size());
        note_alloc(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` with allocation tracking on: its result, the largest single allocation and the
/// peak of bytes live above what was live before.
fn tracked<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    LARGEST.with(|l| l.set(0));
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    TRACKING.with(|t| t.set(true));
    let out = f();
    TRACKING.with(|t| t.set(false));
    (
        out,
        LARGEST.with(|l| l.get()),
        PEAK.with(|p| p.get()).max(0) as usize,
    )
}

// ---------------------------------------------------------------------------------------------
// Realistic backups.

fn t(s: &str) -> Text {
    Text::from(s)
}

fn obj(props: Vec<(&str, Value)>) -> Value {
    Value::Object(props.into_iter().map(|(k, v)| (t(k), v)).collect())
}

fn arr(items: Vec<Value>) -> Value {
    Value::Array {
        length: items.len() as u32,
        props: items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Text::from(i.to_string()), v))
            .collect(),
    }
}

fn manifest(database: &str, stores: Vec<StoreSchema>) -> BackupManifest {
    BackupManifest {
        format_version: FORMAT_VERSION,
        id: format!("{database}-20261126T171856Z-0001"),
        database: database.into(),
        schema_version: 3,
        idb_version: 4,
        created_at: 1_795_713_536_000.0,
        label: "before v4 (tags → labels)".into(),
        automatic: true,
        meta: RewindMeta {
            schema_version: 3,
            applied: (1..=3)
                .map(|v| AppliedMigration {
                    version: v,
                    name: format!("step {v}"),
                    checksum: Checksum(format!("{v:x}").repeat(64)),
                    applied_at: 1_795_700_000_000.0 + f64::from(v),
                    definition: None,
                })
                .collect(),
        },
        stores: stores.into_iter().map(StoreManifest::new).collect(),
        skipped: Vec::new(),
        interrupted: None,
        in_place: false,
        bytes: 0,
        sha256: String::new(),
    }
}

/// A notes app: notes with nested objects, tags and dates; notebooks; attachments as Blobs
/// and Files; an empty store.
fn notes_backup() -> (BackupManifest, Vec<StoreRecords>) {
    let mut rng = SplitMix64::new(1);
    let schemas = vec![
        StoreSchema::new("notes", Some(KeyPath::single("id")), true)
            .with_index(IndexSchema::new("by_tag", KeyPath::single("tags")).multi_entry(true))
            .with_index(IndexSchema::new(
                "by_notebook_title",
                KeyPath::compound(["notebookId", "title"]),
            ))
            .with_index(IndexSchema::new(
                "by_updated",
                KeyPath::single("meta.updated"),
            )),
        StoreSchema::new("notebooks", Some(KeyPath::single("id")), false)
            .with_index(IndexSchema::new("by_name", KeyPath::single("name")).unique(true)),
        StoreSchema::new("attachments", None, false),
        StoreSchema::new("drafts", None, true),
    ];
    let notes = (1..=12)
        .map(|i| {
            let tags = (0..i % 4).map(|j| Value::string(["work", "home", "ideas"][j % 3]));
            let note = obj(vec![
                ("id", Value::number(i as f64)),
                ("notebookId", Value::number((i % 3) as f64)),
                ("title", Value::string(&format!("Note {i}: café ✓"))),
                (
                    "body",
                    Value::string(&"Lorem ipsum dolor sit amet. ".repeat(i % 5)),
                ),
                ("tags", arr(tags.collect())),
                (
                    "meta",
                    obj(vec![
                        (
                            "created",
                            Value::Date(Num(1_700_000_000_000.0 + i as f64 * 1000.0)),
                        ),
                        ("updated", Value::number(1_700_000_000_000.0 + i as f64)),
                        ("words", Value::number((i * 7) as f64)),
                        ("pinned", Value::Bool(i % 5 == 0)),
                        ("score", Value::number(i as f64 / 3.0)),
                        (
                            "owner",
                            if i % 2 == 0 {
                                Value::Null
                            } else {
                                Value::Undefined
                            },
                        ),
                    ]),
                ),
                (
                    "history",
                    Value::Map(vec![(
                        Value::Date(Num(1_600_000_000_000.0)),
                        obj(vec![("by", Value::string("me"))]),
                    )]),
                ),
                ("self", Value::Ref(0)),
            ]);
            (Value::number(i as f64), note)
        })
        .collect();
    let notebooks = (0..3)
        .map(|i| {
            (
                Value::number(f64::from(i)),
                obj(vec![
                    ("id", Value::number(f64::from(i))),
                    (
                        "name",
                        Value::string(["Inbox", "Work", "Ünïcode 😀"][i as usize]),
                    ),
                    ("colour", Value::BigInt(format!("{}", 0xff_aa00 + i))),
                    (
                        "members",
                        Value::Set(vec![Value::string("a"), Value::string("b")]),
                    ),
                ]),
            )
        })
        .collect();
    let attachments = (0..6)
        .map(|i| {
            let key = arr(vec![Value::number(i as f64), Value::string("v1")]);
            let contents = rng.bytes(40 + i * 30);
            let value = if i % 2 == 0 {
                Value::Blob {
                    mime: "image/png".into(),
                    bytes: contents,
                }
            } else {
                Value::File {
                    name: t(&format!("scan {i}.pdf")),
                    mime: "application/pdf".into(),
                    last_modified: 1_700_000_000_000 + i as i64,
                    bytes: contents,
                }
            };
            (
                key,
                obj(vec![("file", value), ("noteId", Value::number(i as f64))]),
            )
        })
        .collect();
    let stores = vec![
        StoreRecords {
            name: "notes".into(),
            records: notes,
        },
        StoreRecords {
            name: "notebooks".into(),
            records: notebooks,
        },
        StoreRecords {
            name: "attachments".into(),
            records: attachments,
        },
        StoreRecords {
            name: "drafts".into(),
            records: vec![],
        },
    ];
    (manifest("notes", schemas), stores)
}

/// Binary data and unusual values: views sharing buffers, every view kind, Maps and Sets,
/// cycles, boxed values, errors, lone surrogates, -0 and NaN, binary and array keys.
fn binary_backup() -> (BackupManifest, Vec<StoreRecords>) {
    let mut rng = SplitMix64::new(2);
    let schemas = vec![
        StoreSchema::new("samples", None, false),
        StoreSchema::new("odd", Some(KeyPath::compound(["a", "b"])), false)
            .with_index(IndexSchema::new("by_c", KeyPath::single("c"))),
    ];
    let samples = ViewKind::ALL
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let buffer = rng.bytes(64);
            // Object 0 the record, 1 the first view, 2 its buffer, 3 the second view.
            let value = obj(vec![
                (
                    "view",
                    Value::View {
                        kind,
                        buffer: Box::new(Value::ArrayBuffer(buffer)),
                        byte_offset: 8,
                        length: 4,
                    },
                ),
                (
                    "again",
                    Value::View {
                        kind: ViewKind::Uint8,
                        buffer: Box::new(Value::Ref(2)),
                        byte_offset: 0,
                        length: 64,
                    },
                ),
                ("buffer", Value::Ref(2)),
                ("i", Value::number(i as f64)),
            ]);
            (Value::ArrayBuffer(vec![i as u8, 0xff]), value)
        })
        .collect();
    let lone = Text::from_utf16(vec![0x61, 0xD800, 0x62]);
    let odd = vec![
        (
            arr(vec![Value::string("a"), Value::number(-0.0)]),
            obj(vec![
                ("nan", Value::number(f64::NAN)),
                ("negzero", Value::number(-0.0)),
                ("lone", Value::String(lone.clone())),
                (
                    "re",
                    Value::RegExp {
                        source: lone.clone(),
                        flags: "gu".into(),
                    },
                ),
                (
                    "boxed",
                    arr(vec![
                        Value::BoxedString(t("s")),
                        Value::BoxedNumber(Num(f64::NAN)),
                        Value::BoxedBool(true),
                        Value::BoxedBigInt("-12345678901234567890".into()),
                    ]),
                ),
                (
                    "err",
                    Value::Error(ErrorValue {
                        kind: ErrorKind::TypeError,
                        message: Some(t("bad")),
                        stack: Some(lone),
                        cause: Some(Box::new(Value::Ref(0))),
                    }),
                ),
                (
                    "map",
                    Value::Map(vec![
                        (
                            Value::Ref(0),
                            Value::Set(vec![Value::Ref(0), Value::number(1e300)]),
                        ),
                        (Value::string("k"), Value::Date(Num(f64::NAN))),
                    ]),
                ),
                (
                    "holes",
                    Value::Array {
                        length: 1000,
                        props: vec![(t("999"), Value::Null), (t("x"), Value::Bool(false))],
                    },
                ),
                ("__proto__", obj(vec![("polluted", Value::Bool(true))])),
            ]),
        ),
        (
            Value::View {
                kind: ViewKind::Uint8,
                buffer: Box::new(Value::ArrayBuffer(vec![1, 2, 3])),
                byte_offset: 1,
                length: 2,
            },
            Value::number(9_007_199_254_740_993.0),
        ),
        (Value::Date(Num(-1.0)), Value::string("")),
    ];
    let stores = vec![
        StoreRecords {
            name: "samples".into(),
            records: samples,
        },
        StoreRecords {
            name: "odd".into(),
            records: odd,
        },
    ];
    (manifest("binary", schemas), stores)
}

/// A database with no stores at all.
fn empty_backup() -> (BackupManifest, Vec<StoreRecords>) {
    let mut m = manifest("empty", vec![]);
    m.label = String::new();
    m.automatic = false;
    m.meta = RewindMeta::default();
    (m, vec![])
}

fn realistic_backups() -> Vec<(&'static str, BackupManifest, Vec<StoreRecords>)> {
    let (m1, s1) = notes_backup();
    let (m2, s2) = binary_backup();
    let (m3, s3) = empty_backup();
    vec![("notes", m1, s1), ("binary", m2, s2), ("empty", m3, s3)]
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The committed fixture files, checked against what they were written from. With
/// `REWIND_WRITE_FIXTURES=1` they are written first.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let write = std::env::var_os("REWIND_WRITE_FIXTURES").is_some();
    realistic_backups()
        .into_iter()
        .map(|(name, manifest, stores)| {
            let path = fixtures_dir().join(format!("{name}.rewind"));
            if write {
                let encoded = encode_backup(manifest.clone(), stores.clone()).unwrap();
                std::fs::create_dir_all(fixtures_dir()).unwrap();
                std::fs::write(&path, &encoded.bytes).unwrap();
            }
            let bytes = std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (write the fixtures with REWIND_WRITE_FIXTURES=1)",
                    path.display()
                )
            });
            // A file written by an earlier build still reads, with the same records.
            let decoded =
                decode_backup(&bytes).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
            assert_eq!(decoded.stores, stores, "fixture {}", path.display());
            assert_eq!(decoded.manifest.database, manifest.database);
            (name, bytes)
        })
        .collect()
}

#[test]
fn fixtures_are_real_backups() {
    let files = fixtures();
    assert_eq!(files.len(), 3);
    for (name, bytes) in &files {
        let m = inspect(bytes).unwrap();
        assert_eq!(m.bytes, bytes.len() as u64, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// One input and what was done to make it.
struct Case {
    what: String,
    bytes: Vec<u8>,
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A file taken apart: its header, its manifest as JSON and its sections.
#[derive(Clone)]
struct Parts {
    version: u32,
    manifest: serde_json::Value,
    sections: Vec<Vec<u8>>,
}

impl Parts {
    fn of(file: &[u8]) -> Parts {
        let m = inspect(file).expect("a fixture");
        let len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
        let mut pos = 16 + len;
        let sections = m
            .stores
            .iter()
            .map(|s| {
                let section = file[pos..pos + s.bytes as usize].to_vec();
                pos += s.bytes as usize;
                section
            })
            .collect();
        Parts {
            version: u32::from_le_bytes(file[8..12].try_into().unwrap()),
            manifest: serde_json::from_slice(&file[16..16 + len]).unwrap(),
            sections,
        }
    }

    /// The file, with each store's size and checksum set to its (changed) section, unless
    /// `keep_sizes`, and the trailing checksum recomputed.
    fn assemble(&self, keep_sizes: bool) -> Vec<u8> {
        let mut manifest = self.manifest.clone();
        if !keep_sizes {
            for (store, section) in manifest["stores"]
                .as_array_mut()
                .into_iter()
                .flatten()
                .zip(&self.sections)
            {
                store["bytes"] = (section.len() as u64).into();
                store["sha256"] = hex(&sha(section)).into();
            }
        }
        let json = serde_json::to_vec(&manifest).unwrap();
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        for s in &self.sections {
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&[0; 32]);
        reseal_trailer(out)
    }
}

/// Positions to mutate: all of the first `head` bytes, then about `rest` more spread evenly.
fn positions(len: usize, head: usize, rest: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..len.min(head)).collect();
    if len > head {
        let step = ((len - head) / rest.max(1)).max(1);
        out.extend((head..len).step_by(step));
    }
    out
}

/// Varints far larger than any length in the file: u64::MAX, u32::MAX, 2^31, 2^40, and the
/// overlong and too-long forms.
const HUGE_VARINTS: &[&[u8]] = &[
    &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
    &[0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
    &[0x80, 0x80, 0x80, 0x80, 0x08],
    &[0x80, 0x80, 0x80, 0x80, 0x80, 0x20],
    &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
    &[0x80, 0x00],
    &[0xFF; 12],
];

/// Every mutation of every fixture, as is and resealed.
fn cases(files: &[(&str, Vec<u8>)]) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut rng = SplitMix64::new(0xC0FFEE);
    let both = |cases: &mut Vec<Case>, what: String, bytes: Vec<u8>| {
        cases.push(Case {
            what: format!("{what}, resealed"),
            bytes: reseal_trailer(bytes.clone()),
        });
        cases.push(Case { what, bytes });
    };
    for (name, file) in files {
        let len = file.len();
        let parts = Parts::of(file);
        let manifest_len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
        // Every single-bit flip over the header and the manifest's start, and a sample after.
        for p in positions(len, 64, 160) {
            for bit in 0..8 {
                let mut b = file.clone();
                b[p] ^= 1 << bit;
                both(
                    &mut cases,
                    format!("{name}: bit {bit} of byte {p} flipped"),
                    b,
                );
            }
        }
        // Truncation at many lengths (all of the first 64 and the last 40, a sample between).
        let mut cuts: Vec<usize> = (0..64.min(len)).collect();
        cuts.extend((64..len).step_by((len / 150).max(1)));
        cuts.extend(len.saturating_sub(40)..len);
        for cut in cuts {
            both(
                &mut cases,
                format!("{name}: cut to {cut} bytes"),
                file[..cut].to_vec(),
            );
        }
        // Inserted and deleted bytes.
        for p in positions(len, 16, 60) {
            let n = 1 + rng.usize(4);
            let mut ins = file.clone();
            let junk = rng.bytes(n);
            ins.splice(p..p, junk);
            both(
                &mut cases,
                format!("{name}: {n} bytes inserted at {p}"),
                ins,
            );
            let mut del = file.clone();
            del.drain(p..(p + n).min(len));
            both(&mut cases, format!("{name}: {n} bytes deleted at {p}"), del);
        }
        // Splices with the other files: the start of one, the end of another.
        for (other_name, other) in files {
            for _ in 0..30 {
                let i = rng.usize(len + 1);
                let j = rng.usize(other.len() + 1);
                let mut b = file[..i].to_vec();
                b.extend_from_slice(&other[j..]);
                both(
                    &mut cases,
                    format!("{name}[..{i}] + {other_name}[{j}..]"),
                    b,
                );
            }
        }
        // The manifest length (u32 at byte 12) inflated, deflated, nonsense.
        let lens = [
            0u32,
            1,
            manifest_len as u32 - 1,
            manifest_len as u32 + 1,
            len as u32,
            len as u32 - 31,
            0x7FFF_FFFF,
            0x8000_0000,
            0xFFFF_FFF0,
            u32::MAX,
        ];
        for l in lens {
            let mut b = file.clone();
            b[12..16].copy_from_slice(&l.to_le_bytes());
            both(&mut cases, format!("{name}: manifest length set to {l}"), b);
        }
        for v in [0u32, 2, 0x100, u32::MAX] {
            let mut b = file.clone();
            b[8..12].copy_from_slice(&v.to_le_bytes());
            both(&mut cases, format!("{name}: format version set to {v}"), b);
        }
        // Inside the sections, with sizes and checksums made to match: every bit flip over a
        // sample, and huge varints written over or inserted at every sampled position.
        for (s, section) in parts.sections.iter().enumerate() {
            for p in positions(section.len(), 32, 50) {
                for bit in 0..8 {
                    let mut m = parts.clone();
                    m.sections[s][p] ^= 1 << bit;
                    cases.push(Case {
                        what: format!(
                            "{name}: store {s} byte {p} bit {bit} flipped, checksums fixed"
                        ),
                        bytes: m.assemble(false),
                    });
                }
            }
            for p in positions(section.len(), 16, 24) {
                for (v, huge) in HUGE_VARINTS.iter().enumerate() {
                    let mut over = parts.clone();
                    let end = (p + huge.len()).min(section.len());
                    over.sections[s].splice(p..end, huge.iter().copied());
                    cases.push(Case {
                        what: format!(
                            "{name}: store {s} huge varint {v} written at {p}, checksums fixed"
                        ),
                        bytes: over.assemble(false),
                    });
                    let mut ins = parts.clone();
                    ins.sections[s].splice(p..p, huge.iter().copied());
                    cases.push(Case {
                        what: format!(
                            "{name}: store {s} huge varint {v} inserted at {p}, checksums fixed"
                        ),
                        bytes: ins.assemble(false),
                    });
                }
                let mut cut = parts.clone();
                cut.sections[s].truncate(p);
                cases.push(Case {
                    what: format!("{name}: store {s} cut to {p} bytes, checksums fixed"),
                    bytes: cut.assemble(false),
                });
            }
            // The manifest's sizes and counts inflated (and the file resealed).
            for (field, value) in [
                ("bytes", u64::MAX),
                ("bytes", 1 << 63),
                ("bytes", u64::from(u32::MAX)),
                ("bytes", section.len() as u64 + 1),
                ("records", u64::MAX),
                ("records", 1 << 40),
                ("records", section.len() as u64),
            ] {
                let mut m = parts.clone();
                m.manifest["stores"][s][field] = value.into();
                cases.push(Case {
                    what: format!("{name}: store {s} {field} set to {value}"),
                    bytes: m.assemble(true),
                });
            }
        }
        // Manifest fields of the wrong type or missing.
        for (field, value) in [
            ("stores", serde_json::json!({})),
            ("stores", serde_json::json!([null])),
            ("formatVersion", serde_json::json!(-1)),
            ("createdAt", serde_json::json!("now")),
            ("meta", serde_json::json!({"applied": 5})),
            ("id", serde_json::json!(null)),
        ] {
            let mut m = parts.clone();
            m.manifest[field] = value;
            cases.push(Case {
                what: format!("{name}: manifest {field} = {}", m.manifest[field]),
                bytes: m.assemble(true),
            });
        }
        // The manifest's JSON text itself, and the file's JSON after the magic.
        let json = file[16..16 + manifest_len].to_vec();
        cases.push(Case {
            what: format!("{name}: its manifest JSON alone"),
            bytes: json,
        });
    }
    // Random garbage: raw, and behind a valid header (resealed).
    for i in 0..200 {
        let n = rng.usize(3000);
        let mut b = rng.bytes(n);
        if i % 2 == 1 {
            let mut head = MAGIC.to_vec();
            head.extend_from_slice(&1u32.to_le_bytes());
            head.extend_from_slice(&(rng.usize(n + 1) as u32).to_le_bytes());
            head.append(&mut b);
            b = head;
        }
        both(&mut cases, format!("random garbage {i} ({n} bytes)"), b);
    }
    // JSON text, the empty file and other small things.
    let texts: &[&[u8]] = &[
        b"",
        b"\x89",
        &MAGIC,
        b"{}",
        b"[]",
        b"null",
        br#"{"formatVersion":1,"id":"x","database":"d","stores":[]}"#,
        br#"{"version": 1, "name": "init", "up": []}"#,
        b"\xEF\xBB\xBF{\"formatVersion\": 1}",
        b"PK\x03\x04",
    ];
    for text in texts {
        cases.push(Case {
            what: format!("text {:?}", String::from_utf8_lossy(text)),
            bytes: text.to_vec(),
        });
    }
    cases
}

/// What happened to one input.
enum Outcome {
    Accepted,
    Rejected(&'static str),
}

fn kind(e: &BackupError) -> &'static str {
    match e {
        BackupError::Empty => "Empty",
        BackupError::BadMagic => "BadMagic",
        BackupError::Truncated { .. } => "Truncated",
        BackupError::UnsupportedFormat { .. } => "UnsupportedFormat",
        BackupError::ChecksumMismatch { .. } => "ChecksumMismatch",
        BackupError::Corrupt { .. } => "Corrupt",
        BackupError::TooDeep { .. } => "TooDeep",
        BackupError::UnsupportedValue { .. } => "UnsupportedValue",
        BackupError::Invalid { .. } => "Invalid",
        // A version byte changed to 5: a sealed file, which needs unsealing first.
        BackupError::PassphraseRequired => "PassphraseRequired",
        // The enum is non-exhaustive: a new kind fails here until it is named above.
        other => panic!("name this kind of BackupError in kind(): {other:?}"),
    }
}

/// The largest single allocation an input of `len` bytes may cause.
fn allocation_limit(len: usize) -> usize {
    2 * len + 64 * 1024
}

/// The largest single allocation decoding a record that is nothing but one wide container may
/// make: a decoded member per input byte, in a `Vec` that may have doubled.
fn tree_limit(len: usize) -> usize {
    2 * std::mem::size_of::<rewind::backup::Value>() * len + 64 * 1024
}

const TIME_LIMIT: Duration = Duration::from_secs(1);

/// Runs the readers on one input; `Err` describes what went wrong.
fn check(case: &Case) -> Result<(Outcome, usize), String> {
    let len = case.bytes.len();
    let start = Instant::now();
    let (inspected, largest_i, _) =
        tracked(|| catch_unwind(AssertUnwindSafe(|| inspect(&case.bytes))));
    let took_i = start.elapsed();
    let start = Instant::now();
    let (decoded, largest_d, _) =
        tracked(|| catch_unwind(AssertUnwindSafe(|| decode_backup(&case.bytes))));
    let took_d = start.elapsed();
    let describe = |problem: String| {
        format!(
            "{}: {problem} (input of {len} bytes, starts {:02x?})",
            case.what,
            &case.bytes[..len.min(48)]
        )
    };
    let inspected =
        inspected.map_err(|p| describe(format!("inspect panicked: {}", panic_text(&p))))?;
    let decoded =
        decoded.map_err(|p| describe(format!("decode_backup panicked: {}", panic_text(&p))))?;
    if took_i > TIME_LIMIT || took_d > TIME_LIMIT {
        return Err(describe(format!(
            "too slow: inspect {took_i:?}, decode_backup {took_d:?}"
        )));
    }
    let largest = largest_i.max(largest_d);
    if largest > allocation_limit(len) {
        return Err(describe(format!(
            "a single allocation of {largest} bytes (inspect {largest_i}, decode_backup \
             {largest_d}; limit {})",
            allocation_limit(len)
        )));
    }
    // What a restore runs (`verify_file`, then writes from the bytes; for a chunked file the
    // chunked reader, handing out records) must agree as well.
    let chunked = format_version(&case.bytes) == Ok(CHUNKED_FORMAT_VERSION);
    let verified = catch_unwind(AssertUnwindSafe(|| {
        rewind::backup::format::verify_file(&case.bytes)
    }))
    .map_err(|p| describe(format!("verify_file panicked: {}", panic_text(&p))))?;
    let read_in_chunks = catch_unwind(AssertUnwindSafe(|| {
        let mut reader = ChunkedReader::new(case.bytes.len() as u64, ReadMode::Records);
        read_chunked_slice(&case.bytes, &mut reader, &mut |_| {})
    }))
    .map_err(|p| describe(format!("the chunked reader panicked: {}", panic_text(&p))))?;
    if chunked {
        let agree = match (&inspected, &read_in_chunks) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if !agree || verified.is_ok() {
            return Err(describe(format!(
                "inspect and the chunked reader disagree, or verify_file accepts a chunked \
                 file: {inspected:?} / {read_in_chunks:?} / {:?}",
                verified.as_ref().map(|_| "verified")
            )));
        }
    }
    match (&inspected, &verified) {
        _ if chunked => {}
        (Ok(m), Ok(v)) if *m == v.manifest => {}
        (Err(a), Err(b)) if a == b => {}
        _ => {
            return Err(describe(format!(
                "inspect and verify_file disagree: {:?} / {:?}",
                inspected.as_ref().map(|_| "manifest"),
                verified.as_ref().map(|_| "verified")
            )))
        }
    }
    let outcome = match (&inspected, &decoded) {
        (Ok(m), Ok(d)) if *m == d.manifest => Outcome::Accepted,
        (Err(a), Err(b)) if a == b => Outcome::Rejected(kind(a)),
        _ => {
            return Err(describe(format!(
                "inspect and decode_backup disagree: {:?} / {:?}",
                inspected.as_ref().map(|_| "manifest"),
                decoded.as_ref().map(|_| "records")
            )))
        }
    };
    Ok((outcome, largest))
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not a string)".into())
}

fn target_dir() -> PathBuf {
    // tests run from target/<profile>/deps/<binary>
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

#[test]
fn mutated_backups_give_a_manifest_or_an_error() {
    let started = Instant::now();
    let files = fixtures();
    let cases = cases(&files);
    // Panics are caught and reported with their input; keep the default hook's noise out.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut accepted = 0usize;
    let mut rejected: BTreeMap<&str, usize> = BTreeMap::new();
    let mut worst_ratio = (0.0f64, String::new());
    for case in &cases {
        match check(case) {
            Ok((outcome, largest)) => {
                match outcome {
                    Outcome::Accepted => accepted += 1,
                    Outcome::Rejected(k) => *rejected.entry(k).or_default() += 1,
                }
                let ratio = largest as f64 / case.bytes.len().max(1) as f64;
                if ratio > worst_ratio.0 && case.bytes.len() > 1024 {
                    worst_ratio = (ratio, case.what.clone());
                }
            }
            Err(problem) => failures.push(problem),
        }
    }
    std::panic::set_hook(hook);
    let total_rejected: usize = rejected.values().sum();
    let report = format!(
        "mutation: {} inputs tried, {} rejected, {} accepted, {} failed ({:.1} s)\n\
         rejected by kind: {rejected:?}\n\
         largest single allocation per input byte (inputs over 1 KiB): {:.2} ({})\n",
        cases.len(),
        total_rejected,
        accepted,
        failures.len(),
        started.elapsed().as_secs_f64(),
        worst_ratio.0,
        worst_ratio.1,
    );
    let path = target_dir().join("mutation-report.txt");
    let _ = std::fs::write(&path, format!("{report}{}", failures.join("\n")));
    // Straight to stderr: the harness captures `eprintln!`, not this.
    let _ = std::io::stderr().write_all(report.as_bytes());
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed (all in {}):\n{}",
        failures.len(),
        cases.len(),
        path.display(),
        failures[..failures.len().min(10)].join("\n")
    );
    assert!(cases.len() > 10_000, "only {} inputs", cases.len());
}

/// Values that are wide rather than deep: one record holding a Set, an Array, a Map or an
/// object with as many members as the input has room for (one or two bytes each). The decoded
/// tree is necessarily larger than its encoding: every member is a `Value` in memory but may be
/// one byte on disk, and a growing `Vec` may double. So the bound here is the documented one
/// (`docs/backup-format.md`): at most `2 × size_of::<Value>()` bytes per input byte (+ 64 KiB)
/// for any single allocation, in `inspect` (which keeps one record at a time) and
/// `decode_backup`. Reserving capacity from a declared count, for instance, would break it.
#[test]
fn wide_values_stay_within_the_allocation_limit() {
    let n = 100_000usize;
    let wide: Vec<(&str, Vec<u8>)> = vec![
        (
            "a Set of undefined",
            [vec![0x1B], varint(n as u64), vec![0x00; n]].concat(),
        ),
        (
            "an Array of index properties",
            [
                vec![0x1C],
                varint(n as u64),
                varint(n as u64 / 3),
                (0..n / 3)
                    .flat_map(|i| [vec![0x00], varint(i as u64), vec![0x00]].concat())
                    .collect(),
            ]
            .concat(),
        ),
        (
            "a Map of null to null",
            [vec![0x1A], varint(n as u64 / 2), vec![0x01; n]].concat(),
        ),
    ];
    let mut problems = Vec::new();
    for (what, value) in wide {
        // One record: key 0, then the value.
        let section = [vec![0x04, 0x00], value].concat();
        let mut parts = Parts::of(&fixtures()[0].1);
        parts.sections[0] = section;
        parts.manifest["stores"][0]["records"] = 1.into();
        let file = parts.assemble(false);
        let len = file.len();
        let (inspected, largest_i, peak_i) = tracked(|| inspect(&file));
        let (decoded, largest_d, peak_d) = tracked(|| decode_backup(&file).map(|_| ()));
        assert!(
            inspected.is_ok() && decoded.is_ok(),
            "{what}: {inspected:?} {decoded:?}"
        );
        let line = format!(
            "{what}: input {len} bytes; largest allocation inspect {largest_i} ({:.1}×), \
             decode_backup {largest_d} ({:.1}×); peak inspect {peak_i}, decode_backup {peak_d}",
            largest_i as f64 / len as f64,
            largest_d as f64 / len as f64
        );
        let _ = writeln!(std::io::stderr(), "wide: {line}");
        if largest_i.max(largest_d) > tree_limit(len) {
            problems.push(line);
        }
    }
    assert!(
        problems.is_empty(),
        "single allocations beyond {} bytes per input byte + 64 KiB:\n{}",
        2 * std::mem::size_of::<rewind::backup::Value>(),
        problems.join("\n")
    );
}

fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A chunked (format 3) file with every digest recomputed to match its bytes (each frame's in
/// the index, each store's records, bytes and digest in the manifest, the root), so damage
/// reaches the index checks and the value decoder; the file as it is when its trailer's sizes
/// do not add up.
fn reseal_chunked(file: &[u8]) -> Vec<u8> {
    let n = file.len();
    let version = u32::from_le_bytes(file[8.min(n)..12.min(n)].try_into().unwrap_or([0; 4]));
    if n < 80 || (version != CHUNKED_FORMAT_VERSION && version != COMPRESSED_FORMAT_VERSION) {
        return file.to_vec();
    }
    let le = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
    let (index_at, count, json_len) = (le(n - 64), le(n - 56), le(n - 48));
    let index_end = count.checked_mul(56).and_then(|l| l.checked_add(index_at));
    let Some(index_end) = index_end.filter(|e| {
        index_at >= 16 && e.checked_add(json_len).and_then(|l| l.checked_add(64)) == Some(n)
    }) else {
        return file.to_vec();
    };
    let mut index = file[index_at..index_end].to_vec();
    let mut at = 16usize;
    for e in index.chunks_mut(56) {
        let end = at
            .saturating_add(u64::from_le_bytes(e[16..24].try_into().unwrap()) as usize)
            .min(index_at);
        e[24..56].copy_from_slice(&sha(&file[at.min(end)..end]));
        at = end;
    }
    let mut json = file[index_end..index_end + json_len].to_vec();
    if let Ok(mut m) = serde_json::from_slice::<serde_json::Value>(&json) {
        if let Some(stores) = m.get_mut("stores").and_then(|s| s.as_array_mut()) {
            for (i, store) in stores.iter_mut().enumerate() {
                let mut digests = Sha256::new();
                let (mut records, mut bytes) = (0u64, 0u64);
                for e in index.chunks(56) {
                    if u32::from_le_bytes(e[4..8].try_into().unwrap()) as usize == i {
                        digests.update(&e[24..56]);
                        records += u64::from(u32::from_le_bytes(e[8..12].try_into().unwrap()));
                        bytes =
                            bytes.saturating_add(u64::from_le_bytes(e[16..24].try_into().unwrap()));
                    }
                }
                if let Some(o) = store.as_object_mut() {
                    o.insert("sha256".into(), hex(&digests.finalize()).into());
                    o.insert("records".into(), records.into());
                    o.insert("bytes".into(), bytes.into());
                }
            }
        }
        json = serde_json::to_vec(&m).unwrap();
    }
    let mut fields = Vec::new();
    for v in [index_at, count, json.len()] {
        fields.extend_from_slice(&(v as u64).to_le_bytes());
    }
    let mut root = Sha256::new();
    root.update(&file[..16]);
    root.update(sha(&index));
    root.update(sha(&json));
    root.update(&fields);
    let mut out = file[..index_at].to_vec();
    out.extend_from_slice(&index);
    out.extend_from_slice(&json);
    out.extend_from_slice(&fields);
    out.extend_from_slice(&root.finalize());
    out.extend_from_slice(&file[n - 8..]);
    out
}

/// Prints what a mutation run found by kind, and fails with its first failures.
fn report_run<K: std::fmt::Debug>(
    run: &str,
    tried: usize,
    failures: &[String],
    kinds: &K,
) -> String {
    let report = format!(
        "mutation ({run}): {tried} inputs tried, {} failed; {kinds:?}\n",
        failures.len()
    );
    let _ = std::io::stderr().write_all(report.as_bytes());
    assert!(
        failures.is_empty(),
        "{report}{}",
        failures[..failures.len().min(10)].join("\n")
    );
    report
}

/// How a chunked file is damaged: bits flipped at up to `flips` places (and in every byte of
/// the trailer), cut at about `cuts` lengths, 1–4 random bytes inserted (and deleted) at up to
/// `inserts` places.
struct Damage {
    flips: usize,
    flip_trailer: bool,
    cuts: usize,
    inserts: usize,
    deletes: bool,
}

impl Damage {
    fn apply(
        &self,
        name: &str,
        file: &[u8],
        rng: &mut SplitMix64,
        out: &mut impl FnMut(String, Vec<u8>),
    ) {
        let len = file.len();
        let trailer = match self.flip_trailer {
            true => len.saturating_sub(64)..len,
            false => 0..0,
        };
        for p in positions(len, 96, self.flips).into_iter().chain(trailer) {
            let bit = rng.usize(8);
            let mut b = file.to_vec();
            b[p] ^= 1 << bit;
            out(format!("{name}: bit {bit} of byte {p} flipped"), b);
        }
        for cut in (0..len).step_by((len / self.cuts).max(1)) {
            out(format!("{name}: cut to {cut}"), file[..cut].to_vec());
        }
        for p in positions(len, 16, self.inserts) {
            let n = 1 + rng.usize(4);
            let mut ins = file.to_vec();
            ins.splice(p..p, rng.bytes(n));
            out(format!("{name}: {n} bytes inserted at {p}"), ins);
            if self.deletes {
                let mut del = file.to_vec();
                del.drain(p..(p + n).min(len));
                out(format!("{name}: {n} bytes deleted at {p}"), del);
            }
        }
    }
}

/// The same checks over chunked files (the committed fuzz seeds): bit flips, cuts, inserted and
/// deleted bytes and splices, each as is and resealed.
#[test]
fn mutated_chunked_backups_give_a_manifest_or_an_error() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/chunked");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "the chunked seeds are missing");
    let mut rng = SplitMix64::new(0xC4A7);
    let mut cases = Vec::new();
    let mut both = |what: String, bytes: Vec<u8>| {
        cases.push(Case {
            what: format!("{what}, resealed"),
            bytes: reseal_chunked(&bytes),
        });
        cases.push(Case { what, bytes });
    };
    for (name, file) in &files {
        let len = file.len();
        let damage = Damage {
            flips: 600,
            flip_trailer: true,
            cuts: 200,
            inserts: 60,
            deletes: true,
        };
        damage.apply(name, file, &mut rng, &mut both);
        for (other_name, other) in &files {
            let (a, b) = (rng.usize(len), rng.usize(other.len()));
            let mut spliced = file[..a].to_vec();
            spliced.extend_from_slice(&other[b..]);
            both(format!("{name} [..{a}] + {other_name} [{b}..]"), spliced);
        }
    }
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        match check(case) {
            Ok((Outcome::Accepted, _)) => *kinds.entry("accepted").or_default() += 1,
            Ok((Outcome::Rejected(k), _)) => *kinds.entry(k).or_default() += 1,
            Err(problem) => failures.push(problem),
        }
    }
    std::panic::set_hook(hook);
    let report = report_run("chunked", cases.len(), &failures, &kinds);
    // Resealed damage must reach past the digests: some inputs are refused as Corrupt.
    assert!(kinds.get("Corrupt").copied().unwrap_or(0) > 100, "{report}");
}

/// A chunked seed (format 3) made format 4: each chunk stored as raw DEFLATE (kind 3, its
/// inflated length in the entry), header and manifest saying 4, everything resealed.
fn compressed_seed(file: &[u8]) -> Vec<u8> {
    let n = file.len();
    let le = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
    let (index_at, count, json_len) = (le(n - 64), le(n - 56), le(n - 48));
    let mut out = file[..16].to_vec();
    out[8..12].copy_from_slice(&COMPRESSED_FORMAT_VERSION.to_le_bytes());
    let mut index = file[index_at..index_at + 56 * count].to_vec();
    let mut at = 16;
    for e in index.chunks_mut(56) {
        let len = u64::from_le_bytes(e[16..24].try_into().unwrap()) as usize;
        let frame = &file[at..at + len];
        at += len;
        if e[0] == 1 {
            let packed = miniz_oxide::deflate::compress_to_vec(frame, 6);
            e[0] = 3;
            e[12..16].copy_from_slice(&(len as u32).to_le_bytes());
            e[16..24].copy_from_slice(&(packed.len() as u64).to_le_bytes());
            out.extend_from_slice(&packed);
        } else {
            out.extend_from_slice(frame);
        }
    }
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&file[index_at + 56 * count..index_at + 56 * count + json_len])
            .unwrap();
    manifest["formatVersion"] = COMPRESSED_FORMAT_VERSION.into();
    let json = serde_json::to_vec(&manifest).unwrap();
    let frames_end = out.len();
    out.extend_from_slice(&index);
    out.extend_from_slice(&json);
    for v in [frames_end, count, json.len()] {
        out.extend_from_slice(&(v as u64).to_le_bytes());
    }
    out.extend_from_slice(&[0; 32]);
    out.extend_from_slice(b"RWND-END");
    reseal_chunked(&out)
}

/// Format 4 damaged every way, as is and resealed (so that compressed bytes that no longer
/// inflate, or inflate to another length, reach the reader): never a panic, the verifying and
/// the reading reader agree, and no inflate is ever asked for more than a chunk may hold.
#[test]
fn mutated_compressed_backups_give_a_manifest_or_an_error() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/chunked");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.display().to_string(),
                compressed_seed(&std::fs::read(&p).unwrap()),
            )
        })
        .collect();
    files.sort();
    let mut rng = SplitMix64::new(0xC0DE);
    let mut cases = Vec::new();
    let mut both = |what: String, bytes: Vec<u8>| {
        cases.push((format!("{what}, resealed"), reseal_chunked(&bytes)));
        cases.push((what, bytes));
    };
    for (name, file) in &files {
        both(format!("{name}: as made"), file.clone());
        let damage = Damage {
            flips: 400,
            flip_trailer: false,
            cuts: 100,
            inserts: 40,
            deletes: false,
        };
        damage.apply(name, file, &mut rng, &mut both);
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (what, bytes) in &cases {
        let mut largest_limit = 0usize;
        let run = |mode: ReadMode, largest: &mut usize| {
            catch_unwind(AssertUnwindSafe(|| {
                let mut reader = ChunkedReader::new(bytes.len() as u64, mode);
                let mut inflate = |b: &[u8], limit: usize| {
                    *largest = (*largest).max(limit);
                    rewind_test_support::bounded_inflate(b, limit)
                };
                read_chunked_slice_inflating(bytes, &mut reader, &mut inflate, &mut |_| {})
            }))
        };
        let (verified, read) = (
            run(ReadMode::Verify, &mut largest_limit),
            run(ReadMode::Records, &mut largest_limit),
        );
        match (verified, read) {
            (Ok(a), Ok(b)) if a == b => {
                let kind = match &a {
                    Ok(_) => "accepted".to_string(),
                    Err(e) => format!("{e:?}")
                        .split([' ', '{', '('])
                        .next()
                        .unwrap_or("")
                        .to_string(),
                };
                *kinds.entry(kind).or_default() += 1;
            }
            (Ok(a), Ok(b)) => failures.push(format!("{what}: the readers disagree: {a:?} / {b:?}")),
            _ => failures.push(format!("{what}: a reader panicked")),
        }
        if largest_limit > (1usize << 30) + 1 {
            failures.push(format!(
                "{what}: an inflate of {largest_limit} bytes was asked for"
            ));
        }
    }
    let report = report_run("compressed", cases.len(), &failures, &kinds);
    assert!(
        kinds.get("accepted").copied().unwrap_or(0) >= files.len(),
        "{report}"
    );
    // Resealed damage reaches the inflate and the decoder: some inputs are refused as Corrupt.
    assert!(kinds.get("Corrupt").copied().unwrap_or(0) > 50, "{report}");
}
