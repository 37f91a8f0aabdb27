//! The chunked file (format 3): written and read back, damaged every way, and the seams the
//! adapter drives (digests given later, ranges asked for one at a time).

use super::chunked::{read_chunked_slice, MAX_MANIFEST_BYTES};
use super::tests::{every_kind, manifest, obj, stores, t};
use super::*;
use sha2::{Digest, Sha256};

pub(crate) fn sha(bytes: &[u8]) -> Sha256Digest {
    Sha256::digest(bytes).into()
}

/// Raw DEFLATE, as the browser's `CompressionStream("deflate-raw")` writes it.
pub(crate) fn deflate(bytes: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(bytes, 6)
}

pub(crate) use rewind_test_support::bounded_inflate as inflate;

/// A record to write: its value with every Blob's bytes, and which Blobs (by walk order) go
/// out of line.
pub(crate) struct Rec {
    key: Value,
    value: Value,
    out_of_line: Vec<usize>,
}

pub(crate) fn rec(key: Value, value: Value, out_of_line: Vec<usize>) -> Rec {
    Rec {
        key,
        value,
        out_of_line,
    }
}

/// The value as the writer takes it (out-of-line Blobs without bytes), their sizes, and the
/// bytes the caller appends for each.
pub(crate) fn split(r: &Rec) -> (Value, Vec<OutOfLineBlob>, Vec<Vec<u8>>) {
    let mut value = r.value.clone();
    let mut ordinal = 0;
    let mut sizes = Vec::new();
    let mut parts = Vec::new();
    value.for_each_blob_mut(&mut |bytes| {
        if r.out_of_line.contains(&ordinal) {
            sizes.push(OutOfLineBlob {
                blob: ordinal,
                len: bytes.len() as u64,
            });
            parts.push(std::mem::take(bytes));
        }
        ordinal += 1;
    });
    (value, sizes, parts)
}

/// Writes a file the way the adapter would: header, frames as they come (parts appended from
/// the record's Blobs, their digests given back), the tail. `limits`: chunk records, bytes.
pub(crate) fn write(
    stores: &[Vec<Rec>],
    digests: ChunkDigests,
    limits: (u32, usize),
) -> Result<(Vec<u8>, BackupManifest), BackupError> {
    let mut m = manifest();
    m.stores.truncate(0);
    for i in 0..stores.len() {
        m.stores
            .push(StoreManifest::new(crate::schema::StoreSchema::new(
                format!("s{i}"),
                None,
                false,
            )));
    }
    let mut w = ChunkedWriter::new(m, digests)?.with_chunk_limits(limits.0, limits.1);
    let mut file = w.header().to_vec();
    let mut put = |w: &mut ChunkedWriter, frames: Vec<Frame>, parts: &[(usize, Vec<u8>)]| {
        for f in frames {
            match f {
                Frame::Chunk { number, bytes } => {
                    if digests == ChunkDigests::CompressedByCaller {
                        // As the adapter does: kept as it is when it does not shrink.
                        let packed = deflate(&bytes);
                        if packed.len() < bytes.len() {
                            w.set_compressed(number, packed.len() as u64, sha(&packed))
                                .unwrap();
                            file.extend_from_slice(&packed);
                        } else {
                            w.set_digest(number, sha(&bytes)).unwrap();
                            file.extend_from_slice(&bytes);
                        }
                        continue;
                    }
                    if digests == ChunkDigests::GivenByCaller {
                        w.set_digest(number, sha(&bytes)).unwrap();
                    }
                    file.extend_from_slice(&bytes);
                }
                Frame::Part { number, blob, len } => {
                    let bytes = &parts.iter().find(|(b, _)| *b == blob).unwrap().1;
                    assert_eq!(bytes.len() as u64, len);
                    w.set_digest(number, sha(bytes)).unwrap();
                    file.extend_from_slice(bytes);
                }
            }
        }
    };
    for (i, records) in stores.iter().enumerate() {
        for r in records {
            let (value, sizes, bytes) = split(r);
            let frames = w.push(i, &r.key, &value, &sizes)?;
            let parts: Vec<(usize, Vec<u8>)> = sizes.iter().map(|s| s.blob).zip(bytes).collect();
            put(&mut w, frames, &parts);
        }
    }
    let last = w.end()?;
    put(&mut w, last, &[]);
    assert_eq!(w.bytes_written(), file.len() as u64);
    let tail = w.finish()?;
    file.extend_from_slice(&tail.bytes);
    assert_eq!(tail.manifest.bytes, file.len() as u64);
    Ok((file, tail.manifest))
}

pub(crate) fn blob(mime: &str, bytes: &[u8]) -> Value {
    Value::Blob {
        mime: mime.into(),
        bytes: bytes.to_vec(),
    }
}

fn file_value(name: &str, bytes: &[u8]) -> Value {
    Value::File {
        name: t(name),
        mime: "image/png".into(),
        last_modified: -5,
        bytes: bytes.to_vec(),
    }
}

/// Three stores (one empty) with Blobs, Files and FileLists inline and out of line, shared
/// Blobs, every kind of value, and records big enough to spread over several chunks.
pub(crate) fn sample() -> Vec<Vec<Rec>> {
    sample_of(40, 50, 20_000, true)
}

