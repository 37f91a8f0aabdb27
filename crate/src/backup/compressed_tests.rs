//! The compressed chunked file (format 4): chunks stored as raw DEFLATE, read back through an
//! inflater the edge brings (here `miniz_oxide`, in the browser `DecompressionStream`), every
//! inflated length held to what the index declares.

use super::chunked::{read_chunked_slice, read_chunked_slice_inflating};
use super::chunked_tests::{
    corrupt_saying, deflate, expected, frame_bounds, inflate, parts_of, rec, resealed, sample_of,
    sha, write, Rec,
};
use super::tests::obj;
use super::*;

/// Text records much like people's notes: they shrink several times over.
fn notes(count: u32) -> Vec<Vec<Rec>> {
    let notes = (0..count)
        .map(|i| {
            let text = format!("Note {i}: the meeting moved to Thursday; bring the draft. ")
                .repeat(1 + i as usize % 9);
            rec(
                Value::number(f64::from(i)),
                obj(vec![
                    ("id", Value::number(f64::from(i))),
                    ("title", Value::string(&format!("note number {i}"))),
                    ("body", Value::string(&text)),
                ]),
                vec![],
            )
        })
        .collect();
    vec![notes]
}

/// `file` read in `mode` with `inflater`: its checked manifest.
fn read_all(
    file: &[u8],
    mode: ReadMode,
    inflater: super::chunked::Inflater<'_>,
) -> Result<BackupManifest, BackupError> {
    let mut reader = ChunkedReader::new(file.len() as u64, mode);
    read_chunked_slice_inflating(file, &mut reader, inflater, &mut |_| {})
}

/// `file` decoded completely, its chunks inflated by `inflater`: manifest and records.
fn decode_all(
    file: &[u8],
    inflater: super::chunked::Inflater<'_>,
) -> Result<(BackupManifest, Vec<StoreRecords>), BackupError> {
    super::chunked::decode_chunked(file, Some(inflater)).map(|d| (d.manifest, d.stores))
}

fn inspect_v4(file: &[u8]) -> Result<BackupManifest, BackupError> {
    read_all(file, ReadMode::Verify, &mut inflate)
}

#[test]
fn a_compressed_backup_round_trips_and_is_much_smaller() {
    let input = notes(300);
    let (plain, _) = write(&input, ChunkDigests::HashedHere, (50, 1 << 20)).unwrap();
    let (file, manifest) = write(&input, ChunkDigests::CompressedByCaller, (50, 1 << 20)).unwrap();
    assert_eq!(format_version(&file), Ok(COMPRESSED_FORMAT_VERSION));
    assert_eq!(manifest.format_version, COMPRESSED_FORMAT_VERSION);
    assert_eq!(manifest.total_records(), 300);
    assert!(
        file.len() * 4 < plain.len(),
        "compressed {} vs plain {}",
        file.len(),
        plain.len()
    );
    let (read, stores) = decode_all(&file, &mut inflate).unwrap();
    assert_eq!(read, manifest);
    assert_eq!(stores, expected(&input));
    assert_eq!(inspect_v4(&file), Ok(manifest));
    // Spans lie in the inflated bytes: the edge decodes from what it inflated.
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Spans);
    let mut last_inflated = Vec::new();
    let mut keys = Vec::new();
    loop {
        match reader.next_step().unwrap() {
            Step::Read(r) => reader
                .give_bytes(&file[r.start as usize..r.end as usize])
                .unwrap(),
            Step::Inflate { chunk, len } => {
                last_inflated = inflate(
                    &file[chunk.start as usize..chunk.end as usize],
                    len as usize + 1,
                )
                .unwrap();
                reader.give_inflated(Some(&last_inflated)).unwrap();
            }
            Step::Spans(spans) => {
                for span in spans.records {
                    keys.push(decode_value(&last_inflated[span.bytes]).is_err());
                }
            }
            Step::Done(_) => break,
            _ => {}
        }
    }
    assert_eq!(keys.len(), 300, "one span per record");
}

