//! A database larger than what the chunked writer and reader may hold: written and read back
//! while a counting allocator measures the bytes they keep live. The file itself lives outside
//! the measurement (in the browser it is a Blob on disk), as do the part bytes the caller
//! appends. The figures go to stderr and to `target/chunked-memory-report.txt`.

use rewind::backup::chunked::read_chunked_slice;
use rewind::backup::{
    BackupManifest, ChunkDigests, ChunkedReader, ChunkedWriter, Frame, OutOfLineBlob, ReadMode,
    Step, StoreManifest, Text, Value,
};
use rewind::{RewindMeta, StoreSchema};
use sha2::{Digest, Sha256};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

struct Counting;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(delta: isize, size: usize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            LIVE.with(|l| {
                let now = l.get() + delta;
                l.set(now);
                PEAK.with(|p| p.set(p.get().max(now)));
            });
            if delta > 0 {
                LARGEST.with(|l| l.set(l.get().max(size)));
            }
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize), 0);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(-(layout.size() as isize), 0);
        note(new_size as isize, new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn start_tracking() {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    LARGEST.with(|l| l.set(0));
    TRACKING.with(|t| t.set(true));
}

/// Peak bytes live and largest single allocation since `start_tracking`.
fn stop_tracking() -> (usize, usize) {
    TRACKING.with(|t| t.set(false));
    (
        PEAK.with(|p| p.get()).max(0) as usize,
        LARGEST.with(|l| l.get()),
    )
}

/// Runs `f` unmeasured: what the browser keeps outside wasm memory.
fn outside<T>(f: impl FnOnce() -> T) -> T {
    let was = TRACKING.with(|t| t.replace(false));
    let out = f();
    // Frees of what was allocated outside are not counted either way.
    TRACKING.with(|t| t.set(was));
    out
}

const PHOTOS: u32 = 2_000;
const NOTES: u32 = 30_000;
const INLINE_BYTES: usize = 16 * 1024;
const PART_BYTES: usize = 32 * 1024;

fn photo(i: u32) -> (Value, Value) {
    let fill = |n: usize, seed: u32| (0..n).map(|j| (j as u32 ^ seed) as u8).collect::<Vec<_>>();
    let value = Value::Object(vec![
        (Text::from("id"), Value::number(f64::from(i))),
        (Text::from("caption"), Value::string(&"a view ".repeat(30))),
        (
            Text::from("thumbnail"),
            Value::ArrayBuffer(fill(INLINE_BYTES, i)),
        ),
        (
            Text::from("original"),
            Value::Blob {
                mime: "image/jpeg".into(),
                bytes: Vec::new(),
            },
        ),
    ]);
    (Value::number(f64::from(i)), value)
}

fn part_bytes(i: u32) -> Vec<u8> {
    (0..PART_BYTES)
        .map(|j| ((j as u32 * 7) ^ i) as u8)
        .collect()
}

fn note_record(i: u32) -> (Value, Value) {
    let value = Value::Object(vec![
        (Text::from("id"), Value::number(f64::from(i))),
        (
            Text::from("text"),
            Value::string(&"lorem ipsum ".repeat(85)),
        ),
    ]);
    (Value::number(f64::from(i)), value)
}

fn manifest() -> BackupManifest {
    BackupManifest {
        format_version: 0,
        id: "large".into(),
        database: "large".into(),
        schema_version: 1,
        idb_version: 2,
        created_at: 0.0,
        label: String::new(),
        automatic: false,
        meta: RewindMeta {
            schema_version: 1,
            applied: Vec::new(),
        },
        stores: vec![
            StoreManifest::new(StoreSchema::new("photos", None, false)),
            StoreManifest::new(StoreSchema::new("notes", None, false)),
        ],
        skipped: Vec::new(),
        interrupted: None,
        in_place: false,
        bytes: 0,
        sha256: String::new(),
    }
}

#[test]
fn a_database_larger_than_the_writer_and_reader_may_hold_streams_in_bounded_memory() {
    let mut file: Vec<u8> = Vec::new();
    let mut frames_seen = 0u64;

    // Writing: each record made, pushed and dropped, as a cursor would give them.
    start_tracking();
    let mut w = ChunkedWriter::new(manifest(), ChunkDigests::HashedHere).unwrap();
    let header = w.header();
    outside(|| file.extend_from_slice(&header));
    let mut hand_on = |w: &mut ChunkedWriter, frames: Vec<Frame>, part: Option<u32>| {
        for f in frames {
            frames_seen += 1;
            match f {
                Frame::Chunk { bytes, .. } => outside(|| file.extend_from_slice(&bytes)),
                Frame::Part { number, len, .. } => {
                    let i = part.expect("a part of this record");
                    let bytes = outside(|| part_bytes(i));
                    assert_eq!(bytes.len() as u64, len);
                    w.set_digest(number, Sha256::digest(&bytes).into()).unwrap();
                    outside(|| {
                        file.extend_from_slice(&bytes);
                        drop(bytes);
                    });
                }
            }
        }
    };
    let original = [OutOfLineBlob {
        blob: 0,
        len: PART_BYTES as u64,
    }];
    for i in 0..PHOTOS {
        let (k, v) = photo(i);
        let frames = w.push(0, &k, &v, &original).unwrap();
        hand_on(&mut w, frames, Some(i));
    }
    for i in 0..NOTES {
        let (k, v) = note_record(i);
        let frames = w.push(1, &k, &v, &[]).unwrap();
        hand_on(&mut w, frames, None);
    }
    let frames = w.end().unwrap();
    hand_on(&mut w, frames, None);
    let tail = w.finish().unwrap();
    outside(|| file.extend_from_slice(&tail.bytes));
    let tail_len = tail.bytes.len();
    drop(tail);
    let (write_peak, write_largest) = stop_tracking();

    // Reading: the reader is given slices of the file, never a copy of it.
    start_tracking();
    // (In the mode a restore reads in: where each chunk's records lie.)
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Spans);
    let mut records = [0u64; 2];
    let mut batches = 0u64;
    let mut largest_read = 0u64;
    let manifest = loop {
        match reader.next_step().unwrap() {
            Step::Read(r) => {
                largest_read = largest_read.max(r.end - r.start);
                reader
                    .give_bytes(&file[r.start as usize..r.end as usize])
                    .unwrap();
            }
            Step::Digest(r) => reader
                .give_digest(Sha256::digest(&file[r.start as usize..r.end as usize]).into())
                .unwrap(),
            Step::Spans(batch) => {
                batches += 1;
                records[batch.store] += batch.records.len() as u64;
            }
            Step::Records(_) => panic!("records are for ReadMode::Records"),
            Step::Inflate { .. } => panic!("this file is format 3: nothing to inflate"),
            Step::Manifest(_) => {}
            Step::Done(m) => break m,
        }
    };
    let (read_peak, read_largest) = stop_tracking();

    assert_eq!(records, [u64::from(PHOTOS), u64::from(NOTES)]);
    assert_eq!(manifest.total_records(), u64::from(PHOTOS + NOTES));
    assert_eq!(manifest.bytes, file.len() as u64);
    // And the slice driver agrees.
    let mut again = ChunkedReader::new(file.len() as u64, ReadMode::Verify);
    assert_eq!(
        read_chunked_slice(&file, &mut again, &mut |_| {}).unwrap(),
        manifest
    );

    let mib = |n: usize| n as f64 / (1024.0 * 1024.0);
    let report = format!(
        "chunked memory: file {:.1} MiB ({} frames, {batches} chunks, tail {:.2} MiB); \
         writer peak {:.1} MiB live, largest allocation {:.1} MiB; \
         reader peak {:.1} MiB live, largest allocation {:.1} MiB, largest read {:.1} MiB\n",
        mib(file.len()),
        frames_seen,
        mib(tail_len),
        mib(write_peak),
        mib(write_largest),
        mib(read_peak),
        mib(read_largest),
        mib(largest_read as usize),
    );
    let _ = std::io::stderr().write_all(report.as_bytes());
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let _ = std::fs::write(target.join("chunked-memory-report.txt"), &report);

    // Bounded by a chunk (4 MiB) and what it decodes to, not by the file.
    let bound = 24 << 20;
    assert!(
        file.len() > 5 * bound,
        "the file is not large enough to tell"
    );
    assert!(write_peak < bound, "{report}");
    assert!(read_peak < bound, "{report}");
    assert!(largest_read <= 5 << 20, "{report}");
}