/// [`sample`] with `notes_count` notes, photos growing by `step` bytes, a big File of `big`
/// bytes, and a record of every kind of value if `every`.
pub(crate) fn sample_of(notes_count: u8, step: usize, big: usize, every: bool) -> Vec<Vec<Rec>> {
    let pattern = |n: usize, seed: u8| -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    };
    let mut notes = Vec::new();
    for i in 0..notes_count {
        let value = obj(vec![
            ("id", Value::number(f64::from(i))),
            (
                "text",
                Value::string(&"words ".repeat(i as usize * step / 7)),
            ),
            (
                "photo",
                blob("image/jpeg", &pattern(10 + i as usize * step, i)),
            ),
            ("thumb", blob("image/png", &pattern(i as usize, i ^ 1))),
            (
                "files",
                Value::FileList(vec![
                    file_value("a.png", &pattern(3 * step, i)),
                    file_value("b.png", &pattern(7, i)),
                ]),
            ),
            ("again", Value::Ref(2)),
        ]);
        // Walk order: photo 0, thumb 1, a.png 2, b.png 3. Vary which go out of line.
        let out = match i % 4 {
            0 => vec![0, 2],
            1 => vec![],
            2 => vec![0, 1, 2, 3],
            _ => vec![3],
        };
        notes.push(rec(Value::number(f64::from(i)), value, out));
    }
    if every {
        notes.push(rec(Value::number(100.0), every_kind(), vec![]));
    }
    let files = vec![
        rec(
            Value::string("big"),
            file_value("big.bin", &pattern(big, 9)),
            vec![0],
        ),
        rec(Value::string("empty"), blob("", b""), vec![0]),
        rec(Value::string("inline"), blob("text/plain", b"hi"), vec![]),
    ];
    vec![notes, Vec::new(), files]
}

pub(crate) fn expected(stores: &[Vec<Rec>]) -> Vec<StoreRecords> {
    stores
        .iter()
        .enumerate()
        .map(|(i, records)| StoreRecords {
            name: format!("s{i}"),
            records: records
                .iter()
                .map(|r| (r.key.clone(), r.value.clone()))
                .collect(),
        })
        .collect()
}

/// Small chunks, so that a small file has many frames.
const SMALL: (u32, usize) = (5, 2048);

fn small_file() -> (Vec<u8>, BackupManifest) {
    write(&sample(), ChunkDigests::HashedHere, SMALL).unwrap()
}

/// A file of a few KiB with every kind of frame, for damage at every byte.
fn tiny_file() -> (Vec<u8>, BackupManifest) {
    write(
        &sample_of(9, 5, 200, false),
        ChunkDigests::HashedHere,
        (3, 200),
    )
    .unwrap()
}

#[test]
fn a_chunked_backup_round_trips_with_blobs_inline_and_out_of_line() {
    let input = sample();
    let (file, manifest) = write(&input, ChunkDigests::HashedHere, SMALL).unwrap();
    assert_eq!(format_version(&file), Ok(CHUNKED_FORMAT_VERSION));
    assert_eq!(manifest.format_version, CHUNKED_FORMAT_VERSION);
    assert_eq!(manifest.stores[0].records, 41);
    assert_eq!(manifest.stores[1].records, 0);
    assert_eq!(manifest.stores[2].records, 3);
    assert_eq!(manifest.total_records(), 44);
    assert_eq!(inspect(&file), Ok(manifest.clone()));
    let decoded = decode_backup(&file).unwrap();
    assert_eq!(decoded.manifest, manifest);
    assert_eq!(decoded.stores, expected(&input));
    // Digests given by the caller make the same file.
    let (given, _) = write(&input, ChunkDigests::GivenByCaller, SMALL).unwrap();
    assert_eq!(given, file);
    // With the default limits everything fits in one chunk per store: same records.
    let (one, _) = write(&input, ChunkDigests::HashedHere, (u32::MAX, usize::MAX)).unwrap();
    assert!(one.len() < file.len());
    assert_eq!(decode_backup(&one).unwrap().stores, expected(&input));
    // Sections are a format 2 notion: the section readers refuse, without guessing.
    assert!(format::verify_file(&file).is_err());
}

#[test]
fn the_reader_hands_out_batches_with_the_ranges_of_out_of_line_blobs() {
    let input = sample();
    let (file, manifest) = small_file();
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Records);
    let mut steps = Vec::new();
    let mut largest_read = 0u64;
    let mut seen = vec![Vec::new(); 3];
    loop {
        match reader.next_step().unwrap() {
            Step::Read(r) => {
                largest_read = largest_read.max(r.end - r.start);
                steps.push("read");
                reader
                    .give_bytes(&file[r.start as usize..r.end as usize])
                    .unwrap();
            }
            Step::Digest(r) => {
                steps.push("digest");
                reader
                    .give_digest(sha(&file[r.start as usize..r.end as usize]))
                    .unwrap();
            }
            Step::Manifest(m) => {
                assert_eq!(m, manifest);
                assert!(!steps.contains(&"records"), "the manifest comes first");
                steps.push("manifest");
            }
            Step::Records(batch) => {
                steps.push("records");
                assert!(batch.records.len() <= SMALL.0 as usize);
                for r in batch.records {
                    seen[batch.store].push(r);
                }
            }
            Step::Spans(_) => panic!("spans are for ReadMode::Spans"),
            Step::Inflate { .. } => panic!("a format 3 file has no compressed chunks"),
            Step::Done(m) => {
                assert_eq!(m, manifest);
                break;
            }
        }
    }
    assert!(reader.next_step().is_err(), "nothing after the end");
    assert!(largest_read <= 64 * 1024, "largest read {largest_read}");
    for (store, records) in seen.iter().enumerate() {
        assert_eq!(records.len(), input[store].len());
        for (got, want) in records.iter().zip(&input[store]) {
            assert_eq!(got.key, want.key);
            let (value, sizes, bytes) = split(want);
            assert_eq!(got.value, value, "out-of-line Blobs come without bytes");
            assert_eq!(got.parts.len(), sizes.len());
            for ((part, size), bytes) in got.parts.iter().zip(&sizes).zip(&bytes) {
                assert_eq!(part.blob, size.blob);
                let range = part.range.start as usize..part.range.end as usize;
                assert_eq!(&file[range], &bytes[..], "the part is where the range says");
            }
        }
    }
}