#[test]
fn blobs_out_of_line_and_chunks_that_do_not_shrink_keep_their_place() {
    // Photos of patterned bytes out of line, and records of noise kept as they are.
    let mut input = sample_of(20, 50, 5_000, true);
    let noise: Vec<u8> = (0..3000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    input[1] = vec![rec(
        Value::string("noise"),
        Value::ArrayBuffer(noise),
        vec![],
    )];
    let (file, manifest) = write(&input, ChunkDigests::CompressedByCaller, (3, 400)).unwrap();
    let (index, index_end, _) = super::chunked_tests::regions(&file);
    let kinds: Vec<u8> = file[index..index_end].chunks(56).map(|e| e[0]).collect();
    assert!(
        kinds.contains(&1),
        "a chunk that does not shrink is stored as it is"
    );
    assert!(kinds.contains(&2), "Blob parts are stored as they are");
    assert!(kinds.contains(&3), "chunks that shrink are compressed");
    let (_, stores) = decode_all(&file, &mut inflate).unwrap();
    let want = expected(&input);
    // Out-of-line Blobs come without bytes from the reader; compare the keys and counts.
    assert_eq!(stores.len(), want.len());
    for (got, want) in stores.iter().zip(&want) {
        let got_keys: Vec<_> = got.records.iter().map(|r| &r.0).collect();
        let want_keys: Vec<_> = want.records.iter().map(|r| &r.0).collect();
        assert_eq!(got_keys, want_keys);
    }
    assert_eq!(inspect_v4(&file), Ok(manifest));
}

#[test]
fn a_chunk_inflating_to_more_or_fewer_bytes_than_declared_is_corrupt() {
    let (file, _) = write(&notes(40), ChunkDigests::CompressedByCaller, (10, 1 << 20)).unwrap();
    let mut more = |b: &[u8], limit: usize| {
        let mut out = inflate(b, limit)?;
        out.push(0);
        out.truncate(limit);
        Some(out)
    };
    corrupt_saying(
        read_all(&file, ReadMode::Records, &mut more),
        "inflates to more than",
    );
    let mut fewer = |b: &[u8], limit: usize| {
        let mut out = inflate(b, limit)?;
        out.pop();
        Some(out)
    };
    corrupt_saying(read_all(&file, ReadMode::Verify, &mut fewer), "fewer than");
    let mut broken = |_: &[u8], _: usize| None;
    corrupt_saying(
        read_all(&file, ReadMode::Spans, &mut broken),
        "do not inflate",
    );
    // An inflater asked for `len + 1` bytes at most is never asked for more.
    let mut asked = Vec::new();
    let mut watch = |b: &[u8], limit: usize| {
        asked.push(limit);
        inflate(b, limit)
    };
    read_all(&file, ReadMode::Verify, &mut watch).unwrap();
    assert_eq!(asked.len(), 4);
    assert!(asked
        .iter()
        .all(|&l| l <= (MAX_CHUNK_RECORDS as usize) << 20));
}

#[test]
fn a_compressed_chunk_declaring_a_wrong_length_behind_a_matching_root_is_corrupt() {
    let (file, _) = write(&notes(40), ChunkDigests::CompressedByCaller, (10, 1 << 20)).unwrap();
    let (frames, index, manifest) = parts_of(&file);
    let declared = |e: &[u8]| u32::from_le_bytes(e[12..16].try_into().unwrap());
    for delta in [1i64, -1] {
        let mut edited = index.clone();
        let n = declared(&edited[..56]) as i64 + delta;
        edited[12..16].copy_from_slice(&(n as u32).to_le_bytes());
        let got = inspect_v4(&resealed(&frames, &edited, &manifest));
        corrupt_saying(got, if delta > 0 { "fewer than" } else { "more than" });
    }
    // An inflated length on a chunk stored as it is, or a compressed chunk in format 3.
    let mut plain_entry = index.clone();
    plain_entry[0] = 1;
    corrupt_saying(
        inspect_v4(&resealed(&frames, &plain_entry, &manifest)),
        "unknown fields",
    );
    let mut v3 = frames.clone();
    v3[8..12].copy_from_slice(&CHUNKED_FORMAT_VERSION.to_le_bytes());
    let mut m3 = manifest.clone();
    m3["formatVersion"] = 3.into();
    corrupt_saying(inspect_v4(&resealed(&v3, &index, &m3)), "unknown kind");
    // Nothing larger than a chunk may be declared.
    let mut huge = index.clone();
    huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    corrupt_saying(
        inspect_v4(&resealed(&frames, &huge, &manifest)),
        "impossible size",
    );
}

#[test]
fn a_changed_compressed_byte_is_a_checksum_mismatch_and_resealed_it_is_corrupt() {
    let (file, _) = write(&notes(40), ChunkDigests::CompressedByCaller, (10, 1 << 20)).unwrap();
    let bounds = frame_bounds(&file);
    let mut damaged = file.clone();
    damaged[bounds[1] + 5] ^= 0x20;
    match inspect_v4(&damaged) {
        Err(BackupError::ChecksumMismatch { what }) => assert!(what.contains("chunk 2"), "{what}"),
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
    // The same change with the digest, the store's digest and the root made to match: the
    // inflated bytes are wrong in length or content, which the decoder catches.
    let (mut frames, mut index, mut manifest) = parts_of(&file);
    let chunk = bounds[1]..bounds[2];
    let mut packed = frames[chunk.clone()].to_vec();
    let inflated = inflate(&packed, 1 << 20).unwrap();
    let mut changed = inflated.clone();
    let last = changed.len() - 3;
    changed[last] = 0xFF; // inside the last record's text: bad UTF-8 or a wrong tag
    packed = deflate(&changed);
    frames.splice(chunk, packed.iter().copied());
    index[56 + 16..56 + 24].copy_from_slice(&(packed.len() as u64).to_le_bytes());
    index[56 + 24..56 + 56].copy_from_slice(&sha(&packed));
    let mut store = sha2::Sha256::default();
    for e in index.chunks(56) {
        sha2::Digest::update(&mut store, &e[24..56]);
    }
    let bytes: u64 = index
        .chunks(56)
        .map(|e| u64::from_le_bytes(e[16..24].try_into().unwrap()))
        .sum();
    manifest["stores"][0]["sha256"] = crate::migration::hex(&sha2::Digest::finalize(store)).into();
    manifest["stores"][0]["bytes"] = bytes.into();
    let got = inspect_v4(&resealed(&frames, &index, &manifest));
    assert!(
        matches!(got, Err(BackupError::Corrupt { .. })),
        "expected Corrupt, got {got:?}"
    );
}

#[test]
fn a_reader_of_bytes_in_memory_without_an_inflater_refuses_format_4_and_reads_format_3() {
    let input = notes(30);
    let (file, _) = write(&input, ChunkDigests::CompressedByCaller, (10, 1 << 20)).unwrap();
    let mut reader = ChunkedReader::new(file.len() as u64, ReadMode::Verify);
    assert!(matches!(
        read_chunked_slice(&file, &mut reader, &mut |_| {}),
        Err(BackupError::Invalid { .. })
    ));
    assert!(inspect(&file).is_err());
    let (v3, manifest) = write(&input, ChunkDigests::GivenByCaller, (10, 1 << 20)).unwrap();
    assert_eq!(format_version(&v3), Ok(CHUNKED_FORMAT_VERSION));
    assert_eq!(inspect(&v3), Ok(manifest.clone()));
    assert_eq!(decode_backup(&v3).unwrap().stores, expected(&input));
    // And through the inflating reader, which reads every chunked file.
    assert_eq!(inspect_v4(&v3), Ok(manifest));
}

#[test]
fn the_writer_takes_a_stored_size_only_for_a_chunk_it_waits_for() {
    let mut m = super::tests::manifest();
    m.stores.truncate(1);
    let mut plain = ChunkedWriter::new(m.clone(), ChunkDigests::GivenByCaller).unwrap();
    plain
        .push(0, &Value::number(1.0), &Value::string("x"), &[])
        .unwrap();
    plain.end().unwrap();
    assert!(
        plain.set_compressed(0, 3, [0; 32]).is_err(),
        "format 3 stores chunks as they are"
    );
    let mut w = ChunkedWriter::new(m, ChunkDigests::CompressedByCaller).unwrap();
    assert_eq!(w.header()[8], 4);
    w.push(0, &Value::number(1.0), &Value::string("x"), &[])
        .unwrap();
    let frames = w.end().unwrap();
    let Some(Frame::Chunk { bytes, .. }) = frames.first() else {
        panic!("one chunk sealed");
    };
    let raw = bytes.len() as u64;
    assert!(w.set_compressed(1, 3, [0; 32]).is_err(), "no frame 1");
    assert!(w.set_compressed(0, 0, [0; 32]).is_err(), "an empty chunk");
    let before = w.bytes_written();
    w.set_compressed(0, 3, [0; 32]).unwrap();
    assert!(w.set_compressed(0, 3, [0; 32]).is_err(), "given twice");
    assert_eq!(
        w.bytes_written(),
        before - raw + 3,
        "counted at its stored size"
    );
}

#[test]
fn finish_refuses_while_a_stored_size_is_missing() {
    let mut m = super::tests::manifest();
    m.stores.truncate(1);
    let mut w = ChunkedWriter::new(m, ChunkDigests::CompressedByCaller).unwrap();
    w.push(0, &Value::number(1.0), &Value::string("x"), &[])
        .unwrap();
    w.end().unwrap();
    assert!(matches!(w.finish(), Err(BackupError::Invalid { .. })));
}
