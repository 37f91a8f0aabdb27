//! Every file an earlier Rewind wrote still inspects and restores: the committed fixtures in
//! `tests/fixtures/*.rewind` are format version 1 files (written before version 2 existed, and
//! kept so: rewriting them would lose what this test checks).

use rewind::backup::format::verify_file;
use rewind::backup::{
    decode_backup, encode_backup, inspect, SectionReader, StoreManifest, FORMAT_VERSION,
};
use std::path::PathBuf;

fn v1_fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    ["notes", "binary", "empty"]
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.rewind"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name.to_string(), bytes)
        })
        .collect()
}

#[test]
fn the_fixtures_are_version_1_files() {
    for (name, bytes) in v1_fixtures() {
        assert_eq!(bytes[8..12], 1u32.to_le_bytes(), "{name}: header");
        assert_eq!(
            inspect(&bytes).unwrap().format_version,
            1,
            "{name}: manifest"
        );
    }
    assert_ne!(FORMAT_VERSION, 1, "this build writes a newer format");
}

/// What a restore does with a file: verify it completely, then read each store's section in
/// batches. A version 1 file passes both, and its records are the ones `decode_backup` reads.
#[test]
fn version_1_files_verify_and_read_as_a_restore_reads_them() {
    for (name, bytes) in v1_fixtures() {
        let verified = verify_file(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let decoded = decode_backup(&bytes).unwrap();
        assert_eq!(verified.manifest, decoded.manifest, "{name}");
        assert_eq!(verified.sections.len(), decoded.stores.len());
        for (range, store) in verified.sections.iter().zip(&decoded.stores) {
            let mut reader = SectionReader::new(&bytes[range.clone()]);
            let mut records = Vec::new();
            while !reader.is_done() {
                records.extend(reader.next_batch(7).unwrap());
            }
            assert_eq!(records, store.records, "{name}: store {}", store.name);
        }
    }
}

/// A version 1 backup written again by this build is a version 2 file with the same manifest
/// (but for its version, sizes and checksums) and the same records, bit for bit.
#[test]
fn version_1_records_are_the_same_values_in_version_2() {
    for (name, bytes) in v1_fixtures() {
        let old = decode_backup(&bytes).unwrap();
        let mut manifest = old.manifest.clone();
        manifest.stores = manifest
            .stores
            .iter()
            .map(|s| StoreManifest::new(s.schema.clone()))
            .collect();
        let rewritten = encode_backup(manifest, old.stores.clone()).unwrap();
        assert_eq!(rewritten.bytes[8..12], FORMAT_VERSION.to_le_bytes());
        let new = decode_backup(&rewritten.bytes).unwrap();
        assert_eq!(new.stores, old.stores, "{name}");
        assert_eq!(new.manifest.format_version, FORMAT_VERSION);
        assert_eq!(new.manifest.meta, old.manifest.meta);
        for (a, b) in new.manifest.stores.iter().zip(&old.manifest.stores) {
            // The value encoding of version 1 is unchanged in version 2: same section bytes.
            assert_eq!(
                (a.records, a.bytes, &a.sha256),
                (b.records, b.bytes, &b.sha256)
            );
        }
    }
}