#[test]
fn spans_locate_in_the_bytes_read_what_records_mode_decodes() {
    let (file, _) = small_file();
    let mut records = ChunkedReader::new(file.len() as u64, ReadMode::Records);
    let mut spans = ChunkedReader::new(file.len() as u64, ReadMode::Spans);
    let mut decoded = Vec::new();
    loop {
        match records.next_step().unwrap() {
            Step::Read(r) => records
                .give_bytes(&file[r.start as usize..r.end as usize])
                .unwrap(),
            Step::Digest(r) => records
                .give_digest(sha(&file[r.start as usize..r.end as usize]))
                .unwrap(),
            Step::Records(batch) => decoded.push(batch),
            Step::Done(_) => break,
            _ => {}
        }
    }
    let mut located = Vec::new();
    let mut last_read = Vec::new();
    let mut chunk_reads = 0;
    loop {
        let chunk = spans.reading_chunk();
        match spans.next_step().unwrap() {
            Step::Read(r) => {
                chunk_reads += usize::from(chunk);
                last_read = file[r.start as usize..r.end as usize].to_vec();
                let digest = chunk.then(|| sha(&last_read));
                spans.give_bytes_with_digest(&last_read, digest).unwrap();
            }
            Step::Digest(r) => {
                assert!(!spans.reading_chunk());
                spans
                    .give_digest(sha(&file[r.start as usize..r.end as usize]))
                    .unwrap()
            }
            Step::Spans(s) => located.push((s, last_read.clone())),
            Step::Records(_) => panic!("records are for ReadMode::Records"),
            Step::Inflate { .. } => panic!("a format 3 file has no compressed chunks"),
            Step::Done(_) => break,
            Step::Manifest(_) => {}
        }
    }
    assert_eq!(
        chunk_reads,
        decoded.len(),
        "every chunk read was said to be one"
    );
    assert_eq!(located.len(), decoded.len());
    for ((s, bytes), batch) in located.iter().zip(&decoded) {
        assert_eq!((s.store, &s.chunk), (batch.store, &batch.chunk));
        assert_eq!(s.records.len(), batch.records.len());
        let mut end = 0;
        for (span, record) in s.records.iter().zip(&batch.records) {
            assert_eq!(span.bytes.start, end, "records lie back to back");
            end = span.bytes.end;
            let mut r = codec::Reader::new(&bytes[span.bytes.clone()]);
            assert_eq!(codec::read_value(&mut r).unwrap(), record.key);
            assert_eq!(
                codec::read_value_with_parts(&mut r).unwrap().0,
                record.value
            );
            assert!(r.is_empty());
            assert_eq!(span.parts, record.parts);
        }
        assert_eq!(end, bytes.len());
    }
    // A digest given for a chunk is the one checked: a wrong one is refused.
    let mut wrong = ChunkedReader::new(file.len() as u64, ReadMode::Spans);
    let refused = loop {
        let chunk = wrong.reading_chunk();
        match wrong.next_step().unwrap() {
            Step::Read(r) => {
                let bytes = &file[r.start as usize..r.end as usize];
                let given = wrong.give_bytes_with_digest(bytes, chunk.then_some([7; 32]));
                if let Err(e) = given {
                    break e;
                }
            }
            Step::Digest(r) => wrong
                .give_digest(sha(&file[r.start as usize..r.end as usize]))
                .unwrap(),
            Step::Done(_) => panic!("a wrong chunk digest was accepted"),
            _ => {}
        }
    };
    assert!(
        matches!(refused, BackupError::ChecksumMismatch { .. }),
        "{refused:?}"
    );
}

#[test]
fn the_parts_ahead_are_the_digests_asked_for_next_in_order() {
    // Some notes of this file have four Blobs out of line: their parts come in runs.
    let (file, _) = small_file();
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Verify);
    let (mut longest, mut asked) = (0, 0);
    loop {
        let ahead = reader.parts_ahead(4);
        match reader.next_step().unwrap() {
            Step::Read(r) => {
                assert!(ahead.is_empty(), "no part is asked for while bytes are");
                reader
                    .give_bytes(&file[r.start as usize..r.end as usize])
                    .unwrap();
            }
            Step::Digest(r) => {
                assert!(!ahead.is_empty() && ahead.len() <= 4);
                assert_eq!(ahead[0], r, "the first part ahead is the one asked for");
                longest = longest.max(ahead.len());
                // Answered one by one, each next part asked for is the next one ahead.
                for (i, part) in ahead.iter().enumerate() {
                    if i > 0 {
                        assert_eq!(reader.next_step().unwrap(), Step::Digest(part.clone()));
                    }
                    let digest = sha(&file[part.start as usize..part.end as usize]);
                    reader.give_digest(digest).unwrap();
                    asked += 1;
                }
            }
            Step::Done(_) => break,
            _ => assert!(ahead.is_empty()),
        }
    }
    assert!(asked >= 12, "every part was hashed ({asked})");
    assert!(longest > 1, "runs of parts are handed out together");
}

#[test]
fn digests_missing_or_answers_out_of_turn_are_refused() {
    let mut w = ChunkedWriter::new(manifest(), ChunkDigests::GivenByCaller).unwrap();
    w.push(0, &Value::number(1.0), &Value::Null, &[]).unwrap();
    assert!(matches!(w.finish(), Err(BackupError::Invalid { .. })));
    let mut w = ChunkedWriter::new(manifest(), ChunkDigests::GivenByCaller).unwrap();
    w.push(0, &Value::number(1.0), &Value::Null, &[]).unwrap();
    w.end().unwrap();
    assert!(w.set_digest(7, [0; 32]).is_err());
    let err = w.finish().unwrap_err();
    assert!(err.to_string().contains("digest of frame 0"), "{err}");

    let (file, _) = small_file();
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Verify);
    assert!(matches!(reader.next_step(), Ok(Step::Read(_))));
    assert!(reader.give_digest([0; 32]).is_err());
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Verify);
    assert!(reader.give_bytes(&file[..3]).is_err(), "wrong length");
}

#[test]
fn the_writer_refuses_what_it_cannot_write() {
    let m = manifest();
    let mut w = ChunkedWriter::new(m.clone(), ChunkDigests::HashedHere).unwrap();
    let bad_key = w.push(0, &Value::Null, &Value::Null, &[]).unwrap_err();
    assert!(bad_key.to_string().contains("\"notes\""), "{bad_key}");
    w.push(2, &Value::number(1.0), &Value::Null, &[]).unwrap();
    let back = w
        .push(0, &Value::number(1.0), &Value::Null, &[])
        .unwrap_err();
    assert!(matches!(back, BackupError::Invalid { .. }));
    assert!(w.push(3, &Value::number(1.0), &Value::Null, &[]).is_err());
    let with_bytes = w.push(
        2,
        &Value::number(2.0),
        &blob("", b"x"),
        &[OutOfLineBlob { blob: 0, len: 1 }],
    );
    assert!(with_bytes
        .unwrap_err()
        .to_string()
        .contains("carries its bytes"));
    let missing = w.push(
        2,
        &Value::number(3.0),
        &Value::Null,
        &[OutOfLineBlob { blob: 0, len: 1 }],
    );
    assert!(missing.is_err());
    // A failed push leaves nothing behind: the file still reads.
    let frames = w.end().unwrap();
    assert_eq!(frames.len(), 1);
    let mut dup = m;
    dup.stores[1].schema.name = "notes".into();
    assert!(ChunkedWriter::new(dup, ChunkDigests::HashedHere).is_err());
}

#[test]
fn a_record_larger_than_a_chunk_is_a_chunk_of_its_own() {
    let big = Value::ArrayBuffer(vec![7; 50_000]);
    let input = vec![vec![
        rec(Value::number(1.0), Value::Null, vec![]),
        rec(Value::number(2.0), big.clone(), vec![]),
        rec(Value::number(3.0), Value::Null, vec![]),
    ]];
    let (file, m) = write(&input, ChunkDigests::HashedHere, (100, 1024)).unwrap();
    let mut chunks = Vec::new();
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Records);
    read_chunked_slice(&file, &mut reader, &mut |s| {
        if let Step::Records(b) = s {
            chunks.push(b.records.len());
        }
    })
    .unwrap();
    assert_eq!(chunks, vec![1, 1, 1]);
    assert_eq!(m.stores[0].records, 3);
    assert_eq!(decode_backup(&file).unwrap().stores[0].records[1].1, big);
}

#[test]
fn an_empty_backup_is_a_header_and_a_tail() {
    let (file, m) = write(&[Vec::new(), Vec::new()], ChunkDigests::HashedHere, SMALL).unwrap();
    let (index, index_end, _) = regions(&file);
    assert_eq!((index, index_end), (16, 16), "no frames, an empty index");
    assert_eq!(inspect(&file), Ok(m.clone()));
    let d = decode_backup(&file).unwrap();
    assert_eq!(d.stores.len(), 2);
    assert!(d.stores.iter().all(|s| s.records.is_empty()));
}

/// The file's regions: where the frames end, the index ends, the manifest ends.
pub(crate) fn regions(file: &[u8]) -> (usize, usize, usize) {
    let n = file.len();
    let le = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
    let index = le(n - 64);
    let frames = le(n - 56);
    let manifest = le(n - 48);
    (index, index + frames * 56, index + frames * 56 + manifest)
}

/// The frames' boundaries, from the index.
pub(crate) fn frame_bounds(file: &[u8]) -> Vec<usize> {
    let (index, index_end, _) = regions(file);
    let mut at = 16;
    let mut bounds = vec![at];
    for e in file[index..index_end].chunks(56) {
        at += u64::from_le_bytes(e[16..24].try_into().unwrap()) as usize;
        bounds.push(at);
    }
    bounds
}

/// The file rebuilt around `frames`, `index` and `manifest` (as JSON) with a root that
/// matches: damage a checksum cannot catch, so the other checks must.
pub(crate) fn resealed(frames: &[u8], index: &[u8], manifest: &serde_json::Value) -> Vec<u8> {
    let json = serde_json::to_vec(manifest).unwrap();
    let mut file = frames.to_vec();
    let mut fields = Vec::new();
    fields.extend_from_slice(&(frames.len() as u64).to_le_bytes());
    fields.extend_from_slice(&(index.len() as u64 / 56).to_le_bytes());
    fields.extend_from_slice(&(json.len() as u64).to_le_bytes());
    let mut root = Sha256::new();
    root.update(&frames[..16]);
    root.update(sha(index));
    root.update(sha(&json));
    root.update(&fields);
    file.extend_from_slice(index);
    file.extend_from_slice(&json);
    file.extend_from_slice(&fields);
    file.extend_from_slice(&root.finalize());
    file.extend_from_slice(b"RWND-END");
    file
}

pub(crate) fn parts_of(file: &[u8]) -> (Vec<u8>, Vec<u8>, serde_json::Value) {
    let (index, index_end, manifest_end) = regions(file);
    (
        file[..index].to_vec(),
        file[index..index_end].to_vec(),
        serde_json::from_slice(&file[index_end..manifest_end]).unwrap(),
    )
}

pub(crate) fn corrupt_saying(r: Result<BackupManifest, BackupError>, words: &str) {
    match r {
        Err(BackupError::Corrupt { reason }) if reason.contains(words) => {}
        other => panic!("expected Corrupt saying {words:?}, got {other:?}"),
    }
}

#[test]
fn a_file_cut_anywhere_is_refused() {
    let (file, _) = tiny_file();
    for cut in 0..file.len() {
        let got = inspect(&file[..cut]);
        match &got {
            Err(BackupError::Empty) => assert_eq!(cut, 0),
            Err(BackupError::Truncated { missing }) => assert!(*missing > 0 && cut < 80),
            Err(BackupError::Corrupt { reason }) => {
                assert!(reason.contains("cut short"), "cut at {cut}: {reason}")
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
        assert_eq!(decode_backup(&file[..cut]).map(|d| d.manifest), got);
    }
    // At every frame boundary in particular, and with bytes added after the end.
    for b in frame_bounds(&file).into_iter().filter(|b| *b >= 80) {
        corrupt_saying(inspect(&file[..b]), "cut short");
    }
    let mut longer = file.clone();
    longer.push(0);
    corrupt_saying(inspect(&longer), "added after its end");
}

#[test]
fn every_flipped_bit_is_refused_with_the_damaged_part_named() {
    let (file, _) = tiny_file();
    let (index, _, _) = regions(&file);
    let n = file.len();
    let bounds = frame_bounds(&file);
    for at in 0..n {
        for bit in [0, 5] {
            let mut bad = file.clone();
            bad[at] ^= 1 << bit;
            let got = inspect(&bad);
            assert_eq!(decode_backup(&bad).map(|d| d.manifest), got, "byte {at}");
            let what = |got: &Result<BackupManifest, BackupError>| match got {
                Err(BackupError::ChecksumMismatch { what }) => what.clone(),
                other => panic!("byte {at} bit {bit}: {other:?}"),
            };
            if at < 8 {
                assert_eq!(got, Err(BackupError::BadMagic));
            } else if at < 16 {
                assert!(got.is_err(), "byte {at}");
            } else if at < index {
                let w = what(&got);
                let frame = bounds.iter().filter(|b| **b <= at).count();
                assert!(
                    w.starts_with("chunk ") || w.starts_with("a Blob of store"),
                    "byte {at} (frame {frame}): {w}"
                );
            } else if at < n - 64 || (n - 40..n - 8).contains(&at) {
                assert_eq!(what(&got), "its index and manifest", "byte {at}");
            } else if at < n - 40 {
                assert!(
                    matches!(got, Err(BackupError::Corrupt { .. }))
                        || what(&got) == "its index and manifest",
                    "byte {at}"
                );
            } else {
                corrupt_saying(got, "cut short");
            }
        }
    }
}

#[test]
fn wrong_counts_reordered_chunks_and_lost_parts_are_refused_behind_a_matching_root() {
    let (file, _) = tiny_file();
    let (frames, index, manifest) = parts_of(&file);
    // Resealed unchanged (the manifest's keys reordered): still a good file.
    assert!(inspect(&resealed(&frames, &index, &manifest)).is_ok());

    let mut m = manifest.clone();
    m["stores"][0]["records"] = (m["stores"][0]["records"].as_u64().unwrap() + 1).into();
    corrupt_saying(inspect(&resealed(&frames, &index, &m)), "manifest says");

    let mut m = manifest.clone();
    m["stores"][2]["sha256"] = "00".repeat(32).into();
    assert!(matches!(
        inspect(&resealed(&frames, &index, &m)),
        Err(BackupError::ChecksumMismatch { what }) if what == "store \"s2\""
    ));

    let mut m = manifest.clone();
    m["formatVersion"] = 2.into();
    corrupt_saying(inspect(&resealed(&frames, &index, &m)), "disagree");

    let mut m = manifest.clone();
    m["stores"].as_array_mut().unwrap().pop();
    corrupt_saying(inspect(&resealed(&frames, &index, &m)), "does not hold");

    // Two chunks of the first store swapped, index entries too: each frame matches its
    // entry, but the store's digest of digests does not.
    let bounds = frame_bounds(&file);
    let entries: Vec<&[u8]> = index.chunks(56).collect();
    let chunks: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i][0] == 1 && entries[i][4] == 0)
        .collect();
    let (a, b) = (chunks[0], chunks[1]);
    let frame = |i: usize| &file[bounds[i]..bounds[i + 1]];
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.swap(a, b);
    let swapped_frames: Vec<u8> = file[..16]
        .iter()
        .copied()
        .chain(order.iter().flat_map(|&i| frame(i).to_vec()))
        .collect();
    let swapped_index: Vec<u8> = order.iter().flat_map(|&i| entries[i].to_vec()).collect();
    assert!(matches!(
        inspect(&resealed(&swapped_frames, &swapped_index, &manifest)),
        Err(BackupError::ChecksumMismatch { what }) if what == "store \"s0\""
    ));
    // The chunk bytes swapped but not the index: the first of them fails its digest.
    let swapped_bytes: Vec<u8> = file[..16]
        .iter()
        .copied()
        .chain(order.iter().flat_map(|&i| frame(i).to_vec()))
        .collect();
    let got = inspect(&resealed(&swapped_bytes, &index, &manifest));
    assert!(
        matches!(&got, Err(BackupError::ChecksumMismatch { what }) if what.starts_with("chunk")),
        "{got:?}"
    );

    // A part dropped with its entry (manifest adjusted so that counts agree): the chunk's
    // records refer to more parts than come before it.
    let part = (0..entries.len()).find(|&i| entries[i][0] == 2).unwrap();
    let kept: Vec<usize> = (0..entries.len()).filter(|&i| i != part).collect();
    let fewer_frames: Vec<u8> = file[..16]
        .iter()
        .copied()
        .chain(kept.iter().flat_map(|&i| frame(i).to_vec()))
        .collect();
    let fewer_index: Vec<u8> = kept.iter().flat_map(|&i| entries[i].to_vec()).collect();
    let store = entries[part][4] as usize;
    let mut m = manifest.clone();
    let mut digests = Sha256::new();
    let (mut records, mut bytes) = (0u64, 0u64);
    for e in fewer_index.chunks(56).filter(|e| e[4] as usize == store) {
        digests.update(&e[24..56]);
        records += u64::from(u32::from_le_bytes(e[8..12].try_into().unwrap()));
        bytes += u64::from_le_bytes(e[16..24].try_into().unwrap());
    }
    m["stores"][store]["sha256"] = crate::migration::hex(&digests.finalize()).into();
    m["stores"][store]["records"] = records.into();
    m["stores"][store]["bytes"] = bytes.into();
    corrupt_saying(
        inspect(&resealed(&fewer_frames, &fewer_index, &m)),
        "not before the chunk",
    );

    // A part last, with no chunk after it; an index entry with an unknown kind.
    let last_part = (0..entries.len())
        .rev()
        .find(|&i| entries[i][0] == 2)
        .unwrap();
    let mut tail_part = index.clone();
    tail_part.extend_from_slice(entries[last_part]);
    let mut more = frames.clone();
    more.extend_from_slice(frame(last_part));
    corrupt_saying(
        inspect(&resealed(&more, &tail_part, &manifest)),
        "belongs to no chunk",
    );
    let mut unknown = index.clone();
    unknown[0] = 9;
    corrupt_saying(
        inspect(&resealed(&frames, &unknown, &manifest)),
        "unknown kind",
    );
}

#[test]
fn damaged_trailers_and_manifests_are_refused_before_anything_is_decoded() {
    let (file, _) = tiny_file();
    let n = file.len();
    // Sizes that overflow or do not add up.
    for (at, value) in [
        (0, u64::MAX),
        (8, u64::MAX / 56 + 1),
        (16, u64::MAX),
        (0, 3),
    ] {
        let mut bad = file.clone();
        bad[n - 64 + at..n - 56 + at].copy_from_slice(&value.to_le_bytes());
        corrupt_saying(inspect(&bad), "do not add up");
    }
    // A manifest longer than allowed, though the sizes add up.
    let mut huge = file[..16].to_vec();
    let json_len = MAX_MANIFEST_BYTES + 1;
    huge.resize(16 + json_len as usize, b' ');
    let mut fields = Vec::new();
    fields.extend_from_slice(&16u64.to_le_bytes());
    fields.extend_from_slice(&0u64.to_le_bytes());
    fields.extend_from_slice(&json_len.to_le_bytes());
    huge.extend_from_slice(&fields);
    huge.extend_from_slice(&[0; 32]);
    huge.extend_from_slice(b"RWND-END");
    corrupt_saying(inspect(&huge), "manifest is larger");
    // A manifest that is not JSON, resealed.
    let (frames, index, _) = parts_of(&file);
    let mut bad = resealed(&frames, &index, &serde_json::json!({}));
    corrupt_saying(inspect(&bad), "cannot be read");
    // Reserved header bytes.
    bad = file.clone();
    bad[12] = 1;
    corrupt_saying(inspect(&bad), "header");
}

#[test]
fn formats_1_and_2_still_read_and_the_header_tells_the_formats_apart() {
    let v2 = encode_backup(manifest(), stores()).unwrap();
    assert_eq!(format_version(&v2.bytes), Ok(FORMAT_VERSION));
    assert_eq!(inspect(&v2.bytes), Ok(v2.manifest.clone()));
    assert_eq!(decode_backup(&v2.bytes).unwrap().stores, stores());
    assert!(format::verify_file(&v2.bytes).is_ok());
    for fixture in ["binary", "empty", "notes"] {
        let path = format!(
            "{}/tests/fixtures/{fixture}.rewind",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(format_version(&bytes), Ok(1), "{fixture}");
        assert!(inspect(&bytes).is_ok(), "{fixture}");
        assert!(format::verify_file(&bytes).is_ok(), "{fixture}");
    }
    assert_eq!(format_version(b""), Err(BackupError::Empty));
    assert_eq!(format_version(b"PK\x03\x04"), Err(BackupError::BadMagic));
    assert!(matches!(
        format_version(&MAGIC),
        Err(BackupError::Truncated { .. })
    ));
    let mut newer = v2.bytes.clone();
    newer[8..12].copy_from_slice(&(NEWEST_FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        format_version(&newer),
        Err(BackupError::UnsupportedFormat {
            found: NEWEST_FORMAT_VERSION + 1,
            supported: NEWEST_FORMAT_VERSION
        })
    );
    // The reader of chunks does not read a format 2 file as if it were one.
    let mut reader = ChunkedReader::new(v2.bytes.len() as u64, ReadMode::Verify);
    assert!(read_chunked_slice(&v2.bytes, &mut reader, &mut |_| {}).is_err());
    // Part tags outside a chunk are refused, even in a format 2 file's section.
    assert!(decode_value(&[0x2B, 0, 0]).is_err());
}

#[test]
fn skipped_records_are_listed_and_checked() {
    let mut w = ChunkedWriter::new(manifest(), ChunkDigests::HashedHere).unwrap();
    let mut key = Vec::new();
    encode_value(&Value::number(9.0), &mut key).unwrap();
    w.skip(SkippedRecord {
        store: "notes".into(),
        key: "9".into(),
        key_bytes: crate::migration::hex(&key),
        type_name: "CryptoKey".into(),
        path: ".k".into(),
    });
    let mut file = w.header().to_vec();
    let frames = w.end().unwrap();
    assert!(frames.is_empty());
    let tail = w.finish().unwrap();
    file.extend_from_slice(&tail.bytes);
    let m = inspect(&file).unwrap();
    assert_eq!(m.skipped.len(), 1);
    let (frames, index, mut manifest) = parts_of(&file);
    manifest["skipped"][0]["store"] = "nowhere".into();
    corrupt_saying(
        inspect(&resealed(&frames, &index, &manifest)),
        "does not hold",
    );
}

/// The fuzz seeds of chunked files (`fuzz/corpus/{chunked,inspect,decode_backup}/v3-*`) are
/// good files of this build. `REWIND_WRITE_FUZZ_SEEDS=1` writes them again.
#[test]
fn the_chunked_fuzz_seeds_are_good_files() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let empty = write(&[Vec::new(), Vec::new()], ChunkDigests::HashedHere, SMALL).unwrap();
    let one_chunk = write(
        &sample_of(3, 4, 40, false),
        ChunkDigests::HashedHere,
        (u32::MAX, usize::MAX),
    )
    .unwrap();
    let seeds = [
        ("v3-many-frames.rewind", tiny_file().0),
        ("v3-empty.rewind", empty.0),
        ("v3-one-chunk.rewind", one_chunk.0),
    ];
    if std::env::var_os("REWIND_WRITE_FUZZ_SEEDS").is_some() {
        for target in ["chunked", "inspect", "decode_backup"] {
            for (name, bytes) in &seeds {
                std::fs::write(corpus.join(target).join(name), bytes).unwrap();
            }
        }
    }
    for target in ["chunked", "inspect", "decode_backup"] {
        for (name, bytes) in &seeds {
            let path = corpus.join(target).join(name);
            let stored = std::fs::read(&path).unwrap_or_default();
            assert!(stored.len() < 10 * 1024, "{}", path.display());
            assert_eq!(&stored, bytes, "{} is stale", path.display());
            assert!(inspect(&stored).is_ok());
        }
    }
}

#[test]
fn a_refused_record_leaves_the_open_chunk_as_it_was() {
    let mut w = ChunkedWriter::new(manifest(), ChunkDigests::HashedHere).unwrap();
    let mut file = w.header().to_vec();
    let mut take = |frames: Vec<Frame>| {
        for f in frames {
            if let Frame::Chunk { bytes, .. } = f {
                file.extend_from_slice(&bytes);
            }
        }
    };
    take(w.push(0, &Value::number(1.0), &Value::Null, &[]).unwrap());
    // Refused as the first record of the next store: the first store's chunk is not lost.
    assert!(w.push(2, &Value::Null, &Value::Null, &[]).is_err());
    let bad_blob = [OutOfLineBlob { blob: 5, len: 1 }];
    assert!(w
        .push(2, &Value::number(1.0), &Value::Null, &bad_blob)
        .is_err());
    take(
        w.push(2, &Value::number(2.0), &Value::Bool(true), &[])
            .unwrap(),
    );
    take(w.end().unwrap());
    file.extend_from_slice(&w.finish().unwrap().bytes);
    let d = decode_backup(&file).unwrap();
    assert_eq!(d.stores[0].records, vec![(Value::number(1.0), Value::Null)]);
    assert_eq!(
        d.stores[2].records,
        vec![(Value::number(2.0), Value::Bool(true))]
    );
}

#[test]
fn a_chunked_file_becomes_a_format_2_file_with_the_same_records() {
    let input = sample();
    let (file, manifest) = write(&input, ChunkDigests::HashedHere, SMALL).unwrap();
    let sections = chunked_as_sections(&file).unwrap();
    assert_eq!(format_version(&sections.bytes), Ok(FORMAT_VERSION));
    let verified = format::verify_file(&sections.bytes).unwrap();
    assert_eq!(verified.manifest.id, manifest.id);
    assert_eq!(verified.manifest.total_records(), manifest.total_records());
    let decoded = decode_backup(&sections.bytes).unwrap();
    assert_eq!(decoded.stores, expected(&input));
    // A damaged chunked file is refused as its reader refuses it, nothing converted.
    let (frames_end, _, _) = regions(&file);
    let mut damaged = file.clone();
    damaged[frames_end - 1] ^= 1;
    assert_eq!(
        chunked_as_sections(&damaged).map(|e| e.manifest),
        inspect(&damaged)
    );
    assert!(chunked_as_sections(&damaged).is_err());
    assert!(chunked_as_sections(&file[..file.len() - 1]).is_err());
}

#[test]
fn runs_encoded_by_the_caller_make_the_same_records_and_respect_the_chunk_limits() {
    let input = sample_of(30, 0, 0, false);
    let plain: Vec<&Rec> = input[0]
        .iter()
        .filter(|r| r.out_of_line.is_empty())
        .collect();
    let mut m = manifest();
    m.stores = vec![StoreManifest::new(crate::schema::StoreSchema::new(
        "s0", None, false,
    ))];
    let mut w = ChunkedWriter::new(m, ChunkDigests::HashedHere)
        .unwrap()
        .with_chunk_limits(5, 1 << 20);
    let mut file = w.header().to_vec();
    let mut chunks = Vec::new();
    let mut add = |frames: Vec<Frame>, file: &mut Vec<u8>| {
        for f in frames {
            let Frame::Chunk { bytes, .. } = f else {
                panic!("no parts in plain records")
            };
            chunks.push(bytes.len());
            file.extend_from_slice(&bytes);
        }
    };
    for run in plain.chunks(3) {
        let mut bytes = Vec::new();
        for r in run {
            format::encode_record(&r.key, &r.value, 1, &mut bytes).unwrap();
        }
        add(
            w.push_encoded(0, &bytes, run.len() as u32).unwrap(),
            &mut file,
        );
    }
    add(w.end().unwrap(), &mut file);
    let tail = w.finish().unwrap();
    file.extend_from_slice(&tail.bytes);
    let decoded = decode_backup(&file).unwrap();
    let want: Vec<(Value, Value)> = plain
        .iter()
        .map(|r| (r.key.clone(), r.value.clone()))
        .collect();
    assert_eq!(decoded.stores[0].records, want);
    assert_eq!(tail.manifest.stores[0].records, plain.len() as u64);
    // Runs of 3 into chunks of at most 5 records: a chunk is sealed before a run that would
    // not fit, and a run is never split.
    let mut expected_chunks = 0;
    let mut open = 0;
    for run in plain.chunks(3) {
        if open == 0 || open + run.len() > 5 {
            expected_chunks += 1;
            open = 0;
        }
        open += run.len();
    }
    assert!(plain.len() > 5, "the sample has several chunks' worth");
    assert_eq!(chunks.len(), expected_chunks, "{chunks:?}");
    // Refused: an empty run, a run over the record limit, a store out of order.
    let mut m = manifest();
    m.stores = vec![
        StoreManifest::new(crate::schema::StoreSchema::new("a", None, false)),
        StoreManifest::new(crate::schema::StoreSchema::new("b", None, false)),
    ];
    let mut w = ChunkedWriter::new(m, ChunkDigests::HashedHere)
        .unwrap()
        .with_chunk_limits(4, 1 << 20);
    assert!(w.push_encoded(0, &[], 0).is_err());
    assert!(w.push_encoded(0, &[0; 10], 5).is_err());
    assert!(w.push_encoded(2, &[0; 10], 1).is_err());
    let mut bytes = Vec::new();
    format::encode_record(&plain[0].key, &plain[0].value, 1, &mut bytes).unwrap();
    w.push_encoded(1, &bytes, 1).unwrap();
    assert!(
        w.push_encoded(0, &bytes, 1).is_err(),
        "store a after store b"
    );
}

/// A store's `keyGenerator` (format 3 only) round-trips, and a reader refuses one a store
/// cannot have: on a store without `autoIncrement`, outside 1 … 2^53, or in a format 2 file.
#[test]
fn a_key_generator_is_kept_and_its_bounds_are_checked() {
    let mut m = manifest();
    m.stores[0].key_generator = Some(101);
    let mut w = ChunkedWriter::new(m, ChunkDigests::HashedHere).unwrap();
    let mut file = w.header().to_vec();
    assert!(w.end().unwrap().is_empty());
    file.extend_from_slice(&w.finish().unwrap().bytes);
    let read = inspect(&file).unwrap();
    assert_eq!(read.stores[0].key_generator, Some(101));
    assert_eq!(read.stores[1].key_generator, None);

    let (frames, index, manifest_json) = parts_of(&file);
    // Absent from stores without one: files of earlier builds read as before.
    assert!(manifest_json["stores"][1].get("keyGenerator").is_none());
    let with = |store: usize, value: serde_json::Value| {
        let mut edited = manifest_json.clone();
        edited["stores"][store]["keyGenerator"] = value;
        inspect(&resealed(&frames, &index, &edited))
    };
    assert_eq!(
        with(0, (1u64 << 53).into()).unwrap().stores[0].key_generator,
        Some(MAX_KEY_GENERATOR)
    );
    assert_eq!(with(0, 1.into()).unwrap().stores[0].key_generator, Some(1));
    corrupt_saying(with(0, 0.into()), "outside 1 … 2^53");
    corrupt_saying(with(0, ((1u64 << 53) + 1).into()), "outside 1 … 2^53");
    corrupt_saying(with(1, 5.into()), "has none (no autoIncrement)");
    assert!(matches!(
        with(0, (-1).into()),
        Err(BackupError::Corrupt { .. })
    ));
    assert!(matches!(
        with(0, 1.5.into()),
        Err(BackupError::Corrupt { .. })
    ));

    let mut older = manifest();
    older.stores[0].key_generator = Some(7);
    let v2 = encode_backup(older, stores()).unwrap();
    corrupt_saying(inspect(&v2.bytes), "format 2 cannot hold");
}

/// What a backup records from the key an aborted `add` got, and what a restore puts to set
/// the generator back.
#[test]
fn the_generated_key_is_the_next_key_and_a_restore_puts_the_one_before() {
    assert_eq!(StoreManifest::key_generator_from(101.0), Some(101));
    assert_eq!(StoreManifest::key_generator_from(1.0), Some(1));
    assert_eq!(
        StoreManifest::key_generator_from(9_007_199_254_740_992.0),
        Some(MAX_KEY_GENERATOR)
    );
    for not_one in [
        0.0,
        -3.0,
        2.5,
        f64::NAN,
        f64::INFINITY,
        9_007_199_254_740_994.0,
    ] {
        assert_eq!(
            StoreManifest::key_generator_from(not_one),
            None,
            "{not_one}"
        );
    }
    let mut m = manifest();
    let store = &mut m.stores[0];
    assert_eq!(store.key_generator_raise(), None);
    store.key_generator = Some(101);
    assert_eq!(store.key_generator_raise(), Some(100));
    store.key_generator = Some(2);
    assert_eq!(store.key_generator_raise(), Some(1));
    // A fresh store's generator gives 1 already.
    store.key_generator = Some(1);
    assert_eq!(store.key_generator_raise(), None);
    store.key_generator = Some(6);
    store.schema.auto_increment = false;
    assert_eq!(store.key_generator_raise(), None);
}
